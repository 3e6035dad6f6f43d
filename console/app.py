"""The console's ASGI application: the JSON API under ``/api``, the pages from
``console/static`` (no CDN: every asset ships in the package), the OpenAPI description
at ``/openapi.json`` and ``/docs``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from psycopg_pool import ConnectionPool
from pydantic import BaseModel, Field

from config.settings import ConsoleSettings
from console import api_ops, api_stations
from console.auth import check_password, hash_password, sign_session
from console.deps import COOKIE, DB, ERRORS, Context, CtxDep, UserDep
from storage import console_store

STATIC = Path(__file__).resolve().parent / "static"
# Compared against when the user does not exist, so that a wrong name costs as much
# time as a wrong password (no user enumeration by timing).
_DUMMY = hash_password(secrets.token_hex(8))
LOCKOUT_FAILURES, LOCKOUT_MINUTES = 5, 15.0


class Login(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")
    password: str = Field(min_length=1, max_length=200)


def create_app(
    dsn: str,
    settings: ConsoleSettings | None = None,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    """The console on ``dsn``; ``clock`` is the real clock unless a test on simulated
    time gives the one its gateway and rules engine run on."""
    settings = settings or ConsoleSettings()
    secret = settings.session_secret.encode() or secrets.token_bytes(32)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool: ConnectionPool[Any] = ConnectionPool(
            dsn,
            min_size=1,
            max_size=8,
            open=False,
            # Autocommit: a change is committed before its answer is sent. FastAPI ends
            # a yield dependency (where a pooled transaction would commit) only after
            # the response, so the next request could still read the old state. Steps
            # of several statements use conn.transaction() (storage.alarms.act, marks).
            # Times come back in Beijing time (+08:00), the offset the API answers in.
            kwargs={
                "connect_timeout": 5,
                "autocommit": True,
                "options": "-c TimeZone=Asia/Shanghai",
            },
        )
        pool.open()
        app.state.console = Context(
            pool,
            dsn,
            secret,
            settings.session_hours,
            settings.offline_factor,
            settings.poll_seconds,
            clock or (lambda: datetime.now(UTC)),
        )
        try:
            yield
        finally:
            # In a thread, waiting 1 s at most for the pool's workers (a database that
            # is down leaves one in connect): the gateway beside us is flushing meanwhile.
            await anyio.to_thread.run_sync(partial(pool.close, timeout=1.0))

    app = FastAPI(
        title="HJ 212 platform console",
        version="1",
        summary="Stations, data, alarms, cases, commands and the audit log",
        lifespan=lifespan,
    )
    app.include_router(api_stations.router)
    app.include_router(api_ops.router)
    _auth_routes(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    return app


def _auth_routes(app: FastAPI) -> None:
    @app.post("/api/login", summary="Sign in; sets the session cookie", responses=ERRORS)
    def login(body: Login, response: Response, conn: DB, ctx: CtxDep) -> dict[str, Any]:
        # Guessing is slowed down per user name: after LOCKOUT_FAILURES failed sign-ins in
        # LOCKOUT_MINUTES, refuse (the failures are counted from the audit log).
        failures = console_store.recent_login_failures(conn, body.name, LOCKOUT_MINUTES)
        if failures >= LOCKOUT_FAILURES:
            raise HTTPException(429, "too many failed sign-ins: wait and try again")
        found = console_store.credentials(conn, body.name)
        ok = check_password(body.password, found.password_hash if found else _DUMMY)
        detail = {"ok": bool(found and ok), "at": datetime.now(UTC).isoformat()}
        console_store.append(conn, body.name, "login", "console:session", None, detail)
        conn.commit()
        if found is None or not ok:
            raise HTTPException(401, "wrong name or password")
        now = time.time()
        expires = now + ctx.session_hours * 3600
        response.set_cookie(
            COOKIE,
            sign_session(ctx.secret, found.user.name, expires, now),
            max_age=int(ctx.session_hours * 3600),
            httponly=True,
            samesite="strict",
        )
        return {"name": found.user.name, "role": found.user.role}

    @app.post("/api/logout", summary="Sign out: ends every session of this user")
    def logout(response: Response, conn: DB, user: UserDep) -> dict[str, bool]:
        console_store.sign_out(conn, user.name)
        response.delete_cookie(COOKIE)
        return {"ok": True}

    @app.get(
        "/api/me", summary="Who you are, your jurisdiction, the refresh interval", responses=ERRORS
    )
    def me(user: UserDep, ctx: CtxDep) -> dict[str, Any]:
        return {
            "name": user.name,
            "role": user.role,
            "region_prefix": user.region_prefix,
            "enterprise": user.enterprise,
            "poll_seconds": ctx.poll_seconds,
        }

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'"
        )
        return response
