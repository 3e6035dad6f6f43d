"""The registry's per-pollutant unit in the emission amounts (rules/emissions.py)."""

from __future__ import annotations

import pytest

from rules.emissions import amount, cou_mismatch, hour_total, mass_factor
from rules.model import Reading


def test_the_code_tables_unit_by_default_and_the_registrys_when_given() -> None:
    # total mercury: µg/L, -Cou in g (HJ 212-2017 Table B.1): 2 µg/L x 1000 m³ = 2 g
    assert amount("w20111", 2.0, 1000.0) == pytest.approx(2.0)
    # the same device registered as sending mg/L: 0.002 mg/L x 1000 m³ = 2 g
    assert amount("w20111", 0.002, 1000.0, "mg/L") == pytest.approx(2.0)
    assert mass_factor("w20111", "mg/L") == pytest.approx(1000 * mass_factor("w20111"))  # type: ignore[operator]
    # COD in mg/L, -Cou in kg: 30 mg/L x 1000 m³ = 30 kg, whatever the registry repeats
    assert amount("w01018", 30.0, 1000.0, "mg/L") == pytest.approx(30.0)


def test_an_hour_total_and_the_cou_check_follow_the_unit() -> None:
    reading = Reading(avg=0.002, min=0.002, max=0.002, cou=2.0, flag="N")
    assert hour_total("w20111", reading, 1000.0, "mg/L").computed == pytest.approx(2.0)
    assert cou_mismatch("w20111", reading, 1000.0, 0.02, "mg/L") is None
    # read as µg/L the same Cou would be a thousand times too large
    assert cou_mismatch("w20111", reading, 1000.0, 0.02) is not None


def test_a_unit_that_is_not_a_concentration_gives_no_amount() -> None:
    assert amount("w20111", 2.0, 1000.0, "dB") is None
