"""Signing in and out, who you are, your own password and API tokens.

Sign-in is throttled by name and by source (storage/sign_in.py): an attempt is counted
before its password is checked, so neither a burst of parallel guesses nor a flood of
names from one source gets more checks than the limits allow, and a name guessed from
one source still signs in from another. Successful sign-ins are always audited; failed
ones as throttling events within a budget per window.
"""

from __future__ import annotations

import secrets
import time
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, Response
from pydantic import BaseModel, Field

from console.auth import check_password, hash_password, manages, sign_session
from console.deps import (
    COOKIE,
    DB,
    ERRORS,
    NO_NUL,
    Context,
    CtxDep,
    Secret,
    Text,
    UserDep,
    client_of,
    source_of,
)
from storage import api_tokens, console_store, sign_in
from storage.console_store import User

router = APIRouter(prefix="/api", responses=ERRORS)
NAME = r"^[A-Za-z0-9_.@-]{1,64}$"  # hj212.console_user.name
# Compared against when the user does not exist, so that a wrong name costs as much
# time as a wrong password (no user enumeration by timing).
_DUMMY = hash_password(secrets.token_hex(8))


class Login(BaseModel):
    name: str = Field(pattern=NAME)
    password: Secret = Field(min_length=1, max_length=200)


class PasswordChange(BaseModel):
    current: Secret = Field(min_length=1, max_length=200)
    new: Secret = Field(min_length=10, max_length=200)
    revoke_tokens: bool = Field(default=True, description="also revoke your API tokens")


class TokenIn(BaseModel):
    label: Text = Field(default="", max_length=200, pattern=NO_NUL)
    days: int = Field(default=api_tokens.DEFAULT_DAYS, ge=1, le=api_tokens.MAX_DAYS)


