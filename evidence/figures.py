"""The window's transmission rates and emission totals, computed exactly as the reports
compute them (reports/, rules.rates: the same hourly status, marks and exemptions, and
the same hours: those ended and judged by the export, from ``monitored_since``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import TupleRow

from reports.emissions import ITEMS
from rules.config import Ruleset
from rules.rates import day_tallies, emission_totals
from rules.times import dt, machine, us
from rules.transmission import Counts, Tally, counted_window
from storage import reports_queries


def _counts(c: Counts) -> dict[str, Any]:
    return {"expected": c.expected, "received": c.received, "valid": c.valid,
            "tr": c.tr, "er": c.er, "etr": c.etr}  # fmt: skip


def _tally(t: Tally) -> dict[str, Any]:
    return {
        "completion": _counts(t.completion),
        "realtime": _counts(t.realtime),
        "shutdown_hours": t.shutdown,
        "exempt_hours": t.exempt,
    }


def figures(
    conn: psycopg.Connection[TupleRow],
    mn: str,
    start: datetime,
    end: datetime,
    ruleset: Ruleset | None = None,
    *,
    now: datetime,
) -> dict[str, Any]:
    """Rates per assessed factor (and per day) and emissions per factor, or why none,
    over the hours of [start, end) judged by ``now``."""
    ruleset = ruleset or Ruleset()
    found = [s for s in reports_queries.stations(conn) if s.mn == mn]
    if not found:
        return {"note": "station not in the registry (or inactive): no rates or emissions"}
    station = found[0]
    cfg = ruleset.for_region(station.region_code)
    data = reports_queries.period_data(conn, [mn], start, end)[mn]
    first, last = counted_window(us(start), us(end), station.created_at, us(now), cfg)
    tallies = day_tallies(
        station,
        cfg,
        data.hours,
        data.minutes,
        data.marks,
        us(start),
        us(end),
        data.minute_hours,
        now=us(now),
    )
    factors = {code: sum(days.values(), Tally()) for code, days in tallies.items()}
    total = sum(factors.values(), Tally())
    codes = ITEMS.get(station.medium, ("",))[1:]
    emissions = emission_totals(station, data.hours, codes, us(start), last)
    return {
        "threshold": cfg.etr_threshold,
        # the hours the rates count: [from, to) (to <= from: none yet)
        "counted": {"from": machine(dt(first)), "to": machine(dt(last))},
        "transmission": {
            "total": _tally(total),
            "factors": {code: _tally(t) for code, t in factors.items()},
            "days": {
                code: {str(day): _tally(t) for day, t in sorted(days.items())}
                for code, days in tallies.items()
            },
        },
        "emissions": {
            code: {
                "computed": sum(t.computed for t in days.values()),
                "device": sum(t.device for t in days.values()),
                "hours": sum(t.hours for t in days.values()),
            }
            for code, days in emissions.items()
        },
        "marks_applied": [m.id for m in data.marks],
    }
