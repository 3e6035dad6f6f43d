"""Effective transmission rate (有效传输率), docs/regulations.md §1.

The counting unit is one hourly value of one assessed factor at one point (§1.2)::

    TR  = received / expected      (capped at 1)
    ER  = valid / received
    ETR = TR x ER = valid / expected

Not the vendor formula ER = valid / expected, which counts missing data twice (§1.1).
Hours under a shutdown or exemption mark are not expected (§1.2); for waste water, COD,
NH3-N, TP and TN lose one hour a day to the automatic standard-sample check, taken
from the worst hours first (a missing hour, else an invalid one), which is the same as
capping received and valid at the reduced expected count.

Two variants (§1.1, interface spec §2.6): **realtime** (即时) counts a value only if it
arrived by the end of its hour plus ``realtime_grace_min``; **completion** (补全) also
counts values sent later (补传).

Which hours a rate counts (:func:`counted_window`, the one definition the engine, the
reports, the console and the evidence bundle share): the whole hours of the period that
began at or after the station's ``monitored_since`` (an hour it was registered in
part-way was not its to deliver) and that had ended and were due to be judged (end +
``hour_grace_min``, when the engine judges them) by the moment asked. A rate of a period
still running is a rate up to then, never one that counts the hours still to come (or
the one still running) as missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime

from rules.config import RulesConfig
from rules.times import HOUR, MINUTE, hour_floor, us
from rules.validity import HourStatus


def _ceil_hour(t: int) -> int:
    return hour_floor(t) + (HOUR if t % HOUR else 0)


def counted_from(monitored_since: datetime | None) -> int | None:
    """The first hour (µs) a station answers for: the first that began when it was
    already monitored (None: no registration time known, every hour counts)."""
    if monitored_since is None:
        return None
    return _ceil_hour(us(monitored_since))


def counted_until(now: int, cfg: RulesConfig) -> int:
    """End (µs, exclusive) of the hours judged by ``now``: ended ``hour_grace_min`` ago."""
    return hour_floor(now - round(cfg.hour_grace_min * MINUTE))


def counted_window(
    start: int, end: int, monitored_since: datetime | None, now: int, cfg: RulesConfig
) -> tuple[int, int]:
    """The hours [first, last) (µs, whole hours) of the period [start, end) that a rate
    asked at ``now`` counts; none when first >= last."""
    first = _ceil_hour(start)
    since = counted_from(monitored_since)
    if since is not None:
        first = max(first, since)
    return first, min(hour_floor(end), counted_until(now, cfg))


@dataclass(frozen=True, slots=True)
class Counts:
    expected: int = 0
    received: int = 0
    valid: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.expected + other.expected,
            self.received + other.received,
            self.valid + other.valid,
        )

    @property
    def tr(self) -> float | None:
        """Transmission rate (传输率), None when nothing was expected."""
        return min(1.0, self.received / self.expected) if self.expected else None

    @property
    def er(self) -> float | None:
        """Validity rate (有效率) of what was received."""
        return self.valid / self.received if self.received else (0.0 if self.expected else None)

    @property
    def etr(self) -> float | None:
        """Effective transmission rate (有效传输率) = TR x ER = valid / expected."""
        return min(1.0, self.valid / self.expected) if self.expected else None


@dataclass(frozen=True, slots=True)
class Tally:
    """Hours of one factor (or a sum of factors) in one period, both variants."""

    expected: int = 0
    received: int = 0  # completion: whenever it arrived
    valid: int = 0
    received_rt: int = 0  # realtime: arrived on time
    valid_rt: int = 0
    shutdown: int = 0  # hours out of the period: shutdown marks or F with the unit stopped
    exempt: int = 0  # exemption marks and the water check hour

    def __add__(self, other: Tally) -> Tally:
        return Tally(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Tally)))

    @property
    def completion(self) -> Counts:
        return Counts(self.expected, min(self.received, self.expected), self.valid)

    @property
    def realtime(self) -> Counts:
        return Counts(self.expected, min(self.received_rt, self.expected), self.valid_rt)

    def variant(self, name: str) -> Counts:
        return self.realtime if name == "realtime" else self.completion


def tally_hour(status: HourStatus, on_time: bool) -> Tally:
    """One hour of one factor as a tally."""
    if not status.expected:
        shutdown = status.reason.startswith("shutdown")
        return Tally(shutdown=int(shutdown), exempt=int(not shutdown))
    received, valid = int(status.received), int(status.valid)
    return Tally(1, received, valid, received * on_time, valid * on_time)


def tally(hours: Iterable[tuple[HourStatus, bool]]) -> Tally:
    total = Tally()
    for status, on_time in hours:
        total = total + tally_hour(status, on_time)
    return total


def exempt_check_hours(day: Tally, hours: int) -> Tally:
    """A water factor's day with up to ``hours`` standard-sample check hours exempted
    (§1.2): the worst hours, and only hours that need it (missing or invalid in either
    variant). A day whose every hour is valid had no check hour to forgive: it keeps its
    hours and its 100 %, the first hour of a day still running included (the rates are
    the same as cutting an hour from every day whenever a day has two hours or more)."""
    short = day.expected - min(day.valid, day.valid_rt)
    cut = min(hours, day.expected, short)
    if cut <= 0:
        return day
    expected = day.expected - cut
    return Tally(
        expected,
        min(day.received, expected),
        min(day.valid, expected),
        min(day.received_rt, expected),
        min(day.valid_rt, expected),
        day.shutdown,
        day.exempt + cut,
    )


def below(counts: Counts, threshold: float, *, strict: bool = True) -> bool:
    """Whether the ETR fails ``threshold`` (nothing expected never fails). ``strict``: the
    rate must be above the threshold (大于, seed 003 Art. 8), so exactly 95.00 % fails;
    otherwise reaching it is enough (不低于). docs/regulations.md §1.4."""
    rate = counts.etr
    if rate is None:
        return False
    return rate <= threshold + 1e-12 if strict else rate < threshold - 1e-12


def percent(rate: float | None) -> str:
    return "" if rate is None else f"{rate * 100:.2f}"
