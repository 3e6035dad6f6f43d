"""``hj212 rules replay``: recompute alarms from stored history, compare with live.

The engine is deterministic (rules/engine.py), so starting from the state it had live
and feeding it the same stored inputs must give the alarms it raised live. The replay
starts from the last daily snapshot at or before ``start`` (hj212.rules_snapshot),
runs silently up to ``start``, then records every alarm and clear up to ``end`` (at
most the live engine's watermark) and compares them with ``hj212.alarm``. Nothing is
written. Differences come from inputs that changed since: registry edits, frames
committed after the live engine had passed their time (counted in
``rules_cursor.late_frames``), or a different rules configuration.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from config.rules import RulesSettings
from rules.engine import Engine
from rules.model import Alarm, Clear
from services import quarterly_deadlines
from services.rules_runner import feed, load_states, read_inputs
from storage import rules_inputs
from storage.db import Conn
from storage.rules_store import AlarmKey, latest_snapshot, load_cursor, stored_alarm_keys


@dataclass
class Replay:
    start: datetime
    end: datetime
    snapshot: datetime | None  # where the engine started (None: empty at ``start``)
    alarms: list[Alarm] = field(default_factory=list)
    clears: list[Clear] = field(default_factory=list)
    missing: list[AlarmKey] = field(default_factory=list)  # stored live, not recomputed
    extra: list[AlarmKey] = field(default_factory=list)  # recomputed, not stored live
    stored: int = 0

    @property
    def matches(self) -> bool:
        return not self.missing and not self.extra


def _alarm_key(alarm: Alarm) -> AlarmKey:
    detail = json.loads(json.dumps(dict(alarm.detail)))
    return (
        "alarm",
        alarm.key,
        alarm.mn,
        alarm.kind,
        alarm.severity,
        alarm.at,
        alarm.pollutant,
        alarm.data_time,
        alarm.value,
        alarm.threshold,
        json.dumps(detail, sort_keys=True),
    )


def replay(
    conn: Conn, start: datetime, end: datetime, settings: RulesSettings | None = None
) -> Replay:
    settings = settings or RulesSettings()
    cursor = load_cursor(conn)
    if cursor is not None:
        end = min(end, cursor.watermark)
    stations = rules_inputs.stations(conn)
    snapshot = latest_snapshot(conn, start)
    if snapshot is not None and cursor is not None:
        engine = Engine(
            settings.ruleset,
            origin=cursor.origin,
            now=snapshot,
            stations=stations,
            states=load_states(conn, snapshot),
        )
        feed(engine, read_inputs(conn, snapshot, start, settings), start)  # warm up
    else:
        engine = Engine(settings.ruleset, origin=start, stations=stations)
    result = Replay(start, end, snapshot)
    if end <= start:
        return result
    outputs = feed(engine, read_inputs(conn, start, end, settings), end)
    result.alarms = [o for o in outputs if isinstance(o, Alarm)]
    result.clears = [o for o in outputs if isinstance(o, Clear)]
    recomputed = [_alarm_key(a) for a in result.alarms]
    recomputed += [("clear", c.key, c.at) for c in result.clears]
    stored = stored_alarm_keys(conn, start, end, quarterly_deadlines.KINDS)
    result.stored = len(stored)
    result.missing = sorted(set(stored) - set(recomputed), key=repr)
    result.extra = sorted(set(recomputed) - set(stored), key=repr)
    return result
