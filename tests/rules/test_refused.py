"""A station whose every frame is refused: not alive, and an alarm of its own."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from rules.model import Record
from tests.rules.support import START, alarms, clears, engine, gas_station, record, run

STEP = timedelta(seconds=30)


def _refused(mn: str, i: int, code: str = "legacy-crc") -> Record:
    at = START + i * STEP
    return replace(record(mn, at, {}, cn="2011", received=at), readings={}, refused=code)


def test_frames_all_refused_raise_their_alarm_within_the_outage_threshold() -> None:
    station = gas_station()
    e = engine(station)
    inputs = [_refused(station.mn, i) for i in range(40)]  # 20 min of 2011 every 30 s
    out = run(e, inputs, START + 20 * timedelta(minutes=1))
    (found,) = alarms(out, "frames-refused")
    # the 2011 cadence makes the threshold max(3 x 30 s, 10 min) = 10 min
    assert found.at == START + 10 * timedelta(minutes=1)
    assert found.severity == "critical"
    assert found.detail["reason"] == "legacy-crc"
    assert e.states[station.mn].last_seen is None  # refused frames are not a sign of life
    # a frame that gets through ends it
    good = record(station.mn, START + 21 * timedelta(minutes=1), {"a21026": 20.0}, cn="2011")
    after = run(e, [good], good.received_at)
    assert [c.key for c in clears(after)] == [found.key]


def test_a_station_silent_and_refused_has_its_outage_say_why() -> None:
    station = gas_station()
    e = engine(station)
    accepted = [
        record(station.mn, START + i * STEP, {"a21026": 20.0}, cn="2011", received=START + i * STEP)
        for i in range(3)
    ]
    inputs = [*accepted, *(_refused(station.mn, i, "decrypt") for i in range(3, 40))]
    out = run(e, inputs, START + 20 * timedelta(minutes=1))
    (outage,) = alarms(out, "outage")
    assert outage.detail["cause"] == "every frame refused: decrypt"
    assert [a.detail["reason"] for a in alarms(out, "frames-refused")] == ["decrypt"]


def test_some_frames_refused_among_accepted_ones_raise_nothing() -> None:
    station = gas_station()
    e = engine(station)
    inputs = [
        _refused(station.mn, i)
        if i % 3
        else record(station.mn, START + i * STEP, {"a21026": 20.0}, cn="2011")
        for i in range(60)
    ]
    out = run(e, inputs, START + 30 * timedelta(minutes=1))
    assert alarms(out, "frames-refused") == []
    assert alarms(out, "outage") == []


def test_refused_frames_of_an_mn_the_engine_does_not_follow_start_no_state() -> None:
    e = engine(gas_station())
    run(e, [_refused("FORGED00001", i) for i in range(5)], START + timedelta(minutes=5))
    assert "FORGED00001" not in e.states
