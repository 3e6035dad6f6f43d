"""``hj212 report transmission``: effective transmission rate by factor, station,
enterprise and in total, realtime and completion, with the daily trend.

Rates per docs/regulations.md §1 (:mod:`rules.transmission`); each station is held to the
threshold of its region (``etr_threshold``, default 95 %, Hubei Art. 8), enterprises
and the total to the threshold of their first station's region. A period still running
is counted up to the last hour judged when the report is made, and says so.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import psycopg
from psycopg.rows import TupleRow

from reports.model import Chart, Report, Table
from reports.periods import Period, counted_to
from rules.config import RulesConfig, Ruleset
from rules.model import StationInfo
from rules.transmission import Tally, below
from services.figures import figures

COLUMNS = (
    "level",
    "region_code",
    "enterprise",
    "mn",
    "station",
    "pollutant",
    "expected",
    "shutdown_h",
    "exempt_h",
    "received_rt",
    "valid_rt",
    "tr_rt",
    "er_rt",
    "etr_rt",
    "received",
    "valid",
    "tr",
    "er",
    "etr",
    "threshold",
    "pass",
    "substituted_h",  # hours with an approved substitution: still missing or invalid here
    "corrected_h",  # hours with an approved correction: valid in the completion variant
)
RATES = frozenset({"tr_rt", "er_rt", "etr_rt", "tr", "er", "etr", "threshold"})
DAILY = ("day", "expected", "received", "valid", "etr", "etr_rt")


def _row(
    level: str,
    station: StationInfo | None,
    enterprise: str,
    pollutant: str,
    tally: Tally,
    cfg: RulesConfig,
    adjusted: tuple[int, int] = (0, 0),
) -> tuple[object, ...]:
    rt, c = tally.realtime, tally.completion
    threshold = cfg.etr_threshold
    failed = below(c, threshold, strict=cfg.etr_strict)
    passed = "" if c.etr is None else ("no" if failed else "yes")
    return (
        level,
        station.region_code if station else "",
        enterprise,
        station.mn if station else "",
        station.name if station else "",
        pollutant,
        c.expected,
        tally.shutdown,
        tally.exempt,
        rt.received,
        rt.valid,
        rt.tr,
        rt.er,
        rt.etr,
        c.received,
        c.valid,
        c.tr,
        c.er,
        c.etr,
        threshold,
        passed,
        *adjusted,
    )


def _plus(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return a[0] + b[0], a[1] + b[1]


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
        conn, period.start, period.end, now=now, ruleset=ruleset, region=region, emissions=False
    )
    stations = [f.station for f in found.stations]
    rows: list[tuple[object, ...]] = []
    by_day: dict[int, Tally] = defaultdict(Tally)
    enterprises: dict[str, tuple[Tally, RulesConfig]] = {}
    fixed: dict[str, tuple[int, int]] = defaultdict(lambda: (0, 0))  # enterprise ->
    total = Tally()
    chart_labels: list[str] = []
    chart_values: list[float | None] = []
    for one in found.stations:
        station, cfg = one.station, one.cfg
        own = (0, 0)
        for code, factor in one.factor_rates().items():
            adj = one.adjusted_hours(code)
            own = _plus(own, adj)
            rows.append(_row("pollutant", station, station.enterprise, code, factor, cfg, adj))
        for day, tally in one.daily_rates().items():
            by_day[day] = by_day[day] + tally
        station_total = one.rate()
        rows.append(_row("station", station, station.enterprise, "", station_total, cfg, own))
        fixed[station.enterprise] = _plus(fixed[station.enterprise], own)
        chart_labels.append(station.name or station.mn)
        chart_values.append(station_total.completion.etr)
        sofar, cfg = enterprises.get(station.enterprise, (Tally(), cfg))
        enterprises[station.enterprise] = (sofar + station_total, cfg)
        total = total + station_total
    for name, (tally, cfg) in sorted(enterprises.items()):
        rows.append(_row("enterprise", None, name, "", tally, cfg, fixed[name]))
    base = ruleset.base
    if region is not None and stations:
        base = ruleset.for_region(stations[0].region_code)
    everything = (sum(a for a, _ in fixed.values()), sum(b for _, b in fixed.values()))
    rows.append(_row("total", None, "", "", total, base, everything))
    daily = [
        (
            datetime.fromtimestamp(day / 1e6, period.start.tzinfo).strftime("%Y-%m-%d"),
            t.completion.expected,
            t.completion.received,
            t.completion.valid,
            t.completion.etr,
            t.realtime.etr,
        )
        for day, t in sorted(by_day.items())
    ]
    where = f"region {region}" if region else "all regions"
    return Report(
        title=f"有效传输率 Effective transmission rate {period.label}",
        subtitle=f"{where}; {len(stations)} stations; {counted_to(period, found.counted_to, now)}",
        tables=[
            Table("transmission", COLUMNS, rows, RATES),  # type: ignore[arg-type]
            Table("daily", DAILY, daily, frozenset({"etr", "etr_rt"})),  # type: ignore[arg-type]
        ],
        charts=[
            Chart(
                "bar",
                "ETR by station (completion)",
                chart_labels,
                {"ETR": chart_values},
                "%",
                base.etr_threshold,
            ),
            Chart(
                "line",
                "Daily ETR, all stations",
                [d[0] for d in daily],
                {"completion": [d[4] for d in daily], "realtime": [d[5] for d in daily]},
                "%",
                base.etr_threshold,
            ),
        ],
        notes=NOTES,
    )


NOTES = [
    (
        "ETR = TR x ER = valid / expected (docs/regulations.md §1.1); rt = realtime (即时): "
        "data received by the end of the hour plus the grace; the other columns are the "
        "completion variant (补全), with data sent later."
    ),
    (
        "Hours under a shutdown mark (or flagged F with the unit stopped) are out of the "
        "period; exemption marks and the water check hour (COD, NH3-N, TP, TN: 1 h a day) "
        "are exempt."
    ),
]
