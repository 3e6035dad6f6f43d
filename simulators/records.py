"""What a data logger uploads, computed from the station model (pure functions).

* real-time (2011): the reading at an instant of the RtdInterval grid;
* minute (2051), hour (2061), day (2031): min/avg/max/cou over the readings of that
  same grid inside the period, so that they reconcile with the 2011 values;
* facility state (2021 SBx-RS), daily run time (2041 SBx-RT), field information (3020).

Aggregates (HJ 212-2017 Tables C.16-C.18 and their notes; Appendix D):

* Min/Avg/Max over the normal (flag N) readings; over all of them when none is normal.
* Cou over every reading: the flow's volume in m3 (Q x step), a pollutant's mass in kg
  (C x volume); hour and day sums of the shorter periods.
* Flag: water, any abnormal reading makes the record abnormal; flue gas, at least 75 %
  normal readings make it normal. An abnormal record takes the most frequent abnormal
  flag (the note calls the gas case an instrument fault; a boiler stopped all day is
  still F, a calibration hour still C).

Hours are built from minute summaries and days from hours (cached), so a month of day
records costs one pass over its readings.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from simulators.models import Station, converted, levels, reading, targets
from simulators.signals import DAY, local_seconds

Values = dict[str, dict[str, object]]
HOUR = 3600


@dataclass(slots=True)
class Record:
    """One upload: ``t`` is the instant (2011) or period start on the true clock,
    ``stamp`` the DataTime the logger's own clock gives it, ``seconds`` the period's
    length; ``values`` are filled in when it is sent (:meth:`simulators.logger.DataLogger.fill`)."""

    cn: str
    t: int
    stamp: int
    values: Values | None = None
    extra: dict[str, object] | None = None
    resent: bool = False  # 2025 RF=1: sent again after an outage (补传)
    seconds: int = 0
    station: Station | None = None


@dataclass(slots=True)
class _Acc:
    """Running statistics of one factor over a period."""

    count: int = 0
    valid: int = 0
    all_sum: float = 0.0
    all_lo: float = float("inf")
    all_hi: float = float("-inf")
    ok_sum: float = 0.0
    ok_lo: float = float("inf")
    ok_hi: float = float("-inf")
    zs_all: list[float] = field(default_factory=lambda: [0.0, float("inf"), float("-inf")])
    zs_ok: list[float] = field(default_factory=lambda: [0.0, float("inf"), float("-inf")])
    cou: float = 0.0
    flags: Counter[str] = field(default_factory=Counter)

    def add(self, value: float, flag: str, zs: float | None, cou: float) -> None:
        self.count += 1
        self.all_sum += value
        self.all_lo = min(self.all_lo, value)
        self.all_hi = max(self.all_hi, value)
        self.cou += cou
        if zs is not None:
            _zs_add(self.zs_all, zs)
        if flag == "N":
            self.valid += 1
            self.ok_sum += value
            self.ok_lo = min(self.ok_lo, value)
            self.ok_hi = max(self.ok_hi, value)
            if zs is not None:
                _zs_add(self.zs_ok, zs)
        else:
            self.flags[flag] += 1

    def merge(self, other: _Acc) -> None:
        self.count += other.count
        self.valid += other.valid
        self.all_sum += other.all_sum
        self.all_lo = min(self.all_lo, other.all_lo)
        self.all_hi = max(self.all_hi, other.all_hi)
        self.ok_sum += other.ok_sum
        self.ok_lo = min(self.ok_lo, other.ok_lo)
        self.ok_hi = max(self.ok_hi, other.ok_hi)
        for mine, theirs in ((self.zs_all, other.zs_all), (self.zs_ok, other.zs_ok)):
            mine[0] += theirs[0]
            mine[1] = min(mine[1], theirs[1])
            mine[2] = max(mine[2], theirs[2])
        self.cou += other.cou
        self.flags.update(other.flags)


def _zs_add(acc: list[float], zs: float) -> None:
    acc[0] += zs
    acc[1] = min(acc[1], zs)
    acc[2] = max(acc[2], zs)


Summary = dict[str, _Acc]


def realtime(station: Station, t: int) -> Values:
    """The 2011 values at ``t``: Rtd, ZsRtd (gas pollutants), Flag."""
    sample = reading(station, t)
    zs = converted(station, sample, t)
    out: Values = {}
    for code, (value, flag) in sample.items():
        fields: dict[str, object] = {"Rtd": value}
        if code in zs:
            fields["ZsRtd"] = zs[code]
        fields["Flag"] = flag
        out[code] = fields
    return out


def realtime_text(station: Station, t: int) -> str | None:
    """The 2011 CP items of :func:`realtime` already rendered as text (what
    ``protocol.encode.text`` writes), in one pass and without the dictionaries; None
    while a value fault is active (then :func:`realtime` does it)."""
    for fault in station.faults:
        if fault.begin <= t < fault.end:
            return None
    model = station.model
    flag = "F" if model.schedule.load(t) == 0.0 else "N"
    values = levels(station, t)
    ratio = 0.0
    if model.o2 is not None and station.o2_ref is not None:
        o2 = min(round(values[model.codes.index(model.o2)], 2), 20.0)
        ratio = (21.0 - station.o2_ref) / (21.0 - o2)
    out = []
    for f, value in zip(model.factors, values, strict=True):
        v = round(value, f.decimals)
        if f.zs and ratio:
            zs = round(v * ratio, f.decimals)
            out.append(f"{f.code}-Rtd={_text(v)},{f.code}-ZsRtd={_text(zs)},{f.code}-Flag={flag}")
        else:
            out.append(f"{f.code}-Rtd={_text(v)},{f.code}-Flag={flag}")
    return ";".join(out)


def _text(value: float) -> str:
    text = repr(value)
    if text.endswith(".0"):
        return "0" if text == "-0.0" else text[:-2]
    return text


@lru_cache(maxsize=8192)
def _summary(station: Station, start: int, seconds: int, step: int) -> Summary:
    model = station.model
    accs: Summary = {code: _Acc() for code in model.codes}
    kinds = {f.code: f.cou for f in model.factors}
    for t in range(start, start + seconds, step):
        sample = reading(station, t)
        zs = converted(station, sample, t)
        volume = sample[model.flow][0] * step * model.flow_to_m3
        for code, (value, flag) in sample.items():
            kind = kinds[code]
            cou = volume if kind == "volume" else value * volume * model.mass_to_kg
            accs[code].add(value, flag, zs.get(code), cou if kind else 0.0)
    return accs


def summary(station: Station, start: int, seconds: int, step: int) -> Summary:
    """Statistics of the readings at ``start, start + step, ...`` before ``start +
    seconds``; hours merge their minute periods, days their hours (both cached)."""
    if seconds == DAY and DAY % HOUR == 0:
        return _merged(station, start, HOUR, 24, step)
    if seconds == HOUR and step < HOUR:
        minutes = _minute_period(step)
        if minutes:
            return _merged(station, start, minutes, HOUR // minutes, step)
    return _summary(station, start, seconds, step)


def _minute_period(step: int) -> int:
    # the 10-minute period used to build hours, when the grid fits into it
    return 600 if 600 % step == 0 else 0


def _merged(station: Station, start: int, part: int, parts: int, step: int) -> Summary:
    merged: Summary = {code: _Acc() for code in station.model.codes}
    for k in range(parts):
        for code, acc in summary(station, start + k * part, part, step).items():
            merged[code].merge(acc)
    return merged


def _flag(station: Station, acc: _Acc) -> str:
    if not acc.flags:
        return "N"
    if station.model.medium == "gas" and acc.valid >= 0.75 * acc.count:
        return "N"
    return acc.flags.most_common(1)[0][0]


def period(station: Station, start: int, seconds: int, step: int) -> Values:
    """A 2051/2061/2031 record: Cou, Min, Avg, Max (and Zs*), Flag per factor."""
    out: Values = {}
    stats = summary(station, start, seconds, step)
    for f in station.model.factors:
        acc = stats[f.code]
        if not acc.count:
            continue
        use_ok = acc.valid > 0
        total, lo, hi, n = (
            (acc.ok_sum, acc.ok_lo, acc.ok_hi, acc.valid)
            if use_ok
            else (acc.all_sum, acc.all_lo, acc.all_hi, acc.count)
        )
        fields: dict[str, object] = {}
        if f.cou:
            fields["Cou"] = round(acc.cou, 3)
        fields |= {"Min": lo, "Avg": round(total / n, f.decimals), "Max": hi}
        zs = acc.zs_ok if use_ok else acc.zs_all
        if f.zs and zs[1] != float("inf"):
            fields |= {"ZsMin": zs[1], "ZsAvg": round(zs[0] / n, f.decimals), "ZsMax": zs[2]}
        fields["Flag"] = _flag(station, acc)
        out[f.code] = fields
    _logger_faults(station, start + seconds, seconds, out)
    return out


_WRONG_FIELDS = {"bad_aggregate": ("Avg", "ZsAvg"), "cou_units": ("Cou",)}


def _logger_faults(station: Station, at: int, seconds: int, out: Values) -> None:
    """Faults of the logger's arithmetic in force when a record is made (``at``):
    ``bad_aggregate``, an hour record's Avg (and ZsAvg) the fault's factor times the
    mean of its samples; ``cou_units``, every period record's Cou times the factor."""
    for fault in station.faults:
        keys = _WRONG_FIELDS.get(fault.kind)
        if keys is None or not fault.begin < at <= fault.end:
            continue
        if fault.kind == "bad_aggregate" and seconds != HOUR:
            continue
        for _, f in targets(station, fault):
            fields = out.get(f.code)
            if fields is None:
                continue
            for key in keys:
                if isinstance(value := fields.get(key), float | int):
                    digits = 3 if key == "Cou" else f.decimals
                    fields[key] = round(value * fault.factor, digits)


