"""Value anomalies on a factor's hourly series (docs/regulations.md §5, A5-A11).

Each function reads the recent hourly entries of one factor, oldest first, as
``(hour, value, running)`` with ``hour`` in µs, and answers whether the pattern holds
now (at the newest entry). "Running" means the unit is emitting (flow > 0, O2 below
air level): a stopped unit legitimately reads zero or constant. Defaults and sources
are in :class:`rules.config.RulesConfig`; none of these thresholds is national [E],
except the 2 % band, which is a field-inspection red flag [S].
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rules.times import HOUR

Entry = tuple[int, float, bool]  # (hour, value, running)


def _tail(series: Sequence[Entry], hours: int) -> list[Entry] | None:
    """The newest ``hours`` entries if they are consecutive hours, else None."""
    if hours <= 0 or len(series) < hours:
        return None
    tail = list(series[-hours:])
    if tail[-1][0] - tail[0][0] != (hours - 1) * HOUR:
        return None
    return tail


def _window(series: Sequence[Entry], hours: int) -> list[Entry]:
    """Running entries of the last ``hours`` hours (ending at the newest entry)."""
    if not series:
        return []
    start = series[-1][0] - (hours - 1) * HOUR
    return [e for e in series if e[0] >= start and e[2]]


def zero(series: Sequence[Entry], hours: int) -> bool:
    """A5: hourly mean exactly 0 for ``hours`` consecutive running hours."""
    tail = _tail(series, hours)
    return tail is not None and all(run and value == 0 for _, value, run in tail)


def negative(value: float) -> bool:
    """A6: a concentration or flow below zero."""
    return value < 0


def constant(series: Sequence[Entry], hours: int) -> bool:
    """A7: the same hourly mean, at reported precision, for ``hours`` running hours."""
    tail = _tail(series, hours)
    if tail is None or not all(run for _, _, run in tail):
        return False
    return len({value for _, value, _ in tail}) == 1


def narrow_band(series: Sequence[Entry], span: float | None, fraction: float, hours: int) -> bool:
    """A8: over ``hours`` hours (75 % of them present) the values vary < fraction x range."""
    if span is None or span <= 0:
        return False
    window = _window(series, hours)
    if len(window) * 4 < hours * 3:
        return False
    values = [value for _, value, _ in window]
    if len(set(values)) == 1:
        return False  # that is A7, constant
    return max(values) - min(values) < fraction * span


def near_detection_limit(series: Sequence[Entry], limit: float | None, hours: int) -> bool:
    """A9: every value within ±DL over ``hours`` running hours (75 % present)."""
    if limit is None or limit <= 0:
        return False
    window = _window(series, hours)
    if len(window) * 4 < hours * 3:
        return False
    return all(abs(value) <= limit for _, value, _ in window)


def over_range(value: float, range_high: float | None, flag: str | None, fraction: float) -> bool:
    """A10: flag T, or a value at or above ``fraction`` of the measuring range."""
    if flag == "T":
        return True
    return range_high is not None and range_high > 0 and value >= fraction * range_high


def _sigma(values: Sequence[float]) -> float:
    """Population standard deviation in plain floats (statistics.pstdev is exact and slow)."""
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def jump(
    series: Sequence[Entry],
    limit: float | None,
    limit_fraction: float,
    sigma: float,
    min_history: int,
    span: float | None = None,
    span_fraction: float = 0.0,
) -> tuple[float, float] | None:
    """A11: |Δ| from the previous hour above max(fraction x limit, sigma x σ(24 h),
    span_fraction x the measuring range).

    Returns (Δ, threshold) when it jumps. Needs ``min_history`` earlier hours and a
    positive threshold (a flat history says nothing about a jump; that is A7). The
    range term keeps a factor without a limit (O2) from "jumping" on an ordinary load
    change after a few quiet hours made its σ tiny.
    """
    if len(series) < min_history + 1:
        return None
    last, prev = series[-1], series[-2]
    if last[0] - prev[0] != HOUR or not (last[2] and prev[2]):
        return None
    history = [value for _, value, run in _window(series[:-1], 24) if run]
    if len(history) < min_history:
        return None
    floor = span_fraction * span if span is not None and span > 0 else 0.0
    by_limit = limit_fraction * limit if limit is not None else 0.0
    threshold = max(by_limit, sigma * _sigma(history), floor)
    delta = last[1] - prev[1]
    if threshold <= 0 or abs(delta) <= threshold:
        return None
    return delta, threshold
