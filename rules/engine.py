"""The rules engine: records, marks and time in; alarms, clears and case events out.

One :class:`Engine` holds the :class:`~rules.state.StationState` of every station and
a queue of timers (silence, next hour to judge, next case step), at most one queued
entry per station and timer. Every input first advances the engine's time to the
input's own time, firing the timers due by then in (due, MN, timer) order, so the
outputs depend only on the inputs and their times, never on how often :meth:`tick`
is called or how the input is cut into batches. That is what makes a replay of stored
history give exactly the alarms raised live (``hj212 rules replay``).

Use::

    engine = Engine(ruleset, origin=start, stations=registry)
    outputs = engine.on_record(record)      # a frame of one station
    outputs += engine.on_mark(mark)         # a data mark, at its marked_at
    outputs += engine.on_filing(filing)     # a report, review or sample, when filed
    outputs += engine.on_correction(c)      # an approved correction, when approved
    outputs += engine.tick(now)             # time passes: deadlines, hour judgements
    engine.take_dirty()                     # MNs whose state changed: persist these

``origin`` is when the engine (first) started: a registered station's hours count from
max(origin, its registration); keep it across restarts (storage does).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from datetime import datetime

from rules import cases, filings, hourly, intake, outage, rejudge
from rules.config import Ruleset
from rules.context import Ctx
from rules.corrections import Correction
from rules.filings import Filing
from rules.model import CaseEvent, Mark, Output, Record, StationInfo
from rules.state import StationState
from rules.state_parts import Gap
from rules.times import DAY, HOUR, MINUTE, dt, hour_floor, us
from rules.validity import live_marks

TIMERS = ("silence", "hour", "case")
MARK_KEEP = 3 * DAY  # marks that ended this long ago no longer matter to the engine


class Engine:
    def __init__(
        self,
        ruleset: Ruleset | None = None,
        *,
        origin: datetime,
        now: datetime | None = None,
        stations: Iterable[StationInfo] = (),
        states: Iterable[StationState] = (),
    ) -> None:
        self.ruleset = ruleset or Ruleset()
        self.origin = us(origin)
        self.now = us(now) if now is not None else self.origin
        self.stations: dict[str, StationInfo] = {}
        self.states: dict[str, StationState] = {}
        self._heap: list[tuple[int, str, str]] = []
        self._queued: dict[tuple[str, str], int] = {}
        self._dirty: set[str] = set()
        for state in states:
            self.states[state.mn] = state
            for name in TIMERS:
                self._arm(state, name)
        for info in stations:
            self.set_station(info)

    # -- inputs ------------------------------------------------------------------------
    def set_station(self, info: StationInfo) -> None:
        """Add or update a station's registry entry (its state starts if it is new)."""
        self.stations[info.mn] = info
        if info.mn not in self.states and info.active and info.registered:
            start = self.origin
            if info.created_at is not None:
                start = max(start, us(info.created_at))
            self._new_state(info.mn, start)

    def set_stations(self, infos: Iterable[StationInfo]) -> None:
        for info in infos:
            self.set_station(info)

    def on_record(self, record: Record) -> list[Output]:
        out = self.advance(us(record.received_at))
        if record.refused is not None:
            followed = self.states.get(record.mn)  # refused MNs start no state of their own
            if followed is not None:
                intake.refused(self._ctx(followed, out), record)
                self._dirty.add(record.mn)
            return out
        state = self.states.get(record.mn) or self._new_state(record.mn, self.now)
        intake.handle(self._ctx(state, out), record)
        self._dirty.add(record.mn)
        return out

    def on_mark(self, mark: Mark) -> list[Output]:
        out = self.advance(us(mark.marked_at))
        state = self.states.get(mark.mn)
        if state is None:
            return out  # a station the engine does not follow
        keep = [m for m in state.marks if us(m.end) >= self.now - MARK_KEEP]
        state.marks = live_marks([*keep, mark])
        if mark.revokes is not None:
            state.marks = [m for m in state.marks if m.id != mark.revokes]
        elif state.hour_next is not None and us(mark.start) < state.hour_next:
            # approved after some of its hours were judged: judge those again
            rejudge.on_late_mark(self._ctx(state, out), mark, state.hour_next)
        self._dirty.add(mark.mn)
        return out

    def on_correction(self, item: Correction) -> list[Output]:
        """An approved correction or substitution, at the time it was approved."""
        out = self.advance(us(item.at))
        state = self.states.get(item.mn)
        if state is not None:
            rejudge.on_correction(self._ctx(state, out), item)
            self._dirty.add(item.mn)
        return out

    def on_filing(self, filing: Filing) -> list[Output]:
        """A report, notice, review or manual sample, at the time it was filed."""
        out = self.advance(us(filing.at))
        state = self.states.get(filing.mn)
        if state is not None:
            filings.handle(self._ctx(state, out), filing)
            self._dirty.add(filing.mn)
        return out

    def tick(self, now: datetime) -> list[Output]:
        return self.advance(us(now))

    # -- time --------------------------------------------------------------------------
    def advance(self, t: int) -> list[Output]:
        """Fire every timer due by ``t`` in order; the engine's time becomes ``t``."""
        out: list[Output] = []
        heap = self._heap
        while heap and heap[0][0] <= t:
            due, mn, name = heapq.heappop(heap)
            if self._queued.get((mn, name)) != due:
                continue  # superseded by an earlier entry for the same timer
            del self._queued[(mn, name)]
            state = self.states[mn]
            current = state.timer(name)
            if current is None:
                continue
            if current > due:
                self._arm(state, name)  # postponed since it was queued
                continue
            self.now = max(self.now, current)
            self._fire(state, name, self._ctx(state, out))
            self._dirty.add(mn)
        self.now = max(self.now, t)
        return out

    def _arm(self, state: StationState, name: str) -> None:
        due = state.timer(name)
        if due is None:
            return
        queued = self._queued.get((state.mn, name))
        if queued is None or due < queued:
            heapq.heappush(self._heap, (due, state.mn, name))
            self._queued[(state.mn, name)] = due

    def _fire(self, state: StationState, name: str, ctx: Ctx) -> None:
        if name == "silence":
            state.silence_due = None
            if ctx.info.active and state.open_case("outage", None) is None:
                started = state.last_seen
                began = started if started is not None else self.origin
                state.gap = Gap(began, intake.FAR_FUTURE)
                refused = f"every frame refused: {state.refused.code}" if state.refused else ""
                ctx.open_case("outage", None, started, refused or "silent")
        elif name == "hour" and state.hour_next is not None:
            hourly.close_hour(ctx, state.hour_next)
        elif name == "case":
            self._case_step(ctx)

    def _case_step(self, ctx: Ctx) -> None:
        """The station's earliest pending case step: a reminder, escalation or sampling."""
        options = []
        for case in ctx.st.cases.values():
            when, label = cases.case_next(case, ctx.cfg)
            options.append((when, case.key, label))
        if options:
            when, key, label = min(options)
            if when <= self.now:
                case = ctx.st.cases[key]
                if label.startswith("manual-sampling"):
                    case.manual_k += 1
                    if case.manual_miss is not None:
                        case.manual_miss += 1
                else:
                    case.done.append(label)
                due = {"report": case.report_due, "restore": case.restore_due}
                detail = {"step": label, "case_kind": case.kind, "pollutant": case.pollutant}
                detail["deadline"] = dt(due.get(label.split("-")[0], when)).isoformat()
                ctx.out.append(CaseEvent(key, ctx.mn, label, dt(when), detail))
                ctx.alarm(
                    f"{key}:{label}",
                    cases.alarm_kind(label),
                    cases.severity(label),
                    pollutant=case.pollutant,
                    detail=detail,
                    case_key=key,
                )
        ctx.reschedule()

    # -- state -------------------------------------------------------------------------
    def _new_state(self, mn: str, start: int) -> StationState:
        info = self.stations.get(mn) or StationInfo(mn, registered=False)
        cfg = self.ruleset.for_region(info.region_code)
        grace = round(cfg.hour_grace_min * MINUTE)
        state = StationState(mn)
        # A registered station counts from the hour it starts in; one first heard of by
        # its first record also takes the hour before, if that record may belong to it.
        state.hour_next = hour_floor(start if info.registered else start - grace)
        state.hour_due = state.hour_next + HOUR + grace
        if info.registered and info.active:  # never heard from: silent from the start
            state.silence_due = start + outage.threshold({}, info, start, cfg)
        self.states[mn] = state
        self._dirty.add(mn)
        self._arm(state, "hour")
        self._arm(state, "silence")
        return state

    def _ctx(self, state: StationState, out: list[Output]) -> Ctx:
        info = self.stations.get(state.mn) or StationInfo(state.mn, registered=False)
        cfg = self.ruleset.for_region(info.region_code)
        return Ctx(state, info, cfg, out, self.now, self._arm)

    def take_dirty(self) -> set[str]:
        """MNs whose state changed since the last call (what to persist)."""
        dirty, self._dirty = self._dirty, set()
        return dirty

    def dump(self, mns: Iterable[str] | None = None) -> Mapping[str, str]:
        """State as JSON per MN (all, or ``mns``)."""
        chosen = self.states if mns is None else mns
        return {mn: self.states[mn].to_json() for mn in chosen if mn in self.states}
