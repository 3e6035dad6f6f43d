"""HJ/T 212-2005 values in HJ 212-2017 units (docs/protocol.md §16).

The 2005 appendix gives water metals in mg/L where the 2017 Table B.1 uses µg/L or
ng/L, flue-gas pressures (S04 动压, S08 压力) in MPa where Table B.2 uses kPa, and every
pollutant's -Cou in kg (2005 "其它计量单位说明") where 2017 gives the metals g or mg.
Mapping the code without the value would store 0.101 MPa as 0.101 kPa, so a 2005 value
is multiplied by the factor between the two printed units, and the frame says so.

The conversions are derived from the two code tables (``TABLE_2005`` against
``FACTORS``), not listed by hand; :data:`NOT_CONVERTED` names the rows whose printed
units differ only through a misprint, where a factor would make the number wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from protocol.pollutants import CODE_2005_TO_2017, FACTORS, TABLE_2005

# symbol -> (dimension, multiple of the dimension's base unit)
_SCALE: Final = {
    "mg/L": ("mass/volume", 1e-3),
    "μg/L": ("mass/volume", 1e-6),
    "ng/L": ("mass/volume", 1e-9),
    "mg/m³": ("mass/volume", 1e-3),
    "ng/m³": ("mass/volume", 1e-9),
    "MPa": ("pressure", 1e6),
    "kPa": ("pressure", 1e3),
    "Pa": ("pressure", 1.0),
    "kg": ("mass", 1e3),
    "g": ("mass", 1.0),
    "mg": ("mass", 1e-3),
}
# HJ/T 212-2005 "其它计量单位说明": pollutant amounts (-Cou) are in kg.
COU_UNIT_2005: Final = "kg"
# Printed unit pairs that are misprints, not different units (pollutants.py docstring):
# S02 is a velocity printed m³/h in 2005 (2017: m/s); a21001 NH3 is printed ng/m³ in
# 2017 where every neighbouring row points at µg/m³ (and devices send mg/m³).
NOT_CONVERTED: Final = frozenset({"S02", "10"})
CONCENTRATION_FIELDS: Final = frozenset(
    {"Rtd", "Min", "Avg", "Max", "ZsRtd", "ZsMin", "ZsAvg", "ZsMax"}
)
AMOUNT_FIELDS: Final = frozenset({"Cou", "ZsCou"})


@dataclass(frozen=True, slots=True)
class Conversion:
    """One unit change: ``value_2017 = value_2005 * factor``."""

    unit_2005: str
    unit_2017: str
    factor: float

    def label(self) -> str:
        return f"{self.unit_2005}->{self.unit_2017}x{self.factor:g}"


def _factor(unit_2005: str, unit_2017: str) -> float | None:
    """The multiplier between two units of one dimension; None when not comparable."""
    a, b = _SCALE.get(unit_2005), _SCALE.get(unit_2017)
    if a is None or b is None or a[0] != b[0]:
        return None
    return round(a[1] / b[1], 9)


def _conversion(unit_2005: str, unit_2017: str) -> Conversion | None:
    if not unit_2005 or not unit_2017 or unit_2005 == unit_2017:
        return None
    factor = _factor(unit_2005, unit_2017)
    return Conversion(unit_2005, unit_2017, factor) if factor not in (None, 1.0) else None


def _build() -> tuple[dict[str, Conversion], dict[str, Conversion]]:
    concentration: dict[str, Conversion] = {}
    amount: dict[str, Conversion] = {}
    for old, new in CODE_2005_TO_2017.items():
        printed = TABLE_2005.get(old)
        if printed is None or old in NOT_CONVERTED:
            continue
        factor = FACTORS[new]
        found = _conversion(printed[1], factor.unit)
        if found is not None:
            concentration[old] = found
        if printed[1] and factor.cou_unit:
            cou = _conversion(COU_UNIT_2005, factor.cou_unit)
            if cou is not None:
                amount[old] = cou
    return concentration, amount


# 2005 code -> its conversion, for concentrations (and pressures) and for amounts.
CONCENTRATION_2005, AMOUNT_2005 = _build()


def conversion(code_2005: str, field: str) -> Conversion | None:
    """The conversion of one field (``Rtd``, ``Cou``...) of a 2005 code, if any."""
    if field in CONCENTRATION_FIELDS:
        return CONCENTRATION_2005.get(code_2005)
    if field in AMOUNT_FIELDS:
        return AMOUNT_2005.get(code_2005)
    return None


def to_2005_value(code_2005: str, field: str, value: float) -> float:
    """A 2017-unit value in the 2005 unit of ``code_2005`` (what a 2005 device sends)."""
    found = conversion(code_2005, field)
    return value if found is None else round(value / found.factor, 9)
