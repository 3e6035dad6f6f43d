"""Time arithmetic for the rules, on integer microseconds since the epoch (UTC).

Integers keep the engine's state exact in JSON and cheap to compare. Calendar periods
are Beijing time (HJ 212-2017 §6.3.3: DataTime is local time, UTC+8, no DST): a day
runs 00:00-24:00 Beijing, i.e. 16:00-16:00 UTC. Hours coincide in both zones.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from protocol import BEIJING

US = 1_000_000
MINUTE = 60 * US
HOUR = 60 * MINUTE
DAY = 24 * HOUR
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_OFFSET = 8 * HOUR  # Beijing is UTC+8 all year


def us(moment: datetime) -> int:
    """``moment`` (timezone-aware) as microseconds since the epoch."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def dt(t: int) -> datetime:
    """Microseconds since the epoch as an aware UTC datetime."""
    return _EPOCH + timedelta(microseconds=t)


def local(t: int) -> datetime:
    """Microseconds since the epoch as Beijing time."""
    return dt(t).astimezone(BEIJING)


# Every time a person reads is Beijing time and says so (HJ 212-2017 §6.3.3: the
# standard's times are local time); machine output is ISO 8601 with the +08:00 offset.
TIME_LABEL = "北京时间"
TIME_LABEL_EN = "Beijing time"


def shown(moment: datetime, seconds: bool = True) -> str:
    """``moment`` as a person reads it: ``2026-12-07 04:37:00`` in Beijing time."""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def machine(moment: datetime) -> str:
    """``moment`` for machine output: ISO 8601 in Beijing time with its offset."""
    return moment.astimezone(BEIJING).isoformat()


def iso(t: int) -> str:
    """Beijing ISO 8601 text, the form alarm keys and reports use."""
    return local(t).isoformat(timespec="seconds")


def hour_floor(t: int) -> int:
    return t - t % HOUR


def day_floor(t: int) -> int:
    """Start of the Beijing calendar day containing ``t``."""
    return t - (t + _OFFSET) % DAY


def month_floor(t: int) -> int:
    day = local(t)
    return us(day.replace(day=1, hour=0, minute=0, second=0, microsecond=0))


def next_month(t: int) -> int:
    start = local(month_floor(t))
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return us(start.replace(year=year, month=month))


def quarter_floor(t: int) -> int:
    start = local(month_floor(t))
    return us(start.replace(month=(start.month - 1) // 3 * 3 + 1))


def next_quarter(t: int) -> int:
    start = quarter_floor(t)
    for _ in range(3):
        start = next_month(start)
    return start


def period_label(period: str, t: int) -> str:
    """``2026-10-03`` (day), ``2026-10`` (month) or ``2026Q4`` (quarter) for ``t``."""
    day = local(t)
    if period == "day":
        return day.strftime("%Y-%m-%d")
    if period == "month":
        return day.strftime("%Y-%m")
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"
