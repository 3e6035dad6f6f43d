"""The rules engine against the database: state, position, snapshots, the live loop.

:class:`RulesRunner` owns one :class:`rules.engine.Engine`. Each :meth:`RulesRunner.step`
reads what arrived since the last one (frames and measurements by receive time, marks
by the time they were made, frames acknowledged late from a gateway's spool), feeds it
to the engine in time order, advances the engine to the step's end, and commits in one
transaction: the outputs (alarms, clears, cases, notifications), the state of every
station that changed (``hj212.rules_state``) and the new position
(``hj212.rules_cursor``). A crash between steps loses nothing and repeats nothing. At
each Beijing midnight the whole state is also kept in ``hj212.rules_snapshot``, which
is where ``hj212 rules replay`` starts from.

:func:`run_rules` is the loop a gateway starts in its task group (see README, "Rules
engine and reports"); only one runner per database works at a time (an advisory lock),
the others wait as hot standbys.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio
import psycopg

from config.rules import RulesSettings
from rules.corrections import Correction
from rules.engine import Engine
from rules.filings import Filing
from rules.model import Mark, Output, Record, StationInfo
from rules.state import StationState
from rules.times import DAY, day_floor, dt, us
from services.notify import deliver_due
from storage import rules_inputs, rules_store
from storage.alarms import Written, write_outputs
from storage.corrections import close_withdrawn
from storage.db import Conn
from storage.rules_inputs import Input
from storage.rules_store import Cursor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StepResult:
    until: datetime
    records: int
    marks: int
    late: int
    outputs: int
    written: Written
    saved_states: int


def load_states(conn: Conn, snapshot: datetime | None = None) -> list[StationState]:
    """The live state of every station, or the snapshot taken at ``snapshot``."""
    return [StationState.from_json(t) for t in rules_store.load_state_texts(conn, snapshot)]


def feed(engine: Engine, inputs: Iterable[Input], until: datetime) -> list[Output]:
    """Every input in order, then time up to ``until``: the engine's outputs."""
    out: list[Output] = []
    for item in inputs:
        if isinstance(item, Mark):
            out += engine.on_mark(item)
        elif isinstance(item, Filing):
            out += engine.on_filing(item)
        elif isinstance(item, Correction):
            out += engine.on_correction(item)
        else:
            out += engine.on_record(item)
    return out + engine.tick(until)


def read_inputs(
    conn: Conn, after: datetime, until: datetime, settings: RulesSettings
) -> list[Input]:
    """Everything the engine takes in (after, until], in its order."""
    backfill = timedelta(days=settings.backfill_days)
    items: list[Input] = [*rules_inputs.records(conn, after, until, backfill)]
    items += rules_inputs.marks(conn, after, until)
    items += rules_inputs.filings(conn, after, until)
    items += rules_inputs.corrections(conn, after, until)
    return rules_inputs.ordered(items)


class RulesRunner:
    """The engine, its database state, and the step that moves both forward."""

    def __init__(self, conn: Conn, settings: RulesSettings | None = None) -> None:
        self.conn = conn
        self.settings = settings or RulesSettings()
        self.engine: Engine | None = None
        self.cursor: Cursor | None = None
        self.stations: dict[str, StationInfo] = {}
        self._registry_seen = datetime(1970, 1, 1, tzinfo=UTC)

    def start(self, now: datetime) -> Cursor:
        """Load the state, or begin at ``now`` with a first snapshot."""
        self._refresh_registry(force=True)
        cursor = rules_store.load_cursor(self.conn)
        if cursor is None:
            cursor = Cursor(now, now)
            self.engine = Engine(self.settings.ruleset, origin=now, stations=self.stations.values())
            with self.conn.transaction():
                rules_store.insert_cursor(self.conn, cursor)
                self._save_states(self.engine.take_dirty())
                self._snapshot(now)
        else:
            self.engine = Engine(
                self.settings.ruleset,
                origin=cursor.origin,
                now=cursor.watermark,
                stations=self.stations.values(),
                states=load_states(self.conn),
            )
        self.cursor = cursor
        return cursor

    def step(self, until: datetime) -> StepResult:
        """Process everything received up to ``until``, a snapshot at each midnight."""
        assert self.engine is not None, "start() first"
        assert self.cursor is not None
        self._refresh_registry()
        total = StepResult(until, 0, 0, 0, 0, Written(), 0)
        midnight = dt(day_floor(us(self.cursor.watermark)) + DAY)
        while midnight <= until:
            total = _sum(total, self._advance(midnight, snapshot=True))
            midnight += timedelta(days=1)
        if self.cursor.watermark < until:
            total = _sum(total, self._advance(until, snapshot=False))
        return total

    def _advance(self, until: datetime, *, snapshot: bool) -> StepResult:
        assert self.engine is not None
        assert self.cursor is not None
        cursor, settings = self.cursor, self.settings
        # Read in one snapshot of the database, so that frames and their measurements
        # agree; write in another transaction, so that a lifecycle update of an alarm
        # by an operator never makes the step fail as a serialization conflict.
        with rules_store.consistent_read(self.conn):
            since = cursor.watermark - timedelta(hours=settings.late_window_h)
            backfill = timedelta(days=settings.backfill_days)
            late = rules_inputs.late_records(
                self.conn, since, cursor.watermark, cursor.last_frame_id, backfill
            )
            inputs = read_inputs(self.conn, cursor.watermark, until, settings)
        outputs = feed(self.engine, [*late, *inputs], until)
        ids = [r.frame_id for r in [*late, *inputs] if isinstance(r, Record)]
        cursor = Cursor(
            cursor.origin,
            until,
            max([cursor.last_frame_id, *ids]),
            cursor.late_frames + len(late),
        )
        dirty = self.engine.take_dirty()
        try:
            with self.conn.transaction():
                written = write_outputs(self.conn, outputs, self.stations, settings.webhooks)
                close_withdrawn(self.conn, outputs)
                self._save_states(dirty)
                rules_store.update_cursor(self.conn, cursor)
                if snapshot:
                    self._snapshot(until)
        except BaseException:
            self.engine = None  # ahead of the database now: start() again reloads it
            raise
        self.cursor = cursor
        if late:
            log.warning("rules: %d frame(s) committed after their time, processed late", len(late))
        records = sum(isinstance(i, Record) for i in inputs) + len(late)
        marks = len(inputs) + len(late) - records
        return StepResult(until, records, marks, len(late), len(outputs), written, len(dirty))

    def _save_states(self, mns: Iterable[str]) -> None:
        assert self.engine is not None
        rules_store.save_states(self.conn, self.engine.dump(sorted(mns)))

    def _snapshot(self, at: datetime) -> None:
        """The whole state at ``at`` (a midnight, or the start); old snapshots pruned."""
        assert self.engine is not None
        keep = at - timedelta(days=self.settings.snapshot_days)
        rules_store.save_snapshot(self.conn, at, self.engine.dump(), keep)

    def _refresh_registry(self, *, force: bool = False) -> None:
        changed = rules_inputs.registry_changed_since(self.conn, self._registry_seen)
        if not force and changed is None:
            return
        self.stations = {s.mn: s for s in rules_inputs.stations(self.conn)}
        if changed is not None:
            self._registry_seen = changed
        if self.engine is not None:
            self.engine.set_stations(self.stations.values())


