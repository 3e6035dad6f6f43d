"""The station registry's tables: upsert stations and read them back. :func:`list_stations`
(and its async twin for the gateway) is the one reader of ``hj212.station``; each layer
makes its own view of a :class:`Station` from it. Reading and checking registry files
(CSV, TOML) is services/registry_file.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import TupleRow

Row = tuple[Any, ...]

COLUMNS = (
    "mn",
    "password",
    "sm4_key",
    "name",
    "enterprise",
    "outlet",
    "medium",
    "region_code",
    "protocol_version",
    "legacy_crc",
    "rt_interval_s",
    "minute_interval_min",
    "o2_ref",
    "active",
    "monitored_since",
    "pollutants",
)
SECRETS = ("password", "sm4_key")  # imported, never listed


@dataclass(frozen=True)
class Pollutant:
    code: str
    assessed: bool = True
    emission_limit: float | None = None
    limit_period: str | None = None
    range_low: float | None = None
    range_high: float | None = None
    unit: str | None = None


@dataclass(frozen=True)
class Station:
    mn: str
    name: str
    medium: str
    region_code: str
    password: str = "123456"
    enterprise: str = ""
    outlet: str = ""
    protocol_version: str = "2017"
    legacy_crc: str = "reject"
    rt_interval_s: int = 30
    minute_interval_min: int = 10
    o2_ref: float | None = None
    active: bool = True
    # from when the station is monitored (expected hours count from it); None on import:
    # unchanged, or the time of the first import (stored as hj212.station.created_at)
    monitored_since: datetime | None = None
    pollutants: tuple[Pollutant, ...] = field(default_factory=tuple)
    sm4_key: str | None = None  # HJ 212-2025 §6.4; None on import: keep the stored one


_UPSERT = """
INSERT INTO hj212.station (mn, password, sm4_key, name, enterprise, outlet, medium,
    region_code, protocol_version, legacy_crc, rt_interval_s, minute_interval_min, o2_ref,
    active, created_at)
VALUES (%(mn)s, %(password)s, %(sm4_key)s, %(name)s, %(enterprise)s, %(outlet)s, %(medium)s,
    %(region_code)s, %(protocol_version)s, %(legacy_crc)s, %(rt_interval_s)s,
    %(minute_interval_min)s, %(o2_ref)s, %(active)s,
    coalesce(%(monitored_since)s::timestamptz, now()))
ON CONFLICT (mn) DO UPDATE SET (password, sm4_key, name, enterprise, outlet, medium,
    region_code, protocol_version, legacy_crc, rt_interval_s, minute_interval_min, o2_ref,
    active, created_at, updated_at) = (EXCLUDED.password,
    coalesce(EXCLUDED.sm4_key, station.sm4_key), EXCLUDED.name, EXCLUDED.enterprise,
    EXCLUDED.outlet, EXCLUDED.medium, EXCLUDED.region_code, EXCLUDED.protocol_version,
    EXCLUDED.legacy_crc, EXCLUDED.rt_interval_s, EXCLUDED.minute_interval_min,
    EXCLUDED.o2_ref, EXCLUDED.active,
    coalesce(%(monitored_since)s::timestamptz, station.created_at), now())
WHERE (station.password, station.sm4_key, station.name, station.enterprise, station.outlet,
    station.medium, station.region_code, station.protocol_version, station.legacy_crc,
    station.rt_interval_s, station.minute_interval_min, station.o2_ref, station.active,
    coalesce(%(monitored_since)s::timestamptz, station.created_at))
    IS DISTINCT FROM (EXCLUDED.password, coalesce(EXCLUDED.sm4_key, station.sm4_key),
    EXCLUDED.name, EXCLUDED.enterprise, EXCLUDED.outlet,
    EXCLUDED.medium, EXCLUDED.region_code, EXCLUDED.protocol_version, EXCLUDED.legacy_crc,
    EXCLUDED.rt_interval_s, EXCLUDED.minute_interval_min, EXCLUDED.o2_ref, EXCLUDED.active,
    station.created_at)
"""
_POLLUTANT_UPSERT = """
INSERT INTO hj212.station_pollutant (mn, pollutant, assessed, emission_limit, limit_period,
    range_low, range_high, unit)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (mn, pollutant) DO UPDATE SET (assessed, emission_limit, limit_period,
    range_low, range_high, unit) = (EXCLUDED.assessed, EXCLUDED.emission_limit,
    EXCLUDED.limit_period, EXCLUDED.range_low, EXCLUDED.range_high, EXCLUDED.unit)
WHERE (station_pollutant.assessed, station_pollutant.emission_limit,
    station_pollutant.limit_period, station_pollutant.range_low, station_pollutant.range_high,
    station_pollutant.unit) IS DISTINCT FROM (EXCLUDED.assessed, EXCLUDED.emission_limit,
    EXCLUDED.limit_period, EXCLUDED.range_low, EXCLUDED.range_high, EXCLUDED.unit)
