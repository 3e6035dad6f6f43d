"""Valid hours and days, data marks, and the converted (折算) concentration.

docs/regulations.md §2 (HJ 76-2017 App. B [S], HJ 356-2019 [R]) and §1.2-1.3 (marks):

* a **gas hour** is valid when its hourly record is flagged N, no invalidating mark
  covers it, and, for a station that sends minute data, at least 45 of its minutes
  are valid (a 2051 record covers ``MinInterval`` minutes, so 10-min data need 5);
* a **water hour** is valid when flagged N and unmarked (water points often send
  hourly data only, §2.3);
* a **gas day** needs 20 valid hours, a **water day** 75 % of its expected hours;
* **marks** decide what an hour counts as: a shutdown (停运/停产) or exemption
  (不可抗力, 非排污单位责任) takes it out of the expected count, anything else that
  invalidates (维护, 校准, 故障 ...) leaves it received but invalid. A mark applies to
  an hour it covers at least half of.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from rules.config import RulesConfig
from rules.model import Mark, Reading
from rules.times import HOUR, hour_floor, us

SHUTDOWN = frozenset({"shutdown", "停运", "停产", "production-stop", "停运标记"})
EXEMPT = frozenset(
    {
        "exempt",
        "force-majeure",
        "不可抗力",
        "long-shutdown",
        "长期停运",
        "non-responsibility",
        "非排污单位责任",
        "other-missing",
    }
)
# Flags a device sends for data that are not normal (HJ 212-2017 Table 8); all of them
# make the value invalid for the rate and for exceedance (docs/regulations.md §1.3 table).
# F (instrument stopped) is a shutdown only when the unit really is stopped.
DEVICE_PROBLEM_FLAGS = frozenset({"D", "B", "P"})  # fault, communication, power
MAINTENANCE_FLAGS = frozenset({"M", "C"})


@dataclass(frozen=True, slots=True)
class MarkEffect:
    effect: str  # shutdown | exempt | invalid
    category: str


@dataclass(frozen=True, slots=True)
class HourStatus:
    expected: bool
    received: bool
    valid: bool
    reason: str


def live_marks(marks: Iterable[Mark]) -> list[Mark]:
    """The marks in force: revocation rows and the marks they revoke removed."""
    marks = list(marks)
    revoked = {m.revokes for m in marks if m.revokes is not None}
    return [m for m in marks if m.revokes is None and m.id not in revoked]


def _kind(mark: Mark) -> str | None:
    category = mark.category.strip().lower()
    if category in SHUTDOWN:
        return "shutdown"
    if category in EXEMPT:
        return "exempt"
    return "invalid" if mark.invalidates else None


_RANK = {"shutdown": 0, "exempt": 1, "invalid": 2}


def mark_effect(
    marks: Sequence[Mark], pollutant: str | None, start: int, end: int
) -> MarkEffect | None:
    """What the marks in force do to ``pollutant`` over [start, end) (µs), if anything.

    Covers at least half the span: a mark applies; shutdown beats exemption beats
    invalid.
    """
    best: MarkEffect | None = None
    for mark in marks:
        if mark.pollutant is not None and mark.pollutant != pollutant:
            continue
        kind = _kind(mark)
        if kind is None:
            continue
        overlap = min(end, us(mark.end)) - max(start, us(mark.start))
        if overlap * 2 < end - start:
            continue
        if best is None or _RANK[kind] < _RANK[best.effect]:
            best = MarkEffect(kind, mark.category)
    return best


def marked_invalid(marks: Sequence[Mark], pollutant: str, at: int) -> bool:
    """Whether a mark in force makes the value at instant ``at`` invalid."""
    for mark in marks:
        if mark.pollutant is not None and mark.pollutant != pollutant:
            continue
        if _kind(mark) is not None and us(mark.start) <= at < us(mark.end):
            return True
    return False


def valid_value(reading: Reading, marks: Sequence[Mark], pollutant: str, at: int) -> bool:
    """Whether a minute (or real-time) value at ``at`` counts as valid (docs/regulations.md
    §2.1, §1.3): flagged normal, with a value, and under no mark in force that makes it
    invalid. The engine counts an hour's valid minutes by this test as they arrive."""
    return reading.normal and reading.value is not None and not marked_invalid(marks, pollutant, at)


