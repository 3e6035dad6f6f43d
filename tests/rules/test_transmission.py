"""Effective transmission rate: the worked examples of docs/regulations.md §1.6."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rules.config import RulesConfig
from rules.model import Reading
from rules.times import HOUR, us
from rules.transmission import Counts, Tally, below, exempt_check_hours, tally
from rules.validity import HourStatus, hour_status, mark_effect
from tests.rules.support import START, mark

CFG = RulesConfig()


def pct(rate: float | None) -> float:
    assert rate is not None
    return round(rate * 100, 2)


def test_example_a_gas_month_is_97_57_percent() -> None:
    """30-day month, SO2/NOx/PM: 48 h shutdown, 10 h outage, 6 h calibration on SO2 and
    NOx, 4 h of D on PM, 3 hours under 45 valid minutes (§1.6 A)."""
    shutdown = mark("M", START, START + timedelta(hours=48), "停运")
    calibration = mark("M", START + timedelta(hours=200), START + timedelta(hours=206), "校准")
    marks = [shutdown, calibration]
    hours: list[tuple[HourStatus, bool]] = []
    for factor in ("a21026", "a21002", "a34013"):
        for h in range(720):
            start = us(START) + h * HOUR
            effect = mark_effect(
                [m for m in marks if m is shutdown or factor != "a34013"],
                factor,
                start,
                start + HOUR,
            )
            if 100 <= h < 110:
                reading = None  # communication outage: nothing received
            elif factor == "a34013" and 300 <= h < 304:
                reading = Reading(avg=5.0, flag="D")
            else:
                reading = Reading(avg=5.0, flag="N")
            minutes = 40 if factor == "a21026" and 400 <= h < 403 else 60
            status = hour_status(
                medium="gas",
                reading=reading,
                valid_minutes=minutes,
                mark=effect,
                unit_stopped=False,
                cfg=CFG,
            )
            hours.append((status, True))
    month = tally(hours)
    counts = month.completion
    assert (counts.expected, counts.received, counts.valid) == (2016, 1986, 1967)
    assert month.shutdown == 48 * 3
    assert pct(counts.tr) == 98.51
    assert pct(counts.er) == 99.04
    assert pct(counts.etr) == 97.57
    assert counts.tr is not None
    assert counts.er is not None
    assert counts.etr == pytest.approx(counts.tr * counts.er)  # ETR = TR x ER
    assert not below(counts, 0.95)
    # the vendor formula (ER = valid / expected, times TR) counts missing data twice
    vendor = (counts.received / counts.expected) * (counts.valid / counts.expected)
    assert round(vendor * 100, 2) == 96.12


def test_example_b_water_day_is_95_65_percent() -> None:
    """COD, NH3-N, TP, TN for one day; one check hour each is exempt (§1.6 B)."""
    cfg = CFG
    day = Tally()
    for factor in cfg.water_check_factors:
        hours = []
        for h in range(24):
            if h == 3 or (
                factor == "w01018" and h in (10, 11)
            ):  # the automatic standard-sample check: no data
                reading = None
            elif factor == "w21003" and h == 15:
                reading = Reading(avg=1.0, flag="M")  # maintenance
            elif factor == "w21001" and h == 16:
                reading = Reading(avg=1.0, flag="D")  # fault
            else:
                reading = Reading(avg=1.0, flag="N")
            status = hour_status(
                medium="water",
                reading=reading,
                valid_minutes=None,
                mark=None,
                unit_stopped=False,
                cfg=cfg,
            )
            hours.append((status, True))
        day = day + exempt_check_hours(tally(hours), cfg.water_check_exempt_hours)
    counts = day.completion
    assert (counts.expected, counts.received, counts.valid) == (92, 90, 88)
    assert pct(counts.tr) == 97.83
    assert pct(counts.er) == 97.78
    assert pct(counts.etr) == 95.65
    assert not below(counts, 0.95)  # passes, only just


@pytest.mark.parametrize(
    ("expected", "lost", "rate", "passes"),
    [(24, 1, 95.83, True), (24, 2, 91.67, False), (23, 1, 95.65, True), (720, 36, 95.00, False)],
)
def test_example_c_how_much_loss_95_percent_tolerates(
    expected: int, lost: int, rate: float, passes: bool
) -> None:
    counts = Counts(expected, expected - lost, expected - lost)
    assert pct(counts.etr) == rate
    assert below(counts, 0.95) is not passes
    # 不低于 (reaching the threshold is enough): only the exact 95.00 % changes side
    assert below(counts, 0.95, strict=False) is not (passes or lost * 20 == expected)


def test_check_hour_exemption_takes_the_worst_hour_first() -> None:
    # a day whose every hour is valid has no check hour to forgive: 100 % either way
    all_valid = Tally(24, 24, 24, 24, 24)
    assert exempt_check_hours(all_valid, 1).completion == Counts(24, 24, 24)
    first_hour = Tally(1, 1, 1, 1, 1)  # a day still running, its one hour judged valid
    assert exempt_check_hours(first_hour, 1).completion.etr == 1.0
    late = Tally(24, 24, 24, 24, 23)  # one hour late: forgiven in the realtime variant
    assert exempt_check_hours(late, 1).realtime == Counts(23, 23, 23)
    assert exempt_check_hours(late, 1).completion.etr == 1.0
    one_invalid = Tally(24, 24, 23, 24, 23)
    assert exempt_check_hours(one_invalid, 1).completion == Counts(23, 23, 23)
    one_missing = Tally(24, 23, 23, 23, 23)
    assert exempt_check_hours(one_missing, 1).completion == Counts(23, 23, 23)


def test_realtime_counts_only_what_arrived_on_time() -> None:
    valid = HourStatus(True, True, True, "valid")
    month = tally(
        [(valid, True), (valid, False), (HourStatus(True, False, False, "missing"), False)]
    )
    assert month.completion == Counts(3, 2, 2)
    assert month.realtime == Counts(3, 1, 1)


def test_nothing_expected_has_no_rate_and_never_fails() -> None:
    assert Counts().etr is None
    assert not below(Counts(), 0.95)