"""


def upsert(conn: psycopg.Connection[TupleRow], stations: Iterable[Station]) -> int:
    """Insert or update each station and replace its pollutant list; one transaction.

    Unchanged rows are not rewritten, so a re-import adds nothing to the audit log.
    """
    count = 0
    with conn.transaction():
        for station in stations:
            row = asdict(station)
            row.pop("pollutants")
            conn.execute(_UPSERT, row)
            codes = [p.code for p in station.pollutants]
            conn.execute(
                "DELETE FROM hj212.station_pollutant WHERE mn = %s AND pollutant <> ALL(%s)",
                (station.mn, codes),
            )
            for p in station.pollutants:
                conn.execute(
                    _POLLUTANT_UPSERT,
                    (
                        station.mn,
                        p.code,
                        p.assessed,
                        p.emission_limit,
                        p.limit_period,
                        p.range_low,
                        p.range_high,
                        p.unit,
                    ),
                )
            count += 1
    return count


_NAMES = [c for c in COLUMNS if c != "pollutants"]
_STATIONS = (
    "SELECT "
    + ", ".join("created_at" if c == "monitored_since" else c for c in _NAMES)
    + " FROM hj212.station ORDER BY region_code, mn"
).encode()
_POLLUTANTS = (
    b"SELECT mn, pollutant, assessed, emission_limit, limit_period, range_low, range_high,"
    b" unit FROM hj212.station_pollutant ORDER BY mn, pollutant"
)


def _stations(rows: Iterable[Row], codes: Iterable[Row]) -> list[Station]:
    pollutants: dict[str, list[Pollutant]] = {}
    for mn, *rest in codes:
        pollutants.setdefault(mn, []).append(Pollutant(*rest))
    return [
        Station(**dict(zip(_NAMES, row, strict=True)), pollutants=tuple(pollutants.get(row[0], ())))
        for row in rows
    ]


def list_stations(conn: psycopg.Connection[TupleRow]) -> list[Station]:
    """Every registered station with its pollutants (secrets included: callers that
    show stations leave out :data:`SECRETS`)."""
    rows = conn.execute(_STATIONS).fetchall()
    return _stations(rows, conn.execute(_POLLUTANTS).fetchall())


def registered(conn: psycopg.Connection[TupleRow]) -> set[str]:
    """The MNs in the registry."""
    return {row[0] for row in conn.execute("SELECT mn FROM hj212.station")}


def with_frames(conn: psycopg.Connection[TupleRow], mns: Iterable[str]) -> set[str]:
    """Those of ``mns`` that have archived frames (the demo history leaves them alone)."""
    rows = conn.execute(
        "SELECT chain FROM hj212.chain_head WHERE chain = ANY(%s) AND frames > 0", (list(mns),)
    ).fetchall()
    return {str(r[0]) for r in rows}


def heads_from_frames(conn: psycopg.Connection[TupleRow], mns: Iterable[str]) -> None:
    """Set the heads' last-heard times (accepted_at, data_at) from the stored frames'
    receive times, as migration 0040 did: after frames written with receive times of
    the past (the demo history), the write's own time would say heard just now."""
    conn.execute(
        "UPDATE hj212.chain_head h SET accepted_at = f.last, data_at = f.last"
        " FROM (SELECT mn, max(received_at) AS last FROM hj212.frame"
        " WHERE mn = ANY(%s) AND status IN ('ok', 'duplicate') GROUP BY mn) f"
        " WHERE h.chain = f.mn",
        (list(mns),),
    )


async def list_stations_async(conn: psycopg.AsyncConnection[TupleRow]) -> list[Station]:
    """:func:`list_stations` on an async connection (the gateway's registry refresh)."""
    rows = await (await conn.execute(_STATIONS)).fetchall()
    return _stations(rows, await (await conn.execute(_POLLUTANTS)).fetchall())


KEY_DAYS = 90  # HJ 212-2025 §6.4.3: the SM4 key is changed every 90 days


def key_age(conn: psycopg.Connection[TupleRow], mn: str, now: datetime) -> dict[str, object]:
    """The station's SM4 key, as far as it may be shown: whether it has one, since
    when (migration 0110), its age in days and whether it is due for a change."""
    row = conn.execute(
        "SELECT sm4_key IS NOT NULL, sm4_key_set_at, pending_sm4_key IS NOT NULL"
        " FROM hj212.station WHERE mn = %s",
        (mn,),
    ).fetchone()
    if row is None or not row[0]:
        return {"encrypted": False}
    set_at: datetime | None = row[1]
    age = None if set_at is None else (now - set_at).total_seconds() / 86400
    return {
        "encrypted": True,
        "set_at": set_at.isoformat() if set_at else None,
        "age_days": None if age is None else round(age, 1),
        "due": age is None or age >= KEY_DAYS,
        "change_pending": bool(row[2]),
    }
