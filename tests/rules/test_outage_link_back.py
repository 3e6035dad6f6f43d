"""What an open outage case still asks for once the station is heard again, when its
data say the plant is stopped (flag F): rules/outage.py ``after_link_back``
(docs/console.md §6)."""

from __future__ import annotations

import pytest

from rules.config import RulesConfig
from rules.model import Reading
from rules.outage import EXPECTED, PHASES, after_link_back

CFG = RulesConfig()


def water(flag: str, flow: float | None) -> dict[str, Reading]:
    out = {"w01018": Reading(avg=12.0, flag=flag), "w21003": Reading(avg=1.1, flag=flag)}
    if flow is not None:
        out["w00000"] = Reading(avg=flow, flag=flag)
    return out


def gas(flag: str, o2: float, flow: float = 1000.0) -> dict[str, Reading]:
    return {
        "a21026": Reading(rtd=3.0, flag=flag),
        "a19001": Reading(rtd=o2, flag="N"),
        "a00000": Reading(rtd=flow, flag="N"),
    }


def test_nothing_heard_keeps_the_outage() -> None:
    assert after_link_back({}, CFG) == "silent"


@pytest.mark.parametrize("flow", [0.0, -0.1])
def test_f_with_no_flow_is_a_stopped_plant(flow: float) -> None:
    assert after_link_back(water("F", flow), CFG) == "stopped"


def test_f_with_air_level_oxygen_is_a_stopped_gas_unit() -> None:
    assert after_link_back(gas("F", o2=20.6), CFG) == "stopped"


@pytest.mark.parametrize(
    "readings",
    [water("F", 0.3), water("F", None), gas("F", o2=8.0)],
    ids=["water-flowing", "no-flow-meter", "gas-running"],
)
def test_f_while_the_unit_runs_is_invalid_data_and_the_case_stands(
    readings: dict[str, Reading],
) -> None:
    assert after_link_back(readings, CFG) == "flag-without-stop"


def test_a_shutdown_mark_says_stopped_whatever_the_values() -> None:
    assert after_link_back(water("F", 0.3), CFG, stopped_mark=True) == "stopped"


def test_valid_data_and_other_flags() -> None:
    assert after_link_back(water("N", 4.0), CFG) == "valid"
    assert after_link_back(water("D", 4.0), CFG) == "invalid"
    mixed = {**water("F", 0.0), "w01018": Reading(avg=3.0, flag="D")}
    assert after_link_back(mixed, CFG) == "invalid"


def test_every_phase_says_who_is_expected_to_do_what() -> None:
    assert set(EXPECTED) == set(PHASES)
    stopped = {what: who for who, what in EXPECTED["stopped"]}
    assert stopped == {
        "report": "enterprise",
        "stop-notice": "enterprise",
        "review-stop": "regulator",
    }
    assert "manual-sample" not in stopped  # nothing emitted, nothing to sample
    assert ("enterprise", "manual-sample") in EXPECTED["flag-without-stop"]
