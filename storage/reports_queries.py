"""Reads for the transmission and emission reports: a region's stations, their hourly
records, minute counts and marks over a period (every query bounds time)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from psycopg.rows import TupleRow

from rules.model import Mark, Reading, StationInfo
from rules.rates import HourData
from rules.times import us
from rules.validity import EXEMPT, SHUTDOWN, live_marks
from storage import rules_inputs

Conn = psycopg.Connection[TupleRow]

_HOURS = (
    "SELECT mn, pollutant, data_time, rtd, min, avg, max, cou, zs_rtd, zs_avg, flag,"
    " received_at FROM hj212.measurement"
    " WHERE cn = '2061' AND data_time >= %(start)s AND data_time < %(end)s"
    " AND mn = ANY(%(mns)s)"
)
# Valid minute records per hour: flag N and under no mark in force (rules/validity.py).
_MINUTES = (
    "SELECT m.mn, m.pollutant, time_bucket('1 hour', m.data_time), count(*)::int"
    " FROM hj212.measurement m"
    " WHERE m.cn = '2051' AND m.data_time >= %(start)s AND m.data_time < %(end)s"
    " AND m.mn = ANY(%(mns)s) AND coalesce(m.flag, 'N') = 'N'"
    " AND NOT EXISTS (SELECT 1 FROM hj212.data_mark d"
    "   WHERE d.mn = m.mn AND (d.pollutant IS NULL OR d.pollutant = m.pollutant)"
    "   AND d.revokes IS NULL AND d.period @> m.data_time"
    "   AND (d.invalidates OR lower(d.category) = ANY(%(kinds)s))"
    "   AND NOT EXISTS (SELECT 1 FROM hj212.data_mark r WHERE r.revokes = d.id))"
    " GROUP BY 1, 2, 3"
)
_MINUTE_HOURS = (  # the hours in which minute records were received, from a day before
    "SELECT DISTINCT mn, time_bucket('1 hour', received_at) FROM hj212.measurement"
    " WHERE cn = '2051' AND data_time >= %(start)s - interval '2 days'"
    " AND data_time < %(end)s AND received_at >= %(start)s - interval '1 day'"
    " AND received_at < %(end)s AND mn = ANY(%(mns)s) ORDER BY 1, 2"
)
_MARKS = (
    "SELECT id, mn, pollutant, lower(period), upper(period), category, invalidates,"
    " marked_at, revokes FROM hj212.data_mark"
    " WHERE mn = ANY(%(mns)s) AND period && tstzrange(%(start)s, %(end)s)"
)


@dataclass
class StationData:
    """Everything stored about one station for a period."""

    hours: dict[tuple[str, int], HourData] = field(default_factory=dict)
    minutes: dict[tuple[str, int], int] = field(default_factory=dict)
    minute_hours: list[int] = field(default_factory=list)  # received 2051s, sorted
    marks: list[Mark] = field(default_factory=list)


def stations(conn: Conn, region: str | None = None) -> list[StationInfo]:
    """Active registered stations, of a region-code prefix if given, by region and MN."""
    found = [
        s
        for s in rules_inputs.stations(conn)
        if s.active and (region is None or s.region_code.startswith(region))
    ]
    return sorted(found, key=lambda s: (s.region_code, s.enterprise, s.mn))


def period_data(
    conn: Conn, mns: Sequence[str], start: datetime, end: datetime
) -> dict[str, StationData]:
    """Hourly records, valid-minute counts and marks of ``mns`` in [start, end)."""
    params = {
        "start": start,
        "end": end,
        "mns": list(mns),
        "kinds": sorted(SHUTDOWN | EXEMPT),
    }
    data: dict[str, StationData] = defaultdict(StationData)
    for mn, code, at, rtd, low, avg, high, cou, zs_rtd, zs_avg, flag, received in conn.execute(
        _HOURS, params
    ):
        reading = Reading(rtd, low, avg, high, cou, zs_rtd, zs_avg, flag)
        data[mn].hours[(code, us(at))] = HourData(reading, us(received))
    for mn, code, hour, count in conn.execute(_MINUTES, params):
        data[mn].minutes[(code, us(hour))] = count
    for mn, hour in conn.execute(_MINUTE_HOURS, params):
        data[mn].minute_hours.append(us(hour))
    marks: dict[str, list[Mark]] = defaultdict(list)
    for ident, mn, pollutant, low, high, category, invalidates, marked_at, revokes in conn.execute(
        _MARKS, params
    ):
        marks[mn].append(
            Mark(
                ident,
                mn,
                pollutant,
                low or rules_inputs.FAR_PAST,
                high or rules_inputs.FAR_FUTURE,
                category,
                invalidates,
                marked_at,
                revokes,
            )
        )
    for mn, found in marks.items():
        data[mn].marks = live_marks(found)
    return {mn: data[mn] for mn in mns}
