"""Run the console with uvicorn inside an already running event loop (beside the
gateway in ``hj212 serve``, or alone in ``hj212 console``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import anyio
import uvicorn

from config.rules import RulesSettings
from config.settings import ConsoleSettings
from console.app import create_app

log = logging.getLogger(__name__)
STOP_GRACE = 3.0  # seconds the console may take to stop (open polls are cut after that)


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the gateway's task group owns SIGINT/SIGTERM
    (anyio.open_signal_receiver) and cancels us; uvicorn's would replace them."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(settings: ConsoleSettings, dsn: str, rules: RulesSettings) -> None:
    """Serve until cancelled. Signals stay with the caller (its task group stops us)."""
    config = uvicorn.Config(
        create_app(dsn, settings, rules=rules),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        lifespan="on",
        # X-Forwarded-For is believed only from [console] trusted_proxies (console/app.py),
        # not from uvicorn's default of any local peer.
        proxy_headers=False,
    )
    server = _Server(config)
    log.info("console at http://%s:%d/", settings.host, settings.port)
    # uvicorn runs as its own task so that, when we are cancelled, it can still stop
    # the way it means to (close the listener, run the lifespan's shutdown) instead of
    # being cut off mid-await; it gets STOP_GRACE seconds, then is cancelled.
    task = asyncio.ensure_future(_run(server))
    try:
        await asyncio.shield(task)
    finally:
        server.should_exit = True
        with anyio.CancelScope(shield=True), anyio.move_on_after(STOP_GRACE):
            await asyncio.wait({task})
        if not task.done():
            task.cancel()


async def _run(server: uvicorn.Server) -> None:
    try:
        await server.serve()
    except SystemExit as exc:  # out of a task, asyncio would let it stop the process
        raise OSError(f"the console could not start (uvicorn exit {exc.code})") from None


async def serve_beside(settings: ConsoleSettings, dsn: str, rules: RulesSettings) -> None:
    """:func:`serve`, but a console that cannot start (port taken: uvicorn then raises
    SystemExit) is logged and given up: the gateway beside it keeps receiving data."""
    try:
        await serve(settings, dsn, rules)
    except (OSError, SystemExit):
        log.exception("console on %s:%d stopped; the gateway goes on", settings.host, settings.port)
