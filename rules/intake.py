"""What the engine does with one received record (a frame of one station).

In order: liveness (the silence timer, A1); timing anomalies (clock drift, out of
order, retransmissions); the return of valid data closes the station's outage case and
the facility cases of the factors that are valid again; runs of problem flags open
facility cases (A22); per-record consistency checks (A6, A10, A15-A17, A19, A20, A21
for daily records); runs of identical real-time/minute values (A7); and the record's
values are added to the hour being accumulated (or, for an hour already judged, count
as back-filled data in the completion rate and are judged for exceedance at once).
"""

from __future__ import annotations

from collections.abc import Mapping

from protocol.codes import Cn
from rules import anomaly_checks, anomaly_timing, anomaly_values, device_facts, limits, outage
from rules.context import Ctx, stamp
from rules.emissions import cou_mismatch, volume
from rules.exceedance import (
    gas_value,
    judge_hour,
)
from rules.model import GAS_FLOW, OXYGEN, WATER_FLOW, PollutantConfig, Reading, Record
from rules.state_parts import (
    Drift,
    FlagRun,
    HourRecord,
    MinuteSums,
    OpenHour,
    Receipts,
    Refusals,
    Run,
)
from rules.times import DAY, HOUR, MINUTE, day_floor, hour_floor, month_floor, quarter_floor, us
from rules.transmission import Tally
from rules.validity import (
    DEVICE_PROBLEM_FLAGS,
    MAINTENANCE_FLAGS,
    hour_status,
    mark_effect,
    marked_invalid,
    stopped,
    valid_value,
)

FAR_FUTURE = 1 << 62


def flow_code(medium: str, readings: Mapping[str, Reading]) -> str:
    if medium == "gas" or (medium != "water" and GAS_FLOW in readings):
        return GAS_FLOW
    return WATER_FLOW


def running(readings: Mapping[str, Reading], medium: str, ctx: Ctx) -> bool:
    flow = readings.get(flow_code(medium, readings))
    o2 = readings.get(OXYGEN) if medium == "gas" else None
    return not stopped(
        flow.value if flow is not None else None,
        o2.value if o2 is not None else None,
        ctx.cfg,
    )


def handle(ctx: Ctx, record: Record) -> None:
    st, info, t = ctx.st, ctx.info, ctx.now
    st.last_seen = t
    if st.refused and record.data_time is not None:  # data got through again (a 2025
        st.refused = None  # logger's heartbeats do when its encrypted data do not)
        ctx.condition("frames-refused", False, "frames-refused")
    if info.active:
        st.silence_due = t + outage.threshold(st.cadence, info, t, ctx.cfg)
        ctx.arm(st, "silence")
    if record.duplicate:
        st.recv = Receipts(st.recv.duplicates + 1, st.recv.out_of_order)
        return
    if record.facts:
        device_facts.handle(ctx, record)
    if record.data_time is None or not record.readings:
        return  # a heartbeat, status or reply: alive, no data
    cn, at, readings = record.cn, us(record.data_time), record.readings
    if cn in (Cn.REALTIME, Cn.MINUTE):  # an hour record's DataTime is its hour's start
        st.first_data = at if st.first_data is None else min(st.first_data, at)
    previous = st.cadence.get(cn)
    if outage.interval(cn, info) is not None:
        st.cadence[cn] = t
    if cn == Cn.MINUTE:
        st.minutes_seen = t
    _timing(ctx, cn, at, previous)
    valid = {code for code, r in readings.items() if valid_value(r, st.marks, code, at)}
    if valid:
        _resume(ctx, valid, at)
    _flags(ctx, readings, at)
    _consistency(ctx, cn, readings, at)
    _runs(ctx, cn, readings, at)
    _accumulate(ctx, cn, readings, at)


def refused(ctx: Ctx, record: Record) -> None:
    """A frame of the station archived but refused (legacy CRC, no SM4 key, wrong
    password ...). It does not make the station alive (the outage rule counts accepted
    frames only); frames that are all refused for as long as the outage threshold, at
    the pace they come (their CN's interval, or how often they arrive: a logger refused
    at the first frame of every connection sends that one only), raise their own alarm,
    naming why, before or beside the outage."""
    st, info, t = ctx.st, ctx.info, ctx.now
    if not info.active or record.refused is None:
        return
    pace = outage.interval(record.cn, info) or HOUR
    got = st.refused
    if got is None:
        got = Refusals(t, record.refused, 0, pace, t)
    elif t > got.last:
        pace = min(pace, t - got.last)
    got = st.refused = Refusals(got.first, record.refused, got.frames + 1, min(got.pace, pace), t)
    since, code, count, shortest = got.first, got.code, got.frames, got.pace
    ctx.condition(
        "frames-refused",
        t - since >= outage.silence(shortest, ctx.cfg),
        "frames-refused",
        "critical",
        data_time=since,
        value=count,
        detail={"reason": code, "since": stamp(since), "frames": count},
    )


