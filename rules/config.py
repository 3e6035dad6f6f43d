"""Every parameter of the rules, with its default and where the number comes from.

Tags as in ``docs/regulations.md``: [P] primary text read, [S] secondary
source, [R] recalled (verify), [E] engineering default. The local rule the project
implements is 湖北省污染源自动监控管理办法 (2021) 第十五条 (written report within 24 h;
restore within 12 h gas / 48 h water) and 第八条 (effective transmission rate > 95 %).

A :class:`Ruleset` holds the defaults and per-region overrides keyed by a prefix of the
6-digit GB/T 2260 region code (``"42"`` Hubei, ``"4201"`` Wuhan, ``"420102"`` a
district); the longest matching prefix wins, field by field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RulesConfig:
    # -- outage (A1) ------------------------------------------------------------------
    silence_multiple: float = 3.0  # x the station's shortest upload interval [E] A1
    silence_min_s: float = 600.0  # never less than 10 min [E] A1
    # -- cases and deadlines (Hubei Art. 15 [P seed]; national: 12 h / 5 working days) -
    report_due_h: float = 24.0  # written report to the bureau [P seed Art. 15]
    restore_due_gas_h: float = 12.0  # waste-gas facility running again [P seed Art. 15]
    restore_due_water_h: float = 48.0  # waste-water facility [P seed Art. 15; 环发〔2008〕6号]
    restore_due_other_h: float = 48.0  # media the rule does not name [E]
    reminder_before_h: tuple[float, ...] = (2.0,)  # reminders ahead of each deadline [E]
    manual_sampling_every_h: float = 6.0  # >= 4 a day, <= 6 h apart [P 环发〔2008〕6号 15]
    facility_flag_min: float = 60.0  # D/B run that opens a facility case [S] A22
    maintenance_flag_min: float = 120.0  # unmarked M/C run that opens one [E] A22
    missing_factor_hours: int = 1  # an assessed factor absent while others arrive [E]
    # -- validity (HJ 76-2017 App. B [S]; HJ 356-2019 [R]) ------------------------------
    hour_grace_min: float = 10.0  # hour H is judged at H+1h+grace [E] A2
    gas_min_valid_minutes: int = 45  # valid gas hour [S] HJ 76 App. B
    gas_min_valid_hours: int = 20  # valid gas day [S] HJ 76 App. B
    gas_min_valid_days: int = 25  # valid gas month [S] HJ 76 App. B
    gas_min_valid_days_february: int = 23  # ... in February [S] HJ 76 App. B
    water_min_valid_fraction: float = 0.75  # valid water day, of expected hours [R] HJ 356
    # -- anomalies (docs/regulations.md §5; thresholds [E] unless noted) ---------------------
    zero_hours: int = 1  # A5: hourly mean 0 while running
    constant_hours: int = 4  # A7: identical hourly means
    constant_minutes: float = 60.0  # A7: identical real-time/minute values
    narrow_band_fraction: float = 0.02  # A8: 24-h spread < 2 % of range [S] field checks
    narrow_band_hours: int = 24
    detection_limit_fraction: float = 0.01  # A9: DL as a fraction of range_high
    detection_limits: Mapping[str, float] = field(default_factory=dict)  # A9 per code
    detection_limit_hours: int = 24
    over_range_fraction: float = 0.98  # A10
    jump_limit_fraction: float = 0.5  # A11: |Δ| > 50 % of the limit ...
    jump_sigma: float = 5.0  # ... and > 5 σ of the previous 24 h
    jump_min_history: int = 6
    jump_range_fraction: float = 0.1  # ... and > 10 % of the measuring range, if known
    o2_ambient: float = 19.0  # A19: O2 this high means air, not flue gas
    converted_tolerance: float = 0.01  # A16: |Zs - formula| / formula, real-time values
    converted_period_tolerance: float = 0.05  # A16 on minute/hour/day means (see README)
    cou_tolerance: float = 0.02  # A20
    aggregate_tolerance: float = 0.02  # A21: hour vs its minutes, day vs its hours
    drift_future_s: float = 60.0  # clock drift: data from the future [E]
    drift_behind_s: float = 600.0  # real-time data this late, repeatedly [E]
    drift_records: int = 3
    duplicates_per_hour: int = 3  # retransmitted frames per hour before an alarm [E]
    # -- limits beyond the upper emission limit (docs/regulations.md §3, A13, A14) ------
    ph_range: tuple[float, ...] = (6.0, 9.0)  # pH judged on its range [P] GB 8978-1996 Table 4
    lower_bounds: Mapping[str, float] = field(default_factory=dict)  # A13 per code [S]
    upper_bounds: Mapping[str, float] = field(default_factory=dict)  # A13 per code [S]
    # -- effective transmission rate (§1) -----------------------------------------------
    etr_threshold: float = 0.95  # [P seed Art. 8]; national 0.75 (2014), 0.90 (later)
    # 大于 95 % (seed 003 Art. 8): exactly the threshold fails; false = 不低于 (>=), the
    # wording of the national and some provincial assessments (docs/regulations.md §1.4)
    etr_strict: bool = True
    water_check_exempt_hours: int = 1  # 自动标样核查 hour per day [S]
    water_check_factors: tuple[str, ...] = ("w01018", "w21003", "w21011", "w21001")
    realtime_grace_min: float = 10.0  # 即时: received by hour end + this [E]
    # -- corrections and late marks (docs/corrections.md §2) ---------------------------
    correction_window_days: float = 10.0  # 修约补遗 within 10 days [S] regulations §1.2

    def restore_due_h(self, medium: str) -> float:
        if medium == "gas":
            return self.restore_due_gas_h
        if medium == "water":
            return self.restore_due_water_h
        return self.restore_due_other_h


class RulesConfigError(ValueError):
    """A rules setting of the wrong name or type."""


_FIELDS = {f.name: f for f in dataclasses.fields(RulesConfig)}


def _typed(name: str, value: object) -> object:
    if name not in _FIELDS:
        raise RulesConfigError(f"unknown rules setting {name!r}")
    default = getattr(RulesConfig(), name)
    if isinstance(default, bool) != isinstance(value, bool):
        wanted = "true or false" if isinstance(default, bool) else "a number"
        raise RulesConfigError(f"{name}: {value!r} is not {wanted}")
    if isinstance(default, bool):
        return value
    if isinstance(default, tuple):
        if not isinstance(value, list | tuple):
            raise RulesConfigError(f"{name}: {value!r} is not a list")
        kind = type(default[0]) if default else str
        return tuple(kind(v) for v in value)
    if isinstance(default, Mapping):
        if not isinstance(value, Mapping):
            raise RulesConfigError(f"{name}: {value!r} is not a table")
        return {str(k): float(v) for k, v in value.items()}
    try:
        return type(default)(value)
    except (TypeError, ValueError):
        raise RulesConfigError(f"{name}: {value!r} is not a {type(default).__name__}") from None


def config_from(values: Mapping[str, object], base: RulesConfig | None = None) -> RulesConfig:
    """``base`` (default: the defaults) with ``values`` applied, each checked."""
    changes: dict[str, Any] = {k: _typed(k, v) for k, v in values.items()}
    return dataclasses.replace(base or RulesConfig(), **changes)


@dataclass(frozen=True)
class Ruleset:
    """The defaults and the regional overrides; :meth:`for_region` merges them."""

    base: RulesConfig = field(default_factory=RulesConfig)
    regions: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    _cache: dict[str, RulesConfig] = field(default_factory=dict, compare=False, repr=False)

    def for_region(self, region_code: str) -> RulesConfig:
        found = self._cache.get(region_code)
        if found is None:
            found = self.base
            for prefix in sorted(self.regions, key=len):
                if region_code.startswith(prefix):
                    found = config_from(self.regions[prefix], found)
            self._cache[region_code] = found
        return found


def ruleset_from(data: Mapping[str, object]) -> Ruleset:
    """A ruleset from a TOML-shaped table: settings, plus ``region.<prefix>`` tables."""
    values = dict(data)
    regions = values.pop("region", {})
    if not isinstance(regions, Mapping):
        raise RulesConfigError("region must be a table of region-code prefixes")
    checked: dict[str, Mapping[str, object]] = {}
    for prefix, overrides in regions.items():
        if not (str(prefix).isdigit() and 1 <= len(str(prefix)) <= 6):
            raise RulesConfigError(f"region {prefix!r}: not a prefix of a 6-digit region code")
        if not isinstance(overrides, Mapping):
            raise RulesConfigError(f"region {prefix!r} must be a table")
        config_from(overrides)  # fail now, not at the first station of that region
        checked[str(prefix)] = dict(overrides)
    return Ruleset(config_from(values), checked)
