"""The station registry as the gateway sees it: who may send, with which password,
which CRC variants and which SM4 key, and which factors it is registered for. Read
with storage's one registry reader (storage/stations.py) and refreshed; deactivated
stations are kept, to be refused."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from protocol import DecodeOptions
from protocol.codes import Cn
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


def after_command(station: SessionStation, cn: str, params: Mapping[str, object]) -> SessionStation:
    """The station as a confirmed command leaves it, for the live session: the device
    uses its new password (1072, HJ 212-2017 C.9: from the frame after the 9012), its
    new key (HJ 212-2025 1014) or its new MN (1002) at once (docs/forwarding.md §1)."""
    if cn == Cn.SET_PASSWORD and params.get("NewPW"):
        return replace(station, password=str(params["NewPW"]))
    if cn == Cn.NEW_KEY and params.get("NewSK"):
        key = bytes.fromhex(str(params["NewSK"]))
        return replace(station, options=replace(station.options, sm4_key=key))
    if cn == Cn.SET_MN and params.get("i23005-Info"):
        return replace(station, mn=str(params["i23005-Info"]))
    return station


class Registry:
    """``held`` are stations a confirmed command changed in memory before the database
    has recorded it: a refresh in between must not bring the old password back."""

    def __init__(self) -> None:
        self.stations: dict[str, SessionStation] = {}
        self.held: dict[str, SessionStation] = {}
        self.loaded = False

    def get(self, mn: str | None) -> SessionStation | None:
        return self.stations.get(mn) if mn is not None else None

    def hold(self, station: SessionStation) -> None:
        self.held[station.mn] = self.stations[station.mn] = station

    def release(self, mns: Iterable[str]) -> None:
        for mn in mns:
            self.held.pop(mn, None)

    async def refresh(self, db: AsyncPool) -> None:
        async with db.connection() as conn:
            found = await list_stations_async(conn)
        self.stations = {s.mn: session_station(s) for s in found} | self.held
        self.loaded = True
        log.debug("registry: %d stations", len(self.stations))