def valid_minute_counts(
    groups: Iterable[tuple[str, int, Reading, int]],
    marked: Iterable[tuple[str, int, Reading]],
    marks: Sequence[Mark],
) -> dict[tuple[str, int], int]:
    """Valid minute records per (pollutant, hour start µs), by :func:`valid_value`, from
    what storage fetched without judging: ``groups`` of (pollutant, hour, a reading like
    each of the group's ``n`` records in flag and in having a value, n), marks aside; and
    every record inside a mark's period as (pollutant, instant µs, reading), for the
    marks to take out. Hours without a valid record are left out."""
    out: dict[tuple[str, int], int] = {}
    unmarked: dict[Reading, bool] = {}  # marks aside, the test depends on the reading only
    for code, hour, reading, n in groups:
        valid = unmarked.get(reading)
        if valid is None:
            valid = unmarked[reading] = valid_value(reading, (), code, hour)
        if valid:
            out[(code, hour)] = out.get((code, hour), 0) + n
    for code, at, reading in marked:
        if valid_value(reading, (), code, at) and not valid_value(reading, marks, code, at):
            key = (code, hour_floor(at))
            out[key] = out.get(key, 0) - 1
    return {key: n for key, n in out.items() if n > 0}


def stopped(flow: float | None, o2: float | None, cfg: RulesConfig) -> bool:
    """Evidence that the unit is not running: no flow, or air-level O2 (A17, A19)."""
    return (flow is not None and flow <= 0) or (o2 is not None and o2 >= cfg.o2_ambient)


def hour_status(
    *,
    medium: str,
    reading: Reading | None,
    valid_minutes: int | None,
    mark: MarkEffect | None,
    unit_stopped: bool,
    cfg: RulesConfig,
) -> HourStatus:
    """How one factor's hour counts (docs/regulations.md §1.5, §2.1).

    ``valid_minutes`` is None when the station sends no minute data (the 45-minute
    test cannot be made, so the hourly record's flag decides).
    """
    if mark is not None and mark.effect in ("shutdown", "exempt"):
        return HourStatus(False, False, False, f"{mark.effect}:{mark.category}")
    if reading is None:
        return HourStatus(True, False, False, "missing")
    if reading.flag == "F" and unit_stopped:
        return HourStatus(False, False, False, "shutdown:F")
    if mark is not None:
        return HourStatus(True, True, False, f"marked:{mark.category}")
    if not reading.normal:
        return HourStatus(True, True, False, f"flag:{reading.flag}")
    if reading.value is None:
        return HourStatus(True, True, False, "no-value")
    if medium == "gas" and valid_minutes is not None and valid_minutes < cfg.gas_min_valid_minutes:
        return HourStatus(True, True, False, f"incomplete:{valid_minutes}min")
    return HourStatus(True, True, True, "valid")


def valid_minutes(valid_records: int, interval_min: int) -> int:
    """Valid minutes of an hour from its valid 2051 records (each covers the interval)."""
    return min(60, valid_records * interval_min)


def day_valid(medium: str, valid_hours: int, expected_hours: int, cfg: RulesConfig) -> bool:
    """HJ 76 App. B: 20 valid hours (gas); [R] 75 % of the expected hours (water)."""
    if medium == "gas":
        return valid_hours >= cfg.gas_min_valid_hours
    if expected_hours <= 0:
        return False
    return valid_hours >= math.ceil(cfg.water_min_valid_fraction * expected_hours - 1e-9)


def month_valid_days(month_start: datetime, cfg: RulesConfig) -> int:
    """HJ 76 App. B: a valid gas month needs 25 valid days, 23 in February [S]."""
    if month_start.month == 2:
        return cfg.gas_min_valid_days_february
    return cfg.gas_min_valid_days


def converted(value: float, o2: float, o2_ref: float, o2_air: float = 21.0) -> float | None:
    """C_ref = C x (21 - O2_ref) / (21 - O2_meas) (HJ 75/76, docs/regulations.md §2.5 A7/A9).

    None when O2 is at or above that of the combustion air: nothing to convert.
    """
    if o2 >= o2_air or o2 < 0:
        return None
    return value * (o2_air - o2_ref) / (o2_air - o2)


def flow_weighted(values: Sequence[tuple[float, float | None]]) -> float | None:
    """Σ(C·Q)/ΣQ over (C, Q) pairs; the plain mean when any Q is unknown or ΣQ = 0."""
    if not values:
        return None
    flows = [q for _, q in values]
    if all(q is not None for q in flows):
        total = sum(q for q in flows if q is not None)
        if total > 0:
            return sum(c * q for c, q in values if q is not None) / total
    return sum(c for c, _ in values) / len(values)


def hours_in(start: int, end: int) -> range:
    """Hour starts (µs) in [start, end)."""
    first = start - start % HOUR
    if first < start:
        first += HOUR
    return range(first, end, HOUR)
