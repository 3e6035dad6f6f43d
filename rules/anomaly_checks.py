"""Consistency anomalies within one record (docs/regulations.md §5, A15-A17, A19, A20).

Each function looks at the readings of one record (all factors of one DataTime) and
returns what is inconsistent, or nothing. MEP Order 19 第十九条 treats "data obviously
inconsistent with operating conditions" as abnormal operation [P]; the tolerances are
engineering defaults [E] in :class:`rules.config.RulesConfig`.
"""

from __future__ import annotations

from collections.abc import Mapping

from rules.config import RulesConfig
from rules.emissions import mass_factor
from rules.model import FLOW_CODES, NO, NO2, NOX, OXYGEN, Reading
from rules.validity import converted

_NO2_PER_NO = 46.005 / 30.006  # NOx is reported as NO2 (HJ 75 A4)


def concentrations(readings: Mapping[str, Reading]) -> list[str]:
    """Factors that are emitted masses (they have a ``-Cou`` unit), flows excluded."""
    return sorted(
        code
        for code in readings
        if code not in FLOW_CODES and code != OXYGEN and mass_factor(code) is not None
    )


def flow_zero_with_concentrations(
    readings: Mapping[str, Reading], flow_code: str, cfg: RulesConfig
) -> list[str]:
    """A17: a flow of 0 while the analysers report concentrations above 0 as normal.

    Not when the flow is flagged F: the logger says the plant is stopped (HJ 212-2017
    Table 8), and a stopped plant's analysers read leftovers; whether the stop is real is
    the rate's question (docs/regulations.md §1.3), not an anomaly of every such record. Not
    when O2 is at air level either: the unit is stopped (that is A19's business).
    """
    flow = readings.get(flow_code)
    if flow is None or flow.flag == "F" or flow.value is None or flow.value > 0:
        return []
    o2 = readings.get(OXYGEN)
    if o2 is not None and o2.value is not None and o2.value >= cfg.o2_ambient:
        return []
    return [
        code
        for code in concentrations(readings)
        if readings[code].normal and (value := readings[code].value) is not None and value > 0
    ]


def o2_implausible(
    readings: Mapping[str, Reading], flow_code: str, shutdown_marked: bool, cfg: RulesConfig
) -> str | None:
    """A19: O2 outside 0-21 %, or at air level while the flow says the unit runs."""
    o2 = readings.get(OXYGEN)
    if o2 is None or o2.value is None:
        return None
    if o2.value < 0 or o2.value > 21:
        return "impossible"
    flow = readings.get(flow_code)
    running = flow is not None and flow.value is not None and flow.value > 0
    if o2.value >= cfg.o2_ambient and running and not shutdown_marked:
        return "air-level"
    return None


def converted_mismatch(
    readings: Mapping[str, Reading],
    o2_ref: float | None,
    cfg: RulesConfig,
    *,
    period: bool = False,
) -> list[tuple[str, float, float]]:
    """A16: the device's Zs against C x (21 - O2_ref) / (21 - O2); (code, zs, expected).

    Only normal (flag N) values are compared, O2 included: an abnormal value is invalid
    and not judged, and a record whose samples were partly abnormal averages different
    samples for C, O2 and Zs. ``period``: a minute, hour or day record, whose ZsAvg
    loggers take as the mean of per-sample Zs, not the formula on the means: judged
    with ``converted_period_tolerance``.
    """
    o2 = readings.get(OXYGEN)
    if o2_ref is None or o2 is None or o2.value is None or o2.value >= cfg.o2_ambient:
        return []
    if not o2.normal:
        return []
    tolerance = cfg.converted_period_tolerance if period else cfg.converted_tolerance
    found = []
    for code, reading in sorted(readings.items()):
        if reading.zs is None or reading.value is None or not reading.normal:
            continue
        expected = converted(reading.value, o2.value, o2_ref)
        if expected is None:
            continue
        slack = tolerance * abs(expected) + 0.01  # plus the last digit
        if abs(reading.zs - expected) > slack:
            found.append((code, reading.zs, expected))
    return found


def nox_inversion(readings: Mapping[str, Reading], cfg: RulesConfig) -> bool:
    """A15: NOx (as NO2) below NO x 46.005/30.006, or below NO2."""
    nox, no, no2 = (readings.get(c) for c in (NOX, NO, NO2))
    if nox is None or nox.value is None:
        return False
    floor = 0.0
    if no is not None and no.value is not None:
        floor = max(floor, no.value * _NO2_PER_NO)
    if no2 is not None and no2.value is not None:
        floor = max(floor, no2.value)
    return nox.value < floor * (1 - cfg.aggregate_tolerance) - 0.5
