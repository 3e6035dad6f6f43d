"""The console's ASGI application: the JSON API under ``/api``, the pages from
``console/static`` (no CDN: every asset ships in the package), the OpenAPI description
at ``/openapi.json`` and ``/docs``.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from psycopg_pool import ConnectionPool
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from config.rules import RulesSettings
from config.settings import ConsoleSettings
from console import (
    api_auth,
    api_board,
    api_cases,
    api_corrections,
    api_enterprises,
    api_exports,
    api_frames,
    api_marks,
    api_ops,
    api_quarterly,
    api_stations,
    api_upstream,
    api_users,
)
from console.deps import Context
from console.limits import RequestLimits
from storage.sign_in import Limits

STATIC = Path(__file__).resolve().parent / "static"
NODE_MODULES = Path(os.environ.get("HJ212_NODE_MODULES") or STATIC.parents[1] / "node_modules")
VENDOR = {"echarts.min.js": NODE_MODULES / "echarts" / "dist" / "echarts.min.js"}


def sign_in_limits(settings: ConsoleSettings) -> Limits:
    return Limits(
        per_name=settings.sign_in_failures,
        per_source=settings.sign_in_source_failures,
        window=timedelta(minutes=settings.sign_in_window_minutes),
        audit_budget=settings.sign_in_audit_budget,
    )


def _trusted(proxies: tuple[str, ...]) -> list[str]:
    """The trusted proxies, checked here: the middleware would take a typo for a name."""
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ValueError(f"[console] trusted_proxies: {proxy!r} is not an address") from None
    return list(proxies)


def create_app(
    dsn: str,
    settings: ConsoleSettings | None = None,
    clock: Callable[[], datetime] | None = None,
    rules: RulesSettings | None = None,
) -> FastAPI:
    """The console on ``dsn``; ``clock`` is the real clock unless a test on simulated
    time gives the one its gateway and rules engine run on; ``rules`` the settings the
    rules engine runs with (the thresholds and deadlines the pages show)."""
    settings = settings or ConsoleSettings()
    ruleset = (rules or RulesSettings()).ruleset
    secret = settings.session_secret.encode() or secrets.token_bytes(32)
    trusted = _trusted(settings.trusted_proxies)

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
            limits=sign_in_limits(settings),
            cookie_secure=settings.cookie_secure,
            read_every=timedelta(minutes=settings.read_audit_minutes),
            ruleset=ruleset,
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
    app.include_router(api_cases.router)
    app.include_router(api_corrections.router)
    app.include_router(api_auth.router)
    app.include_router(api_users.router)
    app.include_router(api_upstream.router)
    app.include_router(api_frames.router)
    app.include_router(api_enterprises.router)
    app.include_router(api_quarterly.router)
    app.include_router(api_board.router)
    app.include_router(api_exports.router)
    app.include_router(api_marks.router)
    _security_headers(app)
    app.add_exception_handler(RequestValidationError, _invalid)
    # limits inside the proxy headers (added first: the last added runs outermost), so
    # that the rate limit counts the client a trusted proxy names
    app.add_middleware(
        RequestLimits,
        max_body_bytes=settings.max_body_bytes,
        rate_limit=settings.rate_limit,
    )
    if trusted:  # the client address is the one a trusted proxy forwards
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/vendor/{name}", include_in_schema=False)
    def vendor(name: str) -> FileResponse:
        """The browser libraries ./dev installed from the npm registry (package-lock.json),
        served by the console itself: no page loads anything from elsewhere."""
        path = VENDOR.get(name)
        if path is None or not path.is_file():
            raise HTTPException(404, "not installed: run ./dev (npm ci)")
        return FileResponse(path, headers={"Cache-Control": "max-age=86400"})

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    return app


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    """422 naming what is wrong and where, never repeating what was sent (FastAPI's own
    answer echoes the input, which may be a password or 20 MB; issue 14, F-03)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in errors
    ]
    return JSONResponse({"detail": detail}, status_code=422)


def _security_headers(app: FastAPI) -> None:
    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'"
        )
        return response
