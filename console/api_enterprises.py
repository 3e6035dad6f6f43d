"""The enterprise register over HTTP (docs/quarterly.md §1): list and show for everyone
in their jurisdiction (an enterprise user: its own), add, rename and set the credit
code for administrators. The credit code is checked (GB 32100-2015) before anything is
written; each change is audited in its transaction and by the request."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from console.deps import DB, ERRORS, NO_NUL, AdminDep, CtxDep, Text, UserDep
from rules.credit_code import CreditCodeError, validate
from storage import audit, enterprises, quarterly
from storage.console_store import User
from storage.db import Conn
from storage.enterprises import Enterprise, EnterpriseError

router = APIRouter(prefix="/api/enterprises", tags=["enterprises"], responses=ERRORS)
REGION = r"^[0-9]{6}$"


class EnterpriseIn(BaseModel):
    name: Text = Field(min_length=1, max_length=200, pattern=NO_NUL)
    credit_code: str | None = Field(default=None, max_length=18)
    region_code: str | None = Field(default=None, pattern=REGION)


class RenameIn(BaseModel):
    name: Text = Field(min_length=1, max_length=200, pattern=NO_NUL)
    reason: Text = Field(min_length=1, max_length=2000, pattern=NO_NUL)


def _code(text: str | None) -> str | None:
    try:
        return validate(text) if text else None
    except CreditCodeError as exc:
        raise HTTPException(422, [str(exc)]) from None


def _sees(conn: Conn, user: User, ent: Enterprise) -> bool:
    if user.role == "enterprise":
        return quarterly.user_enterprise(conn, user.name) == ent.id
    return any(e.id == ent.id for e in enterprises.listed(conn, user.region_prefix))


def _found(conn: Conn, user: User, ident: int) -> Enterprise:
    ent = enterprises.by_id(conn, ident)
    if ent is None or not _sees(conn, user, ent):
        raise HTTPException(404, "no such enterprise")
    return ent


@router.get("", summary="the enterprises of your jurisdiction")
def listed(conn: DB, user: UserDep) -> list[dict[str, Any]]:
    found = enterprises.listed(conn, user.region_prefix)
    if user.role == "enterprise":
        own = quarterly.user_enterprise(conn, user.name)
        found = [e for e in found if e.id == own]
    return [asdict(e) for e in found]


@router.get("/{ident}", summary="an enterprise with its names over time and its stations")
def show(ident: int, conn: DB, user: UserDep) -> dict[str, Any]:
    ent = _found(conn, user, ident)
    stations = [dict(zip(("mn", "name", "outlet", "region_code"), s, strict=True))
                for s in enterprises.stations_of(conn, ident)]  # fmt: skip
    return {**asdict(ent), "names": [asdict(n) for n in enterprises.names(conn, ident)],
            "stations": stations}  # fmt: skip


def _stamp(ctx: CtxDep) -> datetime:
    return ctx.clock()


@router.post("", summary="register an enterprise (administrators)")
def add(body: EnterpriseIn, conn: DB, user: AdminDep, ctx: CtxDep) -> dict[str, Any]:
    code = _code(body.credit_code)
    try:
        with conn.transaction():
            ent = enterprises.add(conn, body.name, code, body.region_code, user.name, _stamp(ctx))
            audit.append(conn, user.name, "enterprise-add", f"enterprise:{ent.id}",
                         {"name": ent.name, "credit_code": code, "region_code": body.region_code})  # fmt: skip
    except EnterpriseError as exc:
        raise HTTPException(409, str(exc)) from None
    return asdict(ent)


@router.post("/{ident}/rename", summary="a new name from now on; the old one kept (administrators)")
def rename(ident: int, body: RenameIn, conn: DB, user: AdminDep, ctx: CtxDep) -> dict[str, Any]:
    ent = _found(conn, user, ident)
    try:
        with conn.transaction():
            enterprises.rename(conn, ident, body.name, user.name, body.reason, _stamp(ctx))
            audit.append(conn, user.name, "enterprise-rename", f"enterprise:{ident}",
                         {"old": ent.name, "new": body.name, "reason": body.reason})  # fmt: skip
    except EnterpriseError as exc:
        raise HTTPException(409, str(exc)) from None
    return show(ident, conn, user)