def _sum(a: StepResult, b: StepResult) -> StepResult:
    w = Written(
        a.written.alarms + b.written.alarms,
        a.written.clears + b.written.clears,
        a.written.case_events + b.written.case_events,
        a.written.notifications + b.written.notifications,
    )
    return StepResult(
        b.until,
        a.records + b.records,
        a.marks + b.marks,
        a.late + b.late,
        a.outputs + b.outputs,
        w,
        a.saved_states + b.saved_states,
    )


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def run_rules(
    dsn: str,
    settings: RulesSettings | None = None,
    *,
    clock: Callable[[], datetime] = _utcnow,
    holdback: Callable[[], datetime | None] | None = None,
) -> None:
    """Run the rules engine and the webhook deliverer until cancelled.

    ``holdback``, if given, returns the receive time of the oldest frame the caller
    still holds uncommitted (a gateway's spool, say); the engine does not pass it.
    """
    settings = settings or RulesSettings()
    async with anyio.create_task_group() as tg:
        tg.start_soon(_notify_loop, dsn, settings, clock)
        await _rules_loop(dsn, settings, clock, holdback)


async def _rules_loop(
    dsn: str,
    settings: RulesSettings,
    clock: Callable[[], datetime],
    holdback: Callable[[], datetime | None] | None,
) -> None:
    delay = 1.0
    while True:
        try:
            conn = await anyio.to_thread.run_sync(_connect, dsn)
            try:
                await _serve(conn, settings, clock, holdback)
            finally:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(conn.close)
        except psycopg.Error as exc:
            log.warning("rules: database error, retrying in %.0f s: %s", delay, exc)
            await anyio.sleep(delay)
            delay = min(delay * 2, 60.0)


def _connect(dsn: str) -> Conn:
    return psycopg.connect(dsn, autocommit=True)


async def _serve(
    conn: Conn,
    settings: RulesSettings,
    clock: Callable[[], datetime],
    holdback: Callable[[], datetime | None] | None,
) -> None:
    locked = await anyio.to_thread.run_sync(rules_store.try_lock, conn)
    while not locked:  # another runner has it: stand by, try again now and then
        await anyio.sleep(settings.interval_s)
        locked = await anyio.to_thread.run_sync(rules_store.try_lock, conn)
    runner = RulesRunner(conn, settings)
    start = clock() - timedelta(seconds=settings.settle_s)
    await anyio.to_thread.run_sync(runner.start, start)
    log.info("rules engine running from %s", runner.cursor.watermark if runner.cursor else start)
    while True:
        until = clock() - timedelta(seconds=settings.settle_s)
        held = holdback() if holdback is not None else None
        if held is not None:
            until = min(until, held - timedelta(microseconds=1))
        if runner.cursor is not None and until > runner.cursor.watermark:
            result = await anyio.to_thread.run_sync(runner.step, until)
            if result.outputs:
                log.info(
                    "rules: %d records, %d alarms, %d clears, %d case events",
                    result.records,
                    result.written.alarms,
                    result.written.clears,
                    result.written.case_events,
                )
        await anyio.sleep(settings.interval_s)


async def _notify_loop(dsn: str, settings: RulesSettings, clock: Callable[[], datetime]) -> None:
    if not settings.webhooks:
        return
    while True:
        try:
            conn = await anyio.to_thread.run_sync(_connect, dsn)
            try:
                while True:
                    await anyio.to_thread.run_sync(_deliver, conn, settings, clock())
                    await anyio.sleep(settings.interval_s)
            finally:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(conn.close)
        except psycopg.Error as exc:
            log.warning("webhooks: database error, retrying: %s", exc)
            await anyio.sleep(settings.interval_s)


def _deliver(conn: Conn, settings: RulesSettings, now: datetime) -> None:
    deliver_due(
        conn,
        now,
        timeout=settings.notify_timeout_s,
        max_attempts=settings.notify_max_attempts,
        base_backoff=settings.notify_backoff_s,
    )
