"""Reads for the console, always inside a jurisdiction (a region-code prefix and, for
an enterprise user, its enterprise); every data read bounds time or is per station.

A station's last frame times are on ``hj212.chain_head``: the writer updates that row in
the transaction that stores each batch of the station's frames, so the overview of
10,000 stations reads 10,000 small rows instead of probing the frame hypertable. A
station is online when frames that authenticate and parse arrive (``accepted_at``);
one whose data frames are all refused (none accepted while refused ones come: its
heartbeats may still get through) is shown as such, with why (``refused_at``,
``refused_code``, migration 0040), not as online.
``data_high`` there (latest DataTime per CN) says which kinds of data a station sends,
hence how often a frame is expected (HJ 212-2017 §6.6: RtdInterval, MinInterval).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.rows import class_row

from storage.db import Conn
from storage.queries import FrameRow

SCOPE = (
    "s.region_code LIKE %(prefix)s || '%%'"
    # by the enterprise's id (migration 0130): the name is the user's current one
    " AND (%(enterprise)s::text IS NULL OR s.enterprise_id ="
    " (SELECT e.id FROM hj212.enterprise e WHERE e.name = %(enterprise)s))"
)


@dataclass(frozen=True)
class StationStatus:
    mn: str
    name: str
    enterprise: str
    region_code: str
    medium: str
    last_frame: datetime | None  # the last accepted frame
    expected_s: int  # seconds between frames the station should keep
    online: bool
    # not online, but frames still come, every one refused: why (legacy-crc, decrypt,
    # wrong-password ...), and when the last came
    refused: str | None
    last_refused: datetime | None
    open_alarms: int
    open_cases: int
    overdue_cases: int


_STATUS = f"""
SELECT s.mn, s.name, s.enterprise, s.region_code, s.medium, h.accepted_at AS last_frame,
  e.expected_s,
  coalesce(h.accepted_at > %(now)s - e.span, false) AND r.code IS NULL AS online,
  r.code AS refused, h.refused_at AS last_refused,
  coalesce(a.n, 0)::int AS open_alarms, coalesce(c.n, 0)::int AS open_cases,
  coalesce(c.overdue, 0)::int AS overdue_cases
FROM hj212.station s
LEFT JOIN hj212.chain_head h ON h.chain = s.mn
CROSS JOIN LATERAL (SELECT CASE
    WHEN h.data_high ? '2011' THEN s.rt_interval_s
    WHEN h.data_high ? '2051' THEN s.minute_interval_min * 60
    WHEN h.data_high ? '2061' THEN 3600 ELSE 86400 END AS expected_s) e0
CROSS JOIN LATERAL (SELECT e0.expected_s,
    make_interval(secs => e0.expected_s * %(factor)s) AS span) e
-- refused: frames still come (the last within 30 min at most), no data got through
CROSS JOIN LATERAL (SELECT CASE
    WHEN h.refused_at > %(now)s - make_interval(secs => least(e.expected_s, 600) * %(factor)s)
     AND coalesce(h.data_at <= %(now)s - e.span, true) THEN h.refused_code END AS code) r
LEFT JOIN (SELECT mn, count(*) AS n FROM hj212.alarm
    WHERE state IN ('open', 'acknowledged') AND cleared_at IS NULL GROUP BY mn) a
  ON a.mn = s.mn
LEFT JOIN (SELECT mn, count(*) AS n, count(*) FILTER (WHERE report_due < %(now)s
    OR restore_due < %(now)s) AS overdue FROM hj212.case WHERE state = 'open' GROUP BY mn) c
  ON c.mn = s.mn
