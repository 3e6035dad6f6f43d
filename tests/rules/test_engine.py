"""The engine: exceedance, validity, rates, dedupe, and the same outputs however the
input is cut, ticked, or persisted and restored (what makes replay == live)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta

from rules.config import Ruleset
from rules.engine import Engine
from rules.model import Mark, Output, Reading, Record
from rules.state import StationState
from rules.times import dt
from tests.rules.support import (
    GOOD_GAS,
    GOOD_WATER,
    START,
    H,
    alarms,
    clears,
    engine,
    gas_station,
    hourly,
    mark,
    record,
    run,
    varied,
    water_station,
)


def _gas(h: int, **override: float | tuple[float, str]) -> dict[str, float | tuple[float, str]]:
    values: dict[str, float | tuple[float, str]] = dict(varied(GOOD_GAS, h))
    values.update(override)
    return values


def test_a_gas_hour_over_the_converted_limit_raises_one_alarm_until_it_passes() -> None:
    station = gas_station()
    e = engine(station)
    hours = [
        record(station.mn, START + h * H, _gas(h, a21026=30.0, a19001=9.5))  # 39.1 > 35
        if h in (3, 4, 5)
        else record(station.mn, START + h * H, _gas(h, a21026=(80.0, "D")))  # not judged
        if h == 6
        else record(station.mn, START + h * H, _gas(h))
        for h in range(9)
    ]
    out = run(e, hours, START + 9 * H + timedelta(minutes=15))
    raised = alarms(out, "exceedance")
    assert len(raised) == 1  # hours 3, 4 and 5 are one condition, not three alarms
    alarm = raised[0]
    assert alarm.pollutant == "a21026"
    assert alarm.data_time == START + 3 * H
    assert alarm.at == START + 4 * H + timedelta(minutes=10)  # judged at H + 1 h + grace
    assert round(alarm.value or 0, 2) == 39.13
    assert alarm.threshold == 35.0
    assert alarm.detail["basis"] == "converted"
    # the D hour is not judged; the next valid compliant hour (7) clears it
    cleared = [c for c in clears(out) if c.key == alarm.key]
    assert [c.at for c in cleared] == [START + 8 * H + timedelta(minutes=10)]


def test_measured_value_under_the_limit_can_still_exceed_once_converted() -> None:
    station = gas_station(o2_ref=6.0)
    e = engine(station)
    hours = [record(station.mn, START, _gas(0, a21002=38.0, a19001=9.5))]  # 49.6 vs 50
    assert alarms(run(e, hours, START + 2 * H), "exceedance") == []
    strict = gas_station(
        pollutants={
            **station.pollutants,
            "a21002": replace(station.pollutants["a21002"], limit=45.0),
        }
    )
    e2 = engine(strict)
    assert len(alarms(run(e2, hours, START + 2 * H), "exceedance")) == 1


def test_water_is_judged_on_the_flow_weighted_daily_mean() -> None:
    station = water_station()
    e = engine(station)
    records = []
    for h in range(24):
        values = dict(varied(GOOD_WATER, h))
        # COD 60 for 6 hours at high flow, 30 otherwise: mean by flow 41.9... vs 50
        values["w01018"] = 60.0 if h < 6 else 30.0
        values["w00000"] = 30.0 if h < 6 else 10.0
        records.append(record(station.mn, START + h * H, values))
    out = run(e, records, START + 25 * H)
    assert alarms(out, "exceedance") == []
    e2 = engine(station)  # the same records, with a heavier flow while COD is high
    heavy = [
        replace(r, readings={**r.readings, "w00000": Reading(avg=100.0, flag="N")}) if h < 6 else r
        for h, r in enumerate(records)
    ]
    out2 = run(e2, heavy, START + 25 * H)
    daily = alarms(out2, "exceedance")
    assert len(daily) == 1
    assert daily[0].detail["period"] == "day"
    # 6 h x 60 x 360 m³ + 18 h x 30 x 36 m³ over (6 x 360 + 18 x 36) m³
    assert round(daily[0].value or 0, 3) == round(
        (6 * 60 * 360 + 18 * 30 * 36) / (6 * 360 + 18 * 36), 3
    )


def test_an_hour_with_too_few_valid_minutes_is_incomplete_and_not_judged() -> None:
    station = gas_station()
    e = engine(station)
    inputs: list[Record] = []
    for minute in range(0, 60, 10):
        flag = "N" if minute < 40 else "C"  # 4 valid 10-min records = 40 minutes
        values = _gas(minute, a21026=(90.0, flag))
        inputs.append(record(station.mn, START + timedelta(minutes=minute), values, cn="2051"))
    inputs.append(record(station.mn, START, _gas(0, a21026=90.0)))
    out = run(e, inputs, START + H + timedelta(minutes=15))
    incomplete = alarms(out, "hour-incomplete")
    assert [a.pollutant for a in incomplete] == ["a21026"]
    assert incomplete[0].detail["reason"] == "incomplete:40min"
    assert alarms(out, "exceedance") == []  # invalid data are not judged
    tally = e.states[station.mn].etr["day"]["a21026"]
    assert tally[:3] == [1, 1, 0]  # expected, received, valid


def test_marks_take_effect_from_when_they_were_made() -> None:
    station = gas_station()
    late = mark(station.mn, START, START + 2 * H, "校准", marked_at=START + 5 * H)
    early = replace(late, marked_at=START)
    exceeding = [record(station.mn, START + h * H, _gas(h, a21026=80.0)) for h in range(2)]
    seen_live = run(engine(station), [*exceeding, late], START + 6 * H)
    assert len(alarms(seen_live, "exceedance")) == 1  # the mark came after the judgement
    marked = run(engine(station), [early, *exceeding], START + 6 * H)
    assert alarms(marked, "exceedance") == []


def test_a_day_under_the_threshold_raises_the_rate_alarm() -> None:
    station = gas_station()
    e = engine(station)
    out = run(e, hourly(station, range(22)), START + 25 * H)  # 22 of 24 hours: 91.67 %
    low = alarms(out, "etr-low")
    assert len(low) == 1
    assert low[0].key == f"{station.mn}:etr-low:day:2026-10-01"
    assert round(low[0].value or 0, 4) == round(22 / 24, 4)
    assert low[0].detail["variant"] == "realtime"
    ok = engine(gas_station())
    assert alarms(run(ok, hourly(station, range(23)), START + 25 * H), "etr-low") == []


def test_a_backfilled_hour_counts_in_the_completion_rate_only() -> None:
    station = gas_station()
    e = engine(station, etr_threshold=0.99)
    records = hourly(station, [h for h in range(24) if h != 5])
    backfill = replace(hourly(station, [5])[0], received_at=START + 20 * H)
    out = run(e, [*records[:18], backfill, *records[18:]], START + 25 * H)
    tally = e.states[station.mn].etr["month"]["a21026"]
    expected, received, valid, received_rt, valid_rt = tally[:5]
    assert (expected, received, valid, received_rt, valid_rt) == (24, 24, 24, 23, 23)
    assert len(alarms(out, "etr-low")) == 1  # the day's alarm is on the realtime variant


def _scenario() -> tuple[list[Record | Mark], datetime, list[object]]:
    """Five days over a month end: gaps, faults, exceedances, marks, back-fill, repeats."""
    start = datetime.fromisoformat("2026-10-29T00:00:00+08:00")
    gas, gas2, water = gas_station("G1"), gas_station("G2"), water_station("W1")
    inputs: list[Record | Mark] = []
    for h in range(5 * 24):
        at = start + h * H
        if not 30 <= h < 40:  # G1 silent for 10 hours: an outage case
            over = {"a21026": 60.0} if h % 17 == 0 else {}
            inputs.append(record("G1", at, _gas(h, **over)))
        if h % 23 != 0:
            flag = "D" if 50 <= h < 53 else "N"
            inputs.append(record("G2", at, _gas(h, a21002=(varied(GOOD_GAS, h)["a21002"], flag))))
        values = dict(varied(GOOD_WATER, h))
        values["w01018"] = 70.0 if 60 <= h < 84 else values["w01018"]
        inputs.append(record("W1", at, values))
        if h % 29 == 0:  # a retransmission
            last = inputs[-1]
            assert isinstance(last, Record)
            inputs.append(
                replace(
                    last,
                    received_at=last.received_at + timedelta(seconds=9),
                    duplicate=True,
                )
            )
    inputs.append(mark("G2", start + 50 * H, start + 52 * H, "维护", marked_at=start + 49 * H))
    inputs.append(replace(record("G1", start + 31 * H, _gas(31)), received_at=start + 45 * H))
    inputs.sort(key=lambda i: i.marked_at if isinstance(i, Mark) else i.received_at)
    return inputs, start, [gas, gas2, water]


def _once(
    inputs: list[Record | Mark], start: datetime, stations: list[object], end: datetime
) -> list[Output]:
    e = Engine(Ruleset(), origin=start, stations=stations)  # type: ignore[arg-type]
    return run(e, inputs, end)


def test_the_same_inputs_give_the_same_outputs_however_cut_ticked_and_restored() -> None:
    inputs, start, stations = _scenario()
    end = start + timedelta(days=5, hours=2)
    reference = _once(inputs, start, stations, end)
    assert len(alarms(reference, "outage")) == 1
    assert alarms(reference, "exceedance")
    assert alarms(reference, "etr-low")
    rng = random.Random(212)
    for _ in range(3):
        out: list[Output] = []
        e = Engine(Ruleset(), origin=start, stations=stations)  # type: ignore[arg-type]
        i = 0
        while i < len(inputs):
            step = rng.randint(1, 60)
            for item in inputs[i : i + step]:
                out += e.on_mark(item) if isinstance(item, Mark) else e.on_record(item)
            i += step
            if i < len(inputs):
                nxt = inputs[i]
                t_next = nxt.marked_at if isinstance(nxt, Mark) else nxt.received_at
                tick = (
                    e.now + rng.random() * max(0, (t_next - _dt(e.now)).total_seconds()) * 1_000_000
                )
                out += e.advance(int(tick))
            # persist and restart: every state through JSON, a new engine
            saved = dict(e.dump())
            now = e.now
            e = Engine(
                Ruleset(),
                origin=start,
                now=_dt(now),
                stations=stations,  # type: ignore[arg-type]
                states=[StationState.from_json(text) for text in saved.values()],
            )
        out += e.tick(end)
        assert out == reference


def _dt(t: int) -> datetime:
    return dt(t)


def test_state_round_trips_through_json_exactly() -> None:
    inputs, start, stations = _scenario()
    e = Engine(Ruleset(), origin=start, stations=stations)  # type: ignore[arg-type]
    run(e, inputs[: len(inputs) // 2], start + timedelta(days=2))
    for mn, text in e.dump().items():
        again = StationState.from_json(text)
        assert again == e.states[mn]
        assert again.to_json() == text


def test_ticking_often_or_rarely_changes_nothing() -> None:
    inputs, start, stations = _scenario()
    end = start + timedelta(days=5, hours=2)
    rarely = _once(inputs, start, stations, end)
    e = Engine(Ruleset(), origin=start, stations=stations)  # type: ignore[arg-type]
    often: list[Output] = []
    for item in inputs:
        often += e.tick(item.marked_at if isinstance(item, Mark) else item.received_at)
        often += e.on_mark(item) if isinstance(item, Mark) else e.on_record(item)
    often += e.tick(end)
    assert often == rarely


def test_unknown_stations_are_followed_without_a_registry_entry() -> None:
    e = engine()
    out = run(e, [record("NEW1", START, {"a21026": -1.0}, cn="2011")], START + timedelta(minutes=1))
    assert [a.kind for a in alarms(out)] == ["negative"]
    assert "NEW1" in e.states
