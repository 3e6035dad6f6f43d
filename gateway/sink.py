"""Where received frames go: the database writer, or the disk spool when it is down.

:meth:`DurableSink.submit` returns a future that resolves once the frame is durable:
committed by the writer (its archive status), or fsync'ed into the spool (``spooled``).
Only then does the gateway acknowledge. While the spool holds frames, new frames go to
the spool too, so that the drain puts them into the database in the order received.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

import psycopg

from gateway.spool import Spool
from storage.records import FrameRecord
from storage.spool import stored_spool_ids
from storage.writer import Writer

log = logging.getLogger(__name__)


class DurableSink:
    def __init__(self, writer: Writer, spool: Spool, dsn: str) -> None:
        self.writer = writer
        self.spool = spool
        self.dsn = dsn
        self.db_up = spool.empty()
        self.pending = 0
        self.spooled = 0
        self.drained = 0
        self.on_settled: Callable[[], None] | None = None
        self._waiting: dict[int, datetime] = {}  # submit order -> receive time, until durable
        self._next = 0

    def oldest_pending(self) -> datetime | None:
        """Receive time of the oldest frame not yet durable (what the rules must wait for)."""
        return next(iter(self._waiting.values()), None)

    def submit(self, record: FrameRecord) -> asyncio.Future[str]:
        loop = asyncio.get_running_loop()
        out: asyncio.Future[str] = loop.create_future()
        self.pending += 1
        key = self._next
        self._next += 1
        self._waiting[key] = record.received_at
        out.add_done_callback(lambda _: self._waiting.pop(key, None))
        out.add_done_callback(self._settled)
        if not self.db_up:
            self._to_spool(record, out)
            return out

        def written(future: asyncio.Future[str]) -> None:
            if future.cancelled() or future.exception() is not None:
                if self.db_up:
                    log.error(
                        "database write failed (%s): spooling to disk",
                        future.exception() if not future.cancelled() else "cancelled",
                    )
                self.db_up = False
                self._to_spool(record, out)
            elif not out.done():
                out.set_result(future.result())

        self.writer.submit(record).add_done_callback(written)
        return out

    def _settled(self, _: asyncio.Future[str]) -> None:
        self.pending -= 1
        if self.on_settled is not None:
            self.on_settled()

    def _to_spool(self, record: FrameRecord, out: asyncio.Future[str]) -> None:
        def spooled(future: asyncio.Future[str]) -> None:
            if out.done():
                return
            if future.cancelled() or future.exception() is not None:
                out.set_exception(future.exception() or ConnectionError("spool write cancelled"))
            else:
                self.spooled += 1
                out.set_result("spooled")

        self.spool.append(record).add_done_callback(spooled)

    async def run_drain(self, probe_interval: float = 1.0, batch: int = 1000) -> None:
        """Move spooled frames into the database, oldest first; then switch back to it."""
        while True:
            if self.db_up:
                await asyncio.sleep(probe_interval)
                continue
            try:
                await self._drain_once(batch)
            except (psycopg.Error, OSError) as exc:
                log.warning(
                    "database still unreachable (%s); spool holds %d bytes", exc, self.spool.size()
                )
                await asyncio.sleep(probe_interval)

    async def _drain_once(self, batch: int) -> None:
        found = self.spool.pending_records(batch)
        if found is None:
            if self.spool.empty():
                async with await psycopg.AsyncConnection.connect(self.dsn, connect_timeout=5):
                    pass
                self.db_up = True
                log.info("spool drained; writing to the database again")
            else:
                await asyncio.sleep(0.01)  # appends still on their way to disk
            return
        segment, items = found
        records = [record for _, record in items]
        times = [r.received_at for r in records]
        already = await stored_spool_ids(
            self.dsn, [r.spool_id for r in records if r.spool_id], min(times), max(times)
        )
        todo = [r for r in records if r.spool_id not in already]
        results = await asyncio.gather(
            *(self.writer.submit(r) for r in todo), return_exceptions=True
        )
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            raise psycopg.OperationalError(f"drain write failed: {failed[0]}")
        self.spool.mark_done(segment, items[-1][0])
        self.drained += len(todo)
