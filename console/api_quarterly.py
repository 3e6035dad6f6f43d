"""The quarterly direct report over HTTP (docs/quarterly.md §6): the enterprise pre-fills,
corrects (with a reason and a voucher) and submits; the city returns or forwards; the
province returns or approves. Jurisdiction and the workflow's rules are
services/quarterly.py's (a city sees its own enterprises, a province what its cities
forwarded); every change is audited there and by the request (console/deps.py)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field

from console.api_cases import AttachmentIn, uploads
from console.deps import DB, ERRORS, NO_NUL, CtxDep, Text, UserDep
from reports import quarterly as table
from reports import render
from rules.quarterly_calendar import Quarter, QuarterError, quarter_of
from services import quarterly as flow
from services import quarterly_deadlines as due
from services.quarterly import Actor, QuarterlyError
from storage import quarterly
from storage.console_store import User
from storage.db import Conn
from storage.quarterly import Submission

router = APIRouter(prefix="/api/quarterly", tags=["quarterly"], responses=ERRORS)
QUARTER = r"^[0-9]{4}Q[1-4]$"
QuarterQuery = Annotated[str | None, Query(pattern=QUARTER, description="e.g. 2026Q3")]


class PrefillIn(BaseModel):
    enterprise_id: int = Field(ge=1)
    quarter: str = Field(pattern=QUARTER)


class ChangeIn(BaseModel):
    mn: Text = Field(max_length=24, pattern=NO_NUL)
    month: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}$")
    item: Text = Field(max_length=40, pattern=NO_NUL)
    amount: float = Field(ge=0, allow_inf_nan=False)
    reason: Text = Field(default="", max_length=2000, pattern=NO_NUL)
    attachment: int | str | None = Field(default=None, description="an id, or upload:N")


class CorrectIn(BaseModel):
    changes: list[ChangeIn] = Field(min_length=1, max_length=500)
    attachments: list[AttachmentIn] = Field(default=[], max_length=10)


class SubmitIn(BaseModel):
    note: Text = Field(default="", max_length=2000, pattern=NO_NUL)


class ReviewIn(BaseModel):
    outcome: Literal["returned", "forwarded", "approved"]
    comment: Text = Field(default="", max_length=2000, pattern=NO_NUL)


def _actor(conn: Conn, user: User) -> Actor:
    return flow.actor_of(conn, user.name, user.role, user.region_prefix)


def _refused(exc: QuarterlyError) -> HTTPException:
    return HTTPException(exc.status, exc.errors if exc.status == 422 else exc.errors[0])


def _quarter(text: str | None, ctx: CtxDep) -> Quarter:
    try:
        return Quarter.parse(text) if text else quarter_of(ctx.clock()).previous()
    except QuarterError as exc:
        raise HTTPException(422, str(exc)) from None


def _summary(sub: Submission) -> dict[str, Any]:
    out = asdict(sub)
    out.pop("draft")
    return out


@router.get("", summary="every reporting enterprise of your jurisdiction: state and deadlines")
def status(conn: DB, user: UserDep, ctx: CtxDep, quarter: QuarterQuery = None) -> dict[str, Any]:
    q = _quarter(quarter, ctx)
    actor = _actor(conn, user)
    rows = due.status(conn, q, user.region_prefix, ctx.clock(), ctx.calendars)
    if actor.role == "enterprise":
        rows = [d for d in rows if d.enterprise_id == actor.enterprise_id]
    return {"quarter": q.label, "level": actor.level, "role": actor.role,
            "enterprises": [asdict(d) for d in rows]}  # fmt: skip


@router.get("/overdue", summary="who is late after each level's deadline")
def overdue(
    conn: DB, user: UserDep, ctx: CtxDep, quarter: QuarterQuery = None
) -> list[dict[str, Any]]:
    q = _quarter(quarter, ctx)
    if user.role == "enterprise":
        raise HTTPException(403, "the overdue list is the regulators'")
    return [asdict(d) for d in due.overdue(conn, q, user.region_prefix, ctx.clock(), ctx.calendars)]


@router.post("/prefill", summary="the enterprise's submission for a quarter, pre-filled")
def prefill(body: PrefillIn, conn: DB, user: UserDep, ctx: CtxDep) -> dict[str, Any]:
    try:
        sub = flow.prefill(conn, _actor(conn, user), body.enterprise_id, Quarter.parse(body.quarter),
                           now=ctx.clock(), ruleset=ctx.ruleset)  # fmt: skip
    except QuarterlyError as exc:
        raise _refused(exc) from None
    return _summary(sub)


@router.get("/{ident}", summary="a submission: draft lines, versions, reviews")
def show(ident: int, conn: DB, user: UserDep) -> dict[str, Any]:
    actor = _actor(conn, user)
    try:
        sub = flow.visible(conn, actor, ident)
    except QuarterlyError as exc:
        raise _refused(exc) from None
    versions = [{"version": v.version, "sha256": v.sha256.hex(), "submitted_by": v.submitted_by,
                 "submitted_at": v.submitted_at, "late": v.late, "note": v.note,
                 "verified": v.verifies()} for v in quarterly.versions(conn, ident)]  # fmt: skip
    reviews = [asdict(r) for r in quarterly.reviews(conn, ident)]
    return {**_summary(sub), "lines": sub.draft, "versions": versions, "reviews": reviews,
            "editable": actor.enterprise_id == sub.enterprise_id and sub.state in flow.EDITABLE_STATES,
            "reviewable": _reviewable(actor, sub)}  # fmt: skip


def _reviewable(actor: Actor, sub: Submission) -> list[str]:
    return sorted(
        o for (lv, o), (state, _) in flow.STEPS.items() if lv == actor.level and state == sub.state
    )


@router.post("/{ident}/correct", summary="correct lines of the draft, each with a reason")
def correct(ident: int, body: CorrectIn, conn: DB, user: UserDep, ctx: CtxDep) -> dict[str, Any]:
    actor = _actor(conn, user)
    try:  # whose it is first: a stranger learns nothing from the form's errors
        flow.visible(conn, actor, ident)
    except QuarterlyError as exc:
        raise _refused(exc) from None
    files = tuple((u.name, u.content_type, u.content) for u in uploads(body.attachments))
    try:
        sub = flow.correct(conn, actor, ident, [c.model_dump() for c in body.changes],
                           ctx.clock(), files)  # fmt: skip
    except QuarterlyError as exc:
        raise _refused(exc) from None
    return {**_summary(sub), "lines": sub.draft}


@router.post("/{ident}/submit", summary="freeze the draft as the next version")
def submit(ident: int, body: SubmitIn, conn: DB, user: UserDep, ctx: CtxDep) -> dict[str, Any]:
    try:
        v = flow.submit(conn, _actor(conn, user), ident, ctx.clock(), ctx.calendars, body.note)
    except QuarterlyError as exc:
        raise _refused(exc) from None
    return {"id": ident, "version": v.version, "sha256": v.sha256.hex(), "late": v.late}


@router.post(
    "/{ident}/review", summary="city: returned or forwarded; province: returned or approved"
)
def review(ident: int, body: ReviewIn, conn: DB, user: UserDep, ctx: CtxDep) -> dict[str, Any]:
    try:
        sub = flow.review(conn, _actor(conn, user), ident, body.outcome, body.comment, ctx.clock())
    except QuarterlyError as exc:
        raise _refused(exc) from None
    return _summary(sub)


@router.get("/{ident}/versions/{version}", summary="a frozen version's lines (hash checked)")
def version_lines(ident: int, version: int, conn: DB, user: UserDep) -> list[dict[str, Any]]:
    try:
        return flow.version_lines(conn, _actor(conn, user), ident, version)
    except QuarterlyError as exc:
        raise _refused(exc) from None


@router.get("/{ident}/verify", summary="each version and whether it matches its SHA-256")
def verify(ident: int, conn: DB, user: UserDep) -> list[dict[str, Any]]:
    try:
        found = flow.verify(conn, _actor(conn, user), ident)
    except QuarterlyError as exc:
        raise _refused(exc) from None
    return [{"version": v, "ok": ok} for v, ok in found]


@router.get("/{ident}/diff", summary="the cells changed between two versions")
def diff(
    ident: int,
    conn: DB,
    user: UserDep,
    old: Annotated[int, Query(ge=1)],
    new: Annotated[int, Query(ge=1)],
) -> list[dict[str, Any]]:
    try:
        return flow.diff(conn, _actor(conn, user), ident, old, new)
    except QuarterlyError as exc:
        raise _refused(exc) from None


@router.get("/{ident}/attachments/{attachment_id}", summary="a correction's voucher")
def attachment(ident: int, attachment_id: int, conn: DB, user: UserDep) -> Response:
    try:
        flow.visible(conn, _actor(conn, user), ident)
    except QuarterlyError as exc:
        raise _refused(exc) from None
    found = quarterly.attachment(conn, ident, attachment_id)
    if found is None:
        raise HTTPException(404, "no such attachment")
    name, kind, content = found
    disposition = f"attachment; filename*=UTF-8''{quote(name)}"
    return Response(content, media_type=kind, headers={"Content-Disposition": disposition})


KINDS = {"csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "pdf": "application/pdf"}  # fmt: skip


@router.get("/{ident}/export", summary="a version as the seed's table: csv, xlsx or pdf")
def export(
    ident: int, conn: DB, user: UserDep, format: Literal["csv", "xlsx", "pdf"] = "csv",
    version: Annotated[int | None, Query(ge=1)] = None,
) -> Response:  # fmt: skip
    try:
        rep = table.build(conn, _actor(conn, user), ident, version)
    except QuarterlyError as exc:
        raise _refused(exc) from None
    if format == "csv":
        content = render.to_csv(rep).encode()
    elif format == "pdf":
        content = table.to_pdf(rep)
    else:
        content = table.xlsx_bytes(rep)
    name = f"quarterly-{ident}.{format}"
    return Response(content, media_type=KINDS[format],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip
