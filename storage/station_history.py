"""Everything stored about one station in a window, read in one snapshot (the evidence
bundle's contents: evidence/export.py).

Frames are those of the station's chain received in [start, end), extended to the whole
contiguous stretch of the chain between the first and the last of them (frames drained
late from a gateway's spool keep their receive time but take later ids), so that the
bundle's links can be checked one after another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage.db import DictConn as Conn

Row = dict[str, Any]
# hj212.measurement's value columns, in the order bundles list them
VALUE_COLUMNS = ("rtd", "min", "avg", "max", "cou", "zs_rtd", "zs_min", "zs_avg", "zs_max")


@dataclass
class Window:
    mn: str
    start: datetime
    end: datetime
    frames: list[Row] = field(default_factory=list)  # with "raw" as bytes
    measurements: list[Row] = field(default_factory=list)
    device_status: list[Row] = field(default_factory=list)
    alarms: list[Row] = field(default_factory=list)
    cases: list[Row] = field(default_factory=list)
    commands: list[Row] = field(default_factory=list)
    clock_drift: list[Row] = field(default_factory=list)
    data_marks: list[Row] = field(default_factory=list)
    mark_requests: list[Row] = field(default_factory=list)
    attachments: list[Row] = field(default_factory=list)  # with "content" as bytes
    audit: list[Row] = field(default_factory=list)
    head: Row | None = None
    station: Row | None = None


_FRAME_COLUMNS = (
    "id, received_at, peer, transport, mn, qn, st, cn, flag, status, error, raw, hash, prev_hash"
)
_MEASUREMENT = (
    f"SELECT data_time, mn, cn, pollutant, {', '.join(VALUE_COLUMNS)}, flag, eflag, frame_id,"
    " received_at FROM hj212.measurement"
)


def _all(conn: Conn, sql: str, params: Sequence[object] | dict[str, object]) -> list[Row]:
    return conn.execute(sql.encode(), params).fetchall()


def frames(conn: Conn, mn: str, start: datetime, end: datetime) -> list[Row]:
    """The chain's frames in the window, as one contiguous stretch of the chain."""
    row = conn.execute(
        "SELECT min(id) AS low, max(id) AS high FROM hj212.frame"
        " WHERE mn = %s AND received_at >= %s AND received_at < %s",
        (mn, start, end),
    ).fetchone()
    if row is None or row["low"] is None:
        return []
    return _all(
        conn,
        f"SELECT {_FRAME_COLUMNS} FROM hj212.frame WHERE mn = %s AND id BETWEEN %s AND %s"
        " ORDER BY id",
        (mn, row["low"], row["high"]),
    )


def measurements(conn: Conn, mn: str, frame_ids: list[int], low: datetime) -> list[Row]:
    """Rows parsed from these frames (their received_at is >= low: chunk exclusion)."""
    return _all(
        conn,
        f"{_MEASUREMENT} WHERE mn = %s AND frame_id = ANY(%s) AND received_at >= %s"
        " ORDER BY cn, data_time, pollutant",
        (mn, frame_ids, low),
    )


def earlier(conn: Conn, mn: str, keys: list[tuple[str, str, datetime]]) -> list[Row]:
    """Stored rows of records (cn, pollutant, data_time) whatever frame they came from."""
    if not keys:
        return []
    cns, pollutants, times = (list(k) for k in zip(*keys, strict=True))
    return _all(
        conn,
        f"{_MEASUREMENT} m WHERE mn = %s AND (cn, pollutant, data_time) IN"
        " (SELECT * FROM unnest(%s::text[], %s::text[], %s::timestamptz[]))"
        " ORDER BY cn, data_time, pollutant",
        (mn, cns, pollutants, times),
    )


def _by_time(conn: Conn, table: str, column: str, w: Window, order: str) -> list[Row]:
    sql = (
        f"SELECT * FROM hj212.{table} WHERE mn = %s AND {column} >= %s AND {column} < %s"
        f" ORDER BY {order}"
    )
    return _all(conn, sql, (w.mn, w.start, w.end))


def _alarms(conn: Conn, w: Window) -> list[Row]:
    alarms = _all(
        conn,
        "SELECT * FROM hj212.alarm WHERE mn = %s AND raised_at < %s"
        " AND (coalesce(cleared_at, 'infinity') >= %s OR raised_at >= %s) ORDER BY id",
        (w.mn, w.end, w.start, w.start),
    )
    ids = [a["id"] for a in alarms]
    actions = _all(
        conn, "SELECT * FROM hj212.alarm_action WHERE alarm_id = ANY(%s) ORDER BY at, id", (ids,)
    )
    return _attach(alarms, "actions", actions, "alarm_id")


