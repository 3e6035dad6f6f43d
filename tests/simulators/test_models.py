"""Station models: deterministic, plausible, and the period records reconcile with the
real-time values they are built from."""

from __future__ import annotations

from datetime import datetime

import pytest

from simulators import records
from simulators.models import (
    CEMS,
    CEMS_NOX,
    FLOW,
    NO2_PER_NO,
    WATER,
    Model,
    converted,
    make_station,
    reading,
)
from simulators.scenario import Fault


def num(value: object) -> float:
    assert isinstance(value, float | int)
    return float(value)


T0 = int(datetime.fromisoformat("2026-03-03T09:00:00+08:00").timestamp())  # a Tuesday


@pytest.mark.parametrize("model", [CEMS, WATER, FLOW])
def test_readings_are_pure_functions_of_seed_station_and_time(model: Model) -> None:
    a = make_station(3, "A" * 24, model, 212)
    b = make_station(3, "A" * 24, model, 212)
    other = make_station(3, "A" * 24, model, 213)
    times = [T0 + 30 * k for k in range(50)]
    assert [reading(a, t) for t in times] == [reading(b, t) for t in reversed(times)][::-1]
    assert [reading(a, t) for t in times] != [reading(other, t) for t in times]
    assert all(set(reading(a, t)) == set(model.codes) for t in times)


def test_cems_values_are_plausible_and_zs_uses_the_reference_oxygen() -> None:
    station = make_station(0, "A" * 24, CEMS, 212, o2_ref=6.0)
    sample = reading(station, T0)
    o2 = sample["a19001"][0]
    assert 3 < o2 < 15
    zs = converted(station, sample)
    assert set(zs) == {"a21026", "a21002", "a34013"}
    expected = sample["a21026"][0] * (21 - 6.0) / (21 - o2)
    assert zs["a21026"] == pytest.approx(expected, abs=0.01)


def test_a_plant_off_shift_reports_flag_f() -> None:
    water = make_station(1, "A" * 24, WATER, 212)
    night = int(datetime.fromisoformat("2026-03-03T03:00:00+08:00").timestamp())
    sunday = int(datetime.fromisoformat("2026-03-08T12:00:00+08:00").timestamp())
    assert {f for _, f in reading(water, night).values()} == {"F"}
    assert {f for _, f in reading(water, sunday).values()} == {"F"}
    assert {f for _, f in reading(water, T0 + 3600).values()} == {"N"}


@pytest.mark.parametrize("model", [CEMS, WATER])
def test_minute_hour_and_day_records_reconcile_with_the_real_time_values(model: Model) -> None:
    station = make_station(2, "A" * 24, model, 212)
    step = 30
    minute = records.period(station, T0, 600, step)
    rtd = [records.realtime(station, t) for t in range(T0, T0 + 600, step)]
    for f in model.factors:
        values = [num(r[f.code]["Rtd"]) for r in rtd]
        fields = minute[f.code]
        assert fields["Min"] == min(values)
        assert fields["Max"] == max(values)
        assert fields["Avg"] == pytest.approx(sum(values) / len(values), abs=10**-f.decimals)
        assert fields["Flag"] == "N"
    hour = records.period(station, T0, 3600, step)
    minutes = [records.period(station, T0 + 600 * k, 600, step) for k in range(6)]
    flow = model.flow
    # each Cou is rounded to 3 decimals: the sum of six may differ by their rounding
    assert hour[flow]["Cou"] == pytest.approx(sum(num(m[flow]["Cou"]) for m in minutes), abs=0.004)
    assert hour[flow]["Max"] == max(num(m[flow]["Max"]) for m in minutes)
    day = records.period(station, records.day_start(T0), 86400, step)
    assert num(day[flow]["Cou"]) > num(hour[flow]["Cou"])


def test_a_month_of_day_records_is_computed_without_running_through_it() -> None:
    station = make_station(4, "A" * 24, WATER, 212)
    start = records.day_start(T0)
    days = [records.period(station, start + 86400 * d, 86400, 300) for d in range(31)]
    assert len(days) == 31
    assert all(num(d["w00000"]["Cou"]) >= 0 for d in days)


