"""What the rules engine reads: the registry, and what arrived in a window of time.

Records come from ``hj212.frame`` (every frame with an MN that was stored, found to be
a retransmission, or refused: the last carry the refusal's code and no measurements)
joined, by frame id, with the measurements of the same receive window; marks from
``hj212.data_mark`` by the time they were made. Both windows are
read through the BRIN indexes of migration 0010 and bounded in ``data_time`` too, so
TimescaleDB only opens the chunks concerned.

Records whose DataTime is more than ``backfill`` older than their receive time are left
out (per row, so a replay leaves out exactly what the live run did): the reports read
them from the database, the engine does not hold weeks of history.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from rules.corrections import Correction
from rules.filings import KINDS, Filing
from rules.model import Fact, Mark, PollutantConfig, Reading, Record, StationInfo
from storage.db import Conn

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
FAR_PAST = datetime(1970, 1, 1, tzinfo=UTC)

_STATIONS = (
    "SELECT mn, medium, region_code, name, enterprise, o2_ref, rt_interval_s,"
    " minute_interval_min, active, created_at FROM hj212.station"
)
_POLLUTANTS = (
    "SELECT mn, pollutant, assessed, emission_limit, limit_period, range_low, range_high, unit"
    " FROM hj212.station_pollutant"
)
_REGISTRY_VERSION = (
    "SELECT max(at) FROM hj212.audit_log"
    " WHERE object IN ('station', 'station_pollutant') AND at > %s"
)
_STATUSES = "('ok', 'duplicate', 'rejected', 'unauthorized')"
_FRAMES = (
    "SELECT id, received_at, mn, cn, status, error FROM hj212.frame"
    " WHERE received_at > %(after)s AND received_at <= %(until)s"
    f" AND mn IS NOT NULL AND status IN {_STATUSES}"
)
# Frames committed late are the ones a gateway acknowledged from its disk spool while the
# database was away (migration 0008): the partial index on spool_id finds them cheaply.
_LATE_FRAMES = (
    "SELECT id, received_at, mn, cn, status, error FROM hj212.frame"
    " WHERE spool_id IS NOT NULL AND received_at > %(since)s AND received_at <= %(after)s"
    f" AND id > %(last_id)s AND mn IS NOT NULL AND status IN {_STATUSES}"
)
_MEASUREMENTS = (
    "SELECT frame_id, data_time, pollutant, rtd, min, avg, max, cou, zs_rtd, zs_avg, flag"
    " FROM hj212.measurement"
    " WHERE received_at > %(after)s AND received_at <= %(until)s"
    " AND data_time >= %(oldest)s AND data_time >= received_at - %(backfill)s"
)
# issue 20: the device events the engine acts on (rules/device_facts.py), same window;
# an instrument's serial number comes with the one it reported before (by receive time)
_FACTS = (
    "SELECT e.frame_id, e.kind, e.pollutant, e.data_time, e.payload,"
    " CASE WHEN e.kind = 'instrument-id' THEN (SELECT p.payload->>'sn'"
    "  FROM hj212.device_event p WHERE p.mn = e.mn AND p.kind = e.kind"
    "  AND p.pollutant = e.pollutant AND p.received_at < e.received_at"
    "  ORDER BY p.received_at DESC LIMIT 1) END"
    " FROM hj212.device_event e"
    " WHERE e.received_at > %(after)s AND e.received_at <= %(until)s"
    " AND e.kind IN ('restart', 'instrument-id', 'standard-check')"
)
_MARKS = (
    "SELECT id, mn, pollutant, lower(period), upper(period), category, invalidates,"
    " marked_at, revokes FROM hj212.data_mark"
    " WHERE marked_at > %(after)s AND marked_at <= %(until)s"
)


def stations(conn: Conn, mn: str | None = None) -> list[StationInfo]:
    """The whole registry as the rules see it (or the one station ``mn``)."""
    where = (" WHERE mn = %(mn)s" if mn is not None else "").encode()
    params = {"mn": mn}
    pollutants: dict[str, dict[str, PollutantConfig]] = defaultdict(dict)
    for key, code, assessed, limit, period, low, high, unit in conn.execute(
        _POLLUTANTS.encode() + where, params
    ):
        pollutants[key][code] = PollutantConfig(code, assessed, limit, period, low, high, unit)
    out = []
    for (
        key,
        medium,
        region,
        name,
        enterprise,
        o2_ref,
        rt_s,
        minute,
        active,
        created,
    ) in conn.execute(_STATIONS.encode() + where, params):
        out.append(
            StationInfo(
                key,
                medium,
                region,
                name,
                enterprise,
                o2_ref,
                rt_s,
                minute,
                active,
                True,
                created,
                pollutants.get(key, {}),
            )
        )
    return out


def registry_changed_since(conn: Conn, since: datetime) -> datetime | None:
    """When the registry last changed after ``since`` (audited by triggers), if it did."""
    row = conn.execute(_REGISTRY_VERSION, (since,)).fetchone()
    return row[0] if row is not None else None


def _records(
    conn: Conn,
    frames: list[tuple[int, datetime, str, str, str, str | None]],
    params: dict[str, object],
    sql: str = _MEASUREMENTS,
) -> list[Record]:
    if not frames:
        return []
    readings: dict[int, dict[str, Reading]] = defaultdict(dict)
    times: dict[int, datetime] = {}
    for frame_id, data_time, code, rtd, low, avg, high, cou, zs_rtd, zs_avg, flag in conn.execute(
        sql.encode(), params
    ):
        readings[frame_id][code] = Reading(rtd, low, avg, high, cou, zs_rtd, zs_avg, flag)
        times[frame_id] = data_time
    facts = _facts(conn, params)
    return [
        Record(
            mn,
            cn or "",
            received_at,
            times.get(frame_id),
            readings.get(frame_id, {}),
            frame_id,
            status == "duplicate",
            _refusal(status, error),
            tuple(facts.get(frame_id, ())),
        )
        for frame_id, received_at, mn, cn, status, error in frames
    ]


def _facts(conn: Conn, params: dict[str, object]) -> dict[int, list[Fact]]:
    sql = _FACTS + (" AND e.frame_id = ANY(%(ids)s)" if "ids" in params else "")
    out: dict[int, list[Fact]] = defaultdict(list)
    for frame_id, kind, pollutant, at, payload, previous in conn.execute(sql.encode(), params):
        fields = dict(payload)
        if kind == "instrument-id":
            fields["previous_sn"] = previous
        out[frame_id].append(Fact(kind, pollutant, at, fields))
    return out


def _refusal(status: str, error: str | None) -> str | None:
    """The code a refused frame was archived with (``legacy-crc: ...`` -> legacy-crc)."""
    if status in ("ok", "duplicate"):
        return None
    return (error or status).split(":")[0]


def records(conn: Conn, after: datetime, until: datetime, backfill: timedelta) -> list[Record]:
    """Frames received in (after, until], each with its measurements."""
    params: dict[str, object] = {
        "after": after,
        "until": until,
        "oldest": after - backfill,
        "backfill": backfill,
    }
    frames = conn.execute(_FRAMES, params).fetchall()
    return _records(conn, frames, params)


def late_records(
    conn: Conn, since: datetime, after: datetime, last_id: int, backfill: timedelta
) -> list[Record]:
    """Frames received in (since, after] but committed after the engine passed ``after``."""
    frames = conn.execute(
        _LATE_FRAMES, {"since": since, "after": after, "last_id": last_id}
    ).fetchall()
    params: dict[str, object] = {
        "after": since,
        "until": after,
        "oldest": since - backfill,
        "backfill": backfill,
        "ids": [frame[0] for frame in frames],
    }
    return _records(conn, frames, params, _MEASUREMENTS + " AND frame_id = ANY(%(ids)s)")


def marks(conn: Conn, after: datetime, until: datetime) -> list[Mark]:
    """Data marks made in (after, until]."""
    found = []
    for ident, mn, pollutant, start, end, category, invalidates, marked_at, revokes in conn.execute(
        _MARKS, {"after": after, "until": until}
    ):
        found.append(
            Mark(
                ident,
                mn,
                pollutant,
                start or FAR_PAST,
                end or FAR_FUTURE,
                category,
                invalidates,
                marked_at,
                revokes,
            )
        )
    return found


# Approved corrections by the time they were approved (migration 0135), each with the
# O2 stored for its hour (a corrected gas hour is converted with it, docs/regulations.md
# §3.1) and the water flow (a water day's mean is flow-weighted, §3.2).
_CORRECTIONS = (
    "SELECT c.id, c.mn, c.pollutant, c.data_time, c.kind, c.new_value, c.original,"
    " (SELECT coalesce(m.avg, m.rtd) FROM hj212.measurement m WHERE m.mn = c.mn"
    "  AND m.cn = '2061' AND m.pollutant = 'a19001' AND m.data_time = c.data_time"
    "  ORDER BY m.received_at LIMIT 1), c.reviewed_at, f.avg, f.cou"
    " FROM hj212.correction c LEFT JOIN LATERAL (SELECT coalesce(m.avg, m.rtd) avg, m.cou"
    "  FROM hj212.measurement m WHERE m.mn = c.mn AND m.cn = '2061'"
    "  AND m.pollutant = 'w00000' AND m.data_time = c.data_time"
    "  ORDER BY m.received_at LIMIT 1) f ON true"
    " WHERE c.state = 'approved' AND c.period_kind = 'hour'"
    " AND c.reviewed_at > %(after)s AND c.reviewed_at <= %(until)s"
)


def corrections(conn: Conn, after: datetime, until: datetime) -> list[Correction]:
    """Corrections and substitutions approved in (after, until]."""
    return [
        Correction(*row)
        for row in conn.execute(_CORRECTIONS, {"after": after, "until": until}).fetchall()
    ]


Input = Record | Mark | Filing | Correction


def ordered(items: list[Input]) -> list[Input]:
    """Inputs in the order the engine takes them: by time, marks first, then what was
    filed (by kind), then approved corrections, then records, each by id."""

    def key(item: Input) -> tuple[datetime, int, int, int]:
        if isinstance(item, Mark):
            return (item.marked_at, 0, 0, item.id)
        if isinstance(item, Filing):
            return (item.at, 1, KINDS.index(item.kind), item.id)
        if isinstance(item, Correction):
            return (item.at, 2, 0, item.id)
        return (item.received_at, 3, 0, item.frame_id)

    return sorted(items, key=key)


# -- what the enterprise files and the regulator answers (rules/filings.py) -----------
# Each by the time it was filed (migration 0100), with the key of its case.
_REPORTS = (
    "SELECT r.id, r.mn, r.kind, r.filed_at, c.key, r.corrects, lower(r.period),"
    " upper(r.period) FROM hj212.case_report r LEFT JOIN hj212.case c ON c.id = r.case_id"
    " WHERE r.filed_at > %(after)s AND r.filed_at <= %(until)s"
)
_REVIEWS = (
    "SELECT v.id, r.mn, v.decision, v.reviewed_at, c.key, v.report_id FROM hj212.case_review v"
    " JOIN hj212.case_report r ON r.id = v.report_id"
    " LEFT JOIN hj212.case c ON c.id = r.case_id"
    " WHERE v.reviewed_at > %(after)s AND v.reviewed_at <= %(until)s"
)
_SAMPLES = (
    "SELECT s.id, s.mn, s.entered_at, c.key, s.sampled_at, s.pollutant"
    " FROM hj212.manual_sample s JOIN hj212.case c ON c.id = s.case_id"
    " WHERE s.entered_at > %(after)s AND s.entered_at <= %(until)s"
)


def filings(conn: Conn, after: datetime, until: datetime) -> list[Filing]:
    """Reports, notices, reviews and manual samples filed in (after, until]."""
    window = {"after": after, "until": until}
    found = [
        Filing(ident, mn, kind, at, case_key, ref, start, end)
        for ident, mn, kind, at, case_key, ref, start, end in conn.execute(_REPORTS, window)
    ]
    found += [
        Filing(ident, mn, decision, at, case_key, ref)
        for ident, mn, decision, at, case_key, ref in conn.execute(_REVIEWS, window)
    ]
    found += [
        Filing(ident, mn, "sample", at, case_key, None, taken, None, pollutant)
        for ident, mn, at, case_key, taken, pollutant in conn.execute(_SAMPLES, window)
    ]
    return found