WHERE s.active AND {SCOPE} AND (%(mn)s::text IS NULL OR s.mn = %(mn)s)
ORDER BY s.region_code, s.enterprise, s.mn
"""


def station_statuses(
    conn: Conn,
    now: datetime,
    prefix: str,
    enterprise: str | None,
    mn: str | None = None,
    factor: float = 3.0,
) -> list[StationStatus]:
    """Every visible station with online/offline (silent for ``factor`` expected
    intervals), open alarms and open and overdue cases."""
    params = {"now": now, "factor": factor, "prefix": prefix, "enterprise": enterprise, "mn": mn}
    with conn.cursor(row_factory=class_row(StationStatus)) as cur:
        cur.execute(_STATUS.encode(), params)
        return cur.fetchall()


def visible(conn: Conn, mn: str, prefix: str, enterprise: str | None) -> bool:
    row = conn.execute(
        f"SELECT 1 FROM hj212.station s WHERE s.mn = %(mn)s AND {SCOPE}".encode(),
        {"mn": mn, "prefix": prefix, "enterprise": enterprise},
    ).fetchone()
    return row is not None


def visible_names(
    conn: Conn, mns: Iterable[str], prefix: str, enterprise: str | None
) -> dict[str, str]:
    """Name of each of ``mns`` the jurisdiction covers (the others are left out)."""
    rows = conn.execute(
        f"SELECT s.mn, s.name FROM hj212.station s WHERE s.mn = ANY(%(mns)s) AND {SCOPE}".encode(),
        {"mns": list(mns), "prefix": prefix, "enterprise": enterprise},
    ).fetchall()
    return {str(mn): str(name) for mn, name in rows}


@dataclass(frozen=True)
class Limit:
    pollutant: str
    emission_limit: float | None
    limit_period: str | None
    unit: str | None
    range_low: float | None
    range_high: float | None


def limits(conn: Conn, mn: str) -> list[Limit]:
    with conn.cursor(row_factory=class_row(Limit)) as cur:
        cur.execute(
            "SELECT pollutant, emission_limit, limit_period, unit, range_low, range_high"
            " FROM hj212.station_pollutant WHERE mn = %s ORDER BY pollutant",
            (mn,),
        )
        return cur.fetchall()


@dataclass(frozen=True)
class Point:
    data_time: datetime
    value: float | None
    flag: str | None


def points(
    conn: Conn, mn: str, pollutant: str, cn: str, start: datetime, end: datetime, limit: int
) -> list[Point]:
    """Every record of one factor in [start, end), flags included (the chart marks them)."""
    with conn.cursor(row_factory=class_row(Point)) as cur:
        cur.execute(
            "SELECT data_time, coalesce(rtd, avg) AS value, flag FROM hj212.measurement"
            " WHERE mn = %s AND cn = %s AND pollutant = %s AND data_time >= %s"
            " AND data_time < %s ORDER BY data_time DESC LIMIT %s",
            (mn, cn, pollutant, start, end, limit),
        )
        return cur.fetchall()[::-1]


@dataclass(frozen=True)
class Case:
    id: int
    mn: str
    kind: str
    pollutant: str | None
    state: str
    opened_at: datetime
    report_due: datetime | None
    restore_due: datetime | None
    closed_at: datetime | None
    summary: str


def cases(
    conn: Conn, prefix: str, enterprise: str | None, mn: str | None, state: str | None, limit: int
) -> list[Case]:
    with conn.cursor(row_factory=class_row(Case)) as cur:
        cur.execute(
            "SELECT c.id, c.mn, c.kind, c.pollutant, c.state, c.opened_at, c.report_due,"
            " c.restore_due, c.closed_at, c.summary FROM hj212.case c"
            f" JOIN hj212.station s ON s.mn = c.mn WHERE {SCOPE}"
            " AND (%(mn)s::text IS NULL OR c.mn = %(mn)s)"
            " AND (%(state)s::text IS NULL OR c.state = %(state)s)"
            " ORDER BY c.opened_at DESC LIMIT %(limit)s".encode(),
            {"prefix": prefix, "enterprise": enterprise, "mn": mn, "state": state, "limit": limit},
        )
        return cur.fetchall()


def case_mn(conn: Conn, case_id: int) -> str | None:
    row = conn.execute("SELECT mn FROM hj212.case WHERE id = %s", (case_id,)).fetchone()
    return str(row[0]) if row else None


def add_case_note(conn: Conn, case_id: int, at: datetime, actor: str, note: str) -> None:
    conn.execute(
        "INSERT INTO hj212.case_event (case_id, at, kind, detail)"
        " VALUES (%s, %s, 'note', jsonb_build_object('by', %s::text, 'note', %s::text))",
        (case_id, at, actor, note),
    )


@dataclass(frozen=True)
class MarkRow:
    id: int
    mn: str
    pollutant: str | None
    start: datetime | None
    end: datetime | None
    category: str
    invalidates: bool
    reason: str
    marked_by: str
    marked_at: datetime
    revokes: int | None


def marks(conn: Conn, mn: str, start: datetime, end: datetime) -> list[MarkRow]:
    with conn.cursor(row_factory=class_row(MarkRow)) as cur:
        cur.execute(
            'SELECT id, mn, pollutant, lower(period) AS start, upper(period) AS "end",'
            " category, invalidates, reason, marked_by, marked_at, revokes"
            " FROM hj212.data_mark WHERE mn = %s AND period && tstzrange(%s, %s)"
            " ORDER BY lower(period)",
            (mn, start, end),
        )
        return cur.fetchall()


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    action: str
    object: str
    mn: str | None
    detail: dict[str, Any]


# The audit entries a jurisdiction may read (docs/regulations.md §12, seed 002 Art. 21:
# logs shown to the units concerned): about its stations; for a regulator (no enterprise) also those its
# users wrote, and those about its users (user and token changes, by the subject's name
# or by the region the change gave or took). Everything for '' without an enterprise.
_AUDIT_SCOPE = f"""
    (%(prefix)s = '' AND %(enterprise)s::text IS NULL)
    OR a.mn IN (SELECT s.mn FROM hj212.station s WHERE {SCOPE})
    OR (%(enterprise)s::text IS NULL AND (
        a.actor IN (SELECT name FROM hj212.console_user WHERE region_prefix LIKE %(prefix)s || '%%')
        OR (a.object IN ('console_user', 'api_token') AND (
            a.detail ->> 'name' IN (SELECT name FROM hj212.console_user
                                    WHERE region_prefix LIKE %(prefix)s || '%%')
            OR a.detail ->> 'region_prefix' LIKE %(prefix)s || '%%'
            OR a.detail -> 'before' ->> 'region_prefix' LIKE %(prefix)s || '%%'))))
