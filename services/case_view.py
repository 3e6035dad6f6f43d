"""What a case asks of the enterprise next, and by when; the regulator's queue of
reports (docs/regulations.md §6.5).

The deadlines are the ones the engine keeps (the case row's report and restore due
times, rules/cases.py ``manual_step`` for the next sample): this view reads them, the
engine decides the alarms.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from rules.config import Ruleset
from storage import incidents, manual_data
from storage.db import Conn
from storage.incidents import CaseRow, Report
from storage.manual_data import Sample


@dataclass(frozen=True)
class Due:
    what: str  # report | restoration | manual-sample
    by: datetime | None
    state: str  # due | overdue | done | late | returned


def due_next(
    case: CaseRow, reports: list[Report], samples: list[Sample], ruleset: Ruleset, now: datetime
) -> list[Due]:
    """The case's obligations, soonest first: the written report, restoration, the next
    manual sample (6 h after the latest taken, or the opening)."""
    cfg = ruleset.for_region(case.region_code)
    written = [r for r in reports if r.kind == "written"]
    out = [_report_due(case, written, now)]
    restored = case.state == "closed"
    late_restore = case.restore_due is not None and (case.closed_at or now) > case.restore_due
    restore_state = (
        ("late" if late_restore else "done") if restored else _state(case.restore_due, now)
    )
    out.append(Due("restoration", case.restore_due, restore_state))
    if not restored:
        taken = [s.sampled_at for s in samples]
        base = max([case.opened_at, *taken])
        by = base + timedelta(hours=cfg.manual_sampling_every_h)
        out.append(Due("manual-sample", by, _state(by, now)))
    return sorted(out, key=lambda d: (d.state in ("done", "late"), d.by or now))


def _report_due(case: CaseRow, written: list[Report], now: datetime) -> Due:
    if not written:
        return Due("report", case.report_due, _state(case.report_due, now))
    last = written[-1]
    if last.state == "returned":
        return Due("report", case.report_due, "returned")
    return Due("report", case.report_due, "late" if written[0].late else "done")


def _state(by: datetime | None, now: datetime) -> str:
    return "overdue" if by is not None and now > by else "due"


def overview(conn: Conn, case: CaseRow, ruleset: Ruleset, now: datetime) -> dict[str, Any]:
    """A case with its reports, samples and what is due next (the console's case page)."""
    reports = incidents.reports(conn, case_id=case.id)
    samples = manual_data.samples(conn, case_id=case.id)
    return {
        "case": asdict(case),
        "reports": [asdict(r) for r in reports],
        "samples": [asdict(s) for s in samples],
        "due": [asdict(d) for d in due_next(case, reports, samples, ruleset, now)],
    }


def open_overviews(
    conn: Conn, mns: list[str], ruleset: Ruleset, now: datetime
) -> list[dict[str, Any]]:
    """Every open case of these stations with what is due next (the enterprise's list)."""
    return [overview(conn, case, ruleset, now) for case in incidents.open_cases(conn, mns)]


def review_queue(conn: Conn, mns: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The regulator's lists: reports waiting for review, returned and not corrected,
    written reports filed late, manual samples waiting for review."""
    found = incidents.reports(conn, mns=mns)
    corrected = {r.corrects for r in found if r.corrects is not None}
    return {
        "waiting": [asdict(r) for r in found if r.state == "filed"],
        "returned": [asdict(r) for r in found if r.state == "returned" and r.id not in corrected],
        "late": [asdict(r) for r in found if r.late],
        "samples": [asdict(s) for s in manual_data.samples(conn, mns=mns, state="pending")],
    }
