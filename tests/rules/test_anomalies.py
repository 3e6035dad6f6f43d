"""The anomaly catalogue of docs/regulations.md §5, detector by detector, and in the engine."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rules import anomaly_checks, anomaly_timing, anomaly_values
from rules.config import RulesConfig
from rules.emissions import amount, cou_mismatch, mass_factor, volume
from rules.model import Reading, Record
from rules.state_parts import Gap
from rules.times import HOUR, MINUTE, US
from tests.rules.support import (
    GOOD_GAS,
    START,
    H,
    alarms,
    clears,
    engine,
    gas_station,
    hourly,
    record,
    run,
    varied,
    water_station,
)

CFG = RulesConfig()
MIN = timedelta(minutes=1)


def _series(values: list[float], running: bool = True) -> list[tuple[int, float, bool]]:
    return [(h * HOUR, v, running) for h, v in enumerate(values)]


def test_a5_zero_and_a6_negative() -> None:
    assert anomaly_values.zero(_series([3.0, 0.0]), 1)
    assert not anomaly_values.zero(_series([3.0, 0.0], running=False), 1)  # stopped: fine
    assert not anomaly_values.zero(_series([0.0, 2.0]), 1)
    assert anomaly_values.negative(-0.1)
    assert not anomaly_values.negative(0.0)


def test_a7_constant_needs_consecutive_running_hours() -> None:
    assert anomaly_values.constant(_series([5.0, 7.0, 7.0, 7.0, 7.0]), 4)
    assert not anomaly_values.constant(_series([7.0, 7.0, 7.0, 7.01]), 4)
    gap = [(0, 7.0, True), (HOUR, 7.0, True), (3 * HOUR, 7.0, True), (4 * HOUR, 7.0, True)]
    assert not anomaly_values.constant(gap, 4)


def test_a8_narrow_band_within_2_percent_of_the_range() -> None:
    day = [50.0 + (h % 3) * 1.0 for h in range(24)]  # spread 2 on a 0-200 range: 1 %
    assert anomaly_values.narrow_band(_series(day), 200.0, 0.02, 24)
    assert not anomaly_values.narrow_band(_series(day), 50.0, 0.02, 24)  # 4 % of 0-50
    assert not anomaly_values.narrow_band(_series(day[:12]), 200.0, 0.02, 24)  # too few hours
    assert not anomaly_values.narrow_band(_series([50.0] * 24), 200.0, 0.02, 24)  # that is A7


def test_a9_hovering_at_the_detection_limit() -> None:
    low = [0.5, 1.2, 0.8, 1.9] * 6
    assert anomaly_values.near_detection_limit(_series(low), 2.0, 24)
    assert not anomaly_values.near_detection_limit(_series([*low[:-1], 2.5]), 2.0, 24)


def test_a10_over_range() -> None:
    assert anomaly_values.over_range(196.0, 200.0, "N", 0.98)
    assert not anomaly_values.over_range(195.0, 200.0, "N", 0.98)
    assert anomaly_values.over_range(10.0, None, "T", 0.98)


def test_a11_jump_over_half_the_limit_and_five_sigma() -> None:
    calm = [20.0, 21.0, 19.0, 20.5, 19.5, 20.0, 21.0]
    jumped = anomaly_values.jump(_series([*calm, 60.0]), 35.0, 0.5, 5.0, 6)
    assert jumped is not None
    assert jumped[0] == pytest.approx(39.0)
    assert anomaly_values.jump(_series([*calm, 35.0]), 35.0, 0.5, 5.0, 6) is None  # 14 < 17.5
    assert anomaly_values.jump(_series([*calm[:3], 60.0]), 35.0, 0.5, 5.0, 6) is None  # history


def test_a11_a_factor_without_a_limit_must_move_a_tenth_of_its_range() -> None:
    # O2: six quiet hours (σ 0.05), then an ordinary load change of 0.8 % O2
    quiet = [8.60, 8.55, 8.65, 8.60, 8.55, 8.65, 8.60]
    assert anomaly_values.jump(_series([*quiet, 9.4]), None, 0.5, 5.0, 6) is not None
    assert anomaly_values.jump(_series([*quiet, 9.4]), None, 0.5, 5.0, 6, 25.0, 0.1) is None
    jumped = anomaly_values.jump(_series([*quiet, 12.0]), None, 0.5, 5.0, 6, 25.0, 0.1)
    assert jumped is not None
    assert jumped[1] == pytest.approx(2.5)  # 10 % of 0-25 %


def test_a15_nox_inversion_and_a16_converted_mismatch() -> None:
    readings = {"a21002": Reading(avg=30.0), "a21003": Reading(avg=40.0)}  # NO 40 = NO2 61.3
    assert anomaly_checks.nox_inversion(readings, CFG)
    assert not anomaly_checks.nox_inversion(
        {"a21002": Reading(avg=70.0), "a21003": Reading(avg=40.0)}, CFG
    )
    o2 = {"a19001": Reading(avg=9.5)}
    right = {**o2, "a21002": Reading(avg=38.0, zs_avg=49.6)}
    wrong = {**o2, "a21002": Reading(avg=38.0, zs_avg=38.0)}  # not converted at all
    assert anomaly_checks.converted_mismatch(right, 6.0, CFG) == []
    ((code, zs, expected),) = anomaly_checks.converted_mismatch(wrong, 6.0, CFG)
    assert (code, zs, round(expected, 1)) == ("a21002", 38.0, 49.6)
    # a flagged value, or a flagged O2, is not judged
    flagged = {**o2, "a21002": Reading(avg=38.0, zs_avg=38.0, flag="D")}
    assert anomaly_checks.converted_mismatch(flagged, 6.0, CFG) == []
    bad_o2 = {"a19001": Reading(avg=9.5, flag="C"), "a21002": wrong["a21002"]}
    assert anomaly_checks.converted_mismatch(bad_o2, 6.0, CFG) == []
    # a mean of per-sample Zs 3 % off the formula: wrong for a sample, fine for a mean
    averaged = {**o2, "a21002": Reading(avg=38.0, zs_avg=51.1)}
    assert anomaly_checks.converted_mismatch(averaged, 6.0, CFG) != []
    assert anomaly_checks.converted_mismatch(averaged, 6.0, CFG, period=True) == []
    # a logger converting to 9 % O2 instead of 6 %: 20 % low, wrong for a mean too
    ref9 = {**o2, "a21002": Reading(avg=38.0, zs_avg=39.7)}
    assert anomaly_checks.converted_mismatch(ref9, 6.0, CFG, period=True) != []


def test_a17_flow_zero_while_concentrations_are_reported() -> None:
    readings = {"a00000": Reading(avg=0.0), "a21026": Reading(avg=25.0), "a19001": Reading(avg=9.0)}
    assert anomaly_checks.flow_zero_with_concentrations(readings, "a00000", CFG) == ["a21026"]
    stopped = {**readings, "a19001": Reading(avg=20.8)}  # air: the unit is off
    assert anomaly_checks.flow_zero_with_concentrations(stopped, "a00000", CFG) == []
    running = {**readings, "a00000": Reading(avg=40.0)}
    assert anomaly_checks.flow_zero_with_concentrations(running, "a00000", CFG) == []
    # a plant that reports itself stopped (flag F) is not an anomaly, whatever it reads
    told = {**readings, "a00000": Reading(avg=0.3, flag="F"), "a21026": Reading(avg=25.0, flag="F")}
    assert anomaly_checks.flow_zero_with_concentrations(told, "a00000", CFG) == []
    flow_f = {**readings, "a00000": Reading(avg=0.0, flag="F")}
    assert anomaly_checks.flow_zero_with_concentrations(flow_f, "a00000", CFG) == []
    # nor are leftovers the analyser itself flags
    leftover = {**readings, "a21026": Reading(avg=25.0, flag="F")}
    assert anomaly_checks.flow_zero_with_concentrations(leftover, "a00000", CFG) == []


def test_a19_implausible_oxygen() -> None:
    flow = {"a00000": Reading(avg=40.0)}
    assert (
        anomaly_checks.o2_implausible({**flow, "a19001": Reading(avg=22.0)}, "a00000", False, CFG)
        == "impossible"
    )
    air = {**flow, "a19001": Reading(avg=20.6)}
    assert anomaly_checks.o2_implausible(air, "a00000", False, CFG) == "air-level"
    assert anomaly_checks.o2_implausible(air, "a00000", True, CFG) is None  # marked shutdown
    assert (
        anomaly_checks.o2_implausible({**flow, "a19001": Reading(avg=9.0)}, "a00000", False, CFG)
        is None
    )


def test_a20_cou_against_concentration_times_volume() -> None:
    assert mass_factor("a21026") == pytest.approx(1e-6)  # mg/m³ x m³ -> kg
    assert mass_factor("w01018") == pytest.approx(1e-3)  # mg/L x m³ -> kg
    assert mass_factor("w20111") == pytest.approx(1e-3)  # µg/L x m³ -> g
    assert mass_factor("a19001") is None
    # SO2 20 mg/m³ at 500,000 m³/h is 10 kg in the hour (docs/regulations.md §4)
    m3 = volume("a00000", Reading(avg=500_000 / 3600), 3600)
    assert m3 == pytest.approx(500_000)
    assert amount("a21026", 20.0, m3) == pytest.approx(10.0)
    # COD 45 mg/L with 1,200 m³ is 54 kg
    assert amount("w01018", 45.0, volume("w00000", Reading(avg=1.0, cou=1200.0), 3600)) == 54.0
    assert cou_mismatch("a21026", Reading(avg=20.0, cou=10.1), m3, 0.02) is None
    assert cou_mismatch("a21026", Reading(avg=20.0, cou=11.0), m3, 0.02) == (11.0, 10.0)
    # Σ c·q·Δt lies between Min x V and Max x V, not always near Avg x V (two samples of
    # a clean dust record: 1.2 and 2.54 mg/m³ with flows 55.0 and 43.8 m³/s)
    two = Reading(avg=1.87, min=1.2, max=2.54, cou=0.053)
    assert cou_mismatch("a34013", two, 29640.0, 0.02) is None
    assert cou_mismatch("a34013", Reading(avg=1.87, min=1.2, max=2.54, cou=0.53), 29640.0, 0.02)
    assert cou_mismatch("a34013", Reading(avg=1.87, min=1.2, max=2.54, cou=0.0053), 29640.0, 0.02)
    # a record with abnormal samples: Avg over the normal ones, Cou over all; not judged
    assert cou_mismatch("a21026", Reading(avg=20.0, cou=11.0, flag="D"), m3, 0.02) is None


def test_clock_drift_and_order() -> None:
    t = 1_000_000 * US
    assert anomaly_timing.from_future(
        anomaly_timing.drift_s("2061", t, t + HOUR - 61 * US, 10), CFG
    )
    assert not anomaly_timing.from_future(anomaly_timing.drift_s("2061", t, t + HOUR, 10), CFG)
    assert anomaly_timing.late_realtime(
        "2011", anomaly_timing.drift_s("2011", t, t + 11 * MINUTE, 10), CFG
    )
    assert anomaly_timing.out_of_order(t, t + HOUR, None)
    assert not anomaly_timing.out_of_order(t, t + HOUR, Gap(t - HOUR, t + HOUR))  # back-fill
    assert not anomaly_timing.out_of_order(t + HOUR, t, None)


# -- in the engine ---------------------------------------------------------------------
def test_engine_negative_and_over_range_are_raised_once_and_cleared_by_the_same_cn() -> None:
    station = gas_station()
    e = engine(station)
    rt = [
        record(
            station.mn,
            START + timedelta(seconds=30 * i),
            {**varied(GOOD_GAS, i), "a21026": -2.0 if 3 <= i < 6 else 199.0 if i == 8 else 20.0},
            cn="2011",
        )
        for i in range(12)
    ]
    out = run(e, rt, START + timedelta(minutes=6))
    assert [(a.kind, a.pollutant) for a in alarms(out) if a.pollutant == "a21026"] == [
        ("negative", "a21026"),
        ("over-range", "a21026"),
    ]
    assert len(clears(out)) == 2


def test_engine_hourly_anomalies_zero_constant_and_jump() -> None:
    station = gas_station()
    e = engine(station)
    records = hourly(station, range(8))
    records += hourly(station, [8], a21026=0.0)
    records += hourly(station, range(9, 14), a34013=3.33)
    records += hourly(station, [14], a21002=300.0)
    out = run(e, records, START + 15 * H + timedelta(minutes=15))
    found = {(a.kind, a.pollutant) for a in alarms(out)}
    assert ("zero", "a21026") in found
    assert ("constant", "a34013") in found
    assert ("jump", "a21002") in found


def test_engine_flow_zero_o2_and_hour_vs_minutes() -> None:
    station = gas_station()
    e = engine(station)
    inputs = []
    for m in range(0, 60, 10):  # six complete minute records averaging 20
        values = {**varied(GOOD_GAS, m), "a21026": 18.0 if m < 30 else 22.0}
        inputs.append(record(station.mn, START + timedelta(minutes=m), values, cn="2051"))
    inputs += hourly(station, [0], a21026=26.0, a00000=0.0)  # hour says 26, flow 0
    inputs += hourly(station, [1], a19001=20.7)
    out = run(e, inputs, START + 2 * H + timedelta(minutes=15))
    found = {(a.kind, a.pollutant) for a in alarms(out)}
    assert ("aggregate-mismatch", "a21026") in found
    assert ("flow-zero", None) in found
    assert ("o2-implausible", None) in found


def test_engine_clock_drift_duplicates_and_out_of_order() -> None:
    station = gas_station()
    e = engine(station)
    normal = hourly(station, range(3))
    ahead = record(
        station.mn,
        START + 4 * H,
        varied(GOOD_GAS, 4),
        received=START + 3 * H + timedelta(minutes=1),
    )
    older = record(
        station.mn,
        START + timedelta(minutes=30),
        varied(GOOD_GAS, 9),
        cn="2051",
        received=START + 3 * H + timedelta(minutes=2),
    )
    repeats = [
        record(
            station.mn,
            START + 2 * H,
            varied(GOOD_GAS, 2),
            duplicate=True,
            received=START + 3 * H + timedelta(minutes=3, seconds=i),
        )
        for i in range(4)
    ]
    newer = record(station.mn, START + H, varied(GOOD_GAS, 1), cn="2051", received=START + 3 * H)
    out = run(e, [*normal, newer, ahead, older, *repeats], START + 4 * H + timedelta(minutes=15))
    kinds = {a.kind for a in alarms(out)}
    assert {"clock-drift", "duplicates", "out-of-order"} <= kinds
    drift = alarms(out, "clock-drift")[0]
    assert drift.detail["drift_s"] == pytest.approx(7140.0)  # the hour ends 2 h after


def _realtime(mn: str, data_time: object, received: object) -> Record:
    values = {"a21026": 20.0, "a19001": 9.0, "a00000": 40.0}
    return record(mn, data_time, values, cn="2011", received=received)  # type: ignore[arg-type]


def test_clock_drift_is_judged_only_on_data_that_come_in_real_time() -> None:
    """A clock 20 min behind, sending every 30 s at that pace, is drift; records
    replayed from 3 h late at 120x (a logger emptying its store, a simulation started
    in the past) are not, until they overtake the receive time: data from the future
    are a clock ahead, whatever their pace."""
    lagging, replayed = gas_station("GAS0001"), gas_station("GAS0002")
    e = engine(lagging, replayed)
    step = timedelta(seconds=30)
    behind = [
        _realtime(lagging.mn, START + i * step, START + 20 * MIN + i * step) for i in range(8)
    ]
    fast = [
        _realtime(replayed.mn, START - 3 * H + i * step, START + i * step / 120)
        for i in range(3 * 120)  # from 3 h behind up to the receive time
    ]
    inputs = sorted([*behind, *fast], key=lambda r: r.received_at)
    found = alarms(run(e, inputs, START + 30 * MIN), "clock-drift")
    assert [a.mn for a in found] == [lagging.mn]
    assert found[0].value == pytest.approx(-1200.0)
    on = engine(replayed)  # the same replay run on past the receive time
    overtaking = [
        _realtime(replayed.mn, START - 3 * H + i * step, START + i * step / 120)
        for i in range(3 * 120 + 240)  # to 2 h ahead of the receive time
    ]
    (ahead,) = alarms(run(on, overtaking, START + 30 * MIN), "clock-drift")
    assert ahead.value is not None
    assert 60 < ahead.value < 90  # raised once 60 s ahead (drift_future_s), not before


def test_engine_water_daily_record_against_its_hours() -> None:
    station = water_station()
    e = engine(station)
    records = hourly(station, range(24))
    day = record(station.mn, START, {"w01018": 45.0}, cn="2031")
    out = run(e, [*records, day], START + 25 * H)
    assert ("aggregate-mismatch", "w01018") in {(a.kind, a.pollutant) for a in alarms(out)}


def test_engine_a7_hourly_needs_a_reading_that_does_not_move_within_the_hour() -> None:
    station = gas_station()
    e = engine(station)
    steady = Reading(avg=9.5, min=9.3, max=9.7)  # humidity-like: same mean, moving inside
    frozen = Reading(avg=3.33, min=3.33, max=3.33)
    records = hourly(station, range(6), a01014=steady, a34013=frozen)
    found = {(a.kind, a.pollutant) for a in alarms(run(e, records, START + 7 * H))}
    assert ("constant", "a34013") in found
    assert ("constant", "a01014") not in found


def test_engine_a4_a_day_begun_part_way_is_not_incomplete_but_a_faulty_one_is() -> None:
    station = gas_station()
    late = START + 20 * H  # the engine starts at 20:00 of the first day
    e = engine(station, start=late)
    records = hourly(station, range(20, 28))
    records += hourly(station, range(28, 34), a21026=(20.0, "D"))  # 6 h of D on day 2
    records += hourly(station, range(34, 48))
    out = run(e, records, START + 49 * H)
    days = {(a.pollutant, a.data_time) for a in alarms(out, "day-incomplete")}
    assert days == {("a21026", START + 24 * H)}  # 18 valid of 24; not the 4-hour first day


def test_engine_a2_an_hour_record_missing_while_real_time_data_go_on() -> None:
    """A2: the 02:00 hour record never comes while the real-time data do: raised when
    the hour is judged (03:10), cleared by the next hour judged with its record; a
    station in outage gets its outage, not an hour-missing per silent hour."""
    station = gas_station(rt_interval_s=300)
    realtime = [
        record(station.mn, START + timedelta(minutes=m), varied(GOOD_GAS, m), cn="2011")
        for m in range(0, 5 * 60, 5)
    ]
    hours = hourly(station, [0, 1, 3, 4])

    def by_arrival(records: list[Record]) -> list[Record]:
        return sorted(records, key=lambda r: r.received_at)

    out = run(engine(station), by_arrival([*realtime, *hours]), START + 5 * H + 15 * MIN)
    (missing,) = alarms(out, "hour-missing")
    assert (missing.data_time, missing.at) == (START + 2 * H, START + 3 * H + 10 * MIN)
    assert [(c.key, c.at) for c in clears(out)] == [(missing.key, START + 4 * H + 10 * MIN)]
    assert not alarms(out, "facility")  # no factor is missing "while others arrive"
    # everything stops at 01:25: outage from 01:40, and hours 01:00-04:00 are its part
    silent = run(engine(station), by_arrival([*realtime[:18], *hours[:1]]), START + 6 * H)
    (outage,) = alarms(silent, "outage")
    assert outage.at == START + 100 * MIN + timedelta(seconds=5)
    assert not alarms(silent, "hour-missing")


def test_engine_a21_a_day_is_compared_with_its_hours_only_when_every_hour_came() -> None:
    """The daily record (sent at midnight) waits for its day's last hour to be judged
    (01:10), then its Avg is held against the mean of all 24 valid hours; with an hour
    record missing, or when it comes after the day was judged, it is not compared."""
    station = gas_station()
    hours = hourly(station, range(24))
    mean = sum(r.readings["a21026"].avg or 0.0 for r in hours) / 24

    def found(records: list[Record], value: float, late: bool = False) -> list[object]:
        received = START + 26 * H if late else None
        day = record(station.mn, START, {"a21026": value}, cn="2031", received=received)
        out = run(engine(station), [*records, day], START + 27 * H)
        return [(a.pollutant, a.data_time) for a in alarms(out, "aggregate-mismatch")]

    assert found(hours, round(mean, 2)) == []
    assert found(hours, round(1.3 * mean, 2)) == [("a21026", START)]
    assert found(hours[:5] + hours[6:], round(1.3 * mean, 2)) == []
    assert found(hours, round(1.3 * mean, 2), late=True) == []