def day_start(t: int) -> int:
    """The Beijing midnight at or before ``t``."""
    return t - local_seconds(t) % DAY


FACILITY_STATE = {"fault": 4, "maintenance": 3, "calibration": 2}


def facility_state(station: Station, t: int) -> int:
    """SBx-RS: 0 stopped, 1 running, 2 calibrating, 3 maintenance, 4 alarm (Table 4)."""
    for fault in station.faults:
        if fault.begin <= t < fault.end and fault.kind in FACILITY_STATE:
            return FACILITY_STATE[fault.kind]
    return 1 if station.model.schedule.load(t) > 0.0 else 0


def status(station: Station, t: int) -> Values:
    """2021: the treatment facility (SB1) and the fan or pump (SB2)."""
    state = facility_state(station, t)
    return {"SB1": {"RS": state}, "SB2": {"RS": min(state, 1)}}


def runtime(station: Station, start: int) -> Values:
    """2041: hours each facility ran on the day starting at ``start`` (5-min steps)."""
    schedule = station.model.schedule
    running = sum(1 for t in range(start, start + DAY, 300) if schedule.load(t) > 0.0)
    hours = round(running * 300 / 3600, 2)
    return {"SB1": {"RT": hours}, "SB2": {"RT": hours}}


INSTRUMENT_STATE = {"fault": 2, "maintenance": 1, "calibration": 3}


def info(station: Station, t: int) -> tuple[str, Values]:
    """3020 for the first analyser: PolId, i12001 work state (Table B.10: 0 running,
    1 maintenance, 2 fault, 3 calibration), i13001 measuring range; a COD analyser also
    reports digestion temperature i13004 and time i13005."""
    first = station.model.factors[0]
    state = 0
    for fault in station.faults:
        if fault.begin <= t < fault.end and fault.kind in INSTRUMENT_STATE:
            state = INSTRUMENT_STATE[fault.kind]
    values: Values = {"i12001": {"Info": state}, "i13001": {"Info": first.range_high}}
    if first.code == "w01018":
        values |= {"i13004": {"Info": 165.0}, "i13005": {"Info": 30}}
    return first.code, values
