"""pH on its range, A13 lower and upper bounds, A14 early warning (rules/exceedance.py),
each replayed through JSON-restored engines to the same outputs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from rules.config import RulesConfig, Ruleset
from rules.engine import Engine
from rules.model import Output, PollutantConfig, Record, StationInfo
from rules.state import StationState
from rules.times import dt
from tests.rules.support import (
    GOOD_GAS,
    GOOD_WATER,
    START,
    H,
    alarms,
    clears,
    gas_station,
    hourly,
    record,
    varied,
    water_station,
)

LIMIT = 35.0  # a21026 in gas_station()
O2, O2_REF = 9.0, 6.0  # converted = C x (21 - 6) / (21 - 9) = 1.25 C


def _replayed(
    inputs: Sequence[Record], stations: Sequence[StationInfo], until: datetime, cfg: RulesConfig
) -> list[Output]:
    """The outputs of one engine, checked equal to those of engines restored from JSON
    after every input (what `hj212 rules replay` relies on)."""
    once = Engine(Ruleset(cfg), origin=START, stations=stations)
    reference = [o for r in inputs for o in once.on_record(r)] + once.tick(until)
    e = Engine(Ruleset(cfg), origin=START, stations=stations)
    out: list[Output] = []
    for r in inputs:
        out += e.on_record(r)
        states = [StationState.from_json(text) for text in e.dump().values()]
        e = Engine(Ruleset(cfg), origin=START, now=dt(e.now), stations=stations, states=states)
    out += e.tick(until)
    assert out == reference
    return reference


def ph_station() -> StationInfo:
    base = water_station()
    pollutants = {
        **base.pollutants,
        "w01001": PollutantConfig("w01001", True, None, None, 0.0, 14.0),
    }
    return water_station(pollutants=pollutants)


def water_hours(station: StationInfo, ph: Sequence[float]) -> list[Record]:
    return [
        record(station.mn, START + h * H, {**varied(GOOD_WATER, h), "w01001": value})
        for h, value in enumerate(ph)
    ]


def test_ph_5_2_in_a_water_hour_is_an_exceedance_and_replays() -> None:
    station = ph_station()
    inputs = water_hours(station, [7.1, 5.2, 5.3, 7.0])
    out = _replayed(inputs, [station], START + 5 * H, RulesConfig())
    (found,) = alarms(out, "exceedance")
    assert (found.pollutant, found.value, found.threshold) == ("w01001", 5.2, 6.0)
    assert found.data_time == START + H
    assert found.detail == {"period": "hour", "basis": "range", "side": "low"}
    assert [c.key for c in clears(out)] == [found.key]  # pH 7.0 at 03:00 ends it


def test_ph_over_the_range_and_a_configured_range() -> None:
    station = ph_station()
    inputs = water_hours(station, [9.4, 7.0])
    (high,) = alarms(_replayed(inputs, [station], START + 3 * H, RulesConfig()), "exceedance")
    assert (high.value, high.threshold, high.detail["side"]) == (9.4, 9.0, "high")
    wider = RulesConfig(ph_range=(5.0, 10.0))
    assert alarms(_replayed(inputs, [station], START + 3 * H, wider), "exceedance") == []


def test_a_valid_ph_inside_the_range_and_an_invalid_one_are_not_judged() -> None:
    station = ph_station()
    inputs = water_hours(station, [6.0, 9.0])
    inputs.append(record(station.mn, START + 2 * H, {**GOOD_WATER, "w01001": (3.0, "D")}))
    assert alarms(_replayed(inputs, [station], START + 4 * H, RulesConfig()), "exceedance") == []


def test_a13_lower_and_upper_bounds_per_hour_and_day() -> None:
    station = water_station()
    cfg = RulesConfig(lower_bounds={"w21003": 1.0}, upper_bounds={"w01018": 40.0})
    inputs = [
        record(
            station.mn, START + h * H, {**varied(GOOD_WATER, h), "w21003": 0.4 if h == 2 else 2.0}
        )
        for h in range(24)
    ]
    out = _replayed(inputs, [station], START + 25 * H, cfg)
    found = alarms(out, "limit-violation")
    low = [a for a in found if a.pollutant == "w21003"]
    assert [(a.value, a.threshold, a.detail) for a in low] == [
        (0.4, 1.0, {"period": "hour", "side": "low"})
    ]
    assert low[0].data_time == START + 2 * H
    assert not [a for a in found if a.pollutant == "w01018"]  # 30 ± 5 % stays under 40


def _minutes(station: StationInfo, values: Sequence[float]) -> list[Record]:
    """1-minute records (2051) of the hour from START, a21026 as given."""
    return [
        record(
            station.mn,
            START + timedelta(minutes=i),
            {**GOOD_GAS, "a21026": value, "a19001": O2},
            cn="2051",
            received=START + timedelta(minutes=i + 1, seconds=5),
        )
        for i, value in enumerate(values)
    ]


def test_a14_a_gas_hour_at_three_times_the_limit_warns_then_exceeds_and_replays() -> None:
    """The first 40 valid minutes average 3x the limit (converted); the hour then cannot
    stay under it: a warning while it runs, the exceedance when it is judged."""
    station = gas_station(minute_interval_min=1)
    measured = 3 * LIMIT / 1.25  # converted: 105 mg/m³
    minutes = _minutes(station, [measured] * 40 + [0.0] * 20)
    hour = record(station.mn, START, {**GOOD_GAS, "a21026": 2 * LIMIT / 1.25, "a19001": O2})
    out = _replayed([*minutes, hour], [station], START + H + timedelta(minutes=15), RulesConfig())
    (warning,) = alarms(out, "early-warning")
    assert warning.pollutant == "a21026"
    assert warning.value == 3 * LIMIT
    assert warning.threshold == LIMIT
    # Σ > 35 x 60 first with the 21st minute (21 x 105 = 2205 > 2100)
    assert warning.at == START + timedelta(minutes=21, seconds=5)
    assert warning.detail == {"period": "hour", "valid_minutes": 21}
    (exceeded,) = alarms(out, "exceedance")
    assert exceeded.pollutant == "a21026"
    assert exceeded.at > START + H
    assert exceeded.value == 2 * LIMIT
    assert warning.key in [c.key for c in clears(out)]  # the hour was judged


def test_a14_no_warning_while_the_hour_can_still_stay_under() -> None:
    station = gas_station(minute_interval_min=1)
    measured = 1.9 * LIMIT / 1.25  # 30 minutes at 1.9 x: 57 % of the allowance
    minutes = _minutes(station, [measured] * 30 + [0.0] * 30)
    out = _replayed(minutes, [station], START + H + timedelta(minutes=15), RulesConfig())
    assert alarms(out, "early-warning") == []


def test_a14_invalid_minutes_do_not_count() -> None:
    station = gas_station(minute_interval_min=1)
    minutes = _minutes(station, [3 * LIMIT] * 40)
    flagged = [
        record(
            r.mn,
            r.data_time,
            {**GOOD_GAS, "a21026": (3 * LIMIT, "C"), "a19001": O2},
            cn="2051",
            received=r.received_at,
        )
        for r in minutes
        if r.data_time is not None
    ]
    out = _replayed(flagged, [station], START + 50 * timedelta(minutes=1), RulesConfig())
    assert alarms(out, "early-warning") == []


def test_a17_flow_while_a_shutdown_mark_is_in_force() -> None:
    from rules.model import Mark

    station = gas_station()
    shutdown = Mark(7, station.mn, None, START + 2 * H, START + 4 * H, "shutdown", True, START)
    e = Engine(Ruleset(RulesConfig()), origin=START, stations=[station])
    out = e.on_mark(shutdown)
    for h in range(6):
        values = {**varied(GOOD_GAS, h), "a00000": 40.0 if h != 3 else 0.0}
        out += e.on_record(record(station.mn, START + h * H, values))
    out += e.tick(START + 7 * H)
    found = alarms(out, "flow-while-shutdown")
    assert [(a.data_time, a.value, a.detail) for a in found] == [
        (START + 2 * H, 40.0, {"mark": "shutdown"})
    ]
    assert found[0].key in [c.key for c in clears(out)]  # flow 0 at 03:00 ends it


def _month(invalid_days: int) -> list[Output]:
    station = gas_station()
    inputs = [
        r
        for r in hourly(station, range(31 * 24))
        if r.data_time is not None
        and not ((r.data_time - START).days < invalid_days and r.data_time.hour >= 19)
    ]
    e = Engine(Ruleset(RulesConfig()), origin=START, stations=[station])
    out = [o for r in inputs for o in e.on_record(r)]
    return out + e.tick(START + timedelta(days=31, hours=2))


def test_a_gas_month_with_24_valid_days_has_no_valid_monthly_value() -> None:
    """HJ 76-2017 App. B: 25 valid days (23 in February); October has 31."""
    found = alarms(_month(7), "month-invalid")
    assert sorted(a.pollutant or "" for a in found) == ["a21002", "a21026", "a34013"]
    assert {(a.value, a.threshold, a.data_time) for a in found} == {(24, 25, START)}
    assert found[0].detail == {"month": "2026-10", "expected_days": 31}
    assert alarms(_month(6), "month-invalid") == []


def test_a14_a_gas_day_under_a_daily_limit_that_can_no_longer_stay_under() -> None:
    """Daily limit 35 (converted): 9 hours at 105 (3x) already exceed 35 x 24 = 840."""
    daily = PollutantConfig("a21026", True, LIMIT, "day", 0.0, 200.0)
    station = gas_station()
    station = gas_station(pollutants={**station.pollutants, "a21026": daily})
    measured = 3 * LIMIT / 1.25
    inputs = [
        record(
            station.mn,
            START + h * H,
            {**varied(GOOD_GAS, h), "a21026": measured if h < 9 else 1.0, "a19001": O2},
        )
        for h in range(24)
    ]
    out = _replayed(inputs, [station], START + 25 * H, RulesConfig())
    (warning,) = alarms(out, "early-warning")
    assert warning.detail == {"period": "day", "valid_hours": 9}
    assert warning.data_time == START
    assert warning.at < START + 10 * H + timedelta(minutes=15)  # hour 8 judged at 09:10
    (exceeded,) = alarms(out, "exceedance")
    assert exceeded.detail["period"] == "day"
    assert warning.key in [c.key for c in clears(out)]  # the day was judged
