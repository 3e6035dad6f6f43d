"""Deterministic noise and production cycles: pure functions of (seed, key, time).

Nothing here keeps state or draws from a shared random generator, so any instant of
any station can be computed on its own, in any order: a month of history for a report
test costs the same whether the simulator ran through that month or not.

Time is an integer count of seconds since the Unix epoch; cycles use Beijing local time
(HJ 212 DataTime is local time, HJ 212-2017 §6.3.3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
BEIJING_OFFSET = 8 * 3600
DAY = 86400


def _finish(z: int) -> int:
    """The splitmix64 finaliser: a 64-bit integer to a well-mixed 64-bit integer."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def mix(a: int, b: int, c: int = 0) -> int:
    """A 64-bit hash of three integers (seed, key, instant)."""
    return _finish((_finish((a * _GOLDEN + b) & _MASK) + c * _GOLDEN) & _MASK)


def spread(h: int, i: int) -> int:
    """The ``i``-th hash derived from ``h`` (one finaliser instead of a full mix)."""
    return _finish((h + (i + 1) * _GOLDEN) & _MASK)


def uniform(h: int) -> float:
    """[0, 1) from a hash."""
    return (h >> 11) * (1.0 / (1 << 53))


def normal(h: int) -> float:
    """About N(0, 1) from one hash: four 16-bit uniforms summed (Irwin-Hall), rescaled."""
    total = (h & 0xFFFF) + ((h >> 16) & 0xFFFF) + ((h >> 32) & 0xFFFF) + (h >> 48)
    return (total / 65536.0 - 2.0) * 1.7320508075688772  # var of the sum is 4/12


def wander(seed: int, key: int, t: int, period: int = 300) -> float:
    """Slow noise, about N(0, 1): knots every ``period`` s, cosine-interpolated."""
    k, into = divmod(t, period)
    a = normal(mix(seed, key, k))
    b = normal(mix(seed, key, k + 1))
    w = (1.0 - math.cos(math.pi * into / period)) * 0.5
    return a + (b - a) * w


def local_seconds(t: int) -> int:
    """Seconds since the epoch on the Beijing wall clock."""
    return t + BEIJING_OFFSET


def daily_cycle(t: int, peak_hour: float = 14.0) -> float:
    """-1..1 over the Beijing day, highest at ``peak_hour``."""
    hour = (local_seconds(t) % DAY) / 3600.0
    return math.cos((hour - peak_hour) / 24.0 * 2.0 * math.pi)


@dataclass(frozen=True, slots=True)
class Schedule:
    """When the plant produces: shifts (local hours) and days off (Monday = 0).

    ``load`` is 1 inside a shift, 0 outside, with linear ramps of ``ramp`` hours at
    the edges (a boiler does not start in a second), and 0 on days off.
    """

    name: str
    shifts: tuple[tuple[float, float], ...] = ((0.0, 24.0),)
    days_off: frozenset[int] = frozenset()
    ramp: float = 0.5

    def load(self, t: int) -> float:
        local = local_seconds(t)
        day = local // DAY
        weekday = (day + 3) % 7  # 1970-01-01 was a Thursday
        if weekday in self.days_off:
            return 0.0
        hour = (local % DAY) / 3600.0
        best = 0.0
        for begin, end in self.shifts:
            if begin <= 0.0 and end >= 24.0:
                return 1.0
            if hour < begin or hour >= end:
                continue
            up = (hour - begin) / self.ramp if begin > 0.0 else 1.0
            down = (end - hour) / self.ramp if end < 24.0 else 1.0
            best = max(best, min(1.0, up, down))
        return best


CONTINUOUS = Schedule("continuous")
TWO_SHIFTS = Schedule("two shifts, Sunday off", ((8.0, 24.0),), frozenset({6}))
DAY_SHIFT = Schedule("day shift, weekends off", ((7.0, 19.0),), frozenset({5, 6}))
SCHEDULES = {s.name: s for s in (CONTINUOUS, TWO_SHIFTS, DAY_SHIFT)}
