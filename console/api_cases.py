"""Cases from the enterprise's and the regulator's side (docs/regulations.md §6.5):
written reports, restoration and advance notices, manual samples with their lab
reports, and the regulator's acknowledgements and returns.

Filing needs the ``propose`` right (enterprise, operator, administrator) and a station
in the user's jurisdiction: an enterprise files only on its own stations. Reviewing
needs the ``act`` right (the regulator's roles). Every change is audited twice: the
request (console/deps.py) and the filing itself, in its transaction
(services/case_forms.py). Times of filing are the console's clock.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field

from console.auth import CAN_PROPOSE
from console.deps import (
    DB,
    ERRORS,
    NO_NUL,
    ActorDep,
    CtxDep,
    ScopeDep,
    StationDep,
    Text,
    UserDep,
)
from services import case_forms as forms
from services import case_view
from storage import console_queries as q
from storage import incidents, manual_data
from storage.console_store import User
from storage.incidents import CaseRow

router = APIRouter(prefix="/api", responses=ERRORS)
Row = dict[str, Any]
_CODE = r"^[A-Za-z0-9]{2,12}$"


class AttachmentIn(BaseModel):
    name: Text = Field(min_length=1, max_length=200, pattern=NO_NUL)
    content_type: Literal["application/pdf", "image/png", "image/jpeg", "text/plain"]
    content_base64: str = Field(max_length=14_000_000, description="the file, base64")


def uploads(items: list[AttachmentIn]) -> tuple[forms.Upload, ...]:
    out = []
    for i, item in enumerate(items, 1):
        try:
            content = base64.b64decode(item.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise HTTPException(422, [f"attachment {i} ({item.name}): not base64"]) from None
        out.append(forms.Upload(item.name, item.content_type, content))
    return tuple(out)


def _proposer(user: User) -> User:
    if user.role not in CAN_PROPOSE:
        raise HTTPException(403, "this role may only read")
    return user


def _case(conn: DB, case_id: int, scope: ScopeDep) -> CaseRow:
    case = incidents.case(conn, case_id)
    if case is None or not q.visible(conn, case.mn, scope.region_prefix, scope.enterprise):
        raise HTTPException(404, "no such case")
    return case


def _refused(exc: forms.FormError) -> HTTPException:
    return HTTPException(422, exc.errors)


@router.get("/cases/open", summary="Open cases of your stations with what is due next, by when")
def open_cases(conn: DB, scope: ScopeDep, ctx: CtxDep) -> list[Row]:
    mns = incidents.stations_in(conn, scope.region_prefix, scope.enterprise)
    return case_view.open_overviews(conn, mns, ctx.ruleset, ctx.clock())


@router.get("/cases/{case_id}/filings", summary="A case's reports, samples and what is due")
def case_filings(case_id: int, conn: DB, scope: ScopeDep, ctx: CtxDep) -> Row:
    return case_view.overview(conn, _case(conn, case_id, scope), ctx.ruleset, ctx.clock())


class ReportIn(BaseModel):
    kind: Literal["written", "restoration"] = "written"
    cause: Text = Field(default="", max_length=4000, pattern=NO_NUL)
    started_at: datetime | None = None
    expected_restore: datetime | None = None
    measures: Text = Field(default="", max_length=4000, pattern=NO_NUL)
    corrects: int | None = None
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=10)


@router.post("/cases/{case_id}/reports", summary="File the written report or restoration notice")
def file_report(
    case_id: int, body: ReportIn, conn: DB, scope: ScopeDep, user: UserDep, ctx: CtxDep
) -> Row:
    _proposer(user)
    _case(conn, case_id, scope)
    form = forms.ReportForm(
        case_id,
        body.kind,
        body.cause,
        body.started_at,
        body.expected_restore,
        body.measures,
        body.corrects,
        uploads(body.attachments),
    )
    try:
        ident = forms.file_report(conn, form, user.name, ctx.clock())
    except forms.FormError as exc:
        raise _refused(exc) from None
    return {"id": ident, "state": "filed"}


class NoticeIn(BaseModel):
    kind: Literal["planned-stop", "planned-maintenance"]
    start: datetime
    end: datetime
    cause: Text = Field(min_length=1, max_length=4000, pattern=NO_NUL)
    measures: Text = Field(
        default="", max_length=4000, description="manual-monitoring plan", pattern=NO_NUL
    )
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=10)


@router.post("/stations/{mn}/notices", summary="Announce a planned stop or maintenance")
def file_notice(mn: StationDep, body: NoticeIn, conn: DB, user: UserDep, ctx: CtxDep) -> Row:
    _proposer(user)
    form = forms.NoticeForm(
        mn, body.kind, body.start, body.end, body.cause, body.measures, uploads(body.attachments)
    )
    try:
        ident = forms.file_notice(conn, form, user.name, ctx.clock())
    except forms.FormError as exc:
        raise _refused(exc) from None
    return {"id": ident, "state": "filed"}


class SampleIn(BaseModel):
    pollutant: str = Field(pattern=_CODE)
    sampled_at: datetime
    value: float
    unit: Text = Field(min_length=1, max_length=32, pattern=NO_NUL)
    method: Text = Field(min_length=1, max_length=500, pattern=NO_NUL)
    laboratory: Text = Field(min_length=1, max_length=500, pattern=NO_NUL)
    attachments: list[AttachmentIn] = Field(min_length=1, max_length=10)


@router.post("/cases/{case_id}/samples", summary="Enter a manual monitoring result")
def file_sample(
    case_id: int, body: SampleIn, conn: DB, scope: ScopeDep, user: UserDep, ctx: CtxDep
) -> Row:
    _proposer(user)
    _case(conn, case_id, scope)
    form = forms.SampleForm(
        case_id,
        body.pollutant,
        body.sampled_at,
        body.value,
        body.unit,
        body.method,
        body.laboratory,
        uploads(body.attachments),
    )
    try:
        ident = forms.file_sample(conn, form, user.name, ctx.clock())
    except forms.FormError as exc:
        raise _refused(exc) from None
    return {"id": ident, "state": "pending"}


class ReviewIn(BaseModel):
    decision: Literal["acknowledge", "return"]
    note: Text = Field(default="", max_length=4000, pattern=NO_NUL)


@router.get("/reviews", summary="Reports waiting for review, returned, late; samples to review")
def review_queue(conn: DB, scope: ScopeDep) -> dict[str, list[Row]]:
    mns = incidents.stations_in(conn, scope.region_prefix, scope.enterprise)
    return case_view.review_queue(conn, mns)


def _report_mn(conn: DB, report_id: int, scope: ScopeDep) -> str:
    found = incidents.reports(conn, report_id=report_id)
    if not found or not q.visible(conn, found[0].mn, scope.region_prefix, scope.enterprise):
        raise HTTPException(404, "no such report")
    return found[0].mn


@router.post("/reports/{report_id}/review", summary="Acknowledge a report, or return it")
def review_report(
    report_id: int, body: ReviewIn, conn: DB, scope: ScopeDep, user: ActorDep, ctx: CtxDep
) -> Row:
    _report_mn(conn, report_id, scope)
    acknowledge = body.decision == "acknowledge"
    try:
        ident = forms.review_report(
            conn, report_id, acknowledge=acknowledge, note=body.note, who=user.name, at=ctx.clock()
        )
    except forms.FormError as exc:
        raise HTTPException(409, exc.errors) from None
    return {"id": ident, "report": report_id, "decision": body.decision}


class SampleReviewIn(BaseModel):
    accept: bool
    note: Text = Field(default="", max_length=4000, pattern=NO_NUL)


@router.post("/samples/{sample_id}/review", summary="Accept or reject a manual sample")
def review_sample(
    sample_id: int, body: SampleReviewIn, conn: DB, scope: ScopeDep, user: ActorDep, ctx: CtxDep
) -> Row:
    found = manual_data.samples(conn, sample_id=sample_id)
    if not found or not q.visible(conn, found[0].mn, scope.region_prefix, scope.enterprise):
        raise HTTPException(404, "no such sample")
    try:
        forms.review_sample(
            conn, sample_id, accept=body.accept, note=body.note, who=user.name, at=ctx.clock()
        )
    except forms.FormError as exc:
        raise HTTPException(409, exc.errors) from None
    return {"id": sample_id, "state": "accepted" if body.accept else "rejected"}


@router.get("/stations/{mn}/samples", summary="Manual samples of a station: their own series")
def station_samples(
    mn: StationDep,
    conn: DB,
    start: datetime,
    end: datetime,
    pollutant: Annotated[str | None, Query(pattern=_CODE)] = None,
) -> list[Row]:
    found = manual_data.samples(conn, mns=[mn], start=start, end=end, pollutant=pollutant)
    return [asdict(s) for s in found]


@router.get(
    "/attachments/{attachment_id}",
    summary="An attachment of a report or sample, as filed",
    response_class=Response,
)
def attachment(attachment_id: int, conn: DB, scope: ScopeDep) -> Response:
    found = incidents.attachment(conn, attachment_id)
    if found is None or not q.visible(conn, found[0], scope.region_prefix, scope.enterprise):
        raise HTTPException(404, "no such attachment")
    _, name, content_type, content = found
    disposition = f"attachment; filename*=UTF-8''{quote(name, safe='')}"
    return Response(content, media_type=content_type, headers={"Content-Disposition": disposition})
