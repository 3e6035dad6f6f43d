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

from protocol.codes import Cn
from rules import outage
from rules.config import Ruleset
from rules.model import Reading
from storage import incidents, manual_data, queries
from storage.db import Conn
from storage.incidents import CaseRow, Report
from storage.manual_data import Sample


@dataclass(frozen=True)
class Due:
    what: str  # report | restoration | manual-sample | stop-notice
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


def link_back(conn: Conn, case: CaseRow, ruleset: Ruleset) -> str | None:
    """An open outage case's phase once the station is heard again (rules/outage.py
    ``after_link_back``), from the newest reading of each factor since it opened; None
    for another case."""
    if case.kind != "outage" or case.state != "open":
        return None
    newest: dict[str, queries.Latest] = {}
    for cn in (Cn.REALTIME, Cn.MINUTE, Cn.HOURLY):
        for row in queries.latest_values(conn, case.opened_at, [case.mn], cn):
            if row.pollutant not in newest or row.data_time > newest[row.pollutant].data_time:
                newest[row.pollutant] = row
    readings = {code: Reading(rtd=r.value, flag=r.flag) for code, r in newest.items()}
    return outage.after_link_back(readings, ruleset.for_region(case.region_code))


def after_stop(due: list[Due], case: CaseRow, reports: list[Report], now: datetime) -> list[Due]:
    """What is due once the link is back and the plant reports itself stopped: the link
    is restored, no manual sample is due while nothing is emitted, a stop notice is
    (docs/console.md §6; rules/outage.py)."""
    kept = [d for d in due if d.what not in ("restoration", "manual-sample")]
    noticed = any(r.kind in ("planned-stop", "restoration") for r in reports)
    notice = Due(
        "stop-notice", case.report_due, "done" if noticed else _state(case.report_due, now)
    )
    out = [*kept, Due("restoration", None, "done"), notice]
    return sorted(out, key=lambda d: (d.state in ("done", "late"), d.by or now))


def overview(conn: Conn, case: CaseRow, ruleset: Ruleset, now: datetime) -> dict[str, Any]:
    """A case with its reports, samples and what is due next (the console's case page),
    and for an outage case what the data since it opened say (``phase``) and who is
    expected to do what (``expected``)."""
    reports = incidents.reports(conn, case_id=case.id)
    samples = manual_data.samples(conn, case_id=case.id)
    due = due_next(case, reports, samples, ruleset, now)
    phase = link_back(conn, case, ruleset)
    if phase == "stopped":
        due = after_stop(due, case, reports, now)
    return {
        "case": asdict(case),
        "reports": [asdict(r) for r in reports],
        "samples": [asdict(s) for s in samples],
        "due": [asdict(d) for d in due],
        "phase": phase,
        "expected": [{"who": w, "what": x} for w, x in outage.EXPECTED.get(phase or "", ())],
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
