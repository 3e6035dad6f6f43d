"""The station registry as the gateway sees it: who may send, with which password,
which CRC variants and which SM4 key, and which factors it is registered for. Loaded
from ``hj212.station`` and refreshed; deactivated stations are kept, to be refused."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import psycopg

from protocol import DecodeOptions

log = logging.getLogger(__name__)

# hj212.station.legacy_crc -> CRC variants the codec may accept for that device
_LEGACY = {
    "reject": frozenset(),
    "modbus": frozenset({"modbus"}),
    "swapped": frozenset({"modbus-swapped"}),
    "any": frozenset({"modbus", "modbus-swapped"}),
}


@dataclass(frozen=True)
class StationInfo:
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


class Registry:
    def __init__(self) -> None:
        self.stations: dict[str, StationInfo] = {}
        self.loaded = False

    def get(self, mn: str | None) -> StationInfo | None:
        return self.stations.get(mn) if mn is not None else None

    async def refresh(self, dsn: str) -> None:
        async with await psycopg.AsyncConnection.connect(dsn) as conn:
            rows = await (
                await conn.execute(
                    "SELECT s.mn, password, medium, protocol_version, legacy_crc, sm4_key,"
                    " active, coalesce(array_agg(p.pollutant) FILTER (WHERE p.pollutant"
                    " IS NOT NULL), '{}') FROM hj212.station s LEFT JOIN"
                    " hj212.station_pollutant p ON p.mn = s.mn GROUP BY s.mn"
                )
            ).fetchall()
        stations = {}
        for mn, password, medium, version, legacy, key, active, codes in rows:
            options = DecodeOptions(
                accept_crc=_LEGACY.get(legacy, frozenset()),
                sm4_key=bytes.fromhex(key) if key else None,
            )
            st = {"gas": "31", "water": "32"}.get(medium, "32")
            stations[mn] = StationInfo(
                mn, password, st, version, options, bool(active), frozenset(codes)
            )
        self.stations = stations
        self.loaded = True
        log.debug("registry: %d stations", len(stations))
