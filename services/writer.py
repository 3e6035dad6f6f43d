"""The batched writer: frames in, one transaction per batch, a future per frame.

:meth:`Writer.submit` returns a future that resolves, with the frame's archive status
(``ok``, ``duplicate``, ``rejected``, ``garbage``), once the frame's archive row and
its rows are committed (``synchronous_commit`` on: the WAL is flushed). The gateway
acknowledges a frame only then. A database error fails the futures of that batch (the
caller decides: the gateway does not acknowledge, the device sends again) and the
writer reconnects with backoff; no frame is dropped silently. Text the database cannot
hold is made storable first (:func:`storage.records.safe`), and a frame the database
still refuses (a data error) is isolated by halving the batch: only its future fails.

Group commit: a batch closes when it holds ``max_batch`` frames or when its oldest
frame has waited ``max_delay`` seconds, whichever comes first; while one batch commits
the next one fills, so under load batches grow without any added delay. ``lanes``
connections do this side by side, each for its own share of the stations.

The SQL of a batch is storage/frame_batch.py.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from storage import frame_batch
from storage.db import AsyncConn
from storage.records import FrameRecord

log = logging.getLogger(__name__)


Fallback = Callable[[BaseException], None]


@dataclass(slots=True)
class _Item:
    record: FrameRecord
    future: asyncio.Future[str]
    submitted: float  # loop time
    # called instead of failing the future (the gateway spools the frame then)
    fallback: Fallback | None = None


@dataclass
class _Lane:
    """One connection and its queue; a station always goes to the same lane."""

    queue: asyncio.Queue[_Item] = field(default_factory=asyncio.Queue)
    inflight: list[_Item] = field(default_factory=list)
    progress: asyncio.Event = field(default_factory=asyncio.Event)  # a batch settled
    # the chain heads this lane committed last: no head lock per batch (frame_batch step 6)
    heads: frame_batch.HeadCache = field(default_factory=frame_batch.HeadCache)

    @property
    def idle(self) -> bool:
        return self.queue.empty() and not self.inflight


class Writer:
    """Group-committing writer into ``hj212.frame``, ``measurement`` and ``device_status``.

    ``lanes`` connections write concurrently, each its own batches of its own stations
    (a stable hash of the chain key picks the lane), so batches of different lanes never
    wait for each other's chain locks; the server inserts on several cores. Two lanes
    measured best on a 2-core machine (benchmarks/RESULTS.md).
    """

    def __init__(
        self,
        dsn: str,
        *,
        max_batch: int = 2000,
        max_delay: float = 0.0,
        lanes: int = 1,
        forward: bool = False,
    ) -> None:
        self.dsn = dsn
        self.forward = forward  # queue stored frames for the upstreams (docs/forwarding.md §3)
        self.max_batch = max(1, max_batch)
        self.max_delay = max(0.0, max_delay)  # seconds
        self._lanes = [_Lane() for _ in range(max(1, lanes))]
        self.committed_frames = 0
        self.committed_batches = 0
        self.committed_rows = 0  # new measurement rows
        self.duplicate_frames = 0
        self.failed_batches = 0  # whole batches failed (database unreachable, ...)
        self.failed_frames = 0  # single frames the database refused (isolated)
        self.last_batch_size = 0

    @property
    def heads_moved(self) -> int:
        """Batches redone because another writer had advanced a cached chain head."""
        return sum(lane.heads.moved for lane in self._lanes)

    @property
    def queued(self) -> int:
        return sum(lane.queue.qsize() for lane in self._lanes)

    def submit(self, record: FrameRecord) -> asyncio.Future[str]:
        """Queue one frame; the future resolves to its archive status once committed."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.submit_into(record, future)
        return future

    def submit_into(
        self, record: FrameRecord, future: asyncio.Future[str], fallback: Fallback | None = None
    ) -> None:
        """Queue one frame whose status resolves the caller's ``future`` once committed;
        if it cannot be written, ``fallback`` (when given) gets the error instead of the
        future, and must settle the future itself. One future per frame, not a chain."""
        lanes = self._lanes
        lane = lanes[zlib.crc32(record.chain.encode()) % len(lanes)] if len(lanes) > 1 else lanes[0]
        lane.queue.put_nowait(_Item(record, future, future.get_loop().time(), fallback))

    async def run(self) -> None:
        """Write batches until cancelled; on cancellation, fail what is not yet written."""
        await asyncio.gather(*(self._run_lane(lane) for lane in self._lanes))

    async def _run_lane(self, lane: _Lane) -> None:
        conn: AsyncConn | None = None
        backoff = 0.1
        try:
            while True:
                await self._collect(lane)
                try:
                    if conn is None or conn.closed:
                        conn = await psycopg.AsyncConnection.connect(self.dsn)
                        await frame_batch.prepare(conn)
                    await self._write_items(conn, lane, lane.inflight)
                except Exception as exc:  # noqa: BLE001 - every failure must reach the futures
                    self.failed_batches += 1
                    log.error("write of %d frames failed: %s", len(lane.inflight), exc)
                    self._fail(lane.inflight, exc)
                    lane.inflight = []
                    lane.progress.set()
                    if conn is not None:
                        await conn.close()
                    conn = None
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                backoff = 0.1
                lane.inflight = []
                lane.progress.set()
        finally:
            self._fail(lane.inflight, ConnectionError("writer stopped while writing the frame"))
            lane.inflight = []
            while not lane.queue.empty():
                self._fail([lane.queue.get_nowait()], ConnectionError("writer stopped"))
            lane.progress.set()
            if conn is not None:
                await conn.close()

    async def _write_items(self, conn: AsyncConn, lane: _Lane, items: list[_Item]) -> None:
        """Write and resolve ``items``; a data error fails only the frame that causes it.

        Bad data (a value the database refuses) is isolated by halving the batch, so one
        broken frame never costs other stations their acknowledgement; any other error
        (connection lost, schema missing) propagates and fails the whole batch.
        """
        try:
            statuses, rows = await frame_batch.write(
                conn, [item.record for item in items], forward=self.forward, heads=lane.heads
            )
            self.committed_rows += rows
        except frame_batch.DATA_ERRORS as exc:
            if len(items) == 1:
                self.failed_frames += 1
                log.error("frame from %s not stored: %s", items[0].record.peer, exc)
                self._fail(items, exc)
                return
            half = len(items) // 2
            await self._write_items(conn, lane, items[:half])
            await self._write_items(conn, lane, items[half:])
            return
        self._committed(items, statuses)

    async def drain(self) -> None:
        """Wait until everything submitted so far has been written or failed."""
        for lane in self._lanes:
            while not lane.idle:
                lane.progress.clear()
                await lane.progress.wait()

    def _committed(self, items: list[_Item], statuses: list[str]) -> None:
        self.committed_batches += 1
        self.committed_frames += len(statuses)
        self.last_batch_size = len(statuses)
        self.duplicate_frames += statuses.count("duplicate")
        for item, status in zip(items, statuses, strict=True):
            if not item.future.done():
                item.future.set_result(status)

    @staticmethod
    def _fail(items: list[_Item], exc: BaseException) -> None:
        for item in items:
            if item.future.done():
                continue
            if item.fallback is not None:
                item.fallback(exc)
            else:
                item.future.set_exception(exc)

    async def _collect(self, lane: _Lane) -> None:
        """Fill the lane's batch (drain() sees frames as soon as they leave the queue)."""
        batch = lane.inflight
        batch.append(await lane.queue.get())
        deadline = batch[0].submitted + self.max_delay
        loop = asyncio.get_running_loop()
        while len(batch) < self.max_batch:
            if not lane.queue.empty():
                batch.append(lane.queue.get_nowait())
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                async with asyncio.timeout(remaining):
                    batch.append(await lane.queue.get())
            except TimeoutError:
                break