def test_flags_aggregate_per_the_notes_to_tables_c16_c18() -> None:
    fault = Fault("fault", 0, 90, pollutants=frozenset({"a21026", "w01018"}))
    bound = fault.bind(T0)
    gas = make_station(0, "A" * 24, CEMS, 212, faults=(bound,))
    water = make_station(1, "A" * 24, WATER, 212, faults=(bound,))
    # 3 of 20 readings flagged D: gas stays N (>= 75 % normal), water is abnormal
    assert records.period(gas, T0, 600, 30)["a21026"]["Flag"] == "N"
    assert records.period(water, T0, 600, 30)["w01018"]["Flag"] == "D"
    # and the average leaves the faulty readings out
    valid = [num(records.realtime(water, t)["w01018"]["Rtd"]) for t in range(T0 + 90, T0 + 600, 30)]
    assert records.period(water, T0, 600, 30)["w01018"]["Avg"] == pytest.approx(
        sum(valid) / len(valid), abs=0.1
    )


@pytest.mark.parametrize(
    ("kind", "check"),
    [
        ("maintenance", lambda v, f: f == "M"),
        ("calibration", lambda v, f: f == "C" and v in (0.0, 160.0)),
        ("zeros", lambda v, f: v == 0.0 and f == "N"),
        ("negatives", lambda v, f: v < 0 and f == "N"),
        ("over_range", lambda v, f: v > 200 and f == "T"),
        ("exceedance", lambda v, f: v > 35 and f == "N"),
    ],
)
def test_value_faults(kind: str, check: object) -> None:
    fault = Fault(kind, 0, 600, pollutants=frozenset({"a21026"}), factor=1.6).bind(T0)
    station = make_station(0, "A" * 24, CEMS, 212, faults=(fault,))
    for t in range(T0, T0 + 600, 30):
        value, flag = reading(station, t)["a21026"]
        assert check(value, flag), (kind, value, flag)  # type: ignore[operator]
    assert reading(station, T0 + 600)["a21026"][1] == "N"


def test_a_stuck_value_stays_put() -> None:
    fault = Fault("stuck", 0, 600).bind(T0)
    station = make_station(0, "A" * 24, WATER, 212, faults=(fault,))
    values = {reading(station, t)["w01018"][0] for t in range(T0, T0 + 600, 30)}
    assert len(values) == 1


def test_an_absent_analyser_leaves_its_factor_out_of_every_upload_but_o2_and_flow_stay() -> None:
    fault = Fault("absent", 0, 3600, pollutants=frozenset({"a21026", "a19001", "a00000"}))
    station = make_station(0, "A" * 24, CEMS, 212, faults=(fault.bind(T0),))
    sample = records.realtime(station, T0 + 30)
    assert "a21026" not in sample
    assert {"a19001", "a00000", "a21002"} <= sample.keys()
    assert "ZsRtd" in sample["a21002"]
    hour = records.period(station, T0, 3600, 30)
    assert "a21026" not in hour
    clean = records.period(make_station(0, "A" * 24, CEMS, 212), T0, 3600, 30)
    assert hour["a00000"] == clean["a00000"]  # the flow and its volume untouched
    assert hour["a21002"] == clean["a21002"]
    assert "a21026" in records.realtime(station, T0 + 3600)


def test_a_cems_nox_reports_the_no_and_no2_its_nox_is_made_of() -> None:
    station = make_station(0, "N" * 24, CEMS_NOX, 212)
    for t in range(T0, T0 + 3600, 300):
        sample = reading(station, t)
        nox, no, no2 = (sample[c][0] for c in ("a21002", "a21003", "a21004"))
        assert nox > 0
        assert no * NO2_PER_NO + no2 == pytest.approx(nox, abs=0.06)  # rounding only
        assert no2 < no
    hour = records.period(station, T0, 3600, 30)
    nox_avg, no_avg, no2_avg = (hour[c]["Avg"] for c in ("a21002", "a21003", "a21004"))
    assert isinstance(nox_avg, float)
    assert isinstance(no_avg, float)
    assert isinstance(no2_avg, float)
    assert no_avg * NO2_PER_NO + no2_avg == pytest.approx(nox_avg, rel=0.01)
    assert "a21003" not in reading(make_station(0, "N" * 24, CEMS, 212), T0)  # plain CEMS


def test_nox_inversion_lowers_nox_alone_below_its_parts() -> None:
    fault = Fault("nox_inversion", 600, 600, factor=0.5)
    station = make_station(0, "N" * 24, CEMS_NOX, 212, faults=(fault.bind(T0),))
    clean = make_station(0, "N" * 24, CEMS_NOX, 212)
    before, during = reading(station, T0 + 300), reading(station, T0 + 900)
    assert before == reading(clean, T0 + 300)
    truth = reading(clean, T0 + 900)
    assert during["a21002"][0] == pytest.approx(truth["a21002"][0] * 0.5, abs=0.06)
    assert (during["a21003"], during["a21004"]) == (truth["a21003"], truth["a21004"])
    assert during["a21002"][0] < during["a21003"][0] * NO2_PER_NO
