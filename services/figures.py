"""The one implementation of the figures the console, the reports and the evidence
bundle show: effective transmission rates (docs/regulations.md §1) and emission totals
(§4) for a region, an optional set of stations and a period, asked at a moment ``now``.

Storage only fetches the rows (:mod:`storage.reports_queries`); the judging is the pure
rules (:mod:`rules.rates`, :mod:`rules.transmission`, :mod:`rules.emissions`,
:mod:`rules.validity`). Callers only format what this returns.

Both figures count the same hours, those of :func:`rules.transmission.counted_window`
with the settings of the station's region (§1.2): whole hours of the period, from the
station's ``monitored_since``, that had ended and been judged by ``now``. A period still
running is counted up to then, never past it.

Approved substitutions and corrections (docs/corrections.md §3) are applied here, for
every caller at once: emission totals count their amounts apart from the measured ones,
a corrected hour counts valid in the completion rate, a substituted one does not count.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rules.config import RulesConfig, Ruleset
from rules.corrections import Adjusted
from rules.emissions import Total, mass_factor
from rules.manual import Manual, ManualValue, hourly
from rules.model import GAS_FLOW, WATER_FLOW, Mark, StationInfo
from rules.rates import day_tallies, emission_totals
from rules.times import HOUR, dt, us
from rules.transmission import Tally, counted_window
from storage import corrections, manual_data, reports_queries
from storage.db import Conn

# What the quarterly direct report asks of every outlet (docs/regulations.md §11, seed
# 004 二.2): waste water's volume, COD and NH3-N; flue gas's volume, SO2, NOx and
# particulates. Their amounts are computed even when the registry leaves one out.
DIRECT_REPORT: Mapping[str, tuple[str, ...]] = {
    "water": (WATER_FLOW, "w01018", "w21003"),
    "gas": (GAS_FLOW, "a21026", "a21002", "a34013"),
}


def flow_code(station: StationInfo) -> str:
    return GAS_FLOW if station.medium == "gas" else WATER_FLOW


def emission_codes(station: StationInfo) -> tuple[str, ...]:
    """The factors a station has emission amounts of: its flow (the volume), then every
    registered or direct-report factor whose code table gives a mass ``-Cou`` (§4; pH,
    temperature or O2 have none)."""
    flow = flow_code(station)
    codes = set(station.pollutants) | set(DIRECT_REPORT.get(station.medium, ()))
    return (flow, *sorted(c for c in codes - {flow} if mass_factor(c) is not None))


def cou_check(code: str, total: Total, tolerance: float) -> str:
    """A20 over a period (§4): "ok" when the devices' summed ``-Cou`` is within
    ``tolerance`` of C x V, "differs" when not, "" when there is nothing to compare (a
    flow's volume, or no hour with a device ``-Cou``)."""
    diff = total.difference
    if code in (GAS_FLOW, WATER_FLOW) or diff is None:
        return ""
    return "ok" if abs(diff) <= tolerance else "differs"


@dataclass(frozen=True, slots=True)
class StationFigures:
    """One station's figures over the hours [first, last) (µs) it was counted for."""

    station: StationInfo
    cfg: RulesConfig
    first: int
    last: int
    rates: Mapping[str, Mapping[int, Tally]]  # factor -> Beijing day (µs) -> tally
    emissions: Mapping[str, Mapping[int, Total]]  # factor -> Beijing day (µs) -> total
    marks: tuple[Mark, ...] = ()  # the marks in force that were applied
    # approved substitutions and corrections of the hours counted: (factor, hour µs) ->
    adjusted: Mapping[tuple[str, int], Adjusted] = field(default_factory=dict)

    def adjusted_hours(self, code: str) -> tuple[int, int]:
        """(substituted, corrected) hours of ``code`` among those counted."""
        kinds = [
            a.kind
            for (c, hour), a in self.adjusted.items()
            if c == code and self.first <= hour < self.last
        ]
        return kinds.count("substitution"), kinds.count("correction")

    def factor_rates(self) -> dict[str, Tally]:
        return {code: sum(days.values(), Tally()) for code, days in self.rates.items()}

    def rate(self) -> Tally:
        return sum(self.factor_rates().values(), Tally())

    def daily_rates(self) -> dict[int, Tally]:
        out: dict[int, Tally] = {}
        for days in self.rates.values():
            for day, t in days.items():
                out[day] = out.get(day, Tally()) + t
        return dict(sorted(out.items()))

    def emission_totals(self) -> dict[str, Total]:
        return {code: sum(days.values(), Total()) for code, days in self.emissions.items()}

    def check(self, code: str, total: Total) -> str:
        return cou_check(code, total, self.cfg.cou_tolerance)


@dataclass(frozen=True, slots=True)
class Figures:
    start: datetime
    end: datetime
    now: datetime
    stations: list[StationFigures]
    counted_to: datetime  # where counting ended: ended and judged by now, within the period


def stations(
    conn: Conn,
    region: str | None = None,
    mns: Collection[str] | None = None,
    enterprise: str | None = None,
) -> list[StationInfo]:
    """Active registered stations of a region-code prefix, of ``mns`` and of an
    enterprise when given, by region, enterprise and MN."""
    return [
        s
        for s in reports_queries.stations(conn, region)
        if (mns is None or s.mn in mns) and (enterprise is None or s.enterprise == enterprise)
    ]


def figures(
    conn: Conn,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    ruleset: Ruleset,
    region: str | None = None,
    mns: Collection[str] | None = None,
    enterprise: str | None = None,
    rates: bool = True,
    emissions: bool = True,
) -> Figures:
    """Rates and (or) emission totals of the selected stations over [start, end) as
    counted at ``now`` (``rates``/``emissions`` False: that figure left empty and its
    rows not read)."""
    found = stations(conn, region, mns, enterprise)
    wanted = [s.mn for s in found]
    if rates:
        data = reports_queries.period_data(conn, wanted, start, end)
        hours = {mn: d.hours for mn, d in data.items()}
    else:
        data, hours = {}, reports_queries.hours(conn, wanted, start, end)
    # a sample taken before the period may still stand for its first hours
    every = [ruleset.for_region(s.region_code).manual_sampling_every_h for s in found]
    reach = timedelta(hours=max(every, default=0.0))
    samples = manual_data.accepted(conn, wanted, start - reach, end) if wanted else {}
    fixed = corrections.in_force(conn, wanted, start, end) if wanted else {}
    out = []
    for s in found:
        cfg = ruleset.for_region(s.region_code)
        first, last = counted_window(us(start), us(end), s.created_at, us(now), cfg)
        manual = _manual(samples.get(s.mn, []), cfg)
        adjusted = fixed.get(s.mn, {})
        tallies: dict[str, dict[int, Tally]] = {}
        marks: tuple[Mark, ...] = ()
        if rates:
            d = data[s.mn]
            tallies = day_tallies(
                s, cfg, d.hours, d.minutes, d.marks, us(start), us(end), d.minute_hours,
                now=us(now), manual=manual, adjusted=adjusted,
            )  # fmt: skip
            marks = tuple(d.marks)
        totals = {}
        if emissions:
            codes = emission_codes(s)[1:]
            totals = emission_totals(s, hours[s.mn], codes, first, last, manual, adjusted)
        out.append(StationFigures(s, cfg, first, last, tallies, totals, marks, adjusted))
    cfg = ruleset.for_region(region or "")
    ends = [f.last for f in out] or [counted_window(us(start), us(end), None, us(now), cfg)[1]]
    return Figures(start, end, now, out, dt(max(ends)))


def _manual(samples: list[tuple[str, datetime, float]], cfg: RulesConfig) -> Manual:
    """The hours accepted manual samples stand for (docs/regulations.md §1.3, §6.5)."""
    every = round(cfg.manual_sampling_every_h * HOUR)
    return hourly((ManualValue(code, us(taken), value) for code, taken, value in samples), every)
