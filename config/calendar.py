"""The calendar the quarterly deadlines count on: national holidays and adjusted working
days (the ``chinesecalendar`` package) plus a region's own days from a TOML file
(config/calendar.toml; docs/quarterly.md §3). Loaded once per process and passed down.

The national list is the package's (the State Council's notice of each year, through
the package's data year, ``known_until``): a deadline past that year is still computed,
with weekends only, and the console and CLI say so.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import chinese_calendar

from rules.quarterly_calendar import Calendar

DEFAULT = Path(__file__).with_name("calendar.toml")


class CalendarError(ValueError):
    """A calendar file that cannot be used, with the reason."""


@dataclass(frozen=True)
class Calendars:
    """The national calendar and each region prefix's additions."""

    remind_working_days: int = 3
    national: Calendar = field(default_factory=lambda: _national())
    regions: dict[str, tuple[frozenset[date], frozenset[date]]] = field(default_factory=dict)

    def for_region(self, region_code: str) -> Calendar:
        """The calendar of a region: the national one plus every matching prefix's days."""
        holidays, workdays = set(self.national.holidays), set(self.national.workdays)
        for prefix in sorted(self.regions, key=len):
            if region_code.startswith(prefix):
                extra_off, extra_on = self.regions[prefix]
                holidays = (holidays | extra_off) - extra_on
                workdays = (workdays | extra_on) - extra_off
        return Calendar(frozenset(holidays), frozenset(workdays), self.national.known_until)


def _national() -> Calendar:
    holidays = frozenset(chinese_calendar.holidays)
    return Calendar(
        holidays, frozenset(chinese_calendar.workdays), date(max(holidays).year, 12, 31)
    )


def _dates(value: object, where: str) -> frozenset[date]:
    if not isinstance(value, list):
        raise CalendarError(f"{where}: a list of ISO dates expected")
    out = set()
    for item in value:
        try:
            out.add(item if isinstance(item, date) else date.fromisoformat(str(item)))
        except ValueError:
            raise CalendarError(f"{where}: {item!r} is not an ISO date") from None
    return frozenset(out)


def load(path: Path | None = None) -> Calendars:
    """The calendar file at ``path``, else ``$HJ212_CALENDAR``, else the shipped one;
    :raises CalendarError:."""
    source = path or (
        Path(os.environ["HJ212_CALENDAR"]) if os.environ.get("HJ212_CALENDAR") else DEFAULT
    )
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CalendarError(f"{source}: {exc}") from None
    days = data.get("remind_working_days", 3)
    if not isinstance(days, int) or not 0 <= days <= 20:
        raise CalendarError(f"{source}: remind_working_days must be 0-20, not {days!r}")
    regions = {}
    for prefix, table in (data.get("regions") or {}).items():
        if not (isinstance(table, dict) and prefix.isdigit() and len(prefix) <= 6):
            raise CalendarError(f"{source}: [regions.{prefix}] needs a region-code prefix")
        where = f"{source} [regions.{prefix}]"
        regions[prefix] = (
            _dates(table.get("holidays", []), f"{where} holidays"),
            _dates(table.get("workdays", []), f"{where} workdays"),
        )
    return Calendars(days, _national(), regions)
