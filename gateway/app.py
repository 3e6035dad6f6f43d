"""Wiring: the writer and the TCP listener in one task group."""

from __future__ import annotations

import asyncio
import logging

import anyio
from anyio.abc import TaskStatus

from config.settings import GatewaySettings, StorageSettings
from gateway.session import StationSession, Stats
from storage.writer import Writer

log = logging.getLogger(__name__)


class Gateway:
    """A running gateway: its writer, its counters and the port it listens on."""

    def __init__(
        self, settings: GatewaySettings, dsn: str, storage: StorageSettings | None = None
    ) -> None:
        self.settings = settings
        storage = storage or StorageSettings()
        self.writer = Writer(
            dsn, max_batch=storage.max_batch, max_delay=storage.max_delay_ms / 1000
        )
        self.stats = Stats()
        self.port: int | None = None

    async def run(self, *, task_status: TaskStatus[int] = anyio.TASK_STATUS_IGNORED) -> None:
        """Serve until cancelled; then stop accepting and flush what was received."""
        settings = self.settings
        async with anyio.create_task_group() as tg:
            tg.start_soon(self.writer.run)
            loop = asyncio.get_running_loop()
            server = await loop.create_server(
                lambda: StationSession(self.writer, self.stats, max_segment=settings.max_segment),
                settings.host,
                settings.port,
                reuse_address=True,
                backlog=4096,
            )
            self.port = int(server.sockets[0].getsockname()[1])
            log.info("gateway listening on %s:%d", settings.host, self.port)
            task_status.started(self.port)
            try:
                await anyio.sleep_forever()
            finally:
                server.close()
                with anyio.CancelScope(shield=True), anyio.move_on_after(10):
                    await self.writer.drain()
                tg.cancel_scope.cancel()
