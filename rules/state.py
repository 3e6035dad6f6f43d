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
from rules.times import dt, us

VERSION = 1
TALLY_FIELDS = 7  # rules.transmission.Tally, in field order


@dataclass
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
    manual_k: int = 1  # the next manual-sampling reminder is opened + k x interval


@dataclass
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
    # hour start (str) -> {"h": {pol: [avg, zs, cou, flag, received, min, max]},
    #                      "m": {pol: [n, n_valid, Σc, Σcq, Σq, n_q, Σcou, n_cou]}}
    hours: dict[str, dict[str, dict[str, list[Any]]]] = field(default_factory=dict)
    # pol -> [[hour, value, judged, valid, running, q]] for the last 26 hours
    series: dict[str, list[list[Any]]] = field(default_factory=dict)
    runs: dict[str, list[Any]] = field(default_factory=dict)  # "cn:pol" -> [value, start]
    flag_runs: dict[str, list[Any]] = field(default_factory=dict)  # pol -> [flag, start]
    absent: dict[str, int] = field(default_factory=dict)  # pol -> hours absent
    valid_seen: dict[str, int] = field(default_factory=dict)  # pol -> newest valid DataTime
    drift: list[int] = field(default_factory=lambda: [0, 0])  # [direction, count]
    recv: list[int] = field(default_factory=lambda: [0, 0])  # [duplicates, out of order]
    gap: list[int] = field(default_factory=list)  # [start, end] of the last silence
    # frames refused since data last got through: [first, code, count, pace, last] (µs)
    refused: list[Any] = field(default_factory=list)
    day: dict[str, list[int]] = field(default_factory=dict)  # pol -> [valid, expected]
    day_received: dict[str, int] = field(default_factory=dict)  # pol -> hour records
    # day start (str) -> {pol: Avg} of a daily record (2031) waiting for its day to close
    daily: dict[str, dict[str, float]] = field(default_factory=dict)
    etr: dict[str, dict[str, list[int]]] = field(default_factory=dict)  # period->pol->tally
    missing: dict[str, list[int]] = field(default_factory=dict)  # pol -> hours missing
    active: dict[str, list[str]] = field(default_factory=dict)  # condition -> [key, cn]
    cases: dict[str, CaseState] = field(default_factory=dict)
    marks: list[Mark] = field(default_factory=list)

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
        data["cases"] = {key: vars(case) for key, case in self.cases.items()}
        data["marks"] = [_mark_out(m) for m in self.marks]
        return json.dumps(data, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> StationState:
        data = json.loads(text)
        data.pop("v", None)
        data["cases"] = {k: CaseState(**c) for k, c in data["cases"].items()}
        data["marks"] = [_mark_in(m) for m in data["marks"]]
        return cls(**data)


_FIELDS = tuple(f.name for f in fields(StationState))


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
