"""Per-station state of the rules engine: the only state the rules keep.

Everything the engine needs to carry from one frame or one tick to the next lives in
one :class:`StationState` per MN: liveness and the timers (silence, next hour to judge,
next case deadline), the open hours being accumulated, a day of hourly values for the
anomaly windows, transmission-rate tallies, active conditions (for dedupe and clearing),
open cases with their deadlines, and the data marks in force. Times are integer
microseconds (``rules.times``) so that :meth:`StationState.to_json` /
:meth:`StationState.from_json` round-trip exactly: a restart, or a replay from a
snapshot, continues where the engine was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any

from rules.model import Mark
from rules.state_parts import (
    Active,
    DayCount,
    Drift,
    FlagRun,
    Gap,
    OpenHour,
    PlannedStop,
    Receipts,
    Refusals,
    Run,
    SeriesPoint,
    open_hour,
    open_hours_out,
)
from rules.times import dt, us

VERSION = 1
TALLY_FIELDS = 7  # rules.transmission.Tally, in field order


@dataclass(slots=True)
class CaseState:
    """An open case (outage or facility) and the deadline steps already taken."""

    key: str
    kind: str  # outage | facility
    pollutant: str | None
    medium: str
    opened: int
    started: int | None  # last data before the outage / first bad flag
    report_due: int
    restore_due: int
    cause: str = ""
    done: list[str] = field(default_factory=list)
    manual_k: int = 1  # the label number of the next manual-sampling step
    # manual sampling (rules/cases.py manual_step): the last sample's time and the
    # steps missed since it (None: no sample yet, counted from the opening)
    manual_base: int | None = None
    manual_miss: int | None = None
    samples: int = 0
    # what was filed on the case (rules/filings.py): the written report in force and
    # when, whether it came after the deadline, the regulator's answer, the alarm of a
    # returned report not yet corrected, the advance notice that made the case planned
    report_id: int | None = None
    report_at: int | None = None
    report_late: bool = False
    review: str = ""
    returned: str | None = None
    planned: int | None = None


@dataclass(slots=True)
class StationState:
    mn: str
    last_seen: int | None = None  # received_at of the last frame of any kind
    silence_due: int | None = None
    hour_next: int | None = None  # start of the next hour to judge
    hour_due: int | None = None  # ... judged at this time
    case_due: int | None = None
    cadence: dict[str, int] = field(default_factory=dict)  # CN -> last received
    last_time: dict[str, int] = field(default_factory=dict)  # CN -> newest DataTime
    minutes_seen: int | None = None  # last 2051 received: the station sends minutes
    first_data: int | None = None  # earliest real-time/minute DataTime: its data begin
    hours: dict[str, OpenHour] = field(default_factory=dict)  # hour start (str) ->
    series: dict[str, list[SeriesPoint]] = field(default_factory=dict)  # last 26 hours
    runs: dict[str, Run] = field(default_factory=dict)  # "cn:pol" ->
    flag_runs: dict[str, FlagRun] = field(default_factory=dict)  # pol ->
    absent: dict[str, int] = field(default_factory=dict)  # pol -> hours absent
    valid_seen: dict[str, int] = field(default_factory=dict)  # pol -> newest valid DataTime
    drift: Drift = field(default_factory=Drift)
    recv: Receipts = field(default_factory=Receipts)
    gap: Gap | None = None  # the last silence (stored as [] when none yet)
    refused: Refusals | None = None  # since data last got through (stored as [] if none)
    day: dict[str, DayCount] = field(default_factory=dict)  # pol ->
    day_received: dict[str, int] = field(default_factory=dict)  # pol -> hour records
    # day start (str) -> {pol: Avg} of a daily record (2031) waiting for its day to close
    daily: dict[str, dict[str, float]] = field(default_factory=dict)
    # period -> pol -> a rules.transmission.Tally as the list of its fields in order
    etr: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    missing: dict[str, list[int]] = field(default_factory=dict)  # pol -> hours missing
    active: dict[str, Active] = field(default_factory=dict)  # condition ->
    cases: dict[str, CaseState] = field(default_factory=dict)
    marks: list[Mark] = field(default_factory=list)
    notices: list[PlannedStop] = field(default_factory=list)  # advance notices filed
    # pol -> hours of its 2062 standard-sample checks in the days not yet closed; a key
    # present means the station reports its checks (rules/device_facts.py)
    checks: dict[str, list[int]] = field(default_factory=dict)
    # pol -> [valid days, days with hours expected] of the gas month being accumulated
    month_days: dict[str, list[int]] = field(default_factory=dict)
    # pol -> hour start (str) -> the exceedance alarm that hour was judged in, for the
    # correction window: what a correction or a late mark re-judges (rules/rejudge.py)
    exceeded: dict[str, dict[str, str]] = field(default_factory=dict)
    # pol -> day start (str) -> [valid-hour mask, Σc, Σc·q, Σq, every q known (0/1), n,
    # the day's exceedance alarm or ""]: a water day judged on its mean (rules/rejudge.py)
    days: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    # hour start (str) -> the hour-missing alarm that hour was counted in (A2), for the
    # window: a late shutdown or exemption mark takes the hour out (rules/rejudge.py)
    missed: dict[str, str] = field(default_factory=dict)

    def timer(self, name: str) -> int | None:
        if name == "silence":
            return self.silence_due
        if name == "hour":
            return self.hour_due
        return self.case_due

    def open_case(self, kind: str, pollutant: str | None) -> CaseState | None:
        for case in self.cases.values():
            if case.kind == kind and case.pollutant == pollutant:
                return case
        return None

    def to_json(self) -> str:
        # Not dataclasses.asdict: it deep-copies everything, 10x the cost of the dump.
        data: dict[str, Any] = {name: getattr(self, name) for name in _FIELDS}
        data["v"] = VERSION
        data["hours"] = open_hours_out(self.hours)
        data["gap"] = self.gap or []
        data["refused"] = self.refused or []
        data["cases"] = {key: _case_out(case) for key, case in self.cases.items()}
        data["marks"] = [_mark_out(m) for m in self.marks]
        if not self.notices:  # as before notices existed (see _FILING_DEFAULTS)
            del data["notices"]
        for name in (
            "checks",
            "month_days",
            "exceeded",
            "days",
            "missed",
        ):  # states from before them dump to
            if not data[name]:  # the same bytes
                del data[name]
        return json.dumps(data, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> StationState:
        """A state from :meth:`to_json`, of this version or of one before the state's
        parts had names (the same JSON: see :mod:`rules.state_parts`)."""
        data = json.loads(text)
        data.pop("v", None)
        data["hours"] = {k: open_hour(v) for k, v in data["hours"].items()}
        # tuple.__new__ directly: _make's length check, a Python call per point, was a
        # third of the load (a day of hourly series is most of a state)
        new = tuple.__new__
        data["series"] = {k: [new(SeriesPoint, p) for p in v] for k, v in data["series"].items()}
        data["runs"] = {k: Run._make(v) for k, v in data["runs"].items()}
        data["flag_runs"] = {k: FlagRun._make(v) for k, v in data["flag_runs"].items()}
        data["drift"] = Drift._make(data["drift"])
        data["recv"] = Receipts._make(data["recv"])
        data["gap"] = Gap._make(data["gap"]) if data["gap"] else None
        data["refused"] = Refusals._make(data["refused"]) if data["refused"] else None
        data["day"] = {k: DayCount._make(v) for k, v in data["day"].items()}
        data["active"] = {k: Active._make(v) for k, v in data["active"].items()}
        data["cases"] = {k: CaseState(**c) for k, c in data["cases"].items()}
        data["marks"] = [_mark_in(m) for m in data["marks"]]
        data["notices"] = [PlannedStop._make(n) for n in data.get("notices", [])]
        return cls(**data)


_FIELDS = tuple(f.name for f in fields(StationState))
_CASE_FIELDS = tuple(f.name for f in fields(CaseState))


# What the filings added to a case (rules/filings.py): left out of the JSON while at
# their defaults, so that a state saved before them loads and dumps to the same bytes.
_FILING_DEFAULTS: dict[str, Any] = {
    "manual_base": None,
    "manual_miss": None,
    "samples": 0,
    "report_id": None,
    "report_at": None,
    "report_late": False,
    "review": "",
    "returned": None,
    "planned": None,
}


def _case_out(case: CaseState) -> dict[str, Any]:
    out = {name: getattr(case, name) for name in _CASE_FIELDS}
    for name, default in _FILING_DEFAULTS.items():
        if out[name] == default:
            del out[name]
    return out


def _mark_out(mark: Mark) -> list[Any]:
    return [
        mark.id,
        mark.mn,
        mark.pollutant,
        us(mark.start),
        us(mark.end),
        mark.category,
        mark.invalidates,
        us(mark.marked_at),
        mark.revokes,
    ]


def _mark_in(item: list[Any]) -> Mark:
    ident, mn, pollutant, start, end, category, invalidates, marked_at, revokes = item
    return Mark(
        ident, mn, pollutant, dt(start), dt(end), category, invalidates, dt(marked_at), revokes
    )
