"""Deadlines, reminders and overdue lists of the quarterly report (seed 004 三(二);
docs/quarterly.md §3).

``now`` is a parameter: a test sets the clock, the CLI (``hj212 quarterly remind``, run
from cron or a timer like ``db retention``) passes the wall clock. A reminder is an
alarm (``quarterly-reminder``, info) raised on the enterprise's first outlet from
``remind_working_days`` working days before the enterprise's deadline, while it has
not submitted; after each level's deadline a ``quarterly-overdue`` alarm (warning)
names who is late. Both are queued to the webhooks like every alarm
(storage/alarms.py) and keyed so that running the step again raises nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from config.calendar import Calendars
from config.rules import Webhook
from rules.model import Alarm, StationInfo
from rules.quarterly_calendar import (
    LEVELS,
    Quarter,
    deadline,
    deadline_day,
    quarter_of,
    reminder_at,
)
from storage import alarms, quarterly, reports_queries
from storage.db import Conn

# The alarms raised here, not by the rules engine: a replay leaves them out
# (services/rules_replay.py), since no engine input makes them.
KINDS = ("quarterly-reminder", "quarterly-overdue")

# Which submissions are still waiting on a level after its deadline.
WAITING_ON: dict[str, tuple[str, ...]] = {
    "enterprise": ("none", "draft"),  # never submitted
    "city": ("submitted",),
    "province": ("city-forwarded",),
}


@dataclass(frozen=True)
class Due:
    """One enterprise's quarter as seen at ``now``: its state and each level's deadline."""

    enterprise_id: int
    enterprise: str
    region_code: str
    mn: str  # the outlet the reminders are raised on
    submission_id: int | None
    state: str  # 'none' before a submission exists
    deadlines: dict[str, datetime]  # the moment each level's time is up
    late: tuple[str, ...]  # the levels whose deadline passed while it waited on them
    days: dict[str, str]  # each level's last day (ISO date), as people read a deadline


def deadlines(quarter: Quarter, region_code: str, calendars: Calendars) -> dict[str, datetime]:
    cal = calendars.for_region(region_code)
    return {level: deadline(quarter, level, cal) for level, _ in LEVELS}


def status(
    conn: Conn, quarter: Quarter, prefix: str, now: datetime, calendars: Calendars
) -> list[Due]:
    """Every reporting enterprise of the region prefix for the quarter."""
    subs = {s.enterprise_id: s for s in quarterly.listed(conn, quarter.label, "")}
    out = []
    for ident, name, region, mn in quarterly.expected(conn, prefix, quarter.end):
        sub = subs.get(ident)
        state = sub.state if sub else "none"
        due = deadlines(quarter, region, calendars)
        late = tuple(
            lv for lv, waiting in WAITING_ON.items() if state in waiting and now >= due[lv]
        )
        cal = calendars.for_region(region)
        days = {lv: deadline_day(quarter, lv, cal).isoformat() for lv, _ in LEVELS}
        out.append(Due(ident, name, region, mn, sub.id if sub else None, state, due, late, days))
    return out


def overdue(
    conn: Conn, quarter: Quarter, prefix: str, now: datetime, calendars: Calendars
) -> list[Due]:
    return [d for d in status(conn, quarter, prefix, now, calendars) if d.late]


def _alarms(quarter: Quarter, due: Due, now: datetime, calendars: Calendars) -> list[Alarm]:
    cal = calendars.for_region(due.region_code)
    detail = {"enterprise_id": due.enterprise_id, "enterprise": due.enterprise,
              "quarter": quarter.label, "state": due.state}  # fmt: skip
    found = []
    remind = reminder_at(quarter, "enterprise", cal, calendars.remind_working_days)
    if due.state in WAITING_ON["enterprise"] and remind <= now < due.deadlines["enterprise"]:
        found.append(Alarm(
            f"quarterly-reminder:{quarter.label}:{due.enterprise_id}", due.mn,
            "quarterly-reminder", "info", now,
            detail={**detail, "deadline": due.deadlines["enterprise"].isoformat()},
        ))  # fmt: skip
    found.extend(
        Alarm(
            f"quarterly-overdue:{quarter.label}:{level}:{due.enterprise_id}", due.mn,
            "quarterly-overdue", "warning", now,
            detail={**detail, "level": level, "deadline": due.deadlines[level].isoformat()},
        )
        for level in due.late
    )  # fmt: skip
    return found


def remind(
    conn: Conn, quarter: Quarter, now: datetime, calendars: Calendars, hooks: Sequence[Webhook] = ()
) -> list[Alarm]:
    """Raises the reminders and overdue alarms due at ``now`` (each once) and queues
    their notifications; the alarms it raised this time."""
    stations: dict[str, StationInfo] = {s.mn: s for s in reports_queries.stations(conn)}
    wanted = [
        a
        for d in status(conn, quarter, "", now, calendars)
        for a in _alarms(quarter, d, now, calendars)
    ]
    with conn.transaction():
        before = quarterly.raised(conn, [a.key for a in wanted])
        alarms.write_outputs(conn, wanted, stations, hooks)
    return [a for a in wanted if a.key not in before]


def remind_now(
    conn: Conn, now: datetime, calendars: Calendars, hooks: Sequence[Webhook] = ()
) -> list[Alarm]:
    """:func:`remind` for the quarters whose report may be due at ``now``: the one
    before the clock's (seed 004 三(二): reported in the month after the quarter) and
    the clock's own, whose reminder can come before it ends when a holiday moves its
    deadline's working days back (2026Q3: National Day, reminded on 28 September).
    ``hj212 quarterly remind`` calls it (docs/quarterly.md §3)."""
    current = quarter_of(now)
    raised = remind(conn, current.previous(), now, calendars, hooks)
    return raised + remind(conn, current, now, calendars, hooks)