"""


def audit(
    conn: Conn,
    start: datetime,
    end: datetime,
    actor: str | None,
    mn: str | None,
    limit: int,
    prefix: str = "",
    enterprise: str | None = None,
) -> list[AuditRow]:
    """Audit entries of [start, end) in a jurisdiction, newest first."""
    params = {
        "start": start,
        "end": end,
        "actor": actor,
        "mn": mn,
        "limit": limit,
        "prefix": prefix,
        "enterprise": enterprise,
    }
    with conn.cursor(row_factory=class_row(AuditRow)) as cur:
        cur.execute(
            "SELECT id, at, actor, action, object, mn, detail FROM hj212.audit_log a"
            " WHERE at >= %(start)s AND at < %(end)s"
            " AND (%(actor)s::text IS NULL OR actor = %(actor)s)"
            f" AND (%(mn)s::text IS NULL OR mn = %(mn)s) AND ({_AUDIT_SCOPE})"
            " ORDER BY at DESC, id DESC LIMIT %(limit)s",
            params,
        )
        return cur.fetchall()


@dataclass(frozen=True)
class CommandRow:
    id: int
    mn: str
    qn: str
    cn: str
    cp: str
    state: str
    requested_by: str
    created_at: datetime
    finished_at: datetime | None


def commands(conn: Conn, mn: str, limit: int) -> list[CommandRow]:
    with conn.cursor(row_factory=class_row(CommandRow)) as cur:
        cur.execute(
            "SELECT id, mn, qn, cn, cp, state, requested_by, created_at, finished_at"
            " FROM hj212.command WHERE mn = %s ORDER BY id DESC LIMIT %s",
            (mn, limit),
        )
        return cur.fetchall()


def recent_frames(
    conn: Conn, mn: str, start: datetime, end: datetime, limit: int
) -> list[FrameRow]:
    """The newest ``limit`` archived frames of a station in [start, end), newest first."""
    with conn.cursor(row_factory=class_row(FrameRow)) as cur:
        cur.execute(
            "SELECT id, received_at, peer, transport, mn, qn, cn, status, error, raw"
            " FROM hj212.frame WHERE mn = %s AND received_at >= %s AND received_at < %s"
            " ORDER BY received_at DESC, id DESC LIMIT %s",
            (mn, start, end, limit),
        )
        return cur.fetchall()


def command_mn(conn: Conn, command_id: int) -> str | None:
    row = conn.execute("SELECT mn FROM hj212.command WHERE id = %s", (command_id,)).fetchone()
    return str(row[0]) if row else None


def mark_request_mn(conn: Conn, request_id: int) -> str | None:
    row = conn.execute("SELECT mn FROM hj212.mark_request WHERE id = %s", (request_id,)).fetchone()
    return str(row[0]) if row else None
