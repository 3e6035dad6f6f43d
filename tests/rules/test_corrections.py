"""The pure correction rules (rules/corrections.py) and the engine's re-judging of the
hours an approved correction or a late mark concerns (rules/rejudge.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rules.config import RulesConfig
from rules.corrections import (
    Adjusted,
    Correction,
    CorrectionError,
    check_form,
    substitute,
    window_refusal,
    window_start,
)
from rules.model import Alarm, Reading
from rules.rates import HourData, emission_totals
from rules.state import StationState
from rules.times import DAY, HOUR, us
from tests.rules.support import (
    GOOD_WATER,
    START,
    H,
    alarms,
    clears,
    engine,
    gas_station,
    hourly,
    mark,
    run,
    varied,
    water_station,
)

T = us(START)


def test_a_gap_takes_the_mean_of_the_valid_hours_either_side() -> None:
    valid = {T: 20.0, T + HOUR: 22.0, T + 5 * HOUR: 30.0, T + 6 * HOUR: 31.0}
    made = substitute("hj75-mean-adjacent", T + 3 * HOUR, valid, T + 7 * HOUR)
    assert (made.value, made.rule, made.gap_hours) == (26.0, "hj75-mean-adjacent", 3)
    assert made.before == (T + HOUR, 22.0)
    assert made.after == (T + 5 * HOUR, 30.0)
    assert made.basis()["gap_hours"] == 3


def test_what_cannot_be_substituted_is_refused_with_the_reason() -> None:
    valid = {T: 20.0, T + 26 * HOUR: 30.0}
    with pytest.raises(CorrectionError, match="the gap is 25 h"):
        substitute("hj75-mean-adjacent", T + 3 * HOUR, valid, T + 30 * HOUR)
    with pytest.raises(CorrectionError, match="has a valid value"):
        substitute("hj75-mean-adjacent", T, valid, T + 30 * HOUR)
    with pytest.raises(CorrectionError, match="no valid hour after"):
        substitute("hj75-mean-adjacent", T + 3 * HOUR, {T: 20.0}, T + 30 * HOUR)
    with pytest.raises(CorrectionError, match="unknown substitution rule"):
        substitute("average-of-month", T + 3 * HOUR, valid, T + 30 * HOUR)
    with pytest.raises(CorrectionError, match="has not ended"):
        substitute("hj75-mean-adjacent", T + 3 * HOUR, valid, T + 3 * HOUR + 1)
    # an hour after the gap that has not ended by now is not there to use yet
    with pytest.raises(CorrectionError, match="no valid hour after"):
        substitute("hj75-mean-adjacent", T + 3 * HOUR, {T: 1.0, T + 5 * HOUR: 2.0}, T + 5 * HOUR)


def test_the_window_is_per_region_and_says_from_when() -> None:
    cfg = RulesConfig(correction_window_days=5)
    now = T + 10 * DAY
    assert window_start(now, cfg) == T + 5 * DAY
    assert window_refusal(T + 5 * DAY, now, cfg) is None
    refusal = window_refusal(T + 5 * DAY - 1, now, cfg)
    assert refusal is not None
    assert "within 5 days" in refusal
    assert window_refusal(T + 2 * DAY, now, RulesConfig()) is None  # 10 days by default


def test_a_form_gets_every_error_at_once() -> None:
    assert check_form("correction", "hour", "unit was mg not g", 12.5) == []
    errors = check_form("rewrite", "day", " ", None)
    assert len(errors) == 3
    assert check_form("correction", "hour", "r", float("nan")) == [
        "a correction needs a new value, a number not below zero"
    ]


def _exceeding_day() -> tuple[list[object], int]:
    """Hours 0-5 of a gas station; hour 2's SO2 is over its 35 mg/m³ limit."""
    station = gas_station("REJ0001")
    records = hourly(station, range(6))
    records[2] = hourly(station, [2], a21026=80.0)[0]
    return [station, *records], T + 2 * HOUR


