"""What every request needs: a database connection, the user, the audit row.

Every request to ``/api`` that passes authentication is written to ``hj212.audit_log``
(who, the route, the station, the query) before it is answered: reads of monitoring data
are audited as well as changes (Hubei Art. 25 asks departments to look at the data
daily; the log shows who looked).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import psycopg
from fastapi import Depends, HTTPException, Path, Query, Request
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool
from pydantic import AfterValidator

from console.auth import CAN_ACT, CAN_ADMIN, Scope, read_session, scope_of
from storage import console_queries, console_store
from storage.console_store import User

Conn = psycopg.Connection[TupleRow]
COOKIE = "hj212_session"
# The refusals every route may answer with, for the OpenAPI description.
ERRORS: dict[int | str, dict[str, object]] = {
    401: {"description": "not signed in (no valid session cookie or bearer token)"},
    403: {"description": "your role may not do this"},
    404: {"description": "no such thing in your jurisdiction"},
    409: {"description": "not allowed from the current state"},
    429: {"description": "too many failed sign-ins: wait and try again"},
}


MN_PATTERN = r"^[0-9A-Za-z]{1,24}$"  # hj212.station.mn (HJ 212-2017: 24 characters)


def _storable(value: str) -> str:
    """PostgreSQL text holds neither NUL nor lone surrogates: refuse them as bad input
    (422) instead of failing in the database (found by the schema-driven test)."""
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid Unicode") from None
    return value


Text = Annotated[str, AfterValidator(_storable)]
MnQuery = Annotated[str | None, Query(pattern=MN_PATTERN)]


@dataclass(frozen=True)
class Context:
    """The console's shared state, kept on ``app.state.console``."""

    pool: ConnectionPool[Conn]
    dsn: str
    secret: bytes
    session_hours: float
    offline_factor: float
    poll_seconds: float
    # what "now" is for the figures (the rates count the hours judged by then); a test
    # on simulated time passes the clock the gateway and the rules engine run on
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


def context(request: Request) -> Context:
    ctx: Context = request.app.state.console
    return ctx


def connection(ctx: Annotated[Context, Depends(context)]) -> Iterator[Conn]:
    with ctx.pool.connection() as conn:
        yield conn


DB = Annotated[Conn, Depends(connection)]
CtxDep = Annotated[Context, Depends(context)]


def _who(request: Request, conn: Conn, ctx: Context) -> User | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return console_store.token_user(conn, auth[7:].strip())
    cookie = request.cookies.get(COOKIE)
    session = read_session(ctx.secret, cookie, time.time()) if cookie else None
    if session is None:
        return None
    user = console_store.user(conn, session[0])
    if user is None or (user.signed_out_at and session[1] <= user.signed_out_at.timestamp()):
        return None  # signed out since this cookie was issued
    return user


def current_user(request: Request, conn: DB, ctx: Annotated[Context, Depends(context)]) -> User:
    """The signed-in user; the request is audited in the same breath."""
    user = _who(request, conn, ctx)
    if user is None:
        raise HTTPException(401, "not signed in")
    mn = request.path_params.get("mn")
    route = request.scope.get("route")
    console_store.append(
        conn,
        user.name,
        "read" if request.method == "GET" else "change",
        "console:" + str(getattr(route, "path", request.url.path)),
        mn if isinstance(mn, str) else None,
        {"method": request.method, "path": request.url.path, "query": str(request.url.query)},
    )
    conn.commit()
    return user


UserDep = Annotated[User, Depends(current_user)]


def scope(user: UserDep) -> Scope:
    return scope_of(user)


ScopeDep = Annotated[Scope, Depends(scope)]


def station_in_scope(
    mn: Annotated[str, Path(pattern=MN_PATTERN)], conn: DB, scope: ScopeDep
) -> str:
    """The path's station, if the user may see it; else 404 (never say it exists)."""
    if not console_queries.visible(conn, mn, scope.region_prefix, scope.enterprise):
        raise HTTPException(404, "no such station")
    return mn


StationDep = Annotated[str, Depends(station_in_scope)]


def actor(user: UserDep) -> User:
    if user.role not in CAN_ACT:
        raise HTTPException(403, "this role may only read")
    return user


def admin(user: UserDep) -> User:
    if user.role not in CAN_ADMIN:
        raise HTTPException(403, "administrators only")
    return user


ActorDep = Annotated[User, Depends(actor)]
AdminDep = Annotated[User, Depends(admin)]
