"""What every request needs: a database connection, the user, the audit row.

Every request to ``/api`` that passes authentication is audited before it is answered:
a change as an entry of ``hj212.audit_log`` (who, the route, the station, the query,
the client address), a read counted in ``hj212.access_log`` per user, route, station,
client and ``[console] read_audit_minutes``, the first of each such count also chained
(storage/access_log.py). Reads of monitoring data are audited as well as changes (Hubei
Art. 25 asks departments to look at the data daily; the log shows who looked).

The client address is the TCP peer's, or, when the peer is one of ``[console]
trusted_proxies``, the address that proxy puts in X-Forwarded-For (uvicorn's
ProxyHeadersMiddleware, added in console/app.py). Each request's connection names it
(``hj212.client``), and the signed-in user (``hj212.actor``), so that every audit entry
written through it, by a trigger too, carries both (migration 0062).
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Concatenate, ParamSpec, TypeVar

import psycopg
from fastapi import Depends, HTTPException, Path, Query, Request
from psycopg_pool import ConnectionPool
from pydantic import AfterValidator

from config.calendar import Calendars
from config.calendar import load as load_calendars
from console.auth import CAN_ACT, CAN_ADMIN, Scope, read_session, scope_of
from rules.config import Ruleset
from storage import access_log, api_tokens, audit, console_queries, console_store
from storage.console_store import User
from storage.db import AsyncConn, Conn
from storage.sign_in import Limits

P = ParamSpec("P")
T = TypeVar("T")
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
NO_NUL = r"^[^\x00]*$"  # says in the OpenAPI description what _storable refuses first


def _encodable(value: str) -> str:
    """A password is hashed from its UTF-8 bytes: a lone surrogate has none (422)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid Unicode") from None
    return value


Secret = Annotated[str, AfterValidator(_encodable)]
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
    limits: Limits = field(default_factory=Limits)
    cookie_secure: bool = False
    read_every: timedelta = timedelta(hours=1)
    ruleset: Ruleset = field(default_factory=Ruleset)  # loaded once, by the process
    calendars: Calendars = field(default_factory=load_calendars)  # docs/quarterly.md §3


def context(request: Request) -> Context:
    ctx: Context = request.app.state.console
    return ctx


def client_of(request: Request) -> str:
    """The client's address (see the module docstring), normalised; a forwarded value
    that is not an address is kept as text, cut short."""
    host = request.client.host if request.client else ""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host[:64] or "unknown"


def source_of(client: str) -> str:
    """The source sign-in throttling counts by: an IPv4 address, or an IPv6 /64 (one
    subscriber's network: counting single IPv6 addresses would count nothing)."""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def connection(request: Request, ctx: Annotated[Context, Depends(context)]) -> Iterator[Conn]:
    with ctx.pool.connection() as conn:
        # Session-level, and set again on every request (no request sees another's).
        audit.name_client(conn, client_of(request))
        yield conn


DB = Annotated[Conn, Depends(connection)]
CtxDep = Annotated[Context, Depends(context)]


def _who(request: Request, conn: Conn, ctx: Context) -> User | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        name = api_tokens.owner(conn, auth[7:].strip())
        return console_store.user(conn, name) if name else None  # None once deactivated
    cookie = request.cookies.get(COOKIE)
    session = read_session(ctx.secret, cookie, time.time()) if cookie else None
    if session is None:
        return None
    user = console_store.user(conn, session.name)  # None once deactivated
    if user is None or session.epoch != user.session_epoch:
        return None  # signed out, password changed or reset since this cookie was issued
    if user.signed_out_at and session.issued <= user.signed_out_at.timestamp():
        return None  # a cookie from before session epochs (migration 0060)
    return user


def current_user(request: Request, conn: DB, ctx: Annotated[Context, Depends(context)]) -> User:
    """The signed-in user; the request is audited in the same breath."""
    user = _who(request, conn, ctx)
    if user is None:
        raise HTTPException(401, "not signed in")
    found = request.path_params.get("mn")
    mn = found if isinstance(found, str) else None
    route = "console:" + str(getattr(request.scope.get("route"), "path", request.url.path))
    query = str(request.url.query)
    if request.method in ("GET", "HEAD"):  # a read writes only its count (one statement)
        client = client_of(request)
        access_log.record_read(conn, user.name, route, mn, client, query, ctx.read_every)
        return user
    # a change: triggers writing audit entries in this request name the user
    audit.name_actor(conn, user.name)
    detail = {"method": request.method, "path": request.url.path, "query": query}
    console_store.append(conn, user.name, "change", route, mn, detail)
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


async def on_async(
    ctx: Context,
    step: Callable[Concatenate[AsyncConn, P], Awaitable[T]],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Run one async storage step (storage/commands.py) on a connection of its own: the
    pool is synchronous, and a command's NOTIFY must be committed before the answer."""
    async with await psycopg.AsyncConnection.connect(
        ctx.dsn, autocommit=True, connect_timeout=5
    ) as conn:
        return await step(conn, *args, **kwargs)
