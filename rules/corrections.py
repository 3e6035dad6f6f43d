"""Corrections and substitutions of hourly values (docs/corrections.md), pure.

A **substitution** (修约) fills an hour that has no valid value with one computed by a
named rule from the valid hours around its gap; a **correction** replaces a stored value
that was wrong with the right one. Both are proposed with a reason, reviewed, and kept
beside the raw value (seed 001 Art. 23; docs/regulations.md §2.2, §12). Only an approved
one takes effect:

* emissions count substituted and corrected amounts apart from measured ones;
* a substituted hour stays missing or invalid for the transmission rate, a corrected
  one counts valid in the completion (补全) variant only (docs/corrections.md §3);
* exceedance is never judged on a substituted value, a corrected one is judged
  (docs/corrections.md §4; :mod:`rules.rejudge`).

Proposals are accepted only inside the window of the station's region
(``RulesConfig.correction_window_days``), which applies to late marks too
(docs/corrections.md §2).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from rules.config import RulesConfig
from rules.times import DAY, HOUR, hour_floor, iso

KINDS = ("substitution", "correction")
PERIODS = ("hour",)  # daily values: docs/corrections.md §7 (not applied yet)
MAX_GAP_HOURS = 24  # HJ/T 75-2007 via docs/regulations.md §2.2: 1-24 h are interpolated


class CorrectionError(ValueError):
    """A correction or substitution that cannot be made as asked."""


@dataclass(frozen=True, slots=True)
class Correction:
    """An approved correction or substitution, as the rules engine reads it: at the
    time it was approved (``at``), like a mark (rules/engine.py)."""

    id: int
    mn: str
    pollutant: str
    hour: datetime  # start of the hour (DataTime of its 2061 record)
    kind: str  # substitution | correction
    value: float
    original: float | None
    o2: float | None  # the hour's stored O2, for the converted concentration (gas)
    at: datetime
    flow_avg: float | None = None  # the hour's stored flow record (water: the day's mean
    flow_cou: float | None = None  # is flow-weighted, docs/regulations.md §3.2)


@dataclass(frozen=True, slots=True)
class Adjusted:
    """What an approved row makes of one hour of one factor in the figures."""

    kind: str  # substitution | correction
    value: float


Adjustments = Mapping[tuple[str, int], Adjusted]  # (pollutant, hour start µs) ->


@dataclass(frozen=True, slots=True)
class Substitute:
    value: float
    rule: str
    before: tuple[int, float]  # (hour µs, value): the valid hour before the gap
    after: tuple[int, float]  # ... and after it
    gap_hours: int

    def basis(self) -> dict[str, object]:
        """The hours the rule used, as stored with the proposal."""
        return {
            "before": {"hour": iso(self.before[0]), "value": self.before[1]},
            "after": {"hour": iso(self.after[0]), "value": self.after[1]},
            "gap_hours": self.gap_hours,
        }


def _gap(hour: int, valid: Mapping[int, float]) -> tuple[int, int]:
    """The valid hours (µs) just before and just after the gap ``hour`` is in."""
    if hour in valid:
        raise CorrectionError(f"{iso(hour)} has a valid value: substitute only a gap")
    before = max((h for h in valid if h < hour), default=None)
    after = min((h for h in valid if h > hour), default=None)
    if before is None or after is None:
        side = "before" if before is None else "after"
        raise CorrectionError(f"no valid hour {side} the gap around {iso(hour)} to substitute from")
    return before, after


def mean_adjacent(hour: int, valid: Mapping[int, float]) -> Substitute:
    """HJ/T 75-2007 (docs/regulations.md §2.2): a gap of 1-24 h takes the arithmetic
    mean of the nearest valid hourly values before and after it."""
    before, after = _gap(hour, valid)
    gap = (after - before) // HOUR - 1
    if gap > MAX_GAP_HOURS:
        raise CorrectionError(
            f"the gap is {gap} h: over {MAX_GAP_HOURS} h HJ/T 75 does not interpolate"
            " (docs/corrections.md §1)"
        )
    value = (valid[before] + valid[after]) / 2
    return Substitute(
        value, "hj75-mean-adjacent", (before, valid[before]), (after, valid[after]), gap
    )


RULES: Mapping[str, Callable[[int, Mapping[int, float]], Substitute]] = {
    "hj75-mean-adjacent": mean_adjacent,
}


def substitute(rule: str, hour: int, valid: Mapping[int, float], now: int) -> Substitute:
    """The substituted value of ``hour`` (µs, an hour start) by ``rule``, from the valid
    hourly values of the factor around it (hour start µs -> value), asked at ``now``."""
    found = RULES.get(rule)
    if found is None:
        raise CorrectionError(f"unknown substitution rule {rule!r}: one of {', '.join(RULES)}")
    if hour != hour_floor(hour):
        raise CorrectionError("a substitution is for a whole hour")
    if hour + HOUR > now:
        raise CorrectionError(f"the hour {iso(hour)} has not ended")
    return found(hour, {h: v for h, v in valid.items() if h + HOUR <= now})


def window_start(now: int, cfg: RulesConfig) -> int:
    """The earliest data time (µs) a correction or a mark may still be proposed for at
    ``now`` (docs/corrections.md §2)."""
    return now - round(cfg.correction_window_days * DAY)


def window_refusal(start: int, now: int, cfg: RulesConfig) -> str | None:
    """Why data from ``start`` (µs) may no longer be corrected or marked at ``now``."""
    earliest = window_start(now, cfg)
    if start >= earliest:
        return None
    days = f"{cfg.correction_window_days:g}"
    return (
        f"{iso(start)} is outside the correction window: data may be corrected or marked"
        f" within {days} days, so from {iso(earliest)} on (docs/corrections.md §2)"
    )


def check_form(kind: str, period: str, reason: str, value: float | None) -> list[str]:
    """Every error of a proposal's own fields (the stored data are checked apart)."""
    errors = []
    if kind not in KINDS:
        errors.append(f"kind must be one of {', '.join(KINDS)}")
    if period not in PERIODS:
        errors.append("only hourly values can be corrected (docs/corrections.md §7)")
    if not reason.strip():
        errors.append("a correction needs a reason")
    if kind == "correction" and (value is None or not math.isfinite(value) or value < 0):
        errors.append("a correction needs a new value, a number not below zero")
    return errors
