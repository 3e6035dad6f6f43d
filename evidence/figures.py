"""The window's transmission rates and emission totals for the bundle, from the one
figures pipeline the console and the reports use (services/figures.py: the same hourly
status, marks and exemptions, and the same hours: those ended and judged by the export,
from ``monitored_since``); this module only shapes them as JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rules.config import Ruleset
from rules.times import dt, machine
from rules.transmission import Counts, Tally
from services import figures as services
from storage.db import Conn


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
    conn: Conn,
    mn: str,
    start: datetime,
    end: datetime,
    ruleset: Ruleset | None = None,
    *,
    now: datetime,
) -> dict[str, Any]:
    """Rates per assessed factor (and per day) and emissions per factor, or why none,
    over the hours of [start, end) judged by ``now``."""
    found = services.figures(conn, start, end, now=now, ruleset=ruleset or Ruleset(), mns={mn})
    if not found.stations:
        return {"note": "station not in the registry (or inactive): no rates or emissions"}
    (one,) = found.stations
    factors = one.factor_rates()
    return {
        "threshold": one.cfg.etr_threshold,
        # the hours the rates count: [from, to) (to <= from: none yet)
        "counted": {"from": machine(dt(one.first)), "to": machine(dt(one.last))},
        "transmission": {
            "total": _tally(one.rate()),
            "factors": {code: _tally(t) for code, t in factors.items()},
            "days": {
                code: {str(day): _tally(t) for day, t in sorted(days.items())}
                for code, days in one.rates.items()
            },
        },
        "emissions": {
            code: {
                "computed": t.computed,
                "device": t.device,
                "hours": t.hours,
                "manual_hours": t.manual_hours,  # from manual samples (rules/manual.py)
                # apart: approved substitutions and corrections (docs/corrections.md §3)
                "measured": t.measured,
                "substituted": t.substituted,
                "substituted_hours": t.substituted_hours,
                "corrected": t.corrected,
                "corrected_hours": t.corrected_hours,
                "difference": t.difference,
                "check": one.check(code, t),
            }
            for code, t in one.emission_totals().items()
        },
        "marks_applied": [m.id for m in one.marks],
    }
