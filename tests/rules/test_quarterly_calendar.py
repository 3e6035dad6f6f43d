"""Deadlines of the quarterly direct report (seed 004 三(二); docs/quarterly.md §3)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from config.calendar import CalendarError, Calendars, load
from protocol import BEIJING
from rules.quarterly_calendar import (
    Calendar,
    Quarter,
    QuarterError,
    deadline,
    deadline_day,
    reminder_at,
    working_days_before,
)

NATIONAL = load()


def test_quarters_parse_and_know_their_reporting_month() -> None:
    q = Quarter.parse("2026q4")
    assert q.label == "2026Q4"
    assert q.start == datetime(2026, 10, 1, tzinfo=BEIJING)
    assert q.end == datetime(2027, 1, 1, tzinfo=BEIJING)
    assert q.previous() == Quarter(2026, 3)
    assert Quarter(2026, 1).previous() == Quarter(2025, 4)
    for bad in ("2026Q5", "2026-10", "Q3"):
        with pytest.raises(QuarterError):
            Quarter.parse(bad)


def test_the_7th_12th_17th_on_working_days_stay() -> None:
    cal = NATIONAL.for_region("430100")
    q = Quarter(2026, 1)  # April 2026: the 7th is a Tuesday, the 12th a Sunday
    assert deadline_day(q, "enterprise", cal) == date(2026, 4, 7)
    assert deadline_day(q, "city", cal) == date(2026, 4, 12)  # a weekend, no holiday: kept
    assert deadline_day(q, "province", cal) == date(2026, 4, 17)
    assert deadline(q, "enterprise", cal) == datetime(2026, 4, 8, tzinfo=BEIJING)


def test_a_deadline_in_national_day_moves_to_the_first_working_day_after() -> None:
    cal = NATIONAL.for_region("430100")
    # 2026: National Day holiday 1-7 October, the 10th (Saturday) worked
    assert deadline_day(Quarter(2026, 3), "enterprise", cal) == date(2026, 10, 8)
    assert deadline_day(Quarter(2026, 3), "city", cal) == date(2026, 10, 12)


def test_a_holiday_ending_before_a_weekend_moves_past_the_weekend() -> None:
    friday = date(2027, 1, 8)
    cal = Calendar(holidays=frozenset({date(2027, 1, 7), friday}))
    assert deadline_day(Quarter(2026, 4), "enterprise", cal) == date(2027, 1, 11)


def test_reminders_count_working_days_back_over_weekends_and_worked_saturdays() -> None:
    cal = NATIONAL.for_region("430100")
    # before Thursday 8 Oct 2026: 1-7 Oct off; Sunday 27 Sep worked? (not in 2026's list)
    assert working_days_before(date(2026, 10, 8), 1, cal) == date(2026, 9, 30)
    assert working_days_before(date(2026, 10, 8), 0, cal) == date(2026, 10, 8)
    remind = reminder_at(Quarter(2026, 3), "enterprise", cal, 2)
    assert remind == datetime(2026, 9, 29, tzinfo=BEIJING)
    saturday = date(2026, 10, 10)
    assert cal.is_working(saturday)
    assert working_days_before(date(2026, 10, 12), 1, cal) == saturday


def test_a_regions_own_days_apply_to_it_and_its_cities_only(tmp_path: object) -> None:
    calendars = Calendars(
        regions={
            "43": (frozenset({date(2026, 4, 7)}), frozenset()),
            "4301": (frozenset(), frozenset({date(2026, 4, 11)})),
        }
    )
    q = Quarter(2026, 1)
    assert deadline_day(q, "enterprise", calendars.for_region("430100")) == date(2026, 4, 8)
    assert deadline_day(q, "enterprise", calendars.for_region("420100")) == date(2026, 4, 7)
    assert calendars.for_region("430100").is_working(date(2026, 4, 11))
    assert not calendars.for_region("430200").is_working(date(2026, 4, 11))


def test_a_bad_calendar_file_says_what_is_wrong(tmp_path: pytest.TempPathFactory) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "c.toml"
    path.write_text('[regions."43"]\nholidays = ["2026-13-01"]\n', encoding="utf-8")
    with pytest.raises(CalendarError, match="not an ISO date"):
        load(path)
    path.write_text("remind_working_days = -1\n", encoding="utf-8")
    with pytest.raises(CalendarError, match="0-20"):
        load(path)


def test_the_national_data_says_how_far_it_reaches() -> None:
    cal = NATIONAL.for_region("")
    assert cal.known_until is not None
    assert cal.covers(date(2026, 12, 31))
    assert not cal.covers(cal.known_until.replace(year=cal.known_until.year + 1))
