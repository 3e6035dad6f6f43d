"""User administration: create, change, reset a password, deactivate, reactivate, unblock,
list and revoke a user's tokens.

Every step is an administrator's, inside its jurisdiction (console/auth.py: ``manages``
and ``grant_refusal``): users whose region prefix lies outside it answer 404 as if they
did not exist; a grant beyond the administrator's own rights or region answers 403.
Creating refuses a name that is taken (409); a change records the old values in the
audit log (migration 0060). An administrator does not change its own role, region or
state (another administrator does), so that no one widens its own rights or locks the
last administrator out by mistake. Nor does an administrator make tokens for others: a
token acts as its user, so only the user makes its own (or the platform operator, with
the command line), and no one acts under another's name unseen.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field

from console.api_auth import NAME, profile
from console.auth import grant_refusal, hash_password, manages
from console.deps import DB, ERRORS, AdminDep, Secret, Text
from storage import api_tokens, console_store, sign_in
from storage.console_store import User

router = APIRouter(prefix="/api/users", responses=ERRORS)
Role = Literal["administrator", "operator", "inspector", "enterprise"]
UserName = Annotated[str, Path(pattern=NAME)]


class RealName(BaseModel):
    """Optional real-name fields (docs/regulations.md §12, seed 001 Art. 3: 实名制)."""

    full_name: Text = Field(default="", max_length=100)
    unit: Text = Field(default="", max_length=200)
    phone: Text = Field(default="", max_length=40, pattern=r"^[0-9+() -]*$")


class UserIn(RealName):
    name: str = Field(pattern=NAME)
    password: Secret = Field(min_length=10, max_length=200)
    role: Role
    region_prefix: str = Field(default="", pattern=r"^[0-9]{0,6}$")
    enterprise: Text = Field(default="", max_length=200)


class UserChange(BaseModel):
    """What to change; fields left out stay as they are."""

    role: Role | None = None
    region_prefix: str | None = Field(default=None, pattern=r"^[0-9]{0,6}$")
    enterprise: Text | None = Field(default=None, max_length=200)
    full_name: Text | None = Field(default=None, max_length=100)
    unit: Text | None = Field(default=None, max_length=200)
    phone: Text | None = Field(default=None, max_length=40, pattern=r"^[0-9+() -]*$")


class PasswordReset(BaseModel):
    password: Secret = Field(min_length=10, max_length=200)
    revoke_tokens: bool = Field(default=True, description="also revoke the user's API tokens")


class Reason(BaseModel):
    reason: Text = Field(default="", max_length=500)


def _managed(conn: DB, admin: User, name: str) -> User:
    """The user ``name`` if ``admin`` administers it, else 404."""
    found = console_store.any_user(conn, name)
    if found is None or not manages(admin, found.region_prefix):
        raise HTTPException(404, "no such user in your jurisdiction")
    return found


def _not_self(admin: User, target: User, what: str) -> None:
    if admin.name == target.name:
        raise HTTPException(409, f"ask another administrator to {what} your own account")


def _may_grant(admin: User, role: str, region_prefix: str, enterprise: str) -> None:
    refusal = grant_refusal(admin, role, region_prefix)
    if refusal is not None:
        raise HTTPException(403, refusal)
    if role == "enterprise" and not enterprise:
        raise HTTPException(422, "an enterprise user needs its enterprise")


@router.get("", summary="Users in your jurisdiction (administrators)")
def users(conn: DB, admin: AdminDep) -> list[dict[str, Any]]:
    return [profile(u) for u in console_store.users(conn, admin.region_prefix)]


@router.post("", summary="Create a user (a name that is taken is refused)")
def create(body: UserIn, conn: DB, admin: AdminDep) -> dict[str, Any]:
    _may_grant(admin, body.role, body.region_prefix, body.enterprise)
    try:
        made = console_store.add_user(
            conn, body.name, hash_password(body.password), body.role, body.region_prefix,
            body.enterprise if body.role == "enterprise" else "", by=admin.name,
            full_name=body.full_name, unit=body.unit, phone=body.phone,
        )  # fmt: skip
    except console_store.UserExists:
        raise HTTPException(409, f"user {body.name} exists: change it instead") from None
    return profile(made)


@router.get("/{name}", summary="One user in your jurisdiction")
def one(name: UserName, conn: DB, admin: AdminDep) -> dict[str, Any]:
    return profile(_managed(conn, admin, name))


@router.patch("/{name}", summary="Change a user's role, jurisdiction or real-name fields")
def change(name: UserName, body: UserChange, conn: DB, admin: AdminDep) -> dict[str, Any]:
    target = _managed(conn, admin, name)
    changes = body.model_dump(exclude_none=True)
    if {"role", "region_prefix", "enterprise"} & changes.keys():
        _not_self(admin, target, "change the rights of")
    role = changes.get("role", target.role)
    region = changes.get("region_prefix", target.region_prefix)
    enterprise = changes.get("enterprise", target.enterprise)
    _may_grant(admin, role, region, enterprise)
    if role != "enterprise":
        changes["enterprise"] = ""
    result = console_store.change_user(conn, name, changes, by=admin.name)
    if result is None:
        raise HTTPException(404, "no such user in your jurisdiction")
    return profile(result[1])


@router.post("/{name}/password", summary="Reset a user's password; ends its sessions")
def reset_password(
    name: UserName, body: PasswordReset, conn: DB, admin: AdminDep
) -> dict[str, Any]:
    target = _managed(conn, admin, name)
    if target.name == admin.name:
        raise HTTPException(
            409, "change your own password with your current one (/api/me/password)"
        )
    console_store.set_password(conn, target.name, hash_password(body.password), by=admin.name)
    revoked: list[int] = []
    if body.revoke_tokens:
        revoked = api_tokens.revoke_all(conn, target.name, by=admin.name, why="password reset")
    return {"name": target.name, "sessions_ended": True, "tokens_revoked": len(revoked)}


def _set_active(conn: DB, admin: User, name: str, step: str, reason: str) -> dict[str, Any]:
    target = _managed(conn, admin, name)
    _not_self(admin, target, step)
    detail = {"name": name, "reason": reason}
    console_store.append(conn, admin.name, step, "console_user", None, detail)
    found = console_store.set_active(conn, name, step == "reactivate", by=admin.name)
    assert found is not None
    return profile(found)


@router.post("/{name}/deactivate", summary="Deactivate a user: its sessions and tokens end")
def deactivate(name: UserName, body: Reason, conn: DB, admin: AdminDep) -> dict[str, Any]:
    return _set_active(conn, admin, name, "deactivate", body.reason)


@router.post("/{name}/reactivate", summary="Reactivate a user (its old tokens stay revoked)")
def reactivate(name: UserName, body: Reason, conn: DB, admin: AdminDep) -> dict[str, Any]:
    return _set_active(conn, admin, name, "reactivate", body.reason)


@router.post("/{name}/unblock", summary="Forget a user's failed sign-ins from every source")
def unblock(name: UserName, conn: DB, admin: AdminDep) -> dict[str, Any]:
    target = _managed(conn, admin, name)
    sources = sign_in.clear(conn, target.name)
    console_store.append(
        conn, admin.name, "unblock", "console_user", None, {"name": name, "sources": sources}
    )
    return {"name": name, "sources_cleared": sources}


@router.get("/{name}/tokens", summary="A user's API tokens (never the tokens themselves)")
def tokens(name: UserName, conn: DB, admin: AdminDep) -> list[api_tokens.Token]:
    return api_tokens.tokens(conn, _managed(conn, admin, name).name)
