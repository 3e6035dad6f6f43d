"""The station registry as the gateway sees it: who may send, with which password,
which CRC variants and which SM4 key, and which factors it is registered for. Read
with storage's one registry reader (storage/stations.py) and refreshed; deactivated
stations are kept, to be refused."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from protocol import DecodeOptions
from storage.db import AsyncPool
from storage.stations import Station, list_stations_async

log = logging.getLogger(__name__)

# hj212.station.legacy_crc -> CRC variants the codec may accept for that device
_LEGACY = {
    "reject": frozenset(),
    "modbus": frozenset({"modbus"}),
    "swapped": frozenset({"modbus-swapped"}),
    "any": frozenset({"modbus", "modbus-swapped"}),
}
# the ST a station's commands carry: 31 air, 32 water pollution source (docs/protocol.md §5)
_ST = {"gas": "31", "water": "32"}


@dataclass(frozen=True)
class SessionStation:
    """A registered station as a session checks and decodes its frames."""

    mn: str
    password: str
    st: str
    version: str
    options: DecodeOptions
    active: bool = True
    pollutants: frozenset[str] = frozenset()  # hj212.station_pollutant codes

    @property
    def encrypted(self) -> bool:
        """HJ 212-2025 §6.4: a station with an SM4 key sends its CP areas encrypted."""
        return self.options.sm4_key is not None


def session_station(station: Station) -> SessionStation:
    options = DecodeOptions(
        accept_crc=_LEGACY.get(station.legacy_crc, frozenset()),
        sm4_key=bytes.fromhex(station.sm4_key) if station.sm4_key else None,
    )
    return SessionStation(
        station.mn,
        station.password,
        _ST.get(station.medium, "32"),
        station.protocol_version,
        options,
        bool(station.active),
        frozenset(p.code for p in station.pollutants),
    )


class Registry:
    def __init__(self) -> None:
        self.stations: dict[str, SessionStation] = {}
        self.loaded = False

    def get(self, mn: str | None) -> SessionStation | None:
        return self.stations.get(mn) if mn is not None else None

    async def refresh(self, db: AsyncPool) -> None:
        async with db.connection() as conn:
            found = await list_stations_async(conn)
        self.stations = {s.mn: session_station(s) for s in found}
        self.loaded = True
        log.debug("registry: %d stations", len(self.stations))