def test_a_corrected_hour_under_the_limit_clears_its_exceedance_and_says_why() -> None:
    station, *records = _exceeding_day()[0]
    eng = engine(station)  # type: ignore[arg-type]
    out = run(eng, records, START + 8 * H)  # type: ignore[arg-type]
    (raised,) = alarms(out, "exceedance")
    assert raised.data_time == START + 2 * H
    fix = Correction(7, "REJ0001", "a21026", START + 2 * H, "correction", 20.0, 80.0, 9.0,
                     START + 30 * H)  # fmt: skip
    after = eng.on_correction(fix)
    assert clears(after) == []  # its condition had ended with hour 3; it is withdrawn
    (note,) = alarms(after, "rejudged")
    assert note.severity == "info"
    assert note.detail["cleared"] == [raised.key]
    assert "correction 7 approved" in str(note.detail["reason"])
    assert "against 35" in str(note.detail["judged"])


def test_a_corrected_hour_over_the_limit_raises_and_a_substituted_one_never() -> None:
    station = gas_station("REJ0002")
    eng = engine(station)
    run(eng, hourly(station, range(6)), START + 8 * H)
    # measured 20 at 9 % O2: converted to 6 % it is 20 x 15/12 = 25; corrected to 60 -> 75
    over = Correction(1, "REJ0002", "a21026", START + 3 * H, "correction", 60.0, 20.0, 9.0,
                      START + 9 * H)  # fmt: skip
    out = eng.on_correction(over)
    (raised,) = alarms(out, "exceedance")
    assert raised.value == pytest.approx(75.0)
    assert raised.detail["correction"] == 1
    sub = Correction(2, "REJ0002", "a21026", START + 4 * H, "substitution", 900.0, None, None,
                     START + 9 * H)  # fmt: skip
    out = eng.on_correction(sub)
    assert alarms(out, "exceedance") == []
    (note,) = alarms(out, "rejudged")
    assert "never judged" in str(note.detail["judged"])


def test_a_late_mark_withdraws_the_exceedance_of_hours_already_judged() -> None:
    station, *records = _exceeding_day()[0]
    eng = engine(station)  # type: ignore[arg-type]
    out = run(eng, records, START + 8 * H)  # type: ignore[arg-type]
    (raised,) = alarms(out, "exceedance")
    late = mark("REJ0001", START + H, START + 4 * H, "calibration", ident=5,
                marked_at=START + 20 * H)  # fmt: skip
    after = eng.on_mark(late)
    assert clears(after) == []
    (note,) = [a for a in after if isinstance(a, Alarm) and a.kind == "rejudged"]
    assert note.detail["cleared"] == [raised.key]
    # a mark made in time (before its hours were judged) re-judges nothing
    early = mark("REJ0001", START + 10 * H, START + 12 * H, "calibration", ident=6,
                 marked_at=START + 9 * H)  # fmt: skip
    assert eng.on_mark(early) == []


def test_the_exceeded_hours_survive_a_restart_and_are_forgotten_after_the_window() -> None:
    station, *records = _exceeding_day()[0]
    eng = engine(station, correction_window_days=1)  # type: ignore[arg-type]
    run(eng, records, START + 8 * H)  # type: ignore[arg-type]
    state = eng.states["REJ0001"]
    assert list(state.exceeded["a21026"]) == [str(T + 2 * HOUR)]
    assert StationState.from_json(state.to_json()).exceeded == state.exceeded
    eng.tick(START + 2 * H + timedelta(days=1, hours=3))
    assert eng.states["REJ0001"].exceeded == {}
    assert "exceeded" not in StationState("X").to_json()  # old states dump the same bytes


