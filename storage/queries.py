"""Reads for the console and the reports, in one place.

Every query bounds time, so TimescaleDB excludes the chunks outside the window; the
functions take a connection and return plain frozen dataclasses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg.rows import class_row

from storage.db import AsyncConn, Conn

# The period each data upload describes (HJ 212-2017 Table 9): what "expected" means.
# 2011 and 2051 follow the station's RtdInterval / MinInterval (hj212.station).
FIXED_INTERVALS = {"2061": timedelta(hours=1), "2031": timedelta(days=1)}


@dataclass(frozen=True)
class Latest:
    mn: str
    pollutant: str
    cn: str
    data_time: datetime
    value: float | None  # rtd for real-time data, avg for minute/hour/day data
    zs_value: float | None  # converted (折算) value, if the device sent one
    flag: str | None


@dataclass(frozen=True)
class Bucket:
    bucket: datetime
    samples: int
    avg: float | None
    min: float | None
    max: float | None


@dataclass(frozen=True)
class Gap:
    after: datetime  # last record before the gap (or the window start)
    before: datetime  # first record after it (or the window end)
    missing: int  # records expected in between


@dataclass(frozen=True)
class FrameRow:
    id: int
    received_at: datetime
    peer: str
    transport: str
    mn: str | None
    qn: str | None
    cn: str | None
    status: str
    error: str | None
    raw: bytes


def latest_values(
    conn: Conn,
    since: datetime,
    mns: Sequence[str] | None = None,
    cn: str = "2011",
) -> list[Latest]:
    """The newest value of each pollutant of each station (of ``mns``) since ``since``."""
    with conn.cursor(row_factory=class_row(Latest)) as cur:
        cur.execute(
            "SELECT DISTINCT ON (mn, pollutant) mn, pollutant, cn, data_time,"
            " coalesce(rtd, avg) AS value, coalesce(zs_rtd, zs_avg) AS zs_value, flag"
            " FROM hj212.measurement"
            " WHERE cn = %(cn)s AND data_time >= %(since)s"
            " AND (%(mns)s::text[] IS NULL OR mn = ANY(%(mns)s::text[]))"
            " ORDER BY mn, pollutant, data_time DESC",
            {"cn": cn, "since": since, "mns": list(mns) if mns is not None else None},
        )
        return cur.fetchall()


def series(
    conn: Conn,
    mn: str,
    pollutant: str,
    start: datetime,
    end: datetime,
    bucket: timedelta,
    cn: str = "2011",
) -> list[Bucket]:
    """One station's pollutant over [start, end), averaged per ``time_bucket``.

    Flagged values (Flag other than N, HJ 212-2017 Table 6) are left out.
    """
    with conn.cursor(row_factory=class_row(Bucket)) as cur:
        cur.execute(
            "SELECT time_bucket(%(bucket)s::interval, data_time) AS bucket,"
            " count(*)::int AS samples, avg(coalesce(rtd, avg)) AS avg,"
            " min(coalesce(rtd, min, avg)) AS min, max(coalesce(rtd, max, avg)) AS max"
            " FROM hj212.measurement"
            " WHERE mn = %(mn)s AND cn = %(cn)s AND pollutant = %(pollutant)s"
            " AND data_time >= %(start)s AND data_time < %(end)s"
            " AND coalesce(flag, 'N') = 'N'"
            " GROUP BY 1 ORDER BY 1",
            {
                "bucket": bucket,
                "mn": mn,
                "cn": cn,
                "pollutant": pollutant,
                "start": start,
                "end": end,
            },
        )
        return cur.fetchall()


def expected_interval(conn: Conn, mn: str, cn: str) -> timedelta:
    """How often ``cn`` data should arrive from ``mn`` (registry; defaults 30 s / 10 min)."""
    if cn in FIXED_INTERVALS:
        return FIXED_INTERVALS[cn]
    row = conn.execute(
        "SELECT rt_interval_s, minute_interval_min FROM hj212.station WHERE mn = %s", (mn,)
    ).fetchone()
    rt_s, minute_min = row if row is not None else (30, 10)
    return timedelta(seconds=rt_s) if cn == "2011" else timedelta(minutes=minute_min)


def gaps(
    conn: Conn,
    mn: str,
    start: datetime,
    end: datetime,
    cn: str = "2011",
    interval: timedelta | None = None,
) -> list[Gap]:
    """Stretches of [start, end) where at least one expected ``cn`` record is missing.

    A record is expected every ``interval`` (default: the registry's, see
    :func:`expected_interval`); a jump of more than 1.5 intervals between consecutive
    records (or from the window's edges) is a gap of ``round(jump / interval) - 1``
    missing records.
    """
    step = interval or expected_interval(conn, mn, cn)
    params = {"mn": mn, "cn": cn, "start": start, "end": end, "step": step}
    return _gaps(conn.execute(_GAPS, params).fetchall(), start, step)


async def gaps_async(
    conn: AsyncConn, mn: str, start: datetime, end: datetime, cn: str, interval: timedelta
) -> list[Gap]:
    """:func:`gaps` on an async connection, the interval given (the back-fill loop:
    services/backfill.py)."""
    params = {"mn": mn, "cn": cn, "start": start, "end": end, "step": interval}
    async with conn.transaction():
        rows = await (await conn.execute(_GAPS, params)).fetchall()
    return _gaps(rows, start, interval)


_GAPS = (
    "WITH t AS (SELECT DISTINCT data_time FROM hj212.measurement"
    " WHERE mn = %(mn)s AND cn = %(cn)s AND data_time >= %(start)s AND data_time < %(end)s),"
    " edges AS (SELECT data_time FROM t"
    " UNION ALL SELECT %(start)s::timestamptz - %(step)s::interval"
    " UNION ALL SELECT %(end)s::timestamptz),"
    " pairs AS (SELECT lag(data_time) OVER (ORDER BY data_time) AS after,"
    " data_time AS before FROM edges)"
    " SELECT after, before FROM pairs"
    " WHERE after IS NOT NULL AND before - after > %(step)s::interval * 1.5"
    " ORDER BY after"
)


def _gaps(rows: Sequence[tuple[datetime, datetime]], start: datetime, step: timedelta) -> list[Gap]:
    out = []
    for after, before in rows:
        missing = round((before - after) / step) - 1
        if missing > 0:
            out.append(Gap(max(after, start - step), before, missing))
    return out


def frames(
    conn: Conn,
    mn: str | None,
    start: datetime,
    end: datetime,
    limit: int = 1000,
) -> list[FrameRow]:
    """Archived frames of one station (``None``: frames without MN) in [start, end)."""
    where = "mn IS NULL" if mn is None else "mn = %(mn)s"
    sql = (
        "SELECT id, received_at, peer, transport, mn, qn, cn, status, error, raw"
        f" FROM hj212.frame WHERE {where}"
        " AND received_at >= %(start)s AND received_at < %(end)s"
        " ORDER BY received_at, id LIMIT %(limit)s"
    )
    with conn.cursor(row_factory=class_row(FrameRow)) as cur:
        cur.execute(sql.encode(), {"mn": mn, "start": start, "end": end, "limit": limit})
        return cur.fetchall()
