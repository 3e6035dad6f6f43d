"""The reports' rates (:mod:`rules.rates`, from stored data) agree with the engine's."""

from __future__ import annotations

from datetime import timedelta

from rules.config import RulesConfig
from rules.rates import HourData, day_tallies
from rules.times import DAY, hour_floor, us
from rules.transmission import Tally, counted_window
from tests.rules.support import (
    GOOD_GAS,
    GOOD_WATER,
    START,
    H,
    Value,
    alarms,
    engine,
    gas_station,
    record,
    run,
    varied,
    water_station,
)

MIN = timedelta(minutes=1)


def test_minute_data_that_stop_part_way_are_required_only_for_the_day_after() -> None:
    """Minute records for the first 12 hours, then hourly records only, for three days.

    The engine asks an hour for its 45 valid minutes while the station sent minute data
    within the day before it; after that the hour is judged by its flag. The report over
    the three days must say the same, not demand minutes of every hour of the period.
    """
    station = gas_station()
    records = []
    for h in range(72):
        at = START + h * H
        values = varied(GOOD_GAS, h)
        records.append(record(station.mn, at, values))
        if h < 12:
            records += [
                record(station.mn, at + timedelta(minutes=m), values, cn="2051")
                for m in range(0, 60, 10)
            ]
    records.sort(key=lambda r: r.received_at)
    e = engine(station)
    run(e, records, START + 72 * H + timedelta(minutes=15))  # three days closed
    engine_tally = Tally(*e.states[station.mn].etr["month"]["a21026"])

    hours = {
        (code, us(r.data_time)): HourData(reading, us(r.received_at))
        for r in records
        if r.cn == "2061" and r.data_time is not None
        for code, reading in r.readings.items()
    }
    minutes = {(code, us(START + h * H)): 6 for h in range(12) for code in GOOD_GAS}
    minute_hours = sorted({hour_floor(us(r.received_at)) for r in records if r.cn == "2051"})
    report = day_tallies(
        station,
        RulesConfig(),
        hours,
        minutes,
        [],
        us(START),
        us(START + 72 * H),
        minute_hours,
        now=us(START + 73 * H),
    )
    days = report["a21026"]
    # the last minute record (11:50) came at 12:00:05: 12:00 of the next day still needs them
    assert [days[us(START) + d * DAY].valid for d in range(3)] == [12, 11, 24]
    assert sum(days.values(), Tally()) == engine_tally
    assert (engine_tally.expected, engine_tally.valid) == (72, 47)


def test_a_rate_counts_whole_hours_judged_by_the_moment_asked_from_monitored_since() -> None:
    cfg = RulesConfig()  # hour H is judged at H + 1 h + 10 min
    since = START + timedelta(hours=3, minutes=43)  # registered part-way through 03:00
    asked = START + timedelta(hours=6, minutes=5)  # 05:00 ended, not yet judged
    month = (us(START), us(START) + 31 * DAY)
    assert counted_window(*month, since, us(asked), cfg) == (us(START + 4 * H), us(START + 5 * H))
    assert counted_window(*month, since, us(asked + 5 * MIN), cfg)[1] == us(START + 6 * H)
    # a window ending inside an hour leaves that hour out; one starting inside one too
    window = (us(START + 4 * H + 30 * MIN), us(START + 7 * H + 30 * MIN))
    assert counted_window(*window, None, us(START) + DAY, cfg) == (
        us(START + 5 * H),
        us(START + 7 * H),
    )
    # registered on the hour: that hour is its own; nothing judged yet: nothing counted
    first, last = counted_window(*month, START + 4 * H, us(START + 4 * H + 30 * MIN), cfg)
    assert first == us(START + 4 * H)
    assert first >= last


def test_a_healthy_station_started_part_way_is_100_percent_in_the_engine_and_the_reports() -> None:
    """Registered at 03:43 and sending from then on: the partial 03:00 hour (two of its
    six minute records) is neither counted nor an incomplete hour. Asked at 08:15, the
    engine and the reports count the same four hours, 04:00-07:00, all valid."""
    since = START + timedelta(hours=3, minutes=43)
    station = gas_station(created_at=since)
    records = []
    for h in range(3, 8):
        at = START + h * H
        values = varied(GOOD_GAS, h)
        records.append(record(station.mn, at, values))
        first_minute = 40 if h == 3 else 0
        records += [
            record(station.mn, at + timedelta(minutes=m), values, cn="2051")
            for m in range(first_minute, 60, 10)
        ]
    records.sort(key=lambda r: r.received_at)
    e = engine(station, start=since)
    asked = START + timedelta(hours=8, minutes=15)  # 07:00 judged at 08:10
    out = run(e, [r for r in records if r.received_at <= asked], asked)
    assert alarms(out) == []
    engine_tally = Tally(*e.states[station.mn].etr["day"]["a21026"])
    assert (engine_tally.expected, engine_tally.valid) == (4, 4)  # 04:00-07:00

    hours = {
        (code, us(r.data_time)): HourData(reading, us(r.received_at))
        for r in records
        if r.cn == "2061" and r.data_time is not None
        for code, reading in r.readings.items()
    }
    minutes = {
        (code, us(hour_floor_dt)): n
        for hour_floor_dt, n in ((START + h * H, 2 if h == 3 else 6) for h in range(3, 8))
        for code in GOOD_GAS
    }
    minute_hours = sorted({hour_floor(us(r.received_at)) for r in records if r.cn == "2051"})
    report = day_tallies(
        station,
        RulesConfig(),
        hours,
        minutes,
        [],
        us(START),
        us(START) + DAY,
        minute_hours,
        now=us(asked),
    )
    assert report["a21026"] == {us(START): engine_tally}
    assert engine_tally.completion.etr == 1.0


def test_flag_f_hours_count_alike_in_the_engine_and_the_reports() -> None:
    """A water plant flagged F (stopped) for 8 hours of a day: with no flow the hours
    leave the period (docs/regulations.md §1.3: the unit really is stopped); with a flow
    still running they are expected and invalid. The engine and the reports agree."""
    for idle_flow, shutdown in ((0.0, 8), (0.3, 0)):
        station = water_station()
        records = []
        for h in range(24):
            values: dict[str, Value] = dict(varied(GOOD_WATER, h))
            if h < 8:
                values = {code: (float(v), "F") for code, v in varied(GOOD_WATER, h).items()}
                values["w00000"] = (idle_flow, "F")
            records.append(record(station.mn, START + h * H, values))
        e = engine(station)
        run(e, records, START + 25 * H)
        engine_tally = Tally(*e.states[station.mn].etr["month"]["w01018"])
        hours = {
            (code, us(r.data_time)): HourData(reading, us(r.received_at))
            for r in records
            if r.data_time is not None
            for code, reading in r.readings.items()
        }
        report = day_tallies(
            station,
            RulesConfig(),
            hours,
            {},
            [],
            us(START),
            us(START) + DAY,
            [],
            now=us(START + 25 * H),
        )
        assert report["w01018"][us(START)] == engine_tally
        assert engine_tally.shutdown == shutdown
