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
from functools import partial

import psycopg

from gateway.spool import Spool
from services.writer import Writer
from storage.db import AsyncPool
from storage.records import FrameRecord
from storage.spool import database_id, stored_spool_ids

log = logging.getLogger(__name__)


class SpoolMismatch(RuntimeError):
    """Raised when the spool holds frames received for another database."""


class DurableSink:
    def __init__(self, writer: Writer, spool: Spool, db: AsyncPool) -> None:
        self.writer = writer
        self.spool = spool
        self.db = db
        self.db_up = spool.empty()
        self.pending = 0
        self.spooled = 0
        self.drained = 0
        self.on_settled: Callable[[], None] | None = None
        self._waiting: dict[int, datetime] = {}  # submit order -> receive time, until durable
        self._next = 0
        self.owner_checked = False
        self.mismatch: str | None = None  # why the spool may not be drained here

    def oldest_pending(self) -> datetime | None:
        """Receive time of the oldest frame not yet durable (what the rules must wait for)."""
        return next(iter(self._waiting.values()), None)

    def submit(self, record: FrameRecord) -> asyncio.Future[str]:
        out: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.pending += 1
        key = self._next
        self._next += 1
        self._waiting[key] = record.received_at
        out.add_done_callback(partial(self._settled, key))
        if not self.db_up:
            self._to_spool(record, out)
            return out
        # the writer resolves ``out`` itself; only a failed write comes back here
        self.writer.submit_into(record, out, partial(self._write_failed, record, out))
        return out

    def _write_failed(
        self, record: FrameRecord, out: asyncio.Future[str], exc: BaseException
    ) -> None:
        if self.db_up:
            log.error("database write failed (%s): spooling to disk", exc)
        self.db_up = False
        self._to_spool(record, out)

    def _settled(self, key: int, _: asyncio.Future[str]) -> None:
        self._waiting.pop(key, None)
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
            except SpoolMismatch as exc:
                self.mismatch = str(exc)
                log.error("%s", exc)
                await asyncio.sleep(60)
            except (psycopg.Error, OSError) as exc:
                log.warning(
                    "database still unreachable (%s); spool holds %d bytes", exc, self.spool.size()
                )
                await asyncio.sleep(probe_interval)

    async def check_owner(self) -> None:
        """Make sure the spool is this database's before anything is drained into it.

        :raises SpoolMismatch: the spool holds another database's frames, or frames
            whose database was never recorded.
        :raises psycopg.Error: the database cannot be asked (checked again later).
        """
        async with self.db.connection() as conn:
            database = await database_id(conn)
        owner = self.spool.owner()
        if owner == database:
            self.owner_checked = True
            return
        if self.spool.empty() or (owner is None and not self.spool.unowned):
            self.spool.claim(database)  # empty, or only what this process spooled
            self.owner_checked = True
            return
        whose = f"database {owner}" if owner else "a database nobody recorded"
        raise SpoolMismatch(
            f"spool {self.spool.directory} holds frames of {whose}, not of this one"
            f" ({database}): they are never drained into another database. Run the gateway"
            " against that database, or move the spool away (`hj212 spool status`; for a"
            " spool from before its database was recorded, `hj212 spool claim`)"
        )

    async def drain_at_stop(self, batch: int = 1000) -> None:
        """At a stop, with nothing more coming in: whatever the spool holds goes to the
        database now if it is reachable (a normal stop leaves an empty spool); if it is
        not, the spool keeps it for the next start."""
        try:
            while not self.db_up:
                await self._drain_once(batch)
        except (psycopg.Error, OSError, SpoolMismatch) as exc:
            log.warning("spool not drained at the stop (%s): it keeps its frames", exc)

    async def _drain_once(self, batch: int) -> None:
        if not self.owner_checked:
            await self.check_owner()
        found = self.spool.pending_records(batch)
        if found is None:
            if self.spool.empty():
                async with self.db.connection():
                    pass  # taken out only after a check: the database answers
                self.db_up = True
                log.info("spool drained; writing to the database again")
            else:
                await asyncio.sleep(0.01)  # appends still on their way to disk
            return
        segment, items = found
        records = [record for _, record in items]
        times = [r.received_at for r in records]
        ids = [r.spool_id for r in records if r.spool_id]
        async with self.db.connection() as conn:
            already = await stored_spool_ids(conn, ids, min(times), max(times))
        todo = [r for r in records if r.spool_id not in already]
        results = await asyncio.gather(
            *(self.writer.submit(r) for r in todo), return_exceptions=True
        )
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            raise psycopg.OperationalError(f"drain write failed: {failed[0]}")
        self.spool.mark_done(segment, items[-1][0])
        self.drained += len(todo)
