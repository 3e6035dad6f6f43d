"""Exceedance (超标), docs/regulations.md §3 and A12.

* **Gas:** the valid hourly **converted** concentration (折算, ZsAvg) against the hourly
  limit; HJ 76-2017 App. B requires the CEMS to alarm on the 1-hour converted average
  [S]. The platform converts with the station's reference O2 (``hj212.station.o2_ref``)
  and the hour's measured O2; the device's own Zs is used only when O2 is missing, and
  a station without a reference O2 is judged on the measured value (many process
  sources are, §3.1). A limit may also be a daily one (``limit_period = 'day'``):
  judged on the mean of the valid hours' converted values of a valid day.
* **Water:** the valid **daily** flow-weighted mean against the daily limit [R] §3.2;
  pH is judged on its range, not a mean, and is left out here.
* **pH** is judged on its range, hour by hour: a valid water hour outside
  ``ph_range`` (6-9, GB 8978-1996 Table 4 [P]) is an exceedance (§3.2).
* **A13** limit violations: a valid minute, hour or day value under ``lower_bounds`` or
  over ``upper_bounds`` of its code (configured bounds, §5 A13 [S]).
* **A14** early warning: a gas hour still open whose valid minutes already sum to more
  than the limit x 60 min will exceed whatever the rest of the hour brings (a valid hour
  has at most 60 valid minutes, so its mean is at least that sum over 60; §5 A14 [E]).
* Data that are invalid (flags, marks, too few minutes) are **not judged**
  (公告2022年第21号, §1.3). A value flagged ``T`` (above the measuring range) is at
  least the range maximum: a *suspected* exceedance when that is over the limit (§1.3).
"""

from __future__ import annotations

from dataclasses import dataclass

from rules.config import RulesConfig
from rules.model import PollutantConfig, Reading
from rules.validity import converted

PH = "w01001"
NOT_JUDGED_ON_MEAN = frozenset({PH})  # pH: a range, not a mean [R] §3.2


@dataclass(frozen=True, slots=True)
class Judgement:
    value: float
    limit: float
    basis: str  # converted | device-converted | measured | daily-mean

    @property
    def exceeded(self) -> bool:
        return self.value > self.limit


def limit_period(pollutant: PollutantConfig, medium: str) -> str:
    """What the limit applies to: the registry's choice, else hour (gas) or day."""
    if pollutant.limit_period in ("hour", "day"):
        return pollutant.limit_period
    return "hour" if medium == "gas" else "day"


def gas_value(
    reading: Reading, o2: float | None, o2_ref: float | None, cfg: RulesConfig
) -> tuple[float, str] | None:
    """The concentration a gas hour is judged on, and how it was obtained."""
    measured = reading.value
    if measured is None:
        return None
    if o2_ref is None:
        return measured, "measured"
    if o2 is not None and 0 <= o2 < cfg.o2_ambient:
        value = converted(measured, o2, o2_ref)
        if value is not None:
            return value, "converted"
    if reading.zs is not None:
        return reading.zs, "device-converted"
    return None  # air-level or no O2: an O2 anomaly (A19), not a judgement


def judge_hour(
    pollutant: PollutantConfig, judged: tuple[float, str] | None, medium: str
) -> Judgement | None:
    """A valid gas hour against an hourly limit (None: nothing to judge)."""
    if pollutant.limit is None or judged is None or medium != "gas":
        return None
    if limit_period(pollutant, medium) != "hour":
        return None
    return Judgement(judged[0], pollutant.limit, judged[1])


def judge_day(pollutant: PollutantConfig, mean: float | None, medium: str) -> Judgement | None:
    """A valid day's mean against a daily limit (water by default, gas when so set)."""
    if pollutant.limit is None or mean is None or pollutant.code in NOT_JUDGED_ON_MEAN:
        return None
    if limit_period(pollutant, medium) != "day":
        return None
    return Judgement(mean, pollutant.limit, "daily-mean")


def suspected(pollutant: PollutantConfig, reading: Reading) -> Judgement | None:
    """Flag T: the value is at least the range maximum; over the limit is suspicious."""
    if reading.flag != "T" or pollutant.limit is None:
        return None
    floor = max(v for v in (reading.value, pollutant.range_high, 0.0) if v is not None)
    judgement = Judgement(floor, pollutant.limit, "over-range")
    return judgement if judgement.exceeded else None


@dataclass(frozen=True, slots=True)
class Outside:
    """A value outside its range: ``side`` is ``low`` or ``high``, ``bound`` the one crossed."""

    value: float
    bound: float
    side: str


def _outside(value: float, low: float | None, high: float | None) -> Outside | None:
    if low is not None and value < low:
        return Outside(value, low, "low")
    if high is not None and value > high:
        return Outside(value, high, "high")
    return None


def ph_outside(code: str, value: float, cfg: RulesConfig) -> Outside | None:
    """pH (w01001) outside ``ph_range``; None for any other code or a pH inside it."""
    if code != PH or len(cfg.ph_range) != 2:
        return None
    return _outside(value, cfg.ph_range[0], cfg.ph_range[1])


def bounds_outside(code: str, value: float, cfg: RulesConfig) -> Outside | None:
    """A13: ``value`` under the code's lower bound or over its upper bound, if set."""
    return _outside(value, cfg.lower_bounds.get(code), cfg.upper_bounds.get(code))


def cannot_stay_under(sum_valid_minutes: float, limit: float, hour_minutes: float = 60.0) -> bool:
    """A14: Σ (valid minute value x its minutes) over the hour so far exceeds the limit
    times the hour's minutes, so the hour's mean will exceed the limit whatever comes."""
    return sum_valid_minutes > limit * hour_minutes
