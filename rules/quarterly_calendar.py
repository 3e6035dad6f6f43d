"""The quarterly direct report's calendar, pure (docs/quarterly.md §3).

Seed 004 三(二): from 2014, by the 7th of the first month of each quarter the enterprise
reports the previous quarter, by the 12th the city has reviewed and sent it on, by the
17th the province; "如遇国家法定节日，上报、审核期限顺延": a deadline falling on a statutory
holiday moves to the first working day after it. Each level's day is moved on its own.
A deadline day is read inclusively: the level has until the end of that day (24:00
Beijing time).

Which days are holidays and which weekend days are worked (调休) is data
(:class:`Calendar`, built by config/calendar.py from the national list and a region's
own overrides); this module only counts days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from protocol import BEIJING

# The three levels in order, with the day of the month after the quarter each has until.
LEVELS: tuple[tuple[str, int], ...] = (("enterprise", 7), ("city", 12), ("province", 17))


class QuarterError(ValueError):
    """Not a quarter like ``2026Q3``."""


@dataclass(frozen=True, slots=True, order=True)
class Quarter:
    year: int
    number: int  # 1-4

    @classmethod
    def parse(cls, text: str) -> Quarter:
        m = re.fullmatch(r"(\d{4})Q([1-4])", text.strip().upper())
        if m is None:
            raise QuarterError(f"{text!r} is not a quarter like 2026Q3")
        return cls(int(m[1]), int(m[2]))

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.number}"

    def months(self) -> tuple[date, ...]:
        first = 3 * self.number - 2
        return tuple(date(self.year, first + i, 1) for i in range(3))

    @property
    def start(self) -> datetime:
        return datetime.combine(self.months()[0], time(), BEIJING)

    @property
    def end(self) -> datetime:
        """The first moment after the quarter (Beijing midnight)."""
        return datetime.combine(self.reporting_month(), time(), BEIJING)

    def reporting_month(self) -> date:
        """The first month after the quarter, in which it is reported."""
        if self.number == 4:
            return date(self.year + 1, 1, 1)
        return date(self.year, 3 * self.number + 1, 1)

    def previous(self) -> Quarter:
        return (
            Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)
        )


def quarter_of(moment: datetime) -> Quarter:
    local = moment.astimezone(BEIJING)
    return Quarter(local.year, (local.month - 1) // 3 + 1)


@dataclass(frozen=True, slots=True)
class Calendar:
    """Holidays and adjusted working days of one region, as dates."""

    holidays: frozenset[date] = frozenset()  # statutory holidays and their rest days
    workdays: frozenset[date] = frozenset()  # weekend days that are worked (调休)
    known_until: date | None = None  # the last day the national data covers

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays

    def is_working(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day not in self.holidays and day.weekday() < 5

    def covers(self, day: date) -> bool:
        """Whether the holiday data reaches ``day`` (beyond it only weekends are known)."""
        return self.known_until is None or day <= self.known_until


def _after_holidays(day: date, calendar: Calendar) -> date:
    """``day``, or when it is a holiday the first working day after it (a weekend right
    after the holiday is no working day either)."""
    if not calendar.is_holiday(day):
        return day
    while not calendar.is_working(day):
        day += timedelta(days=1)
    return day


def deadline_day(quarter: Quarter, level: str, calendar: Calendar) -> date:
    """The last day ``level`` has for ``quarter`` (seed 004 三(二)), moved past holidays."""
    day_of_month = dict(LEVELS).get(level)
    if day_of_month is None:
        raise ValueError(f"level {level!r} is not one of {[name for name, _ in LEVELS]}")
    return _after_holidays(quarter.reporting_month().replace(day=day_of_month), calendar)


def deadline(quarter: Quarter, level: str, calendar: Calendar) -> datetime:
    """The moment the level's time is up: the end of its deadline day, Beijing time."""
    day = deadline_day(quarter, level, calendar) + timedelta(days=1)
    return datetime.combine(day, time(), BEIJING)


def working_days_before(day: date, count: int, calendar: Calendar) -> date:
    """The working day ``count`` working days before ``day`` (``day`` itself for 0)."""
    found = day
    for _ in range(count):
        found -= timedelta(days=1)
        while not calendar.is_working(found):
            found -= timedelta(days=1)
    return found


def reminder_at(quarter: Quarter, level: str, calendar: Calendar, working_days: int) -> datetime:
    """When the reminder for ``level`` is due: the start of the working day
    ``working_days`` working days before its deadline day."""
    day = working_days_before(deadline_day(quarter, level, calendar), working_days, calendar)
    return datetime.combine(day, time(), BEIJING)
