"""Validity (docs/regulations.md §2), marks (§1.3), conversion and exceedance (§3)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from rules.config import RulesConfig
from rules.exceedance import gas_value, judge_day, judge_hour, suspected
from rules.model import PollutantConfig, Reading
from rules.times import HOUR, us
from rules.validity import (
    HourStatus,
    converted,
    day_valid,
    flow_weighted,
    hour_status,
    live_marks,
    mark_effect,
    valid_minutes,
)
from tests.rules.support import START, mark

CFG = RulesConfig()


def _status(reading: Reading | None, minutes: int | None = None, medium: str = "gas") -> str:
    return hour_status(
        medium=medium,
        reading=reading,
        valid_minutes=minutes,
        mark=None,
        unit_stopped=False,
        cfg=CFG,
    ).reason


def test_a_gas_hour_needs_45_valid_minutes() -> None:
    ok = Reading(avg=10.0, flag="N")
    assert _status(ok, 45) == "valid"
    assert _status(ok, 44) == "incomplete:44min"
    assert _status(ok, None) == "valid"  # no minute data: the flag decides
    assert _status(ok, 0, medium="water") == "valid"  # water: hourly data only
    # 10-minute records: 5 valid records are 50 minutes, 4 are only 40
    assert valid_minutes(5, 10) == 50
    assert valid_minutes(4, 10) == 40
    assert valid_minutes(61, 1) == 60


@pytest.mark.parametrize("flag", ["M", "C", "D", "B", "T", "S"])
def test_flagged_hours_are_received_but_invalid(flag: str) -> None:
    status = hour_status(
        medium="gas",
        reading=Reading(avg=1.0, flag=flag),
        valid_minutes=60,
        mark=None,
        unit_stopped=False,
        cfg=CFG,
    )
    assert (status.expected, status.received, status.valid) == (True, True, False)


def test_flag_f_is_a_shutdown_only_when_the_unit_is_stopped() -> None:
    def status(unit_stopped: bool) -> HourStatus:
        return hour_status(
            medium="gas",
            reading=Reading(avg=0.0, flag="F"),
            valid_minutes=60,
            mark=None,
            unit_stopped=unit_stopped,
            cfg=CFG,
        )

    stopped, running = status(True), status(False)
    assert not stopped.expected
    assert (running.expected, running.received, running.valid) == (True, True, False)


def test_marks_apply_to_hours_they_cover_at_least_half_of() -> None:
    hour = us(START) + 10 * HOUR
    half = mark("M", START + timedelta(hours=10, minutes=30), START + timedelta(hours=12), "维护")
    third = mark("M", START + timedelta(hours=10, minutes=40), START + timedelta(hours=12), "维护")
    assert mark_effect([half], "a21026", hour, hour + HOUR) is not None
    assert mark_effect([third], "a21026", hour, hour + HOUR) is None
    # a pollutant's mark does not touch the others
    only_so2 = mark("M", START, START + timedelta(days=1), "校准", pollutant="a21026")
    assert mark_effect([only_so2], "a21002", hour, hour + HOUR) is None
    # shutdown beats exemption beats invalid
    shut = mark("M", START, START + timedelta(days=1), "停运", ident=2)
    effect = mark_effect([only_so2, shut], "a21026", hour, hour + HOUR)
    assert effect is not None
    assert effect.effect == "shutdown"
    exempt = mark("M", START, START + timedelta(days=1), "不可抗力", ident=3)
    assert mark_effect([exempt], "a21026", hour, hour + HOUR).effect == "exempt"  # type: ignore[union-attr]


def test_a_revoked_mark_is_no_longer_in_force() -> None:
    original = mark("M", START, START + timedelta(hours=2), "维护", ident=7)
    revocation = replace(mark("M", START, START + timedelta(hours=2), "维护", ident=8), revokes=7)
    assert live_marks([original, revocation]) == []
    assert live_marks([original]) == [original]


def test_valid_days() -> None:
    assert day_valid("gas", 20, 24, CFG)
    assert not day_valid("gas", 19, 24, CFG)
    assert day_valid("water", 18, 24, CFG)  # 75 % of 24
    assert not day_valid("water", 17, 24, CFG)
    assert day_valid("water", 15, 20, CFG)  # 75 % of the hours expected (shutdown excluded)
    assert not day_valid("water", 0, 0, CFG)


def test_converted_concentration_worked_examples() -> None:
    """docs/regulations.md §3.3."""
    assert round(converted(38, 9.5, 6), 1) == 49.6  # type: ignore[arg-type]
    nox = (92 + 6) * 46.005 / 22.4
    assert round(nox, 1) == 201.3
    assert round(converted(nox, 13.5, 6), 1) == 402.5  # type: ignore[arg-type]
    assert round(converted(25, 10, 3.5), 1) == 39.8  # type: ignore[arg-type]
    assert round(200 / (1 - 0.078), 1) == 216.9  # wet to dry (A2) before converting
    assert converted(10, 21, 6) is None


def test_water_daily_mean_is_flow_weighted() -> None:
    assert flow_weighted([(40.0, 1.0), (10.0, 3.0)]) == pytest.approx(17.5)
    assert flow_weighted([(40.0, 1.0), (10.0, None)]) == pytest.approx(25.0)
    assert flow_weighted([]) is None


def test_gas_hour_is_judged_on_the_converted_value() -> None:
    so2 = PollutantConfig("a21026", limit=50.0)
    hour = Reading(avg=38.0, zs_avg=40.0, flag="N")
    judged = gas_value(hour, 9.5, 6.0, CFG)
    assert judged is not None
    assert judged[1] == "converted"
    verdict = judge_hour(so2, judged, "gas")
    assert verdict is not None
    assert round(verdict.value, 1) == 49.6
    assert not verdict.exceeded  # a near miss: measured 38 looks comfortable
    assert judge_hour(PollutantConfig("a21026", limit=49.0), judged, "gas").exceeded  # type: ignore[union-attr]
    # no O2: the device's Zs; no reference O2: the measured value
    assert gas_value(hour, None, 6.0, CFG) == (40.0, "device-converted")
    assert gas_value(hour, 9.5, None, CFG) == (38.0, "measured")
    # air-level O2: nothing to convert, not judged (an O2 anomaly instead)
    assert gas_value(Reading(avg=38.0), 20.5, 6.0, CFG) is None


def test_water_is_judged_by_day_and_ph_not_on_a_mean() -> None:
    cod = PollutantConfig("w01018", limit=50.0)
    assert judge_day(cod, 55.0, "water").exceeded  # type: ignore[union-attr]
    assert judge_hour(cod, (55.0, "measured"), "water") is None
    assert judge_day(PollutantConfig("w01001", limit=9.0), 10.0, "water") is None


def test_flag_t_is_a_suspected_exceedance_when_the_range_is_over_the_limit() -> None:
    so2 = PollutantConfig("a21026", limit=100.0, range_high=200.0)
    assert suspected(so2, Reading(avg=150.0, flag="T")) is not None
    wide = PollutantConfig("a21026", limit=300.0, range_high=200.0)
    assert suspected(wide, Reading(avg=150.0, flag="T")) is None
    assert suspected(so2, Reading(avg=150.0, flag="N")) is None
