"""Reads for the figures (services/figures.py): a region's stations, their hourly
records, minute records and marks over a period (every query bounds time). The SQL only
fetches; which minute records are valid is decided once, in rules/validity.py."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from rules.model import Mark, Reading, StationInfo
from rules.rates import HourData
from rules.times import us
from rules.validity import live_marks, valid_minute_counts
from storage import rules_inputs
from storage.db import Conn

_HOURS = (
    "SELECT mn, pollutant, data_time, rtd, min, avg, max, cou, zs_rtd, zs_avg, flag,"
    " received_at FROM hj212.measurement"
    " WHERE cn = '2061' AND data_time >= %(start)s AND data_time < %(end)s"
    " AND mn = ANY(%(mns)s)"
)
# Minute records per station, pollutant, hour (µs) and flag, and how many of them carry
# a value; and each minute record inside a mark's period (revoked or not): the rules
# judge which are valid (rules.validity.valid_minute_counts), this only fetches them.
_MINUTES = (
    "SELECT mn, pollutant, (extract(epoch FROM time_bucket('1 hour', data_time))"
    " * 1000000)::int8, flag, count(*)::int, count(coalesce(rtd, avg))::int"
    " FROM hj212.measurement"
    " WHERE cn = '2051' AND data_time >= %(start)s AND data_time < %(end)s"
    " AND mn = ANY(%(mns)s) GROUP BY 1, 2, 3, 4"
)
_MARKED_MINUTES = (
    "SELECT DISTINCT m.mn, m.pollutant, m.data_time, m.rtd, m.avg, m.flag"
    " FROM hj212.data_mark d JOIN hj212.measurement m ON m.mn = d.mn AND m.cn = '2051'"
    " AND m.data_time >= greatest(lower(d.period), %(start)s)"
    " AND m.data_time <= least(upper(d.period), %(end)s) AND m.data_time < %(end)s"
    " WHERE d.mn = ANY(%(mns)s) AND d.period && tstzrange(%(start)s, %(end)s, '[]')"
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


def _params(mns: Sequence[str], start: datetime, end: datetime) -> dict[str, object]:
    return {"start": start, "end": end, "mns": list(mns)}


def hours(
    conn: Conn, mns: Sequence[str], start: datetime, end: datetime
) -> dict[str, dict[tuple[str, int], HourData]]:
    """The hourly records (2061) of ``mns`` in [start, end), by (pollutant, hour µs)."""
    out: dict[str, dict[tuple[str, int], HourData]] = {mn: {} for mn in mns}
    rows = conn.execute(_HOURS, _params(mns, start, end))
    for mn, code, at, rtd, low, avg, high, cou, zs_rtd, zs_avg, flag, received in rows:
        reading = Reading(rtd, low, avg, high, cou, zs_rtd, zs_avg, flag)
        out[mn][(code, us(at))] = HourData(reading, us(received))
    return out


def _marks(conn: Conn, params: dict[str, object]) -> dict[str, list[Mark]]:
    """The marks in force of each station over the period (revocations applied)."""
    found: dict[str, list[Mark]] = defaultdict(list)
    for ident, mn, pollutant, low, high, category, invalidates, marked_at, revokes in conn.execute(
        _MARKS, params
    ):
        low, high = low or rules_inputs.FAR_PAST, high or rules_inputs.FAR_FUTURE
        found[mn].append(
            Mark(ident, mn, pollutant, low, high, category, invalidates, marked_at, revokes)
        )
    return {mn: live_marks(marks) for mn, marks in found.items()}


def _minutes(
    conn: Conn, params: dict[str, object], marks: dict[str, list[Mark]]
) -> dict[str, dict[tuple[str, int], int]]:
    """Valid minute records per (pollutant, hour), judged by rules.validity."""
    like: dict[tuple[str | None, bool], Reading] = {}  # one reading per flag, value or not

    def _like(flag: str | None, valued: bool) -> Reading:
        found = like.get((flag, valued))
        if found is None:  # 0.0 stands for "a value", None for none
            found = like[(flag, valued)] = Reading(avg=0.0 if valued else None, flag=flag)
        return found

    groups: dict[str, list[tuple[str, int, Reading, int]]] = defaultdict(list)
    for mn, code, hour, flag, n, valued in conn.execute(_MINUTES, params):
        found = groups[mn]
        if valued:
            found.append((code, hour, _like(flag, True), valued))
        if n > valued:
            found.append((code, hour, _like(flag, False), n - valued))
    marked: dict[str, list[tuple[str, int, Reading]]] = defaultdict(list)
    for mn, code, at, rtd, avg, flag in conn.execute(_MARKED_MINUTES, params):
        marked[mn].append((code, us(at), Reading(rtd=rtd, avg=avg, flag=flag)))
    return {
        mn: valid_minute_counts(found, marked.get(mn, ()), marks.get(mn, []))
        for mn, found in groups.items()
    }


def period_data(
    conn: Conn, mns: Sequence[str], start: datetime, end: datetime
) -> dict[str, StationData]:
    """Hourly records, valid-minute counts and marks of ``mns`` in [start, end)."""
    params = _params(mns, start, end)
    marks = _marks(conn, params)
    minutes = _minutes(conn, params, marks)
    received: dict[str, list[int]] = defaultdict(list)
    for mn, hour in conn.execute(_MINUTE_HOURS, params):
        received[mn].append(us(hour))
    return {
        mn: StationData(records, minutes.get(mn, {}), received.get(mn, []), marks.get(mn, []))
        for mn, records in hours(conn, mns, start, end).items()
    }