def test_emission_amounts_count_substituted_and_corrected_apart() -> None:
    station = gas_station("EMI0001")
    hours = {
        (code, T + h * HOUR): HourData(Reading(avg=value, flag="N"), T + (h + 1) * HOUR)
        for h in range(4)
        for code, value in (("a21026", 20.0), ("a00000", 10.0))  # m³/s: 36,000 m³ an hour
    }
    adjusted = {
        ("a21026", T + HOUR): Adjusted("correction", 30.0),  # the value corrected
        ("a00000", T + 2 * HOUR): Adjusted("correction", 20.0),  # the volume corrected
        ("a21026", T + 3 * HOUR): Adjusted("correction", 25.0),
        ("a00000", T + 3 * HOUR): Adjusted("substitution", 5.0),  # both: substituted wins
    }
    out = emission_totals(station, hours, ["a21026"], T, T + 4 * HOUR, None, adjusted)
    (so2,) = out["a21026"].values()
    kg = 36_000 * 1e-6  # kg per mg/m³ in one hour at 10 m³/s
    assert so2.measured == pytest.approx(20 * kg)  # hour 0 only
    assert so2.corrected == pytest.approx(30 * kg + 20 * 2 * kg)
    assert so2.substituted == pytest.approx(25 * kg / 2)
    assert (so2.hours, so2.corrected_hours, so2.substituted_hours) == (4, 2, 1)
    (flow,) = out["a00000"].values()
    assert flow.computed == pytest.approx(36_000 * 2 + 72_000 + 18_000)
    assert (flow.corrected_hours, flow.substituted_hours) == (1, 1)


def test_a_corrected_water_hour_judges_its_day_again_on_the_flow_weighted_mean() -> None:
    station = water_station("WREJ001")
    eng = engine(station)
    out = run(eng, hourly(station, range(24), w01018=52.0), START + 26 * H)  # COD limit 50/day
    (raised,) = [a for a in alarms(out, "exceedance") if a.pollutant == "w01018"]
    assert raised.detail["period"] == "day"
    q = [varied(GOOD_WATER, h)["w00000"] for h in range(24)]  # flows wobble by ±5 %
    # hour 5 read 52 for 2: the day's mean is about 52 - 50/24 = 49.92, under 50
    fix = Correction(3, "WREJ001", "w01018", START + 5 * H, "correction", 2.0, 52.0, None,
                     START + 30 * H, flow_avg=q[5])  # fmt: skip
    (note,) = alarms(eng.on_correction(fix), "rejudged")
    assert note.detail["cleared"] == [raised.key]
    assert f"daily mean {(52 * sum(q) - 50 * q[5]) / sum(q):g}" in str(note.detail["reason"])
    # corrected back over the limit: the day exceeds again, in an alarm of its own
    back = Correction(4, "WREJ001", "w01018", START + 6 * H, "correction", 100.0, 52.0, None,
                      START + 31 * H, flow_avg=q[6])  # fmt: skip
    out = eng.on_correction(back)
    (again,) = alarms(out, "exceedance")
    assert again.key.endswith(":exceedance-day:w01018:correction:4")
    weighted = (52 * sum(q) - 50 * q[5] + 48 * q[6]) / sum(q)
    assert again.value == pytest.approx(weighted)


def test_a_late_shutdown_mark_withdraws_the_missing_hours_but_a_calibration_does_not() -> None:
    station = gas_station("MISS001")
    eng = engine(station)
    records = hourly(station, [h for h in range(10) if not 3 <= h < 6])
    out = run(eng, records, START + 10 * H + timedelta(minutes=30))  # hours 0-9 judged
    (missing,) = alarms(out, "hour-missing")
    assert missing.data_time == START + 3 * H
    calibration = mark("MISS001", START + 3 * H, START + 6 * H, "calibration", ident=8,
                       marked_at=START + 20 * H)  # fmt: skip
    assert alarms(eng.on_mark(calibration), "rejudged") == []  # missing is still missing
    # hours 3 and 4 counted in the alarm (hour 5 fell in the outage case opened at 06:00)
    assert sorted(eng.states["MISS001"].missed.values())[:2] == [missing.key] * 2
    shutdown = mark("MISS001", START + 3 * H, START + 4 * H, "shutdown", ident=9,
                    marked_at=START + 21 * H)  # fmt: skip
    (note,) = alarms(eng.on_mark(shutdown), "rejudged")
    assert note.detail["kept"] == [missing.key]  # hour 4 is still missing, and not marked
    whole = mark("MISS001", START + 4 * H, START + 6 * H, "shutdown", ident=10,
                 marked_at=START + 22 * H)  # fmt: skip
    (note,) = alarms(eng.on_mark(whole), "rejudged")
    assert note.detail["cleared"] == [missing.key]
    assert "not expected" in str(note.detail["reason"])
