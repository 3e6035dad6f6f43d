"""A quarterly submission's lines: pre-filled from the platform's figures, corrected
line by line, frozen as canonical JSON, compared between versions (docs/quarterly.md §2).

The amounts come from :func:`services.figures.figures` (the one implementation of the
emission totals, docs/regulations.md §4), by outlet, month and item of seed 004 二.2:
waste water, COD, NH3-N; flue gas, SO2, NOx, particulates; with each treatment
facility's run time from the 2041 daily uploads (HJ 212-2017 Table A.x SBx-RT). A line
whose hours include manual values (the incident workflow, rules/manual.py) says so.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from protocol.pollutants import lookup
from rules.config import Ruleset
from rules.emissions import Total
from rules.quarterly_calendar import Quarter
from rules.times import month_floor, period_label, us
from services.figures import DIRECT_REPORT, figures
from storage import quarterly
from storage.db import Conn

Line = dict[str, Any]
KEY = ("mn", "month", "item")
EDITABLE = ("amount", "reason", "attachment")
RUN_TIME = "run-time"  # the item of a treatment facility's run-time line


def key(line: Mapping[str, Any]) -> tuple[str, str, str]:
    return (str(line["mn"]), str(line["month"]), str(line["item"]))


def _unit(code: str) -> str:
    factor = lookup(code)
    return factor.cou_unit if factor and factor.cou_unit else ""


def _line(
    mn: str, outlet: str, month: str, item: str, unit: str, amount: float, **extra: Any
) -> Line:
    line: Line = {
        "mn": mn, "outlet": outlet, "month": month, "item": item, "unit": unit,
        "computed": amount, "amount": amount, "corrected": False, "reason": "",
        "attachment": None, "hours": 0, "manual_hours": 0,
    }  # fmt: skip
    line.update(extra)
    return line


def prefill(
    conn: Conn, mns: Sequence[str], quarter: Quarter, *, now: datetime, ruleset: Ruleset
) -> list[Line]:
    """The lines of ``quarter`` for the outlets ``mns``, as the platform computes them."""
    found = figures(
        conn, quarter.start, quarter.end, now=now, ruleset=ruleset, mns=mns, rates=False
    )
    months = [period_label("month", us(m)) for m in _months(quarter)]
    lines: list[Line] = []
    for one in found.stations:
        station = one.station
        outlet = station.name or station.mn
        for code in DIRECT_REPORT.get(station.medium, ()):
            by_month: dict[str, Total] = defaultdict(Total)
            for day, total in one.emissions.get(code, {}).items():
                by_month[period_label("month", month_floor(day))] += total
            for month in months:
                t = by_month.get(month, Total())
                lines.append(  # to 3 decimals, as `hj212 report emissions` shows them
                    _line(station.mn, outlet, month, code, _unit(code), round(t.computed, 3),
                          hours=t.hours, manual_hours=t.manual_hours)
                )  # fmt: skip
    lines += _run_time(conn, [s.station.mn for s in found.stations], quarter, found)
    return sorted(lines, key=key)


def _months(quarter: Quarter) -> list[datetime]:
    return [quarter.start.replace(month=m.month) for m in quarter.months()]


def _run_time(conn: Conn, mns: list[str], quarter: Quarter, found: Any) -> list[Line]:
    outlets = {s.station.mn: s.station.name or s.station.mn for s in found.stations}
    sums: dict[tuple[str, str, str], float] = defaultdict(float)
    for mn, device, day, hours in quarterly.run_hours(conn, mns, quarter.start, quarter.end):
        sums[(mn, period_label("month", us(day)), device)] += hours
    return [
        _line(mn, outlets.get(mn, mn), month, f"{RUN_TIME}:{device}", "h", round(total, 3))
        for (mn, month, device), total in sorted(sums.items())
    ]


def canonical(lines: Sequence[Mapping[str, Any]]) -> str:
    """The frozen text of a version: the lines sorted by (mn, month, item), keys sorted,
    no spaces, UTF-8 as is (docs/quarterly.md §2); its SHA-256 is stored beside it."""
    ordered = sorted((dict(line) for line in lines), key=key)
    return json.dumps(ordered, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def diff(
    old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Every cell that changed between two versions: the line, the field, old, new, and
    the reason the newer line gives."""
    before = {key(line): line for line in old}
    after = {key(line): line for line in new}
    out: list[dict[str, Any]] = []
    for k in sorted(before.keys() | after.keys()):
        a, b = before.get(k, {}), after.get(k, {})
        out.extend(
            {"mn": k[0], "month": k[1], "item": k[2], "field": name,
             "old": a.get(name), "new": b.get(name), "reason": b.get("reason", "")}
            for name in ("amount", "attachment")
            if a.get(name) != b.get(name)
        )  # fmt: skip
    return out


def correct(
    lines: Sequence[Mapping[str, Any]], changes: Sequence[Mapping[str, Any]]
) -> tuple[list[Line], list[str]]:
    """``lines`` with ``changes`` applied (each: mn, month, item, amount, reason, and an
    optional attachment id), or every error found and the lines unchanged."""
    by_key = {key(line): dict(line) for line in lines}
    errors: list[str] = []
    for i, change in enumerate(changes, 1):
        errors += _apply(by_key, i, change)
    if errors:
        return [dict(line) for line in lines], errors
    return sorted(by_key.values(), key=key), []


def _apply(
    by_key: dict[tuple[str, str, str], Line], i: int, change: Mapping[str, Any]
) -> list[str]:
    try:
        k = key(change)
    except KeyError as exc:
        return [f"change {i}: {exc.args[0]} missing"]
    line = by_key.get(k)
    if line is None:
        return [f"change {i}: no line {'/'.join(k)}"]
    amount, reason = change.get("amount"), str(change.get("reason") or "").strip()
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        return [f"change {i} ({'/'.join(k)}): amount must be a number"]
    if not math.isfinite(amount) or amount < 0:
        return [f"change {i} ({'/'.join(k)}): amount must be 0 or more, and finite"]
    back = float(amount) == line["computed"]
    if not reason and not back:
        return [f"change {i} ({'/'.join(k)}): a corrected line needs a reason"]
    line.update(amount=float(amount), corrected=not back, reason="" if back else reason)
    attachment = change.get("attachment")
    line["attachment"] = int(attachment) if attachment is not None and not back else None
    return []


def parse(text: str) -> list[Line]:
    found = json.loads(text)
    assert isinstance(found, list)
    return found