def _timing(ctx: Ctx, cn: str, at: int, previous: int | None) -> None:
    st, cfg = ctx.st, ctx.cfg
    newest = st.last_time.get(cn)
    if anomaly_timing.out_of_order(at, newest, st.gap):
        st.recv = Receipts(st.recv.duplicates, st.recv.out_of_order + 1)
    st.last_time[cn] = max(at, st.last_time.get(cn, at))
    drift = anomaly_timing.drift_s(cn, at, ctx.now, ctx.info.minute_interval_min)
    if anomaly_timing.from_future(drift, cfg):
        direction = 1  # no backlog is from the future: the clock is ahead
    elif not anomaly_timing.real_time(at, newest, ctx.now, previous):
        return  # late, but a backlog or a replay: that says nothing about the clock
    elif anomaly_timing.late_realtime(cn, drift, cfg) and not anomaly_timing.in_gap(at, st.gap):
        direction = -1
    elif cn == Cn.REALTIME or drift > -cfg.drift_behind_s:
        direction = 0
    else:
        return  # late minute/hour data: back-fill, says nothing about the clock
    same = direction and direction == st.drift.direction
    count = st.drift.records + 1 if same else int(bool(direction))
    st.drift = Drift(direction, count)
    found = direction == 1 or (direction == -1 and count >= cfg.drift_records)
    if found or direction == 0:
        ctx.condition(
            "clock-drift",
            found,
            "clock-drift",
            data_time=at,
            value=drift,
            threshold=cfg.drift_future_s if direction == 1 else -cfg.drift_behind_s,
            detail={"cn": cn, "drift_s": round(drift, 3)},
        )


def _resume(ctx: Ctx, valid: set[str], at: int) -> None:
    st = ctx.st
    down = st.open_case("outage", None)
    if down is not None:
        ctx.close_case(down, "valid data resumed")
    if st.gap is not None and st.gap.end == FAR_FUTURE:
        st.gap = st.gap._replace(end=ctx.now)
    # Only data of a time after the problem began show that it is over: the daily
    # record of the day a fault began, sent at midnight and valid by its 75 % of valid
    # hours, or a back-filled record from before, neither close a case nor cut a run.
    for case in sorted(st.cases.values(), key=lambda c: c.key):
        after = case.started is None or at > case.started
        if case.kind == "facility" and case.pollutant in valid and after:
            ctx.close_case(case, "valid data resumed")
    for code in valid:
        run = st.flag_runs.get(code)
        if run is not None and at > run.start:
            del st.flag_runs[code]
        st.valid_seen[code] = max(at, st.valid_seen.get(code, at))


def _flags(ctx: Ctx, readings: Mapping[str, Reading], at: int) -> None:
    """A22: D/B/P for ``facility_flag_min``, or M/C with no mark for longer: a case."""
    st, cfg = ctx.st, ctx.cfg
    for code, reading in sorted(readings.items()):
        flag = reading.flag or "N"
        if flag in DEVICE_PROBLEM_FLAGS:
            group, limit = "device", cfg.facility_flag_min
        elif flag in MAINTENANCE_FLAGS and not marked_invalid(st.marks, code, at):
            group, limit = "maintenance", cfg.maintenance_flag_min
        else:
            continue
        run = st.flag_runs.get(code)
        if run is None or run.group != group:
            st.flag_runs[code] = FlagRun(group, at)
        elif at - run.start >= limit * MINUTE and ctx.info.active:
            ctx.open_case("facility", code, run.start, f"flag {flag} since {run.start}")


