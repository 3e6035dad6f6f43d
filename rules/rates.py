"""Transmission rates and emission totals of a station over a period, from stored data.

The reports' side of :mod:`rules.transmission` and :mod:`rules.emissions`: the same
hourly status (:func:`rules.validity.hour_status`), the same marks, the same water
check-hour exemption as the engine, computed after the fact from every stored hourly
record, with the marks in force at report time. The hours counted are those of
:func:`rules.transmission.counted_window`: from the later of the period start and the
station's ``monitored_since``, up to the last hour judged at the moment asked.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from rules.config import RulesConfig
from rules.corrections import Adjusted, Adjustments
from rules.emissions import Total, adjusted_total, hour_total, manual_total, relabel, volume
from rules.manual import Manual
from rules.model import GAS_FLOW, OXYGEN, WATER_FLOW, Mark, Reading, StationInfo
from rules.times import DAY, HOUR, MINUTE, day_floor
from rules.transmission import Tally, counted_window, exempt_check_hours, tally_hour
from rules.validity import hour_status, hours_in, mark_effect, stopped, valid_minutes


@dataclass(frozen=True, slots=True)
class HourData:
    """One stored hourly record (2061) of one factor."""

    reading: Reading
    received: int  # µs


Hours = Mapping[tuple[str, int], HourData]  # (pollutant, hour start µs) -> record
Minutes = Mapping[tuple[str, int], int]  # (pollutant, hour start µs) -> valid 2051 records


def _flow_code(station: StationInfo) -> str:
    return GAS_FLOW if station.medium == "gas" else WATER_FLOW


def _sends_minutes(minute_hours: Sequence[int], hour: int) -> bool:
    """Whether minute records were received in an hour of [hour - 1 day, hour]."""
    i = bisect_left(minute_hours, hour - DAY)
    return i < len(minute_hours) and minute_hours[i] <= hour


def day_tallies(
    station: StationInfo,
    cfg: RulesConfig,
    hours: Hours,
    minutes: Minutes,
    marks: Sequence[Mark],
    start: int,
    end: int,
    minute_hours: Sequence[int],
    *,
    now: int,
    manual: Manual | None = None,
    adjusted: Adjustments | None = None,
) -> dict[str, dict[int, Tally]]:
    """Per assessed factor, per Beijing day (start µs): its tally over the hours of
    [start, end) counted at ``now`` (:func:`rules.transmission.counted_window`).

    ``minute_hours``: the sorted starts (µs) of the hours in which minute records (2051)
    of the station were received, from a day before ``start``. An hour needs its 45 valid
    minutes when minute records came within the day before it, as the engine judges it
    (:func:`rules.hourly.close_hour`, on receipt time): a station whose minute data stop
    part-way through a period is judged by its flags from a day after the last of them.

    ``manual``: the hours accepted manual samples stand for (rules/manual.py); an
    expected hour without a valid automatic value counts valid in the completion
    variant when one covers it.

    ``adjusted``: approved substitutions and corrections (rules/corrections.py). A
    corrected hour that was received counts valid in the completion variant only (its
    value came after its hour, by review); a substituted hour counts as it was, missing
    or invalid: a value computed by a rule is no data transmitted (docs/corrections.md
    §3, docs/regulations.md §1.1-§1.2).
    """
    start, end = counted_window(start, end, station.created_at, now, cfg)
    flow_code = _flow_code(station)
    grace = round(cfg.realtime_grace_min * MINUTE)
    out: dict[str, dict[int, Tally]] = {}
    for code in station.assessed():
        days: dict[int, Tally] = {}
        for hour in hours_in(start, end):
            record = hours.get((code, hour))
            flow, o2 = hours.get((flow_code, hour)), hours.get((OXYGEN, hour))
            unit_stopped = stopped(
                flow.reading.value if flow else None,
                o2.reading.value if o2 and station.medium == "gas" else None,
                cfg,
            )
            counted = minutes.get((code, hour))
            vm = None
            if counted is not None:
                vm = valid_minutes(counted, station.minute_interval_min)
            elif _sends_minutes(minute_hours, hour):
                vm = 0
            status = hour_status(
                medium=station.medium,
                reading=record.reading if record else None,
                valid_minutes=vm,
                mark=mark_effect(marks, code, hour, hour + HOUR),
                unit_stopped=unit_stopped,
                cfg=cfg,
            )
            on_time = record is not None and record.received <= hour + HOUR + grace
            day = day_floor(hour)
            one = tally_hour(status, on_time)
            if manual and one.expected and not one.valid and (code, hour) in manual:
                one = replace(one, received=1, valid=1)  # 手工监测值录入, 补全 only
            fixed = adjusted.get((code, hour)) if adjusted else None
            if fixed is not None and fixed.kind == "correction" and one.received:
                one = replace(one, valid=1)  # reviewed 修约补遗, 补全 only
            days[day] = days.get(day, Tally()) + one
        if station.medium == "water" and code in cfg.water_check_factors:
            days = {d: exempt_check_hours(t, cfg.water_check_exempt_hours) for d, t in days.items()}
        out[code] = days
    return out


def emission_totals(
    station: StationInfo,
    hours: Hours,
    codes: Sequence[str],
    start: int,
    end: int,
    manual: Manual | None = None,
    adjusted: Adjustments | None = None,
) -> dict[str, dict[int, Total]]:
    """Per factor in ``codes``, per Beijing day: amounts from C x V (and the flow's m³);
    an hour without a normal automatic value that a manual sample covers from the manual
    value, counted as a manual hour (rules/manual.py); an hour with an approved
    substitution or correction (``adjusted``) from its value, counted apart."""
    flow_code = _flow_code(station)
    adjusted = adjusted or {}
    out: dict[str, dict[int, Total]] = {code: {} for code in (flow_code, *codes)}
    for hour in hours_in(start, end):
        flow = hours.get((flow_code, hour))
        flow_fix = adjusted.get((flow_code, hour))
        if flow is None and flow_fix is None:
            continue
        fix_kind = flow_fix.kind if flow_fix is not None else None
        m3, counts = _volume(flow_code, flow, flow_fix)
        day = day_floor(hour)
        if m3 is not None and counts:
            volumes = out[flow_code]
            volumes[day] = volumes.get(day, Total()) + relabel(Total(m3, 0.0, 1, 0), fix_kind)
        for code in codes:
            own = adjusted.get((code, hour))
            found = _amount(station, code, hour, hours, m3, manual, own)
            if found.hours:
                found = relabel(found, _label(own.kind if own else None, fix_kind))
                out[code][day] = out[code].get(day, Total()) + found
    return out


def _label(own: str | None, flow: str | None) -> str | None:
    """What an hour's amount counts as when its value or its volume was approved:
    substituted wins over corrected (docs/corrections.md §3)."""
    kinds = {own, flow}
    return (
        "substitution"
        if "substitution" in kinds
        else ("correction" if "correction" in kinds else None)
    )


def _volume(
    flow_code: str, flow: HourData | None, fix: Adjusted | None
) -> tuple[float | None, bool]:
    """The hour's m³ (an approved flow value's, else the stored record's) and whether it
    counts in the volume: not while the unit stood (flag F)."""
    if fix is not None:
        return volume(flow_code, Reading(avg=fix.value), 3600), True
    assert flow is not None
    return volume(flow_code, flow.reading, 3600), flow.reading.flag != "F"


def _amount(
    station: StationInfo,
    code: str,
    hour: int,
    hours: Hours,
    m3: float | None,
    manual: Manual | None,
    fix: Adjusted | None,
) -> Total:
    registered = station.pollutants.get(code)  # its unit, if the registry gives one
    unit = registered.unit if registered else None
    if fix is not None:  # in the unit of the value it replaces (docs/corrections.md §1)
        return adjusted_total(code, fix.kind, fix.value, m3, unit)
    record = hours.get((code, hour))
    reading = record.reading if record else None
    value = manual.get((code, hour)) if manual else None
    if value is not None and (reading is None or not reading.normal):
        return manual_total(code, value, m3)
    return hour_total(code, reading, m3, unit)
