"""Report periods in Beijing time: a day ``2026-10-03``, a month ``2026-10``, a quarter
``2026Q3``, a year ``2026`` (the yearly rates and totals of docs/regulations.md §1.4:
assessment periods are monthly, quarterly and yearly)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from protocol import BEIJING
from rules.times import TIME_LABEL, TIME_LABEL_EN, shown


class PeriodError(ValueError):
    """Not a day, month, quarter or year."""


@dataclass(frozen=True)
class Period:
    label: str
    kind: str  # day | month | quarter | year
    start: datetime  # Beijing midnight
    end: datetime  # exclusive

    def days(self) -> list[datetime]:
        out, day = [], self.start
        while day < self.end:
            out.append(day)
            day += timedelta(days=1)
        return out

    def months(self) -> list[datetime]:
        return [d for d in self.days() if d.day == 1] or [self.start]


def _month(year: int, month: int) -> datetime:
    if not 1 <= month <= 12:
        raise PeriodError(f"month {month} is not 1-12")
    return datetime(year, month, 1, tzinfo=BEIJING)


def _next_month(start: datetime) -> datetime:
    return _month(start.year + start.month // 12, start.month % 12 + 1)


def parse(text: str) -> Period:
    text = text.strip().upper()
    if re.fullmatch(r"\d{4}", text):
        year = int(text)
        return Period(text, "year", _month(year, 1), _month(year + 1, 1))
    if m := re.fullmatch(r"(\d{4})Q([1-4])", text):
        start = _month(int(m[1]), 3 * int(m[2]) - 2)
        end = start
        for _ in range(3):
            end = _next_month(end)
        return Period(text, "quarter", start, end)
    if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
        start = _month(int(m[1]), int(m[2]))
        return Period(text, "month", start, _next_month(start))
    if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text):
        try:
            start = datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=BEIJING)
        except ValueError as exc:
            raise PeriodError(str(exc)) from None
        return Period(text, "day", start, start + timedelta(days=1))
    raise PeriodError(
        f"{text!r}: use a day 2026-10-03, a month 2026-10, a quarter 2026Q3 or a year 2026"
    )


def counted_to(period: Period, until: datetime, now: datetime) -> str:
    """What a report on ``period`` covers, said in the subtitle: the whole period, or
    (still running) up to ``until``, the end of the last hour judged at ``now``
    (services.figures)."""
    if until >= period.end:
        return (
            f"{shown(period.start, False)} 至 {shown(period.end, False)}（{TIME_LABEL}）"
            f" / {TIME_LABEL_EN}, end exclusive"
        )
    return (
        f"{shown(period.start, False)} 至 {shown(until, False)}（{TIME_LABEL}，统计期未结束："
        f"计至已结束并已判定的小时）/ {TIME_LABEL_EN}, period still running: counted to "
        f"{shown(until, False)}, the hours ended and judged by {shown(now)}"
    )