def _consistency(ctx: Ctx, cn: str, readings: Mapping[str, Reading], at: int) -> None:
    cfg, info = ctx.cfg, ctx.info
    flow = flow_code(info.medium, readings)
    for code, reading in sorted(readings.items()):
        value = reading.value
        if value is None:
            continue
        pollutant = info.pollutants.get(code, PollutantConfig(code))
        ctx.condition(
            f"negative:{code}",
            anomaly_values.negative(value),
            "negative",
            cn=cn,
            pollutant=code,
            data_time=at,
            value=value,
        )
        high = anomaly_values.over_range(
            value, pollutant.range_high, reading.flag, cfg.over_range_fraction
        )
        ctx.condition(
            f"over-range:{code}",
            high,
            "over-range",
            cn=cn,
            pollutant=code,
            data_time=at,
            value=value,
            threshold=pollutant.range_high,
        )
    zero_flow = anomaly_checks.flow_zero_with_concentrations(readings, flow, cfg)
    if flow in readings:
        ctx.condition(
            "flow-zero",
            bool(zero_flow),
            "flow-zero",
            cn=cn,
            data_time=at,
            detail={"pollutants": zero_flow},
        )
    if flow in readings:
        limits.flow_while_shutdown(ctx, cn, readings[flow], flow, at)
    if info.medium == "gas" and OXYGEN in readings:
        shut = marked_invalid(ctx.st.marks, OXYGEN, at)
        reason = anomaly_checks.o2_implausible(readings, flow, shut, cfg)
        ctx.condition(
            "o2-implausible",
            reason is not None,
            "o2-implausible",
            cn=cn,
            data_time=at,
            value=readings[OXYGEN].value,
            detail={"reason": reason},
        )
    if info.o2_ref is not None:
        bad = {
            code: (zs, exp)
            for code, zs, exp in anomaly_checks.converted_mismatch(
                readings, info.o2_ref, cfg, period=cn != Cn.REALTIME
            )
        }
        for code in sorted(readings):
            if readings[code].zs is not None:
                zs_exp = bad.get(code)
                ctx.condition(
                    f"converted-mismatch:{code}",
                    zs_exp is not None,
                    "converted-mismatch",
                    cn=cn,
                    pollutant=code,
                    data_time=at,
                    value=zs_exp[0] if zs_exp else None,
                    threshold=zs_exp[1] if zs_exp else None,
                )
    if "a21002" in readings:
        inverted = anomaly_checks.nox_inversion(readings, cfg)
        ctx.condition("nox-inversion", inverted, "nox-inversion", cn=cn, data_time=at)
    _cou(ctx, cn, readings, at, flow)
    if cn == Cn.DAILY:
        _hold_day(ctx, readings, at)


def _cou(ctx: Ctx, cn: str, readings: Mapping[str, Reading], at: int, flow: str) -> None:
    """A20: the devices' -Cou against concentration x the period's flow volume."""
    span = {Cn.MINUTE: ctx.info.minute_interval_min * 60, Cn.HOURLY: 3600, Cn.DAILY: 86400}.get(cn)
    if span is None or flow not in readings or not readings[flow].normal:
        return  # no normal flow: no volume to compare with
    m3 = volume(flow, readings[flow], span)
    for code in anomaly_checks.concentrations(readings):
        reading = readings[code]
        if reading.cou is None:
            continue
        registered = ctx.info.pollutants.get(code)
        unit = registered.unit if registered else None
        found = cou_mismatch(code, reading, m3, ctx.cfg.cou_tolerance, unit)
        ctx.condition(
            f"cou-mismatch:{code}",
            found is not None,
            "cou-mismatch",
            cn=cn,
            pollutant=code,
            data_time=at,
            value=found[0] if found else None,
            threshold=found[1] if found else None,
        )


def _hold_day(ctx: Ctx, readings: Mapping[str, Reading], day: int) -> None:
    """A21 for a daily record waits until its day is judged (its last hour is judged an
    hour after the record comes): :func:`rules.hourly.close_day` compares it with the
    day's hours. A daily record that comes after its day was judged is not compared:
    which of the day's hour records had arrived is no longer known."""
    st = ctx.st
    if st.hour_next is not None and st.hour_next >= day + DAY:
        return
    values = {code: r.value for code, r in readings.items() if r.value is not None}
    st.daily[str(day)] = values


