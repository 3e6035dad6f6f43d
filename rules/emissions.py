"""Emission amounts (排放量, HJ 212 ``-Cou``), docs/regulations.md §4.

mass = concentration x volume x unit factor, with the **measured** (实测, not
converted) concentration and the dry standard volume:

* gas: mg/m³ x m³ x 10⁻⁶ = kg;  water: mg/L x m³ x 10⁻³ = kg (mg/L = g/m³);
* the factor follows the code table (HJ 212-2017 App. B): a factor whose ``-Cou`` is in
  g (mercury in µg/L, say) gets the factor that gives g; a station whose registry gives
  the factor another concentration unit (``station_pollutant.unit``: a device sending
  mercury in mg/L) has its amounts computed from that unit, still in the table's ``-Cou``
  unit;
* the hour's volume is the flow factor's ``-Cou`` (m³), else its mean rate times the
  hour (a00000 in m³/s, w00000 in L/s);
* totals are sums of hourly amounts (HJ 212-2017 App. D: day = Σ hours); emissions
  during exceedances count in the total (排污许可管理条例 第二十一条).

Missing or invalid hours are not filled in by the platform on its own (HJ 75-2017 修约
rules not verified, §2.2): totals cover the hours with data, and the report says how
many. An approved substitution or correction (rules/corrections.py) of a factor or of
the flow counts its hour's amount apart, as substituted or corrected
(docs/corrections.md §3): substituted wins when both concern one hour.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

from protocol.pollutants import lookup
from rules.model import Reading

_MASS_MG = {"t": 1e9, "kg": 1e6, "g": 1e3, "mg": 1.0, "μg": 1e-3, "µg": 1e-3, "ng": 1e-6}
_VOLUME_M3 = {"m³": 1.0, "m3": 1.0, "L": 1e-3}
_RATE_M3_PER_S = {"m³/s": 1.0, "L/s": 1e-3, "m³/h": 1 / 3600}


def mass_factor(code: str, unit: str | None = None) -> float | None:
    """Amount (in the code's ``-Cou`` unit) per (concentration unit x m³), or None."""
    factor = lookup(code)
    if factor is None or not factor.cou_unit:
        return None
    mass, _, volume = (unit or factor.unit).partition("/")
    if mass not in _MASS_MG or volume not in _VOLUME_M3 or factor.cou_unit not in _MASS_MG:
        return None
    return _MASS_MG[mass] / _VOLUME_M3[volume] / _MASS_MG[factor.cou_unit]


def volume(flow_code: str, reading: Reading | None, seconds: float) -> float | None:
    """m³ through the outlet over ``seconds``: the flow's Cou, else mean rate x time."""
    if reading is None:
        return None
    if reading.cou is not None:
        return reading.cou
    factor = lookup(flow_code)
    rate = _RATE_M3_PER_S.get(factor.unit if factor else "")
    if reading.value is None or rate is None:
        return None
    return reading.value * rate * seconds


def amount(
    code: str, concentration: float | None, m3: float | None, unit: str | None = None
) -> float | None:
    """The mass of ``code`` in ``m3`` cubic metres at ``concentration`` given in ``unit``
    (None: the code table's), in the table's -Cou unit (None: unknown)."""
    factor = mass_factor(code, unit)
    if factor is None or concentration is None or m3 is None:
        return None
    return concentration * m3 * factor


@dataclass(frozen=True, slots=True)
class Total:
    """One factor over a period: computed amount, the devices' Cou, hours behind them."""

    computed: float = 0.0
    device: float = 0.0
    hours: int = 0  # hours with both a concentration and a volume
    device_hours: int = 0  # hours with a -Cou from the device
    manual_hours: int = 0  # of ``hours``, those from a manual value (rules/manual.py)
    # of ``computed`` and ``hours``: amounts from an approved substitution or correction
    substituted: float = 0.0
    substituted_hours: int = 0
    corrected: float = 0.0
    corrected_hours: int = 0

    def __add__(self, other: Total) -> Total:
        return Total(*(getattr(self, name) + getattr(other, name) for name in _TOTAL_FIELDS))

    @property
    def measured(self) -> float:
        """The amount from stored values as they were measured (and manual values)."""
        return self.computed - self.substituted - self.corrected

    @property
    def measured_hours(self) -> int:
        return self.hours - self.substituted_hours - self.corrected_hours

    @property
    def difference(self) -> float | None:
        """(device - measured) / measured over the hours both exist; A20 at scale (the
        devices' -Cou of a substituted or corrected hour is not counted)."""
        if self.device_hours == 0 or self.measured == 0:
            return None
        return (self.device - self.measured) / self.measured


_TOTAL_FIELDS = tuple(f.name for f in fields(Total))


def hour_total(
    code: str, reading: Reading | None, m3: float | None, unit: str | None = None
) -> Total:
    """One hour of one factor (a 2061 record) as a :class:`Total`."""
    if reading is None or reading.flag == "F":
        return Total()
    computed = amount(code, reading.avg if reading.avg is not None else reading.rtd, m3, unit)
    if computed is None:
        return Total()
    device = reading.cou
    return Total(computed, device or 0.0, 1, int(device is not None))


def manual_total(code: str, value: float, m3: float | None) -> Total:
    """One hour of one factor from a manual value (rules/manual.py), marked manual."""
    computed = amount(code, value, m3)
    return Total() if computed is None else Total(computed, 0.0, 1, 0, 1)


def adjusted_total(
    code: str, kind: str, value: float, m3: float | None, unit: str | None = None
) -> Total:
    """One hour of one factor from an approved substitution or correction, its value in
    ``unit`` (None: the code table's), as the stored values are (docs/corrections.md §1)."""
    computed = amount(code, value, m3, unit)
    if computed is None:
        return Total()
    if kind == "substitution":
        return Total(computed, 0.0, 1, 0, 0, computed, 1)
    return Total(computed, 0.0, 1, 0, 0, 0.0, 0, computed, 1)


def relabel(found: Total, kind: str | None) -> Total:
    """An hour's amount counted as substituted or corrected (its value or its volume came
    from an approved row); unchanged when ``kind`` is None."""
    if kind is None or not found.hours:
        return found
    if kind == "substitution":
        return Total(found.computed, 0.0, 1, 0, found.manual_hours, found.computed, 1)
    return Total(found.computed, 0.0, 1, 0, found.manual_hours, 0.0, 0, found.computed, 1)


def total(hours: Iterable[Total]) -> Total:
    result = Total()
    for hour in hours:
        result = result + hour
    return result


def cou_mismatch(
    code: str, reading: Reading, m3: float | None, tolerance: float, unit: str | None = None
) -> tuple[float, float] | None:
    """A20: the device's Cou against C x V; (device, Avg x V) when they disagree.

    The mass a logger sums is Σ c·q·Δt, which lies between Min x V and Max x V whatever
    flow and concentration did together, but not necessarily near Avg x V: with few
    samples, or concentration and flow moving together, Σ c·q differs from mean(c)·Σq
    by their covariance (4 % on a clean 10-minute dust record of two samples). So the
    device's Cou must lie within [Min x V, Max x V], widened by ``tolerance`` and the
    last digit; a record without Min and Max is held to Avg x V within ``tolerance``.
    A wrong unit (g for kg) or a Cou computed from another flow is far outside either.

    Only a normal (flag N) value is compared: the Avg of a record with abnormal samples
    is taken over its normal samples while its Cou sums every sample (HJ 212-2017
    Tables C.16-C.18), so the two need not agree, and invalid data are not judged.
    """
    if not reading.normal or reading.cou is None:
        return None
    computed = amount(code, reading.value, m3, unit)
    low = amount(code, reading.min if reading.min is not None else reading.value, m3, unit)
    high = amount(code, reading.max if reading.max is not None else reading.value, m3, unit)
    if computed is None or low is None or high is None:
        return None
    low, high = min(low, high), max(low, high)
    cou = reading.cou
    if low - tolerance * abs(low) - 1e-3 <= cou <= high + tolerance * abs(high) + 1e-3:
        return None
    return cou, computed
