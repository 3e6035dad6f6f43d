"""The reports' rates (:mod:`rules.rates`, from stored data) agree with the engine's."""

from __future__ import annotations

from datetime import timedelta

from rules.config import RulesConfig
from rules.rates import HourData, day_tallies
from rules.times import DAY, hour_floor, us
from rules.transmission import Tally
from tests.rules.support import GOOD_GAS, START, H, engine, gas_station, record, run, varied


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
        station, RulesConfig(), hours, minutes, [], us(START), us(START + 72 * H), minute_hours
    )
    days = report["a21026"]
    # the last minute record (11:50) came at 12:00:05: 12:00 of the next day still needs them
    assert [days[us(START) + d * DAY].valid for d in range(3)] == [12, 11, 24]
    assert sum(days.values(), Tally()) == engine_tally
    assert (engine_tally.expected, engine_tally.valid) == (72, 47)
