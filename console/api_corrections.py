"""Corrections and substitutions of hourly values (docs/corrections.md): the enterprise
proposes, a regulator of the station's region reviews.

Proposing needs the ``propose`` right and a station in the user's jurisdiction (an
enterprise only its own stations); reviewing needs the ``act`` right (operator,
administrator) over the station's region, and another user than the proposer. Every
change is audited twice: the request (console/deps.py) and the row itself, in its
transaction (storage/corrections.py). Times are the console's clock.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Path, Query, Response
from pydantic import BaseModel, Field

from console.api_cases import AttachmentIn, uploads
from console.auth import CAN_PROPOSE
from console.deps import (
    DB,
    ERRORS,
    MN_PATTERN,
    NO_NUL,
    ActorDep,
    CtxDep,
    MnQuery,
    ScopeDep,
    Text,
    UserDep,
)
from rules.corrections import RULES
from services import corrections as service
from services.case_forms import FormError
from storage import console_queries as q
from storage import corrections as store
from storage import incidents

router = APIRouter(prefix="/api", responses=ERRORS)
Row = dict[str, Any]
_CODE = r"^[A-Za-z0-9]{2,12}$"
Ident = Annotated[int, Path(ge=1, le=2**63 - 1)]  # a bigint identity (migration 0135)


def _row(found: store.CorrectionRow) -> Row:
    return asdict(found)


def _visible(conn: DB, ident: int, scope: ScopeDep) -> store.CorrectionRow:
    found = store.get(conn, ident)
    if found is None or not q.visible(conn, found.mn, scope.region_prefix, scope.enterprise):
        raise HTTPException(404, "no such correction")
    return found


@router.get("/corrections", summary="Corrections and substitutions in your jurisdiction")
def list_corrections(
    conn: DB,
    scope: ScopeDep,
    state: Literal["pending", "approved", "returned", "rejected"] | None = None,
    mn: MnQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Row:
    mns = incidents.stations_in(conn, scope.region_prefix, scope.enterprise)
    if mn is not None:
        mns = [m for m in mns if m == mn]
    rows = store.list_rows(conn, mns=mns, state=state, limit=limit)
    names = q.visible_names(conn, mns, scope.region_prefix, scope.enterprise)
    return {
        "rules": sorted(RULES),
        "stations": [{"mn": m, "name": names.get(m, m)} for m in mns],
        "corrections": [{**_row(r), "station": names.get(r.mn, r.mn)} for r in rows],
    }


class CorrectionIn(BaseModel):
    mn: str = Field(pattern=MN_PATTERN)
    pollutant: str = Field(pattern=_CODE)
    data_time: datetime = Field(description="the hour's start (DataTime of its 2061 record)")
    kind: Literal["substitution", "correction"]
    new_value: float | None = Field(
        default=None, ge=0, le=1e9, allow_inf_nan=False, description="a correction's value"
    )
    rule: str | None = Field(default=None, description="a substitution's rule")
    reason: Text = Field(min_length=1, max_length=4000, pattern=NO_NUL)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=10)


@router.post("/corrections", summary="Propose a correction or a substitution of an hour")
def propose(body: CorrectionIn, conn: DB, scope: ScopeDep, user: UserDep, ctx: CtxDep) -> Row:
    if user.role not in CAN_PROPOSE:
        raise HTTPException(403, "this role may only read")
    if not q.visible(conn, body.mn, scope.region_prefix, scope.enterprise):
        raise HTTPException(404, "not found")
    form = service.CorrectionForm(
        body.mn, body.pollutant, body.data_time, body.kind, body.reason, body.new_value,
        body.rule, attachments=uploads(body.attachments),
    )  # fmt: skip
    try:
        ident = service.propose(conn, form, user.name, ctx.clock(), ctx.ruleset)
    except FormError as exc:
        raise HTTPException(422, exc.errors) from None
    return _row(_visible(conn, ident, scope))


@router.get("/corrections/{ident}", summary="One correction with its vouchers")
def show(ident: Ident, conn: DB, scope: ScopeDep) -> Row:
    return _row(_visible(conn, ident, scope))


class ReviewIn(BaseModel):
    outcome: Literal["approved", "returned", "rejected"]
    note: Text = Field(default="", max_length=4000, pattern=NO_NUL)


@router.post("/corrections/{ident}/review", summary="Approve, return or reject a correction")
def review(
    ident: Ident, body: ReviewIn, conn: DB, scope: ScopeDep, user: ActorDep, ctx: CtxDep
) -> Row:
    _visible(conn, ident, scope)
    try:
        done = service.review(conn, ident, body.outcome, user.name, body.note, ctx.clock())
    except FormError as exc:
        raise HTTPException(409, exc.errors) from None
    return _row(done)


@router.get(
    "/corrections/{ident}/attachments/{attachment_id}",
    summary="A voucher of a correction, as filed",
    response_class=Response,
)
def attachment(ident: Ident, attachment_id: Ident, conn: DB, scope: ScopeDep) -> Response:
    _visible(conn, ident, scope)
    try:
        name, content = store.attachment(conn, ident, attachment_id)
    except ValueError:
        raise HTTPException(404, "no such attachment") from None
    disposition = f"attachment; filename*=UTF-8''{quote(name, safe='')}"
    return Response(content, media_type="application/octet-stream",
                    headers={"Content-Disposition": disposition})  # fmt: skip
