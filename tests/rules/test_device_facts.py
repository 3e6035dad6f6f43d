"""The facts of answers and event uploads in the engine (rules/device_facts.py): 2081
restarts, 3019 instrument replacements (seed 003 Art. 12), 2062 checks and the water
check-hour exemption; each replayed through JSON-restored engines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from rules.config import RulesConfig, Ruleset
from rules.engine import Engine
from rules.model import CaseEvent, Fact, Output, Record, StationInfo
from rules.state import StationState
from rules.times import dt
from tests.rules.support import START, H, alarms, case_events, gas_station, hourly, water_station

MIN = timedelta(minutes=1)


def _replayed(
    inputs: Sequence[Record], stations: Sequence[StationInfo], until: datetime
) -> tuple[list[Output], Engine]:
    once = Engine(Ruleset(RulesConfig()), origin=START, stations=stations)
    reference = [o for r in inputs for o in once.on_record(r)] + once.tick(until)
    e = Engine(Ruleset(RulesConfig()), origin=START, stations=stations)
    out: list[Output] = []
    for r in inputs:
        out += e.on_record(r)
        states = [StationState.from_json(text) for text in e.dump().values()]
        e = Engine(
            Ruleset(RulesConfig()), origin=START, now=dt(e.now), stations=stations, states=states
        )
    out += e.tick(until)
    assert out == reference
    return reference, once


def fact(
    mn: str, cn: str, at: datetime, kind: str, pollutant: str = "", **payload: object
) -> Record:
    received = at + timedelta(seconds=3)
    return Record(mn, cn, received, facts=(Fact(kind, pollutant, at, payload),))


def test_a_restart_is_an_entry_in_the_open_cases_and_no_alarm() -> None:
    station = gas_station()
    # a device fault (flag D) long enough to open a facility case, then a restart
    faulty = hourly(station, range(4), a21026=(20.0, "D"))
    at = START + 4 * H + MIN
    restart = fact(station.mn, "2081", at, "restart", restart_time="2026-10-01T04:00:30+08:00")
    out, _ = _replayed([*faulty, restart], [station], START + 5 * H)
    assert alarms(out, "logger-restart") == []  # every power-on sends one
    opened = [e for e in case_events(out) if e.kind == "opened"]
    logged = [e for e in case_events(out) if e.kind == "logger-restart"]
    assert opened
    assert [e.case_key for e in logged] == [e.case_key for e in opened]
    assert logged[0].detail["restart_time"] == "2026-10-01T04:00:30+08:00"
    assert logged[0].at == restart.received_at


def test_a_new_serial_number_opens_an_instrument_replaced_case() -> None:
    station = gas_station()
    inputs = [
        *hourly(station, range(3)),
        fact(
            station.mn,
            "3019",
            START + 3 * H,
            "instrument-id",
            "a21026",
            sn="SN-1",
            previous_sn=None,
        ),
        fact(
            station.mn,
            "3019",
            START + 4 * H,
            "instrument-id",
            "a21026",
            sn="SN-1",
            previous_sn="SN-1",
        ),
        fact(
            station.mn,
            "3019",
            START + 5 * H,
            "instrument-id",
            "a21026",
            sn="SN-2",
            previous_sn="SN-1",
        ),
    ]
    out, _ = _replayed(inputs, [station], START + 6 * H)
    cases = [
        e
        for e in case_events(out)
        if isinstance(e, CaseEvent) and e.detail.get("case_kind") == "instrument-replaced"
    ]
    assert len(cases) == 1
    assert cases[0].detail["pollutant"] == "a21026"
    assert "SN SN-1 -> SN-2" in str(cases[0].detail["cause"])
    assert cases[0].detail["started_at"] == "2026-10-01T05:00:00+08:00"


def _exempt(station: StationInfo, checks: Sequence[int]) -> list[int]:
    """The month's w01018 tally after one day whose 05:00 hour is missing."""
    inputs: list[Record] = [r for r in hourly(station, range(24)) if r.data_time != START + 5 * H]
    inputs += [
        fact(station.mn, "2062", START + h * H, "standard-check", "w01018", sample_rd=15.3)
        for h in checks
    ]
    inputs.sort(key=lambda r: r.received_at)
    _, engine = _replayed(inputs, [station], START + 25 * H)
    return engine.states[station.mn].etr["month"]["w01018"]


def test_the_check_hour_exemption_follows_the_reported_checks() -> None:
    station = water_station()
    presumed = _exempt(station, [])  # a station that never reported a check: presumed
    assert (presumed[0], presumed[6]) == (23, 1)
    reported = _exempt(station, [5])
    assert (reported[0], reported[6]) == (23, 1)


def test_a_station_that_reports_checks_gets_no_exemption_on_a_day_without_one() -> None:
    station = water_station()
    tally = _exempt(station, [-3])  # its check was the day before
    assert (tally[0], tally[6]) == (24, 0)
