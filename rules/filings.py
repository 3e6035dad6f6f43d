"""What the enterprise files on a case and what the regulator answers, as engine inputs
(docs/regulations.md §6.5).

Each :class:`Filing` reaches the engine at the time it was filed (the platform's clock,
stored with the row: ``filed_at``, ``reviewed_at``, ``entered_at``), in order with the
records and the marks, so a replay sees what the live engine saw:

* a **written report** (seed 003 Art. 15: within 24 h) filed before the report deadline
  takes the case's report steps off; filed after it, it is recorded late and the
  overdue alarm stands. A corrected report answers a returned one;
* the regulator **acknowledges** a report, or **returns** it with a note: a returned
  report raises ``case-report-returned``, cleared only by a corrected report, so one
  left uncorrected shows as returned after the case has closed;
* a **restoration notice** goes into the timeline (valid data close the case);
* an **advance notice** of a planned stop or maintenance (环发〔2008〕6号 第十四条)
  makes a case that starts inside its window planned (rules/context.py); a returned
  notice no longer counts. Acknowledging it writes the data mark (storage), which the
  engine then gets as a :class:`~rules.model.Mark`;
* a **manual sample** (第十五条: at most 6 h apart) restarts the case's sampling
  clock from the time it was taken (rules/cases.py ``manual_step``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from rules import cases
from rules.model import CaseEvent, Clear
from rules.state import CaseState
from rules.state_parts import PlannedStop
from rules.times import DAY, dt, us

if TYPE_CHECKING:
    from rules.context import Ctx

REPORTS = ("written", "restoration")
NOTICES = ("planned-stop", "planned-maintenance")
REVIEWS = ("acknowledged", "returned")
SAMPLE = "sample"
KINDS = (*REPORTS, *NOTICES, *REVIEWS, SAMPLE)
NOTICE_KEEP = 3 * DAY  # notices that ended this long ago no longer matter


@dataclass(frozen=True, slots=True)
class Filing:
    """One report, notice, review or manual sample, as the engine takes it.

    ``ref``: for a review, the report reviewed; for a report, the one it corrects.
    ``start``/``end``: a notice's window; ``start`` is a sample's sampling time.
    """

    id: int
    mn: str
    kind: str
    at: datetime
    case_key: str | None = None
    ref: int | None = None
    start: datetime | None = None
    end: datetime | None = None
    pollutant: str | None = None


def handle(ctx: Ctx, filing: Filing) -> None:
    """Apply ``filing`` to the station's state (its cases and notices)."""
    if filing.kind in NOTICES:
        _notice(ctx, filing)
        return
    if filing.case_key is None:
        if filing.kind == "returned":  # a returned notice no longer makes a case planned
            ctx.st.notices = [n for n in ctx.st.notices if n.id != filing.ref]
        return
    case = ctx.st.cases.get(filing.case_key)
    if case is None:
        return  # the case has closed: the filing stays on record, the engine has no step
    if filing.kind == "written":
        _report(ctx, case, filing)
    elif filing.kind == "restoration":
        _event(ctx, case, "restoration-notice", {"report": filing.id})
    elif filing.kind in REVIEWS:
        _review(ctx, case, filing)
    elif filing.kind == SAMPLE and filing.start is not None:
        _sample(ctx, case, filing, us(filing.start))
    ctx.reschedule()


def _event(ctx: Ctx, case: CaseState, kind: str, detail: dict[str, object]) -> None:
    ctx.out.append(CaseEvent(case.key, ctx.mn, kind, dt(ctx.now), detail))


def _report(ctx: Ctx, case: CaseState, filing: Filing) -> None:
    late = "report-overdue" in case.done
    first = case.report_id is None
    case.report_id, case.report_at, case.review = filing.id, ctx.now, ""
    if first:
        case.report_late = late
    case.done += cases.report_labels(case, ctx.cfg)  # nothing of the report is due now
    detail: dict[str, object] = {"report": filing.id, "late": late}
    if filing.ref is not None:
        detail["corrects"] = filing.ref
    _event(ctx, case, "report-filed-late" if late else "report-filed", detail)
    if case.returned is not None:
        ctx.out.append(Clear(case.returned, ctx.mn, dt(ctx.now)))
        case.returned = None


def _review(ctx: Ctx, case: CaseState, filing: Filing) -> None:
    if filing.ref != case.report_id:
        return  # an answer to a report that a later one has replaced
    case.review = filing.kind
    detail: dict[str, object] = {"report": filing.ref, "review": filing.id}
    _event(ctx, case, f"report-{filing.kind}", detail)
    if filing.kind == "returned" and case.returned is None:
        key = f"{case.key}:report-returned:{filing.ref}"
        case.returned = key
        detail["case_kind"] = case.kind
        ctx.alarm(
            key,
            "case-report-returned",
            "warning",
            pollutant=case.pollutant,
            detail=detail,
            case_key=case.key,
        )


def _sample(ctx: Ctx, case: CaseState, filing: Filing, taken: int) -> None:
    case.samples += 1
    if case.manual_base is None or taken > case.manual_base:
        case.manual_base, case.manual_miss = max(taken, case.opened), 0
    detail: dict[str, object] = {"sample": filing.id, "pollutant": filing.pollutant}
    detail["sampled_at"] = filing.start.isoformat() if filing.start else None
    _event(ctx, case, "manual-sample", detail)


def _notice(ctx: Ctx, filing: Filing) -> None:
    if filing.start is None or filing.end is None:
        return
    keep = [n for n in ctx.st.notices if n.end >= ctx.now - NOTICE_KEEP]
    notice = PlannedStop(filing.id, us(filing.start), us(filing.end), filing.kind, ctx.now)
    ctx.st.notices = [*keep, notice]
