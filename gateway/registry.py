"""The station registry as the gateway sees it: who may send, with which password,
which CRC variants and which SM4 key. Loaded from ``hj212.station`` and refreshed."""

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
                    "SELECT mn, password, medium, protocol_version, legacy_crc, sm4_key"
                    " FROM hj212.station WHERE active"
                )
            ).fetchall()
        stations = {}
        for mn, password, medium, version, legacy, key in rows:
            options = DecodeOptions(
                accept_crc=_LEGACY.get(legacy, frozenset()),
                sm4_key=bytes.fromhex(key) if key else None,
            )
            st = {"gas": "31", "water": "32"}.get(medium, "32")
            stations[mn] = StationInfo(mn, password, st, version, options)
        self.stations = stations
        self.loaded = True
        log.debug("registry: %d active stations", len(stations))
