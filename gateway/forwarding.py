"""The gateway's upstreams (docs/forwarding.md §2-§4): the configuration written to
``hj212.upstream`` before frames are stored, one sender per upstream on a pool of its
own, and their counters into /metrics."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

import anyio
import psycopg

from config.settings import UpstreamSettings
from gateway.metrics import Metrics
from services.forwarding import Sender
from storage import upstream_queue
from storage.db import async_pool

log = logging.getLogger(__name__)
SYNC_RETRY = 2.0  # seconds between tries to write the upstreams while the database is away


def definition(u: UpstreamSettings) -> upstream_queue.Upstream:
    return upstream_queue.Upstream(
        u.name, u.host, u.port, u.version, u.cns, u.stations or None, u.behind_alarm
    )


class Forwarding:
    def __init__(
        self,
        dsn: str,
        upstreams: Sequence[UpstreamSettings],
        holder: str,
        keys: Callable[[str], bytes | None],
        now: Callable[[], datetime],
    ) -> None:
        self.upstreams = tuple(upstreams)
        self.db = async_pool(dsn, name="forwarding") if upstreams else None
        self.senders = [
            Sender(u, self.db, holder=holder, keys=keys, now=now)
            for u in self.upstreams
            if self.db is not None
        ]
        self.synced = False

    async def open(self) -> None:
        """Write the configured upstreams (and deactivate the others) once; a database
        that is away is retried by :meth:`run`."""
        if self.db is None:
            return
        await self.db.open(wait=False)
        try:
            await self._sync()
        except (OSError, psycopg.Error) as exc:
            log.warning("upstreams not written yet (%s): retrying", exc)

    async def _sync(self) -> None:
        assert self.db is not None
        async with self.db.connection() as conn:
            await upstream_queue.sync(conn, [definition(u) for u in self.upstreams])
        self.synced = True

    async def wait_synced(self) -> None:
        while not self.synced:
            try:
                await self._sync()
            except (OSError, psycopg.Error) as exc:
                log.debug("upstreams not written yet: %s", exc)
                await anyio.sleep(SYNC_RETRY)

    async def run_sender(self, sender: Sender) -> None:
        await self.wait_synced()
        await sender.run()

    async def close(self) -> None:
        if self.db is not None:
            await self.db.close(timeout=1.0)

    def export(self, metrics: Metrics) -> None:
        for sender in self.senders:
            c, name = sender.counters, sender.up.name
            metrics.upstream_backlog.labels(name).set(c.backlog)
            metrics.upstream_lag.labels(name).set(c.lag_s)
            metrics.upstream_delivered.labels(name).set(c.delivered)
            metrics.upstream_failures.labels(name).set(c.failures)
            metrics.upstream_connected.labels(name).set(c.connected)
            metrics.upstream_behind.labels(name).set(1 if c.behind else 0)
