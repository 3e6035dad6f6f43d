"""Station models: what a flue-gas CEMS, a waste-water outfall and a flow meter measure.

A reading is a pure function of (station, faults, t): production load from the plant's
:class:`~simulators.signals.Schedule`, a daily cycle, slow wander and white noise, all
from :mod:`simulators.signals`, then the value faults of the scenario. Real-time
values (2011) are readings on the RtdInterval grid; minute, hour and day records
(:mod:`simulators.records`) aggregate the very same readings, so the two reconcile.

Codes and units follow HJ 212-2017 Appendix B (Tables B.1, B.2): concentrations in
mg/m3 (gas) or mg/L (water), gas flow a00000 in m3/s, water flow w00000 in L/s.
Converted (折算, Zs) concentrations use the reference oxygen of the station:
``Zs = C x (21 - O2ref) / (21 - O2meas)`` (HJ 212-2017 Appendix D, after HJ 75).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache

from simulators.scenario import Fault
from simulators.signals import (
    CONTINUOUS,
    DAY_SHIFT,
    TWO_SHIFTS,
    Schedule,
    daily_cycle,
    mix,
    normal,
    uniform,
)

WANDER_PERIOD = 300  # seconds between the knots of the slow wander
NOX = "a21002"


@dataclass(frozen=True, slots=True)
class Factor:
    """One measured quantity of a model.

    ``base`` is the value at full load, ``idle`` with the plant stopped; ``load`` says
    how much the value follows production (1 fully, 0 not at all). ``daily``,
    ``wander`` and ``noise`` are fractions of the level. ``range_high`` is the
    analyser's measuring range (above it: flag T); ``limit`` the emission limit.
    ``cou``: ``volume`` for a flow (Cou = volume), ``mass`` for a pollutant (Cou = the
    mass carried by the flow), ``""`` for none.
    """

    code: str
    base: float
    idle: float = 0.0
    load: float = 1.0
    daily: float = 0.0
    wander: float = 0.0
    noise: float = 0.0
    decimals: int = 2
    range_high: float = 1000.0
    limit: float | None = None
    cou: str = ""
    zs: bool = False
    ceiling: float | None = None  # a physical bound (O2 cannot exceed air's 20.9 %)


@dataclass(frozen=True, slots=True)
class Model:
    """A kind of station: its system code ST, factors, flow factor and plant schedule.

    ``medium`` picks the flag rule for aggregates (HJ 212-2017 notes to Tables
    C.16-C.18). ``flow_to_m3`` converts the flow unit times seconds into m3 (water
    flow is in L/s, gas flow in m3/s).
    """

    name: str
    st: str
    medium: str
    factors: tuple[Factor, ...]
    flow: str
    flow_to_m3: float
    schedule: Schedule
    o2: str | None = None
    o2_ref: float | None = None
    mass_to_kg: float = 1e-6  # concentration x m3 -> kg: 1e-6 for mg/m3, 1e-3 for mg/L
    # the share of NOx (as NO2) that is NO: the analyser's NO (a21003) and NO2 (a21004)
    # are then derived from NOx (a21002), NOx = NO x 46.005/30.006 + NO2 (HJ 75-2017)
    nox_no_share: float | None = None
    codes: tuple[str, ...] = field(init=False)
    nox_parts: tuple[int, int, int] | None = field(init=False)  # NOx, NO, NO2 indices
    flow_index: int = field(init=False)

    def __post_init__(self) -> None:
        codes = tuple(f.code for f in self.factors)
        object.__setattr__(self, "codes", codes)
        object.__setattr__(self, "flow_index", codes.index(self.flow))
        parts = None
        if self.nox_no_share is not None:
            parts = (codes.index(NOX), codes.index("a21003"), codes.index("a21004"))
        object.__setattr__(self, "nox_parts", parts)

    def factor(self, code: str) -> Factor:
        return self.factors[self.codes.index(code)]


CEMS = Model(
    name="cems",
    st="31",
    medium="gas",
    factors=(
        # a boiler meeting the ultra-low limits (SO2 35, NOx 50, dust 10 mg/m3 at 6 % O2,
        # GB 13223 / 环发〔2015〕164号) with margin: Zs about 0.5 x the limit, peaks below it
        Factor("a21026", 14.0, 0.0, 1, 0.15, 0.15, 0.05, 2, 200.0, 35.0, "mass", True),  # SO2
        Factor("a21002", 22.0, 0.0, 1, 0.10, 0.12, 0.04, 1, 500.0, 50.0, "mass", True),  # NOx
        Factor("a34013", 3.0, 0.0, 1, 0.10, 0.20, 0.08, 2, 50.0, 10.0, "mass", True),  # dust
        Factor("a19001", 8.6, 20.9, 1, 0.04, 0.05, 0.01, 2, 25.0, ceiling=20.9),  # O2 %
        Factor("a01012", 118.0, 25.0, 1, 0.03, 0.02, 0.005, 1, 300.0),  # temperature °C
        Factor("a01013", 0.42, 0.02, 1, 0.05, 0.05, 0.02, 3, 5.0),  # pressure kPa
        Factor("a01011", 12.5, 0.3, 1, 0.08, 0.05, 0.02, 2, 40.0),  # velocity m/s
        Factor("a01014", 9.5, 2.5, 1, 0.05, 0.05, 0.02, 1, 40.0),  # humidity %
        Factor("a00000", 58.0, 0.8, 1, 0.10, 0.05, 0.02, 1, 300.0, cou="volume"),  # m3/s
    ),
    flow="a00000",
    flow_to_m3=1.0,
    schedule=CONTINUOUS,
    o2="a19001",
    o2_ref=6.0,  # coal-fired boilers (GB 13223)
)
WATER = Model(
    name="water",
    st="32",
    medium="water",
    factors=(
        Factor("w01018", 42.0, 18.0, 0.8, 0.20, 0.10, 0.04, 1, 500.0, 50.0, "mass"),  # COD
        Factor("w21003", 2.6, 1.1, 0.8, 0.25, 0.12, 0.05, 3, 50.0, 5.0, "mass"),  # NH3-N
        Factor("w21011", 0.32, 0.15, 0.8, 0.15, 0.10, 0.05, 3, 10.0, 0.5, "mass"),  # TP
        Factor("w21001", 11.5, 6.0, 0.8, 0.15, 0.08, 0.04, 2, 100.0, 15.0, "mass"),  # TN
        Factor("w01001", 7.3, 7.3, 0.0, 0.01, 0.01, 0.005, 2, 14.0, ceiling=14.0),  # pH
        # flow L/s; nothing flows while the plant is stopped (levels())
        Factor("w00000", 14.0, 0.0, 1, 0.30, 0.10, 0.04, 2, 200.0, cou="volume"),
    ),
    flow="w00000",
    flow_to_m3=1e-3,
    schedule=TWO_SHIFTS,
    mass_to_kg=1e-3,
)
FLOW = Model(
    name="flow",
    st="32",
    medium="water",
    factors=(Factor("w00000", 9.0, 0.0, 1, 0.25, 0.08, 0.03, 2, 100.0, cou="volume"),),
    flow="w00000",
    flow_to_m3=1e-3,
    schedule=DAY_SHIFT,
    mass_to_kg=1e-3,
)
# a CEMS that also reports the NO and NO2 its NOx is made of (coal flue gas: ~95 % NO)
CEMS_NOX = replace(
    CEMS,
    name="cems-nox",
    factors=(
        *CEMS.factors,
        # levels() replaces their own values by NOx's parts; base is nominal
        Factor("a21003", 13.6, 0.0, 1, decimals=2, range_high=300.0),  # NO mg/m3
        Factor("a21004", 1.1, 0.0, 1, decimals=2, range_high=100.0),  # NO2 mg/m3
    ),
    nox_no_share=0.95,
)
NO2_PER_NO = 46.005 / 30.006  # molar masses: NO expressed as NO2
MODELS = {m.name: m for m in (CEMS, CEMS_NOX, WATER, FLOW)}


@dataclass(frozen=True, slots=True, eq=False)
class Station:
    """One simulated station: its identity, model and per-station variation.

    ``scale`` and ``peak_hour`` make stations of one model differ; both come from the
    seed, like everything else.
    """

    index: int
    mn: str
    model: Model
    seed: int
    o2_ref: float | None = None
    version: str = "2017"
    crc: str = "hj212"  # or the legacy "modbus" / "modbus-swapped" (docs/protocol.md §2)
    sm4_key: bytes | None = None
    password: str = "123456"
    scale: float = 1.0
    peak_hour: float = 14.0
    faults: tuple[Fault, ...] = ()  # value faults, windows in absolute seconds
    coeffs: tuple[tuple[float, ...], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # per-factor constants of the hot loop in levels(), unpacked from the Factor
        rows = []
        for f in self.model.factors:
            base = f.base * self.scale if f.load else f.base
            ceiling = f.ceiling if f.ceiling is not None else float("inf")
            row = (f.idle, base - f.idle, f.load, 1.0 - f.load, f.daily, f.wander, f.noise)
            rows.append((*row, 0.05 * base, ceiling))
        object.__setattr__(self, "coeffs", tuple(rows))

    @property
    def key(self) -> int:
        return self.index * 64


def make_station(
    index: int,
    mn: str,
    model: Model,
    seed: int,
    *,
    o2_ref: float | None = None,
    version: str = "2017",
    crc: str = "hj212",
    sm4_key: bytes | None = None,
    password: str = "123456",
    faults: tuple[Fault, ...] = (),
) -> Station:
    """A station whose variation (scale, peak hour) is drawn from (seed, index)."""
    return Station(
        index,
        mn,
        model,
        seed,
        model.o2_ref if o2_ref is None else o2_ref,
        version,
        crc,
        sm4_key,
        password,
        scale=0.75 + 0.5 * uniform(mix(seed, index, 7)),
        peak_hour=11.0 + 6.0 * uniform(mix(seed, index, 8)),
        faults=tuple(f for f in faults if f.is_value_fault and f.applies_to(index)),
    )


Reading = dict[str, tuple[float, str]]  # code -> (value, flag), as the logger sends it


@lru_cache(maxsize=65536)
def _knots(seed: int, key: int, n: int, k: int) -> tuple[float, ...]:
    """The wander knots of a station's ``n`` factors at knot ``k`` (shared by the ten
    readings between two knots, hence cached)."""
    return tuple(normal(mix(seed, key + i, k)) for i in range(n))


_G = 0x9E3779B97F4A7C15
_M = (1 << 64) - 1


def levels(station: Station, t: int) -> list[float]:
    """Every factor at ``t`` before rounding and faults: one schedule lookup, one daily
    cycle, one wander weight and one hash per instant, then one finaliser per factor
    (``signals.spread`` and ``signals.normal`` inlined: this is the hot loop)."""
    model = station.model
    load = model.schedule.load(t)
    cycle = daily_cycle(t, station.peak_hour)
    seed, key = station.seed, station.key
    coeffs = station.coeffs
    k, into = divmod(t, WANDER_PERIOD)
    left, right = _knots(seed, key, len(coeffs), k), _knots(seed, key, len(coeffs), k + 1)
    w = (1.0 - math.cos(math.pi * into / WANDER_PERIOD)) * 0.5
    h = mix(seed, key, t)
    out = []
    for i, (idle, span, follow, fixed, daily, wand, noise, floor, ceil) in enumerate(coeffs):
        level = idle + span * (follow * load + fixed)
        value = level * (1.0 + daily * cycle + wand * (left[i] + (right[i] - left[i]) * w))
        z = (h + (i + 1) * _G) & _M
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M
        z ^= z >> 31
        gauss = ((z & 0xFFFF) + ((z >> 16) & 0xFFFF) + ((z >> 32) & 0xFFFF) + (z >> 48)) / 65536.0
        value += noise * max(level, floor) * (gauss - 2.0) * 1.7320508075688772
        out.append(0.0 if value < 0.0 else min(value, ceil))
    if load == 0.0 and model.medium == "water":
        # a stopped water plant discharges nothing: its flow is 0, not noise around
        # an idle level (flag F with 0.3 L/s read as a plant still discharging)
        out[model.flow_index] = 0.0
    parts = model.nox_parts
    if parts is not None:  # NO and NO2 are what the NOx is made of
        share, nox = model.nox_no_share or 0.0, out[parts[0]]
        out[parts[1]] = nox * share / NO2_PER_NO
        out[parts[2]] = nox * (1.0 - share)
    return out


def reading(station: Station, t: int) -> Reading:
    """Every factor at instant ``t`` (seconds since the epoch), rounded as sent.

    Flag N, or F while the plant is stopped (HJ 212-2017 Table 8; 停运), then the
    value faults active at ``t``.
    """
    factors = station.model.factors
    flag = "F" if station.model.schedule.load(t) == 0.0 else "N"
    raw = levels(station, t)
    out: Reading = {f.code: (round(raw[i], f.decimals), flag) for i, f in enumerate(factors)}
    for fault in station.faults:
        if fault.begin <= t < fault.end:
            _apply(station, fault, t, out)
    return out


def targets(station: Station, fault: Fault) -> list[tuple[int, Factor]]:
    factors = list(enumerate(station.model.factors))
    if fault.pollutants:
        return [(i, f) for i, f in factors if f.code in fault.pollutants]
    if fault.kind in ("exceedance", "over_range", "spikes"):
        return [(i, f) for i, f in factors if f.limit is not None]
    if fault.kind == "nox_inversion":
        return [(i, f) for i, f in factors if f.code == NOX]
    return factors


def _apply(station: Station, fault: Fault, t: int, out: Reading) -> None:
    kind = fault.kind
    for i, f in targets(station, fault):
        if kind == "absent":
            # the analyser is cut off from the logger; O2 and flow stay, the conversion
            # and the volumes of the other factors need them
            if f.code not in (station.model.o2, station.model.flow):
                out.pop(f.code, None)
            continue
        value, flag = out[f.code]
        if kind in ("fault", "maintenance"):
            flag = "D" if kind == "fault" else "M"
        elif kind == "calibration":
            # zero gas for the first half of the window, span gas (80 % of range) after
            span = t - fault.begin >= (fault.end - fault.begin) / 2
            value, flag = (0.8 * f.range_high if span else 0.0), "C"
        elif kind == "stuck":
            value = levels(station, int(fault.begin))[i]
        elif kind == "zeros":
            value = 0.0
        elif kind == "negatives":
            value = -(0.2 * abs(value) + 0.1)
        elif kind == "over_range":
            value, flag = f.range_high * (1.05 + 0.2 * uniform(mix(station.seed, i, t))), "T"
        elif kind == "spikes":
            if uniform(mix(station.seed, station.key + i + 32, t)) < 1.0 / fault.every:
                value *= fault.factor
        elif kind == "exceedance":
            limit = f.limit if f.limit is not None else f.base
            value = limit * fault.factor * (1.0 + 0.05 * normal(mix(station.seed, i, t)))
        elif kind == "narrow":  # a dead analyser: its start value plus a little noise
            wobble = 2.0 * uniform(mix(station.seed, station.key + i + 40, t)) - 1.0
            value = levels(station, int(fault.begin))[i] + wobble * fault.factor * f.range_high
        elif kind == "nox_inversion":  # NOx reads `factor` x what its NO and NO2 make
            value *= fault.factor
        elif kind == "detection_limit":  # hovering at the bottom of the range
            wobble = 0.5 + uniform(mix(station.seed, station.key + i + 48, t))
            value = fault.factor * f.range_high * wobble
        else:  # wrong_o2_ref, bad_aggregate, cou_units: right readings, wrong logger
            continue
        out[f.code] = (round(value, f.decimals), flag)


def converted(station: Station, sample: Reading, t: int | None = None) -> dict[str, float]:
    """Zs values of a reading: C x (21 - O2ref) / (21 - O2meas), O2 capped at 20 %
    so that a stopped boiler (O2 near 20.9 %) does not divide by almost zero. A
    ``wrong_o2_ref`` fault in force at ``t`` converts its factors to the fault's O2."""
    model = station.model
    if model.o2 is None or station.o2_ref is None:
        return {}
    o2 = min(sample[model.o2][0], 20.0)
    ratio = (21.0 - station.o2_ref) / (21.0 - o2)
    out = {
        f.code: round(sample[f.code][0] * ratio, f.decimals)
        for f in model.factors
        if f.zs and f.code in sample
    }
    for fault in station.faults:
        if fault.kind == "wrong_o2_ref" and t is not None and fault.begin <= t < fault.end:
            wrong = (21.0 - fault.factor) / (21.0 - o2)
            for _, f in targets(station, fault):
                if f.zs and f.code in sample:
                    out[f.code] = round(sample[f.code][0] * wrong, f.decimals)
    return out