def _cases(conn: Conn, w: Window) -> list[Row]:
    cases = _all(
        conn,
        'SELECT * FROM hj212."case" WHERE mn = %s AND opened_at < %s'
        " AND coalesce(closed_at, 'infinity') >= %s ORDER BY id",
        (w.mn, w.end, w.start),
    )
    ids = [c["id"] for c in cases]
    events = _all(
        conn, "SELECT * FROM hj212.case_event WHERE case_id = ANY(%s) ORDER BY at", (ids,)
    )
    return _attach(cases, "timeline", events, "case_id")


def _attach(parents: list[Row], name: str, children: list[Row], key: str) -> list[Row]:
    """Each parent with its children (in their order) under ``name``, matched by the
    children's ``key`` column: one pass over each list, not one over the children per
    parent."""
    grouped: dict[object, list[Row]] = {}
    for child in children:
        grouped.setdefault(child[key], []).append(child)
    for parent in parents:
        parent[name] = grouped.get(parent["id"], [])
    return parents


def _commands(conn: Conn, w: Window) -> list[Row]:
    commands = _by_time(conn, "command", "created_at", w, "id")
    ids = [c["id"] for c in commands]
    replies = _all(
        conn,
        "SELECT r.*, f.raw FROM hj212.command_reply r JOIN hj212.frame f"
        " ON f.id = r.frame_id AND f.received_at = r.received_at"
        " WHERE r.command_id = ANY(%s) ORDER BY r.received_at",
        (ids,),
    )
    return _attach(commands, "replies", replies, "command_id")


def _marks(conn: Conn, w: Window) -> None:
    overlap = "mn = %s AND period && tstzrange(%s, %s)"
    w.data_marks = _all(
        conn,
        f"SELECT id, mn, pollutant, lower(period) AS start, upper(period) AS end, category,"
        f" invalidates, reason, source, marked_by, marked_at, revokes FROM hj212.data_mark"
        f" WHERE {overlap} OR id IN (SELECT revokes FROM hj212.data_mark WHERE {overlap})"
        " ORDER BY id",
        (w.mn, w.start, w.end, w.mn, w.start, w.end),
    )
    w.mark_requests = _all(
        conn,
        "SELECT id, mn, pollutant, lower(period) AS start, upper(period) AS end, kind, reason,"
        " requested_by, requested_at, state, reviewed_by, reviewed_at, review_note, mark_id"
        f" FROM hj212.mark_request WHERE {overlap} ORDER BY id",
        (w.mn, w.start, w.end),
    )
    w.attachments = _all(
        conn,
        "SELECT id, request_id, name, sha256, size, content, added_at FROM hj212.mark_attachment"
        " WHERE request_id = ANY(%s) ORDER BY id",
        ([r["id"] for r in w.mark_requests],),
    )


def window(conn: Conn, mn: str, start: datetime, end: datetime) -> Window:
    """Everything about ``mn`` in [start, end) (call inside a REPEATABLE READ transaction)."""
    w = Window(mn, start, end)
    w.frames = frames(conn, mn, start, end)
    if w.frames:
        low = min(f["received_at"] for f in w.frames)
        w.measurements = measurements(conn, mn, [f["id"] for f in w.frames], low)
        w.device_status = _all(
            conn,
            "SELECT * FROM hj212.device_status WHERE mn = %s AND frame_id = ANY(%s)"
            " AND received_at >= %s ORDER BY data_time, cn, device, item",
            (mn, [f["id"] for f in w.frames], low),
        )
    w.alarms = _alarms(conn, w)
    w.cases = _cases(conn, w)
    w.commands = _commands(conn, w)
    w.clock_drift = _by_time(conn, "clock_drift", "measured_at", w, "measured_at")
    _marks(conn, w)
    w.audit = _all(
        conn,
        "SELECT seq, id, at, actor, action, object, mn, detail, detail::text AS detail_text,"
        " hash, prev_hash"
        " FROM hj212.audit_log WHERE mn = %s AND at >= %s ORDER BY seq NULLS FIRST",
        (mn, start),  # what anyone did about the station since the window began
    )
    w.head = conn.execute(
        "SELECT chain, last_id, last_hash, frames, updated_at FROM hj212.chain_head"
        " WHERE chain = %s",
        (mn,),
    ).fetchone()
    w.station = conn.execute(
        "SELECT mn, name, enterprise, outlet, medium, region_code, protocol_version"
        " FROM hj212.station WHERE mn = %s",
        (mn,),
    ).fetchone()
    return w
