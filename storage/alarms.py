"""Alarms and cases in the database: what the engine raised, and what people did.

:func:`write_outputs` stores the engine's outputs in order, in the caller's transaction:
an alarm is inserted once per condition key (``ON CONFLICT DO NOTHING``: a step
repeated after a crash, or a replay written twice, adds nothing), with a webhook
notification per matching hook queued in the same transaction (an outbox); a clear
sets ``cleared_at``; case events open, extend and close ``hj212.case`` and its
timeline ``hj212.case_event``. :func:`act` moves an alarm through its lifecycle
(:mod:`rules.lifecycle`), recording who, when and why, and audits it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from config.rules import Webhook
from rules.lifecycle import next_state
from rules.model import Alarm, CaseEvent, Clear, Output, StationInfo
from storage import audit
from storage.db import Conn

_INSERT_ALARM = (
    "INSERT INTO hj212.alarm (key, mn, pollutant, kind, severity, raised_at, data_time,"
    " value, threshold, detail, case_id)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
    " (SELECT id FROM hj212.case WHERE key = %s))"
    " ON CONFLICT (key) DO NOTHING RETURNING id"
)
_CLEAR = "UPDATE hj212.alarm SET cleared_at = %s WHERE key = %s AND cleared_at IS NULL"
_OPEN_CASE = (
    "INSERT INTO hj212.case (key, mn, kind, pollutant, medium, opened_at, started_at,"
    " report_due, restore_due, cause, summary)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (key) DO NOTHING"
)
_CASE_EVENT = (
    "INSERT INTO hj212.case_event (case_id, at, kind, detail)"
    " SELECT id, %s, %s, %s FROM hj212.case WHERE key = %s ON CONFLICT DO NOTHING"
)
_CLOSE_CASE = (
    "UPDATE hj212.case SET state = 'closed', closed_at = %s WHERE key = %s AND state = 'open'"
)
_LINK_EVENT = (
    "UPDATE hj212.case_event e SET alarm_id = %s FROM hj212.case c"
    " WHERE e.case_id = c.id AND c.key = %s AND e.kind = %s"
)
_NOTIFY = (
    "INSERT INTO hj212.notification (alarm_id, url, payload) VALUES (%s, %s, %s)"
    " ON CONFLICT DO NOTHING"
)


@dataclass(frozen=True)
class Written:
    alarms: int = 0  # newly inserted (repeats are not counted)
    clears: int = 0
    case_events: int = 0
    notifications: int = 0


def payload(alarm_id: int, alarm: Alarm, station: StationInfo | None) -> dict[str, object]:
    """What a webhook receives for one alarm (JSON)."""
    return {
        "id": alarm_id,
        "key": alarm.key,
        "mn": alarm.mn,
        "kind": alarm.kind,
        "severity": alarm.severity,
        "raised_at": alarm.at.isoformat(),
        "pollutant": alarm.pollutant,
        "data_time": alarm.data_time.isoformat() if alarm.data_time else None,
        "value": alarm.value,
        "threshold": alarm.threshold,
        "detail": dict(alarm.detail),
        "case": alarm.case_key,
        "station": {
            "name": station.name if station else "",
            "enterprise": station.enterprise if station else "",
            "region_code": station.region_code if station else "",
        },
    }


def _case_event(conn: Conn, event: CaseEvent) -> None:
    detail = dict(event.detail)
    if event.kind == "opened":
        conn.execute(
            _OPEN_CASE,
            (
                event.case_key,
                event.mn,
                detail.get("case_kind"),
                detail.get("pollutant"),
                detail.get("medium"),
                event.at,
                detail.get("started_at"),
                detail.get("report_due"),
                detail.get("restore_due"),
                detail.get("cause") or "",
                f"{detail.get('case_kind')} {detail.get('pollutant') or ''}".strip(),
            ),
        )
    elif event.kind == "closed":
        conn.execute(_CLOSE_CASE, (event.at, event.case_key))
    conn.execute(_CASE_EVENT, (event.at, event.kind, Jsonb(detail), event.case_key))


def _alarm(
    conn: Conn, alarm: Alarm, stations: Mapping[str, StationInfo], hooks: Sequence[Webhook]
) -> tuple[int, int]:
    """Insert one alarm unless its condition was raised before: (inserted, notifications)."""
    row = conn.execute(
        _INSERT_ALARM,
        (
            alarm.key,
            alarm.mn,
            alarm.pollutant,
            alarm.kind,
            alarm.severity,
            alarm.at,
            alarm.data_time,
            alarm.value,
            alarm.threshold,
            Jsonb(dict(alarm.detail)),
            alarm.case_key,
        ),
    ).fetchone()
    if row is None:
        return 0, 0
    alarm_id = int(row[0])
    if alarm.case_key is not None:
        step = "opened" if alarm.key == alarm.case_key else alarm.key.rsplit(":", 1)[-1]
        conn.execute(_LINK_EVENT, (alarm_id, alarm.case_key, step))
    station = stations.get(alarm.mn)
    region = station.region_code if station else ""
    sent = 0
    for hook in hooks:
        if hook.wants(alarm, region):
            body = Jsonb(payload(alarm_id, alarm, station))
            sent += conn.execute(_NOTIFY, (alarm_id, hook.url, body)).rowcount
    return 1, sent


def write_outputs(
    conn: Conn,
    outputs: Iterable[Output],
    stations: Mapping[str, StationInfo] | None = None,
    hooks: Sequence[Webhook] = (),
) -> Written:
    """Store the engine's outputs, in order, in the caller's transaction."""
    stations = stations or {}
    alarms = clears = events = notes = 0
    for output in outputs:
        if isinstance(output, CaseEvent):
            _case_event(conn, output)
            events += 1
        elif isinstance(output, Alarm):
            inserted, sent = _alarm(conn, output, stations, hooks)
            alarms += inserted
            notes += sent
        elif isinstance(output, Clear):
            clears += conn.execute(_CLEAR, (output.at, output.key)).rowcount
    return Written(alarms, clears, events, notes)


# -- the lifecycle -------------------------------------------------------------------
@dataclass(frozen=True)
class AlarmRow:
    id: int
    key: str | None
    mn: str
    pollutant: str | None
    kind: str
    severity: str
    state: str
    raised_at: datetime
    data_time: datetime | None
    value: float | None
    threshold: float | None
    cleared_at: datetime | None
    case_id: int | None
    detail: dict[str, object]


_COLUMNS = (
    "a.id, a.key, a.mn, a.pollutant, a.kind, a.severity, a.state, a.raised_at, a.data_time,"
    " a.value, a.threshold, a.cleared_at, a.case_id, a.detail"
)


def list_alarms(
    conn: Conn,
    *,
    state: str | None = None,
    mn: str | None = None,
    kind: str | None = None,
    region: str | None = None,
    since: datetime | None = None,
    limit: int = 200,
) -> list[AlarmRow]:
    """Alarms, newest first, filtered; ``region`` is a region-code prefix."""
    sql = (
        f"SELECT {_COLUMNS} FROM hj212.alarm a LEFT JOIN hj212.station s ON s.mn = a.mn"
        " WHERE (%(state)s::text IS NULL OR a.state = %(state)s)"
        " AND (%(mn)s::text IS NULL OR a.mn = %(mn)s)"
        " AND (%(kind)s::text IS NULL OR a.kind = %(kind)s)"
        " AND (%(region)s::text IS NULL OR s.region_code LIKE %(region)s || '%%')"
        " AND (%(since)s::timestamptz IS NULL OR a.raised_at >= %(since)s)"
        " ORDER BY a.raised_at DESC, a.id DESC LIMIT %(limit)s"
    )
    params = {"state": state, "mn": mn, "kind": kind, "region": region, "since": since}
    with conn.cursor(row_factory=class_row(AlarmRow)) as cur:
        cur.execute(sql.encode(), {**params, "limit": limit})
        return cur.fetchall()


def act(conn: Conn, alarm_id: int, action: str, actor: str, note: str = "") -> AlarmRow:
    """One lifecycle step (ack, resolve, close) by ``actor``, with a note; audited.

    :raises LookupError: no such alarm.
    :raises rules.lifecycle.LifecycleError: the step is not allowed from its state.
    """
    with conn.transaction():
        row = conn.execute(
            "SELECT state FROM hj212.alarm WHERE id = %s FOR UPDATE", (alarm_id,)
        ).fetchone()
        if row is None:
            raise LookupError(f"no alarm {alarm_id}")
        state = next_state(row[0], action)
        conn.execute(
            "UPDATE hj212.alarm SET state = %s, updated_at = now() WHERE id = %s",
            (state, alarm_id),
        )
        conn.execute(
            "INSERT INTO hj212.alarm_action (alarm_id, action, actor, note) VALUES (%s, %s, %s, %s)",
            (alarm_id, state, actor, note),
        )
        mn = conn.execute("SELECT mn FROM hj212.alarm WHERE id = %s", (alarm_id,)).fetchone()
        detail = {"from": row[0], "to": state, "note": note}
        audit.append(conn, actor, state, f"alarm:{alarm_id}", detail, mn=mn[0] if mn else None)
    found = get_alarm(conn, alarm_id)
    assert found is not None
    return found


def get_alarm(conn: Conn, alarm_id: int) -> AlarmRow | None:
    with conn.cursor(row_factory=class_row(AlarmRow)) as cur:
        cur.execute(f"SELECT {_COLUMNS} FROM hj212.alarm a WHERE a.id = %s".encode(), (alarm_id,))
        return cur.fetchone()


@dataclass(frozen=True)
class Action:
    action: str
    actor: str
    at: datetime
    note: str


def history(conn: Conn, alarm_id: int) -> list[Action]:
    """Every lifecycle step of one alarm, oldest first."""
    with conn.cursor(row_factory=class_row(Action)) as cur:
        cur.execute(
            "SELECT action, actor, at, note FROM hj212.alarm_action WHERE alarm_id = %s"
            " ORDER BY at, id",
            (alarm_id,),
        )
        return cur.fetchall()