def _runs(ctx: Ctx, cn: str, readings: Mapping[str, Reading], at: int) -> None:
    """A7 on real-time and minute data: the same value for ``constant_minutes``."""
    if cn not in (Cn.REALTIME, Cn.MINUTE):
        return
    on = running(readings, ctx.info.medium, ctx)
    watched = set(anomaly_checks.concentrations(readings)) | {OXYGEN}
    for code in sorted(watched & set(readings)):
        reading = readings[code]
        if reading.value is None or not reading.normal:
            continue
        key = f"{cn}:{code}"
        run = ctx.st.runs.get(key)
        if run is not None and run.value == reading.value:
            held = at - run.start >= ctx.cfg.constant_minutes * MINUTE
            if held and on:
                ctx.condition(
                    f"constant:{code}",
                    True,
                    "constant",
                    cn=cn,
                    pollutant=code,
                    data_time=run.start,
                    value=reading.value,
                )
            continue
        ctx.st.runs[key] = Run(reading.value, at)
        ctx.condition(f"constant:{code}", False, "constant", cn=cn)


def _accumulate(ctx: Ctx, cn: str, readings: Mapping[str, Reading], at: int) -> None:
    st = ctx.st
    if cn not in (Cn.MINUTE, Cn.HOURLY) or st.hour_next is None:
        return
    hour = hour_floor(at)
    if hour > ctx.now + DAY:
        return  # a clock far ahead: the drift alarm says so; do not hold it
    if hour < st.hour_next:
        if cn == Cn.HOURLY:
            _late_hour(ctx, hour, readings)
        return
    acc = st.hours.get(str(hour))
    if acc is None:
        acc = st.hours[str(hour)] = OpenHour()
    if cn == Cn.HOURLY:
        records = acc.h if acc.h is not None else {}
        acc.h = records
        for code, r in readings.items():
            if code not in records:  # the first one stored wins, as in the database
                records[code] = HourRecord(r.value, r.zs, r.cou, r.flag, ctx.now, r.min, r.max)
        return
    minutes = acc.m if acc.m is not None else {}
    acc.m = minutes
    flow = flow_code(ctx.info.medium, readings)
    m3 = volume(flow, readings.get(flow), ctx.info.minute_interval_min * 60)
    for code, r in readings.items():
        m = minutes.get(code)
        if m is None:
            m = minutes[code] = MinuteSums()
        m.n += 1
        if r.cou is not None:
            m.sum_cou += r.cou
            m.n_cou += 1
        if r.value is None or not valid_value(r, st.marks, code, at):  # None: for mypy
            continue
        m.n_valid += 1
        m.sum_c += r.value
        if m3 is not None:
            m.sum_cq += r.value * m3
            m.sum_q += m3
            m.n_q += 1
        limits.bounds_minute(ctx, code, r.value, at)
    if ctx.info.medium == "gas":
        limits.early_warning(ctx, hour, minutes)


def _late_hour(ctx: Ctx, hour: int, readings: Mapping[str, Reading]) -> None:
    """An hourly record for an hour already judged: back-filled (补传) data."""
    st, info, cfg = ctx.st, ctx.info, ctx.cfg
    flow = readings.get(flow_code(info.medium, readings))
    o2 = readings.get(OXYGEN)
    unit_stopped = stopped(flow.value if flow else None, o2.value if o2 else None, cfg)
    for code, reading in sorted(readings.items()):
        status = hour_status(
            medium=info.medium,
            reading=reading,
            valid_minutes=None,
            mark=mark_effect(st.marks, code, hour, hour + HOUR),
            unit_stopped=unit_stopped,
            cfg=cfg,
        )
        missing = st.missing.get(code, [])
        if hour in missing and status.received:
            missing.remove(hour)
            _add_late(ctx, code, hour, Tally(received=1, valid=int(status.valid)))
        pollutant = info.pollutants.get(code)
        if not status.valid or pollutant is None:
            continue
        judged = gas_value(reading, o2.value if o2 else None, info.o2_ref, cfg)
        judgement = judge_hour(pollutant, judged, info.medium)
        if judgement is not None and judgement.exceeded:
            ctx.alarm(
                f"{ctx.mn}:exceedance:{code}:late:{stamp(hour)}",
                "exceedance",
                "critical",
                pollutant=code,
                data_time=hour,
                value=judgement.value,
                threshold=judgement.limit,
                detail={"basis": judgement.basis, "late": True},
            )


def _add_late(ctx: Ctx, code: str, hour: int, late: Tally) -> None:
    st = ctx.st
    current = st.hour_next if st.hour_next is not None else ctx.now
    if hour >= day_floor(current):
        periods = ["day"]
    else:
        periods = [
            p
            for p, start in (("month", month_floor(current)), ("quarter", quarter_floor(current)))
            if hour >= start
        ]
    for period in periods:
        tally = st.etr.setdefault(period, {}).setdefault(code, [0] * 7)
        tally[1] += late.received
        tally[2] += late.valid
