"""The batched writer: frames in, one transaction per batch, a future per frame.

:meth:`Writer.submit` returns a future that resolves once the frame's archive row
and its measurements are committed (``synchronous_commit`` on: the WAL is flushed).
The gateway acknowledges a frame only then. Batching is group commit: while one
transaction commits, new frames queue up, and the next batch takes them all (up to
``max_batch``), so the batch size follows the load without an added delay.

Rows go in with binary COPY. Measurements pass through a temporary staging table so
that a retransmitted record (same MN, CN, pollutant, DataTime) is skipped by
``ON CONFLICT DO NOTHING`` instead of failing the batch.

A database error fails the futures of that batch (the caller decides: the gateway
does not acknowledge) and the writer reconnects with backoff.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import psycopg

from storage.records import FrameRecord

log = logging.getLogger(__name__)

_FRAME_COPY = (
    "COPY hj212.frame (received_at, id, peer, transport, mn, qn, st, cn, flag, raw, status,"
    " error) FROM STDIN (FORMAT BINARY)"
)
_FRAME_TYPES = [
    "timestamptz",
    "int8",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "int2",
    "bytea",
    "text",
    "text",
]
_STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS measurement_in"
    " (LIKE hj212.measurement INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
)
_MEASUREMENT_COLUMNS = (
    "data_time, mn, cn, pollutant, rtd, min, avg, max, cou, zs_rtd, zs_min, zs_avg, zs_max,"
    " flag, eflag, frame_id, received_at"
)
_MEASUREMENT_TYPES = [
    "timestamptz",
    "text",
    "text",
    "text",
    *["float8"] * 9,
    "text",
    "text",
    "int8",
    "timestamptz",
]


class Writer:
    """Group-committing writer into ``hj212.frame`` and ``hj212.measurement``."""

    def __init__(self, dsn: str, *, max_batch: int = 2000) -> None:
        self.dsn = dsn
        self.max_batch = max_batch
        self._queue: asyncio.Queue[tuple[FrameRecord, asyncio.Future[None]]] = asyncio.Queue()
        self._pending: set[asyncio.Future[None]] = set()
        self.committed_frames = 0
        self.failed_batches = 0

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    def submit(self, record: FrameRecord) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((record, future))
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return future

    async def run(self) -> None:
        """Write batches until cancelled; on cancellation, fail what is still queued."""
        conn: psycopg.AsyncConnection[tuple[object, ...]] | None = None
        backoff = 0.1
        try:
            while True:
                batch = await self._collect()
                try:
                    if conn is None or conn.closed:
                        conn = await self._connect()
                    await self._write(conn, [record for record, _ in batch])
                except psycopg.Error as exc:
                    self.failed_batches += 1
                    log.error("database write of %d frames failed: %s", len(batch), exc)
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    if conn is not None:
                        await conn.close()
                    conn = None
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                backoff = 0.1
                self.committed_frames += len(batch)
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)
        finally:
            self._fail_queued()
            if conn is not None:
                await conn.close()

    async def drain(self) -> None:
        """Wait until everything submitted so far has been written or failed."""
        while self._pending:
            await asyncio.wait(list(self._pending))

    def _fail_queued(self) -> None:
        while not self._queue.empty():
            _, future = self._queue.get_nowait()
            if not future.done():
                future.set_exception(ConnectionError("writer stopped before the frame was stored"))

    async def _connect(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        conn = await psycopg.AsyncConnection.connect(self.dsn)
        await conn.execute(_STAGING)
        await conn.commit()
        return conn

    async def _collect(self) -> list[tuple[FrameRecord, asyncio.Future[None]]]:
        batch = [await self._queue.get()]
        while len(batch) < self.max_batch and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        return batch

    async def _write(
        self, conn: psycopg.AsyncConnection[tuple[object, ...]], records: Sequence[FrameRecord]
    ) -> None:
        async with conn.transaction():
            cur = conn.cursor()
            await cur.execute(
                "SELECT nextval('hj212.frame_id_seq') FROM generate_series(1, %s)",
                (len(records),),
            )
            ids = [int(row[0]) for row in await cur.fetchall()]  # type: ignore[call-overload]
            async with cur.copy(_FRAME_COPY) as copy:
                copy.set_types(_FRAME_TYPES)
                for frame_id, r in zip(ids, records, strict=True):
                    await copy.write_row(
                        (
                            r.received_at,
                            frame_id,
                            r.peer,
                            r.transport,
                            r.mn,
                            r.qn,
                            r.st,
                            r.cn,
                            r.flag,
                            r.raw,
                            r.status,
                            r.error,
                        )
                    )
            if any(r.measurements for r in records):
                async with cur.copy(
                    f"COPY measurement_in ({_MEASUREMENT_COLUMNS}) FROM STDIN (FORMAT BINARY)"
                ) as copy:
                    copy.set_types(_MEASUREMENT_TYPES)
                    for frame_id, r in zip(ids, records, strict=True):
                        for m in r.measurements:
                            await copy.write_row(
                                (
                                    m.data_time,
                                    m.mn,
                                    m.cn,
                                    m.pollutant,
                                    *m.values,
                                    m.flag,
                                    m.eflag,
                                    frame_id,
                                    r.received_at,
                                )
                            )
                await cur.execute(
                    f"INSERT INTO hj212.measurement ({_MEASUREMENT_COLUMNS})"
                    f" SELECT {_MEASUREMENT_COLUMNS} FROM measurement_in"
                    " ON CONFLICT DO NOTHING"
                )
