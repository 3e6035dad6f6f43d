"""Run the console with uvicorn inside an already running event loop (beside the
gateway in ``hj212 serve``, or alone in ``hj212 console``)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import uvicorn

from config.settings import ConsoleSettings
from console.app import create_app

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the gateway's task group owns SIGINT/SIGTERM
    (anyio.open_signal_receiver) and cancels us; uvicorn's would replace them."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(settings: ConsoleSettings, dsn: str) -> None:
    """Serve until cancelled. Signals stay with the caller (its task group stops us)."""
    config = uvicorn.Config(
        create_app(dsn, settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        lifespan="on",
    )
    server = _Server(config)
    log.info("console at http://%s:%d/", settings.host, settings.port)
    await server.serve()


async def serve_beside(settings: ConsoleSettings, dsn: str) -> None:
    """:func:`serve`, but a console that cannot start (port taken: uvicorn then raises
    SystemExit) is logged and given up: the gateway beside it keeps receiving data."""
    try:
        await serve(settings, dsn)
    except (OSError, SystemExit):
        log.exception("console on %s:%d stopped; the gateway goes on", settings.host, settings.port)