def issue_session(response: Response, ctx: Context, name: str, epoch: int) -> None:
    """Set a session cookie of ``name`` under session epoch ``epoch``."""
    now = time.time()
    response.set_cookie(
        COOKIE,
        sign_session(ctx.secret, name, now + ctx.session_hours * 3600, now, epoch),
        max_age=int(ctx.session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=ctx.cookie_secure,
    )


def _attempt(conn: DB, ctx: Context, request: Request, name: str) -> tuple[str, sign_in.Attempt]:
    """Count one password attempt at ``name`` (429 when throttled); (source, attempt)."""
    source = source_of(client_of(request))
    attempt = sign_in.reserve(conn, name, source, ctx.limits)
    if attempt.allowed:
        return source, attempt
    if attempt.blocked_now is not None:
        limit = ctx.limits.per_name if attempt.blocked_now == "name" else ctx.limits.per_source
        detail = {
            "ok": False,
            "blocked": attempt.blocked_now,
            "source": source,
            "failures": limit,
            "window_minutes": ctx.limits.window.total_seconds() / 60,
        }
        sign_in.record(conn, ctx.limits, name, "login-blocked", detail)
    raise HTTPException(429, "too many failed sign-ins: wait and try again")


def _failed(conn: DB, ctx: Context, name: str, source: str, attempt: sign_in.Attempt) -> None:
    """Audit a failed attempt if it is the first at this name from this source in the
    window (the rest are counted, storage/sign_in.py)."""
    if attempt.name_attempts == 1:
        detail = {"ok": False, "source": source, "first_in_window": True}
        sign_in.record(conn, ctx.limits, name, "login", detail)


@router.post("/login", summary="Sign in; sets the session cookie")
def login(body: Login, request: Request, response: Response, conn: DB, ctx: CtxDep) -> Any:
    source, attempt = _attempt(conn, ctx, request, body.name)
    found = console_store.credentials(conn, body.name)
    ok = check_password(body.password, found.password_hash if found else _DUMMY)
    if found is None or not ok or not found.user.active:
        _failed(conn, ctx, body.name, source, attempt)
        # Only someone who knows the password learns that the account is deactivated.
        why = "this account is deactivated" if found and ok else "wrong name or password"
        raise HTTPException(401, why)
    sign_in.succeeded(conn, body.name, source, ctx.limits)
    user = found.user
    detail = {"ok": True, "failures_before": attempt.name_attempts - 1}
    console_store.append(conn, user.name, "login", "console:session", None, detail)
    issue_session(response, ctx, user.name, user.session_epoch)
    return {"name": user.name, "role": user.role}


@router.post("/logout", summary="Sign out: ends every session of this user")
def logout(response: Response, conn: DB, user: UserDep, ctx: CtxDep) -> dict[str, bool]:
    console_store.sign_out(conn, user.name)
    response.delete_cookie(COOKIE, secure=ctx.cookie_secure, httponly=True, samesite="strict")
    return {"ok": True}


def profile(user: User) -> dict[str, Any]:
    """A user as the API shows it (never a hash, never the session epoch)."""
    keys = ("name", "role", "region_prefix", "enterprise", "active", "full_name", "unit")
    shown: dict[str, Any] = {k: getattr(user, k) for k in keys}
    shown |= {
        "phone": user.phone,
        "created_at": user.created_at,
        "created_by": user.created_by,
        "deactivated_at": user.deactivated_at,
        "password_changed_at": user.password_changed_at,
    }
    return shown


@router.get("/me", summary="Who you are, your jurisdiction, the refresh interval")
def me(user: UserDep, ctx: CtxDep) -> dict[str, Any]:
    return {**profile(user), "poll_seconds": ctx.poll_seconds}


@router.post("/me/password", summary="Change your password; ends your other sessions")
def change_password(
    body: PasswordChange, request: Request, response: Response, conn: DB, ctx: CtxDep, user: UserDep
) -> dict[str, Any]:
    if body.new == body.current or body.new == user.name:
        raise HTTPException(422, "choose a new password, other than the old one and the name")
    source, attempt = _attempt(conn, ctx, request, user.name)
    found = console_store.credentials(conn, user.name)
    if found is None or not check_password(body.current, found.password_hash):
        _failed(conn, ctx, user.name, source, attempt)
        raise HTTPException(403, "the current password is wrong")
    sign_in.succeeded(conn, user.name, source, ctx.limits)
    epoch = console_store.set_password(conn, user.name, hash_password(body.new), by=user.name)
    revoked = (
        api_tokens.revoke_all(conn, user.name, by=user.name, why="password changed")
        if body.revoke_tokens
        else []
    )
    if request.cookies.get(COOKIE):
        issue_session(response, ctx, user.name, epoch)  # this session goes on
    return {"name": user.name, "other_sessions_ended": True, "tokens_revoked": len(revoked)}


@router.get("/me/tokens", summary="Your API tokens (never the tokens themselves)")
def my_tokens(conn: DB, user: UserDep) -> list[api_tokens.Token]:
    return api_tokens.tokens(conn, user.name)


@router.post("/me/tokens", summary="Make an API token for yourself (shown once)")
def new_token(body: TokenIn, conn: DB, user: UserDep) -> dict[str, Any]:
    token = "hj212_" + secrets.token_urlsafe(32)
    made = api_tokens.add(conn, user.name, token, body.label, days=body.days, by=user.name)
    return {"token": token, **made.__dict__}  # the only time the token is shown


@router.post("/tokens/{token_id}/revoke", summary="Revoke a token (yours, or as its administrator)")
def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=2**62)], conn: DB, user: UserDep
) -> api_tokens.Token:
    found = api_tokens.get(conn, token_id)
    owner = console_store.any_user(conn, found.user_name) if found else None
    if found is None or owner is None:
        raise HTTPException(404, "no such token")
    if owner.name != user.name and not manages(user, owner.region_prefix):
        raise HTTPException(404, "no such token")  # never say it exists
    revoked = api_tokens.revoke(conn, token_id, by=user.name)
    assert revoked is not None
    return revoked
