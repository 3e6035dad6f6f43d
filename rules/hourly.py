"""Judging an hour, a day, a month and a quarter of one station.

Hour H is judged at H + 1 h + ``hour_grace_min`` (A2's grace), from what arrived by
then: every factor's hourly status (expected / received / valid, docs/regulations.md §1.5
and §2.1), exceedance of gas hours (§3.1), the value anomalies of the hourly series
(A5, A7-A9, A11), hour versus its minutes (A21), incomplete hours (A3), missing hours
(A2), factors missing while others arrive (a facility case), retransmissions and
out-of-order data. The last hour of a Beijing day closes the day: valid days (A4),
water daily means and daily limits (§3.2), the day's transmission rate; a day that
ends a month or a quarter closes those too (§1.4: compliance is judged by month).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from protocol.codes import Cn
from rules import anomaly_values, limits, rejudge
from rules.context import Ctx
from rules.emissions import mass_factor, volume
from rules.exceedance import (
    bounds_outside,
    gas_value,
    judge_day,
    judge_hour,
    suspected,
)
from rules.model import GAS_FLOW, OXYGEN, WATER_FLOW, PollutantConfig, Reading
from rules.state_parts import DayCount, HourRecord, MinuteSums, OpenHour, Receipts, SeriesPoint
from rules.times import (
    DAY,
    HOUR,
    MINUTE,
    day_floor,
    month_floor,
    next_month,
    next_quarter,
    period_label,
    quarter_floor,
)
from rules.transmission import (
    Tally,
    below,
    counted_from,
    exempt_check_hours,
    percent,
    tally_hour,
)
from rules.validity import (
    HourStatus,
    day_valid,
    flow_weighted,
    hour_status,
    mark_effect,
    stopped,
    valid_minutes,
)

SERIES_HOURS = 26
NO_HOURS = DayCount()
_TALLY = tuple(f.name for f in fields(Tally))


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, float | int) else None


def _reading(item: HourRecord) -> Reading:
    flag = item.flag
    return Reading(
        avg=_num(item.avg),
        zs_avg=_num(item.zs),
        cou=_num(item.cou),
        flag=flag if isinstance(flag, str) else None,
        min=_num(item.min),
        max=_num(item.max),
    )


def close_hour(ctx: Ctx, hour: int) -> None:
    st, info, cfg = ctx.st, ctx.info, ctx.cfg
    acc = st.hours.pop(str(hour), None) or OpenHour()
    for key in [k for k in st.hours if int(k) < hour]:
        del st.hours[key]  # minutes of hours already judged: nothing more to do
    items = acc.h or {}
    records = {code: _reading(item) for code, item in items.items()}
    minutes = acc.m or {}
    gas = info.medium == "gas"
    flow_code = GAS_FLOW if gas or GAS_FLOW in records else WATER_FLOW
    flow, o2 = records.get(flow_code), records.get(OXYGEN)
    o2_value = o2.value if o2 is not None and gas else None
    unit_stopped = stopped(flow.value if flow else None, o2_value, cfg)
    m3 = volume(flow_code, flow, 3600)
    sends_minutes = st.minutes_seen is not None and st.minutes_seen >= hour - DAY
    deadline = hour + HOUR + round(cfg.realtime_grace_min * MINUTE)
    statuses: dict[str, HourStatus] = {}
    for code in sorted(set(info.pollutants) | set(records) | set(minutes)):
        reading, counted = records.get(code), minutes.get(code)
        vm = None
        if counted is not None:
            vm = valid_minutes(int(counted.n_valid), info.minute_interval_min)
        elif sends_minutes:
            vm = 0
        status = hour_status(
            medium=info.medium,
            reading=reading,
            valid_minutes=vm,
            mark=mark_effect(st.marks, code, hour, hour + HOUR),
            unit_stopped=unit_stopped,
            cfg=cfg,
        )
        statuses[code] = status
        if reading is not None:
            st.day_received[code] = st.day_received.get(code, 0) + 1
        pollutant = info.pollutants.get(code)
        on_time = reading is not None and items[code].received <= deadline
        _rate_hour(ctx, code, hour, status, on_time, pollutant)
        if reading is not None and reading.normal and reading.value is not None:
            judged = gas_value(reading, o2_value, info.o2_ref, cfg) if gas else None
            value = judged[0] if judged else reading.value
            running = int(not unit_stopped)
            entry = SeriesPoint(hour, reading.value, value, int(status.valid), running, m3)
            st.series.setdefault(code, []).append(entry)
            flat = reading.min is None or reading.max is None or reading.min == reading.max
            _hour_checks(ctx, code, hour, status, pollutant, judged, flat)
        if reading is not None and pollutant is not None:
            found = suspected(pollutant, reading)
            ctx.condition(
                f"suspected-exceedance:{code}",
                found is not None,
                "suspected-exceedance",
                "critical",
                cn=Cn.HOURLY,
                pollutant=code,
                data_time=hour,
                value=found.value if found else None,
                threshold=pollutant.limit,
            )
        # A3 asks for the minutes an hour should have had: an hour the station's data
        # began part-way through (its first start-up) had only the rest of it to give
        began = st.first_data is not None and st.first_data > hour
        incomplete = status.reason.startswith("incomplete") and not began
        if incomplete or (reading is not None and counted is not None):
            ctx.condition(
                f"hour-incomplete:{code}",
                incomplete,
                "hour-incomplete",
                cn=Cn.HOURLY,
                pollutant=code,
                data_time=hour,
                detail={"reason": status.reason},
            )
        if counted is not None and reading is not None:
            _hour_vs_minutes(ctx, code, hour, reading, counted)
        if counted is not None:  # A14: the hour is judged now; its warning has done its work
            ctx.condition(f"early-warning:{code}", False, "early-warning", cn=Cn.MINUTE)
        _absent(ctx, code, hour, bool(records or minutes), reading is None and counted is None)
    _station_hour(ctx, hour, bool(records), statuses)
    if gas:
        limits.early_warning_day(ctx, hour)
    for code in list(st.series):
        st.series[code] = [e for e in st.series[code] if e.hour > hour - SERIES_HOURS * HOUR]
    if st.exceeded or st.days or st.missed:
        rejudge.forget_before(st, hour - rejudge.window(ctx))
    st.hour_next = hour + HOUR
    st.hour_due = st.hour_next + HOUR + round(cfg.hour_grace_min * MINUTE)
    ctx.arm(st, "hour")
    if st.hour_next == day_floor(hour) + DAY:
        close_day(ctx, day_floor(hour))


def _rate_hour(
    ctx: Ctx,
    code: str,
    hour: int,
    status: HourStatus,
    on_time: bool,
    pollutant: PollutantConfig | None,
) -> None:
    st = ctx.st
    if status.expected:
        day = st.day.get(code, NO_HOURS)
        st.day[code] = DayCount(day.valid + int(status.valid), day.expected + 1)
    if pollutant is None or not pollutant.assessed or not ctx.info.active:
        return
    if not _answers_for(ctx, hour):
        return  # before the station was monitored: not its hour to deliver
    _add(st.etr.setdefault("day", {}), code, tally_hour(status, on_time))
    if status.expected and not status.received:
        st.missing.setdefault(code, []).append(hour)


def _answers_for(ctx: Ctx, hour: int) -> bool:
    """Whether the station was monitored when ``hour`` began (the reports count the
    same hours: :func:`rules.transmission.counted_window`)."""
    first = counted_from(ctx.info.created_at)
    return first is None or hour >= first


def _add(tallies: dict[str, list[int]], code: str, tally: Tally) -> None:
    """Add ``tally`` to the stored one (a list in Tally's field order, for JSON)."""
    new = [getattr(tally, name) for name in _TALLY]  # not astuple: it deep-copies
    current = tallies.get(code)
    tallies[code] = new if current is None else [a + b for a, b in zip(current, new, strict=True)]


def _hour_checks(
    ctx: Ctx,
    code: str,
    hour: int,
    status: HourStatus,
    pollutant: PollutantConfig | None,
    judged: tuple[float, str] | None,
    flat: bool,
) -> None:
    """A5, A7-A9, A11 on the hourly series, and exceedance of a valid gas hour.

    ``flat``: the hour record shows no movement inside the hour (Min = Max, or no Min
    and Max sent). A7 needs it: a frozen reading does not move at all, while a steady
    factor sent with one decimal (humidity 9.5 %) can repeat its hourly mean for hours.
    """
    cfg = ctx.cfg
    pollutant = pollutant or PollutantConfig(code)
    series = [(e.hour, float(e.value), bool(e.running)) for e in ctx.st.series[code]]
    value = series[-1][1]
    common: dict[str, Any] = {"cn": Cn.HOURLY, "pollutant": code, "data_time": hour}
    if mass_factor(code) is not None:
        ctx.condition(f"zero:{code}", anomaly_values.zero(series, cfg.zero_hours), "zero", **common)
    ctx.condition(
        f"constant:{code}",
        flat and anomaly_values.constant(series, cfg.constant_hours),
        "constant",
        value=value,
        **common,
    )
    low, high = pollutant.range_low or 0.0, pollutant.range_high
    span = high - low if high is not None else None
    band = anomaly_values.narrow_band(series, span, cfg.narrow_band_fraction, cfg.narrow_band_hours)
    ctx.condition(f"narrow-band:{code}", band, "narrow-band", threshold=span, **common)
    limit = cfg.detection_limits.get(code)
    if limit is None and high is not None:
        limit = cfg.detection_limit_fraction * high
    near = anomaly_values.near_detection_limit(series, limit, cfg.detection_limit_hours)
    ctx.condition(f"detection-limit:{code}", near, "detection-limit", threshold=limit, **common)
    jumped = anomaly_values.jump(
        series,
        pollutant.limit,
        cfg.jump_limit_fraction,
        cfg.jump_sigma,
        cfg.jump_min_history,
        span,
        cfg.jump_range_fraction,
    )
    ctx.condition(
        f"jump:{code}",
        jumped is not None,
        "jump",
        value=jumped[0] if jumped else None,
        threshold=jumped[1] if jumped else None,
        **common,
    )
    if not status.valid:
        return  # invalid data are not judged (公告2022年第21号)
    limits.outside(ctx, f"limit-violation:{code}:hour", bounds_outside(code, value, cfg), common)
    limits.ph_hour(ctx, code, value, common)
    judgement = judge_hour(pollutant, judged, ctx.info.medium)
    if judgement is not None:
        ctx.condition(
            f"exceedance:{code}",
            judgement.exceeded,
            "exceedance",
            "critical",
            value=judgement.value,
            threshold=judgement.limit,
            detail={"period": "hour", "basis": judgement.basis},
            **common,
        )
        active = ctx.st.active.get(f"exceedance:{code}")
        if judgement.exceeded and active is not None:
            rejudge.remember(ctx.st, code, hour, active.key)


def _hour_vs_minutes(ctx: Ctx, code: str, hour: int, reading: Reading, counted: MinuteSums) -> None:
    """A21 for an hour: its Avg against its valid minutes, its Cou against theirs."""
    n, n_valid, sum_c, sum_cou = counted.n, counted.n_valid, counted.sum_c, counted.sum_cou
    sum_cq, sum_q, n_q, n_cou = counted.sum_cq, counted.sum_q, counted.n_q, counted.n_cou
    complete = n >= 60 // ctx.info.minute_interval_min
    if not complete or not reading.normal or reading.value is None or n_valid == 0:
        return
    if ctx.info.medium == "water" and n_q == n_valid and sum_q > 0:
        mean = sum_cq / sum_q
    else:
        mean = sum_c / n_valid
    tol = ctx.cfg.aggregate_tolerance
    off = abs(reading.value - mean) > tol * max(abs(mean), abs(reading.value)) + 0.01
    if reading.cou is not None and n_cou == n:
        off = off or abs(reading.cou - sum_cou) > tol * max(abs(sum_cou), 1e-9) + 0.01
    ctx.condition(
        f"aggregate-mismatch:{code}",
        off,
        "aggregate-mismatch",
        cn=Cn.HOURLY,
        pollutant=code,
        data_time=hour,
        value=reading.value,
        threshold=mean,
        detail={"compared": "hour vs minutes"},
    )


def _absent(ctx: Ctx, code: str, hour: int, others: bool, absent: bool) -> None:
    """An assessed factor missing while the station sends others: a facility case,
    unless the factor is already back when the hour is judged (its real-time data come
    before the hour is judged): the case would close at once, or, were one opened for
    the same run of hours, open a second time."""
    st, pollutant = ctx.st, ctx.info.pollutants.get(code)
    if pollutant is None or not pollutant.assessed or not ctx.info.active:
        return
    marked = mark_effect(st.marks, code, hour, hour + HOUR) is not None
    back = st.valid_seen.get(code, hour) >= hour + HOUR
    if not (absent and others) or marked or back:
        st.absent.pop(code, None)
        return
    st.absent[code] = st.absent.get(code, 0) + 1
    if st.absent[code] >= ctx.cfg.missing_factor_hours:
        started = hour - (st.absent[code] - 1) * HOUR
        ctx.open_case("facility", code, started, "factor missing")


def _station_hour(ctx: Ctx, hour: int, any_hourly: bool, statuses: dict[str, HourStatus]) -> None:
    """A2 (no hourly record at all), retransmissions and out-of-order data."""
    st, info = ctx.st, ctx.info
    assessed = info.assessed()
    expects = info.active and (bool(assessed) or Cn.HOURLY in st.cadence)
    expected = not assessed or any(statuses[c].expected for c in assessed if c in statuses)
    missing = expects and expected and not any_hourly and _answers_for(ctx, hour)
    if not (missing and st.open_case("outage", None) is not None):
        ctx.condition("hour-missing", missing, "hour-missing", data_time=hour)
        active = st.active.get("hour-missing")
        if missing and active is not None:
            st.missed[str(hour)] = active.key  # what a late shutdown mark takes back
    duplicates, disordered = st.recv.duplicates, st.recv.out_of_order
    ctx.condition(
        "duplicates",
        duplicates > ctx.cfg.duplicates_per_hour,
        "duplicates",
        value=duplicates,
        threshold=ctx.cfg.duplicates_per_hour,
        data_time=hour,
    )
    ctx.condition("out-of-order", disordered > 0, "out-of-order", value=disordered, data_time=hour)
    st.recv = Receipts()


def close_day(ctx: Ctx, day: int) -> None:
    st, info, cfg = ctx.st, ctx.info, ctx.cfg
    for code, count in sorted(st.day.items()):
        valid_hours, expected_hours = count.valid, count.expected
        pollutant = info.pollutants.get(code)
        if pollutant is None:
            continue
        ok = day_valid(info.medium, valid_hours, expected_hours, cfg)
        if pollutant.assessed and info.active:
            # short of what could have been valid: not a first, partial day of the
            # engine, nor a unit that ran (and was monitored) only part of the day
            ctx.condition(
                f"day-incomplete:{code}",
                expected_hours > 0 and not ok and valid_hours < expected_hours,
                "day-incomplete",
                pollutant=code,
                data_time=day,
                value=valid_hours,
                detail={"expected_hours": expected_hours},
            )
        if ok:
            _judge_day(ctx, code, day, pollutant)
        ctx.condition(f"early-warning-day:{code}", False, "early-warning", cn=Cn.HOURLY)
        if info.medium == "gas" and pollutant.assessed:
            counted = st.month_days.setdefault(code, [0, 0])
            counted[0] += int(ok)
            counted[1] += int(expected_hours > 0)
    _day_vs_hours(ctx, day, st.daily.get(str(day), {}))
    st.daily = {d: v for d, v in st.daily.items() if int(d) > day}
    st.day, st.day_received = {}, {}
    _rate_day(ctx, day)


def _day_vs_hours(ctx: Ctx, day: int, daily: dict[str, float]) -> None:
    """A21 for a day: the device's daily Avg against the mean of the day's valid hours
    (gas) or their flow-weighted mean (water). Judged only where every hour record of
    the day arrived: with some missing, the platform's mean is over other hours than
    the device's and differs for no fault of the device (the missing hours are A2)."""
    st, cfg = ctx.st, ctx.cfg
    for code, value in sorted(daily.items()):
        hours = [e for e in st.series.get(code, []) if day <= e.hour < day + DAY and e.valid]
        if st.day_received.get(code, 0) < DAY // HOUR or len(hours) < cfg.gas_min_valid_hours:
            continue
        if ctx.info.medium == "water":
            mean = flow_weighted([(float(e.value), _num(e.q)) for e in hours])
        else:
            mean = sum(float(e.value) for e in hours) / len(hours)
        if mean is None:
            continue
        ctx.condition(
            f"aggregate-mismatch:{code}",
            abs(value - mean) > cfg.aggregate_tolerance * abs(mean) + 0.01,
            "aggregate-mismatch",
            cn=Cn.DAILY,
            pollutant=code,
            data_time=day,
            value=value,
            threshold=mean,
            detail={"compared": "day vs hours"},
        )


def _judge_day(ctx: Ctx, code: str, day: int, pollutant: PollutantConfig) -> None:
    hours = [e for e in ctx.st.series.get(code, []) if day <= e.hour < day + DAY and e.valid]
    if not hours:
        return
    if ctx.info.medium == "water":
        mean = flow_weighted([(float(e.value), _num(e.q)) for e in hours])
    else:
        mean = sum(float(e.judged) for e in hours) / len(hours)
    if mean is not None:
        common: dict[str, Any] = {"cn": Cn.DAILY, "pollutant": code, "data_time": day}
        limits.outside(
            ctx, f"limit-violation:{code}:day", bounds_outside(code, mean, ctx.cfg), common
        )
    judgement = judge_day(pollutant, mean, ctx.info.medium)
    if judgement is None:
        return
    ctx.condition(
        f"exceedance-day:{code}",
        judgement.exceeded,
        "exceedance",
        "critical",
        pollutant=code,
        data_time=day,
        value=judgement.value,
        threshold=judgement.limit,
        detail={"period": "day", "basis": judgement.basis, "hours": len(hours)},
    )
    if ctx.info.medium == "water":
        active = ctx.st.active.get(f"exceedance-day:{code}")
        key = active.key if judgement.exceeded and active is not None else ""
        points = [(e.hour, float(e.value), _num(e.q)) for e in hours]
        rejudge.remember_day(ctx.st, code, day, points, key)


def _rate_day(ctx: Ctx, day: int) -> None:
    st, cfg = ctx.st, ctx.cfg
    tallies = st.etr.pop("day", {})
    total = Tally()
    for code, values in sorted(tallies.items()):
        tally = Tally(*values)
        if ctx.info.medium == "water" and code in cfg.water_check_factors:
            exempted = exempt_check_hours(tally, limits.check_hours(ctx, code, day))
            _forgive(
                st.missing.get(code, []),
                day,
                tally.expected - tally.received,
                exempted.exempt - tally.exempt,
            )
            tally = exempted
        _add(st.etr.setdefault("month", {}), code, tally)
        _add(st.etr.setdefault("quarter", {}), code, tally)
        total = total + tally
    _rate_alarm(ctx, "day", day, total, tallies, "realtime", "warning")
    end = day + DAY
    if end == next_month(day):
        _close_period(ctx, "month", day)
        limits.close_month_days(ctx, month_floor(day))
    if end == next_quarter(day):
        _close_period(ctx, "quarter", day)
        st.missing = {c: [h for h in hours if h >= end] for c, hours in st.missing.items()}
        st.missing = {c: hours for c, hours in st.missing.items() if hours}


def _forgive(missing: list[int], day: int, missed: int, exempted: int) -> None:
    """Missing hours the check-hour exemption absorbed: no longer awaited as back-fill."""
    for hour in [h for h in missing if day <= h < day + DAY][: min(missed, exempted)]:
        missing.remove(hour)


def _close_period(ctx: Ctx, period: str, day: int) -> None:
    tallies = ctx.st.etr.pop(period, {})
    total = Tally()
    for values in tallies.values():
        total = total + Tally(*values)
    _rate_alarm(ctx, period, day, total, tallies, "completion", "critical")


def _rate_alarm(
    ctx: Ctx,
    period: str,
    day: int,
    total: Tally,
    tallies: dict[str, list[int]],
    variant: str,
    severity: str,
) -> None:
    """An alarm when the station's ETR for the period is under the threshold."""
    counts = total.variant(variant)
    if not below(counts, ctx.cfg.etr_threshold, strict=ctx.cfg.etr_strict):
        return
    label = period_label(period, day)
    start = {"day": day, "month": month_floor(day), "quarter": quarter_floor(day)}[period]
    per_factor = {
        code: percent(Tally(*values).variant(variant).etr)
        for code, values in sorted(tallies.items())
    }
    ctx.alarm(
        f"{ctx.mn}:etr-low:{period}:{label}",
        "etr-low",
        severity,
        data_time=start,
        value=counts.etr,
        threshold=ctx.cfg.etr_threshold,
        detail={
            "period": period,
            "label": label,
            "variant": variant,
            "expected": counts.expected,
            "received": counts.received,
            "valid": counts.valid,
            "by_pollutant": per_factor,
        },
    )
