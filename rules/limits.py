"""Limits beyond the hourly judgement (issue 20; rules/exceedance.py has the tests of
a value): A13 bounds on minutes, hours and days, A14's early warning of an open gas hour,
A17's flow under a shutdown mark, a gas month's valid days (HJ 76-2017 App. B) and the
water check hours a station's own 2062 checks exempt (docs/regulations.md §1.2, §5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from protocol.codes import Cn
from rules.context import Ctx
from rules.exceedance import (
    PH,
    Outside,
    bounds_outside,
    cannot_stay_under,
    gas_value,
    limit_period,
    ph_outside,
)
from rules.model import OXYGEN, Reading
from rules.state_parts import MinuteSums
from rules.times import DAY, day_floor, local, period_label
from rules.validity import mark_effect, month_valid_days


def bounds_minute(ctx: Ctx, code: str, value: float, at: int) -> None:
    """A13 on a valid minute value (rules/exceedance.py)."""
    found = bounds_outside(code, value, ctx.cfg)
    ctx.condition(
        f"limit-violation:{code}:minute",
        found is not None,
        "limit-violation",
        cn=Cn.MINUTE,
        pollutant=code,
        data_time=at,
        value=value,
        threshold=found.bound if found else None,
        detail={"period": "minute", "side": found.side} if found else None,
    )


def early_warning(ctx: Ctx, hour: int, minutes: Mapping[str, MinuteSums]) -> None:
    """A14: an open gas hour whose valid minutes can no longer average under the hourly
    limit raises a warning now; the hour's exceedance follows when it is judged. As the
    hour is (rules/exceedance.py), the minutes are judged converted to the reference O2
    with the mean O2 of the valid minutes so far."""
    step, info = ctx.info.minute_interval_min, ctx.info
    o2 = minutes.get(OXYGEN)
    o2_mean = o2.sum_c / o2.n_valid if o2 is not None and o2.n_valid else None
    for code, m in sorted(minutes.items()):
        pollutant = info.pollutants.get(code)
        if pollutant is None or pollutant.limit is None or not m.n_valid:
            continue
        if limit_period(pollutant, "gas") != "hour":
            continue
        judged = gas_value(Reading(avg=m.sum_c / m.n_valid), o2_mean, info.o2_ref, ctx.cfg)
        if judged is None:
            continue  # air-level or no O2: nothing to judge (A19)
        mean = judged[0]
        if not cannot_stay_under(mean * m.n_valid * step, pollutant.limit):
            continue
        ctx.condition(
            f"early-warning:{code}",
            True,
            "early-warning",
            cn=Cn.MINUTE,
            pollutant=code,
            data_time=hour,
            value=round(mean, 6),
            threshold=pollutant.limit,
            detail={"period": "hour", "valid_minutes": m.n_valid * step},
        )


def flow_while_shutdown(ctx: Ctx, cn: str, reading: Reading, flow: str, at: int) -> None:
    """A17, its other half: a normal flow above 0 at a time a shutdown (停运) mark covers:
    the mark says nothing is discharged, the flow meter says otherwise (docs/regulations.md
    §5 A17 [S])."""
    effect = mark_effect(ctx.st.marks, flow, at, at + 1)
    shut = effect is not None and effect.effect == "shutdown"
    flowing = reading.normal and reading.value is not None and reading.value > 0
    ctx.condition(
        "flow-while-shutdown",
        shut and flowing,
        "flow-while-shutdown",
        cn=cn,
        pollutant=flow,
        data_time=at,
        value=reading.value,
        detail={"mark": effect.category} if effect is not None and shut and flowing else None,
    )


def outside(ctx: Ctx, name: str, found: Outside | None, common: dict[str, Any]) -> None:
    """A13: a valid value under its lower or over its upper bound, raised and cleared
    by values of the same period."""
    ctx.condition(
        name,
        found is not None,
        "limit-violation",
        value=found.value if found else None,
        threshold=found.bound if found else None,
        detail={"period": name.rsplit(":", 1)[1], "side": found.side} if found else None,
        **common,
    )


def close_month_days(ctx: Ctx, month: int) -> None:
    """A gas month with fewer valid days than HJ 76 App. B asks (25, 23 in February) has
    no valid monthly value; said when the station had as many days to give."""
    need = month_valid_days(local(month), ctx.cfg)
    for code, (valid, expected) in sorted(ctx.st.month_days.items()):
        ctx.condition(
            f"month-invalid:{code}",
            expected >= need and valid < need,
            "month-invalid",
            cn=Cn.HOURLY,
            pollutant=code,
            data_time=month,
            value=valid,
            threshold=need,
            detail={"month": period_label("month", month), "expected_days": expected},
        )
    ctx.st.month_days = {}


def check_hours(ctx: Ctx, code: str, day: int) -> int:
    """The check hours a water factor's day may exempt: as configured, or, for a station
    that reports its 2062 checks (rules/device_facts.py), those it reported that day."""
    limit = ctx.cfg.water_check_exempt_hours
    reported = ctx.st.checks.get(code)
    if reported is None:
        return limit
    ctx.st.checks[code] = [h for h in reported if h >= day + DAY]
    return min(limit, sum(1 for h in reported if day <= h < day + DAY))


def ph_hour(ctx: Ctx, code: str, value: float, common: dict[str, Any]) -> None:
    """pH judged on its range, hour by hour (GB 8978-1996 Table 4; docs/regulations.md §3.2)."""
    if code != PH:
        return
    ph = ph_outside(code, value, ctx.cfg)
    ctx.condition(
        f"exceedance:{code}",
        ph is not None,
        "exceedance",
        "critical",
        value=value,
        threshold=ph.bound if ph else None,
        detail={"period": "hour", "basis": "range", "side": ph.side} if ph else None,
        **common,
    )


def early_warning_day(ctx: Ctx, hour: int) -> None:
    """A14 for a gas day under a daily limit: once the valid hours judged so far sum to
    more than the limit x 24, the day's mean (over at most 24 valid hours) will exceed it
    whatever the rest of the day brings. A warning now; the day is judged at its end."""
    day = day_floor(hour)
    for code, points in sorted(ctx.st.series.items()):
        pollutant = ctx.info.pollutants.get(code)
        if pollutant is None or pollutant.limit is None:
            continue
        if limit_period(pollutant, "gas") != "day":
            continue
        valid = [float(e.judged) for e in points if e.hour >= day and e.valid]
        if not valid or not cannot_stay_under(sum(valid), pollutant.limit, 24.0):
            continue
        ctx.condition(
            f"early-warning-day:{code}",
            True,
            "early-warning",
            cn=Cn.HOURLY,
            pollutant=code,
            data_time=day,
            value=round(sum(valid) / len(valid), 6),
            threshold=pollutant.limit,
            detail={"period": "day", "valid_hours": len(valid)},
        )
