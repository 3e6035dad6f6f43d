"""``hj212 report emissions``: the quarterly direct-report figures (国控源直报, seeds/004):
waste-water volume, COD and NH3-N for water outlets; flue-gas volume, SO2, NOx and
particulates for gas outlets, by month and for the period, per station, enterprise and
in total.

Amounts are Σ over hours of measured concentration x that hour's flow volume
(:mod:`rules.emissions`, docs/regulations.md §4), next to the sum of the devices' own -Cou
over the hours that had one; a difference over ``cou_tolerance`` (2 %) is flagged (A20).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import psycopg
from psycopg.rows import TupleRow

from protocol.pollutants import lookup
from reports.model import Chart, Report, Table
from reports.periods import Period, counted_to
from rules.config import Ruleset
from rules.emissions import Total
from rules.model import GAS_FLOW, WATER_FLOW, StationInfo
from rules.times import month_floor, period_label, us
from services.figures import DIRECT_REPORT, cou_check, figures

ITEMS = DIRECT_REPORT  # waste water m³, COD, NH3-N; flue gas m³, SO2, NOx, particulates
NAMES = {
    WATER_FLOW: "废水排放量 waste water",
    "w01018": "化学需氧量 COD",
    "w21003": "氨氮 NH3-N",
    GAS_FLOW: "废气排放量 flue gas",
    "a21026": "二氧化硫 SO2",
    "a21002": "氮氧化物 NOx",
    "a34013": "烟尘 particulates",
}
COLUMNS = (
    "level",
    "region_code",
    "enterprise",
    "mn",
    "station",
    "month",
    "item",
    "name",
    "unit",
    "amount",
    "device_cou",
    "difference",
    "hours",
    "check",
    # of amount: from values as measured, from approved substitutions, from approved
    # corrections (docs/corrections.md §3), and the hours of the last two
    "measured",
    "substituted",
    "corrected",
    "substituted_h",
    "corrected_h",
)


def _unit(code: str) -> str:
    factor = lookup(code)
    return factor.cou_unit if factor else ""


def _row(
    level: str,
    station: StationInfo | None,
    enterprise: str,
    month: str,
    code: str,
    total: Total,
    tolerance: float,
) -> tuple[object, ...]:
    is_flow = code in (GAS_FLOW, WATER_FLOW)
    return (
        level,
        station.region_code if station else "",
        enterprise,
        station.mn if station else "",
        station.name if station else "",
        month,
        code,
        NAMES.get(code, code),
        _unit(code),
        round(total.computed, 3),
        None if is_flow or not total.device_hours else round(total.device, 3),
        None if is_flow else total.difference,
        total.hours,
        cou_check(code, total, tolerance),
        round(total.measured, 3),
        round(total.substituted, 3),
        round(total.corrected, 3),
        total.substituted_hours,
        total.corrected_hours,
    )


CHART_TITLES = {
    "water": ("水污染物 Water pollutants by month (kg)", "废水量 Waste water by month (m³)"),
    "gas": ("大气污染物 Air pollutants by month (kg)", "废气量 Flue gas by month (m³)"),
}


def _charts(
    medium: str,
    labels: list[str],
    monthly: dict[tuple[str, str], float],
    overall: dict[str, Total],
) -> list[Chart]:
    """A medium's pollutants and its volume, each on its own axis: waste water's m³ are
    four orders of magnitude below flue gas's, COD's kg far above NH3-N's."""
    flow, *codes = ITEMS[medium]
    masses = [c for c in codes if c in overall]
    mass_title, volume_title = CHART_TITLES[medium]
    return [
        Chart(
            "bar",
            mass_title,
            [NAMES[c] for c in masses],
            {m: [monthly.get((m, c)) for c in masses] for m in labels},
            "kg",
        ),
        Chart(
            "bar",
            volume_title,
            [NAMES[flow]],
            {m: [monthly.get((m, flow))] for m in labels},
            "m³",
        ),
    ]


def build(
    conn: psycopg.Connection[TupleRow],
    period: Period,
    ruleset: Ruleset | None = None,
    region: str | None = None,
    *,
    now: datetime,
) -> Report:
    ruleset = ruleset or Ruleset()
    found = figures(
        conn, period.start, period.end, now=now, ruleset=ruleset, region=region, rates=False
    )
    outlets = [f for f in found.stations if f.station.medium in ITEMS]
    rows: list[tuple[object, ...]] = []
    enterprise: dict[tuple[str, str], Total] = defaultdict(Total)
    overall: dict[str, Total] = defaultdict(Total)
    monthly: dict[tuple[str, str], float] = defaultdict(float)
    tolerance = ruleset.base.cou_tolerance
    for one in outlets:
        station, own = one.station, one.cfg.cou_tolerance
        for code in ITEMS[station.medium]:
            by_month: dict[str, Total] = defaultdict(Total)
            for day, total in one.emissions.get(code, {}).items():
                by_month[period_label("month", month_floor(day))] += total
            for month, total in sorted(by_month.items()):
                rows.append(_row("month", station, station.enterprise, month, code, total, own))
                monthly[(month, code)] += total.computed
            whole = sum(by_month.values(), Total())
            rows.append(
                _row("station", station, station.enterprise, period.label, code, whole, own)
            )
            enterprise[(station.enterprise, code)] += whole
            overall[code] += whole
    for (name, code), total in sorted(enterprise.items()):
        rows.append(_row("enterprise", None, name, period.label, code, total, tolerance))
    rows += [
        _row("total", None, "", period.label, code, overall[code], tolerance)
        for code in (*ITEMS["water"], *ITEMS["gas"])
        if code in overall
    ]
    labels = [period_label("month", us(m)) for m in period.months()]
    where = f"region {region}" if region else "all regions"
    return Report(
        title=f"排放量 Emissions {period.label}",
        subtitle=f"{where}; {len(outlets)} outlets; {counted_to(period, found.counted_to, now)}",
        tables=[Table("emissions", COLUMNS, rows, frozenset({"difference"}))],  # type: ignore[arg-type]
        charts=[
            chart
            for medium in ITEMS
            if ITEMS[medium][0] in overall
            for chart in _charts(medium, labels, monthly, overall)
        ],
        notes=[
            (
                "Amount = Σ hourly measured concentration x the hour's flow volume (the flow's "
                "-Cou, else its mean rate x 1 h); device_cou = Σ of the devices' own -Cou; "
                "'differs' when they disagree by more than "
                f"{tolerance:.0%} (docs/regulations.md §4, A20)."
            ),
            (
                "Hours without data are substituted only by an approved substitution (HJ/T 75 "
                "gap rule, docs/corrections.md §1); 'hours' says how many hours each figure "
                "covers, 'measured', 'substituted' and 'corrected' what of the amount came "
                "from each (docs/corrections.md §3)."
            ),
        ],
    )
