"""The sender of one upstream: the queue of storage/upstream_queue.py, to the wire
(docs/forwarding.md §4).

Every poll it leases the stations that have frames queued for the upstream (renewing
its own leases), and runs one task per leased station: a TCP connection to the
upstream in that station's name (the upstream binds a connection to one MN, as this
gateway does), the station's frames in frame order, one at a time, each resent every
``overtime`` up to ``recount`` times until the upstream's 9014 for its QN comes back
(HJ 212-2017 §6.2, Table 1). Only then does the frame leave the queue. A frame with no
answer stays, the connection is dropped and the station waits (backing off up to
``MAX_PAUSE``) before it tries again: an upstream outage costs nothing but time. The
queue is the truth: a gateway killed in the middle loses nothing, and resends at most
the frame in flight (which the upstream stores as a duplicate of its own).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import psycopg

from config.settings import UpstreamSettings
from protocol import Connection, Reply, Role
from protocol.codes import Cn
from services.upstream_frames import NotForwardable, Outgoing, outgoing
from storage import audit
from storage import upstream_queue as queue
from storage.db import AsyncPool

log = logging.getLogger(__name__)
POLL = 0.5  # seconds between looks at a station's queue
LEASE_EVERY = 2.0  # seconds between leasing rounds
LINGER = 30.0  # an idle station's connection stays open this long for its next frame
MAX_PAUSE = 30.0  # longest wait before a station tries a silent upstream again
BATCH = 200  # rows read at once per station
STATUS_EVERY = 5.0  # seconds between backlog looks (metrics, the behind notice)


@dataclass
class Counters:
    """What /metrics shows per upstream (gateway/metrics.py reads it)."""

    delivered: int = 0
    failures: int = 0
    backlog: int = 0
    lag_s: float = 0.0
    connected: int = 0
    behind: bool = False


def holder_name(worker: int = 0) -> str:
    """Who holds leases: stable across restarts of the same gateway, so that a
    restarted (or killed) one takes its stations back at once."""
    return f"{socket.gethostname()}/{worker}"


class Link:
    """One connection to the upstream, in one station's name."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, counters: Counters
    ) -> None:
        self.reader, self.writer = reader, writer
        self.conn = Connection(Role.STATION)
        self.counters = counters
        counters.connected += 1

    async def send(self, out: Outgoing, overtime: float, recount: int) -> bool:
        """Send until the upstream answers 9014 for ``out.qn``; False if it never did."""
        for _ in range(recount + 1):
            self.writer.write(out.wire)
            await self.writer.drain()
            try:
                if await asyncio.wait_for(self._answer(out.qn), overtime):
                    return True
            except TimeoutError:
                continue
        return False

    async def _answer(self, qn: str) -> bool:
        while True:
            data = await self.reader.read(65536)
            if not data:
                raise ConnectionError("the upstream closed the connection")
            for event in self.conn.receive_data(data):
                if (
                    isinstance(event, Reply)
                    and event.cn == Cn.DATA_ANSWER
                    and event.answers_qn == qn
                ):
                    return True

    def close(self) -> None:
        if not self.writer.is_closing():
            self.counters.connected -= 1
            self.writer.close()


class Sender:
    """Forwards the queue of ``upstream``; ``keys`` gives a station's own SM4 key
    (to read a frame it encrypted), ``now`` the platform's clock."""

    def __init__(
        self,
        upstream: UpstreamSettings,
        db: AsyncPool,
        *,
        holder: str,
        keys: Callable[[str], bytes | None],
        now: Callable[[], datetime],
    ) -> None:
        self.up = upstream
        self.db = db
        self.holder = holder
        self.keys = keys
        self.now = now
        self.counters = Counters()
        self.held: set[str] = set()
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self._key = bytes.fromhex(upstream.sm4_key) if upstream.sm4_key else None
        # the upstream unreachable: every station waits until then (one breaker, not
        # thousands of connection attempts and failure rows)
        self.down_until = 0.0
        self._down_pause = 1.0

    async def run(self) -> None:
        """Until cancelled: lease, send, look at the backlog."""
        last_status = 0.0
        loop = asyncio.get_running_loop()
        try:
            while True:
                async with self.db.connection() as conn:
                    leased = await queue.lease_stations(
                        conn, self.up.name, self.holder, self.up.lease, self.up.max_stations
                    )
                self.held = set(leased) | {mn for mn, t in self.tasks.items() if not t.done()}
                for mn in leased:
                    if mn not in self.tasks or self.tasks[mn].done():
                        self.tasks[mn] = loop.create_task(self._station(mn))
                if loop.time() - last_status >= STATUS_EVERY:
                    last_status = loop.time()
                    await self._look()
                await asyncio.sleep(LEASE_EVERY)
        finally:
            for task in self.tasks.values():
                task.cancel()

    async def _look(self) -> None:
        """Backlog and lag for /metrics; the notice when the upstream falls behind."""
        async with self.db.connection() as conn:
            rows = [r for r in await queue.status(conn) if r["name"] == self.up.name]
            if not rows:
                return
            row = rows[0]
            oldest = row["oldest"]
            lag = (self.now() - oldest).total_seconds() if isinstance(oldest, datetime) else 0.0
            c = self.counters
            c.backlog, c.lag_s = int(str(row["backlog"])), max(0.0, lag)
            c.behind = lag > self.up.behind_alarm
            if await queue.mark_behind(conn, self.up.name, c.behind):
                what = "upstream-behind" if c.behind else "upstream-caught-up"
                log.warning(
                    "upstream %s: %s (%d frames, %.0f s)", self.up.name, what, c.backlog, lag
                )
                detail = {
                    "backlog": c.backlog,
                    "lag_s": round(lag),
                    "alarm_s": self.up.behind_alarm,
                }
                await audit.append_async(conn, "gateway", what, f"upstream:{self.up.name}", detail)
                await conn.commit()

    async def _station(self, mn: str) -> None:
        """One station's queue, in order, over one connection."""
        link: Link | None = None
        pause, idle_since = 1.0, asyncio.get_running_loop().time()
        loop = asyncio.get_running_loop()
        try:
            while mn in self.held:
                if (wait := self.down_until - loop.time()) > 0:
                    await asyncio.sleep(wait)
                    continue
                async with self.db.connection() as conn:
                    rows = await queue.next_rows(conn, self.up.name, mn, BATCH)
                if not rows:
                    if asyncio.get_running_loop().time() - idle_since > LINGER:
                        break
                    await asyncio.sleep(POLL)
                    continue
                try:
                    link = link or await self._open()
                except (OSError, TimeoutError) as exc:
                    await self._unreachable(str(exc) or type(exc).__name__)
                    continue
                try:
                    await self._send_rows(link, rows)
                    pause = 1.0
                except (OSError, ConnectionError, _Unanswered) as exc:
                    await self._failed(mn, [rows[0].frame_id], str(exc) or type(exc).__name__)
                    if link is not None:
                        link.close()
                        link = None
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, MAX_PAUSE)
                idle_since = asyncio.get_running_loop().time()
        finally:
            if link is not None:
                link.close()

    async def _open(self) -> Link:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.up.host, self.up.port), self.up.overtime
        )
        self._down_pause = 1.0
        return Link(reader, writer, self.counters)

    async def _unreachable(self, why: str) -> None:
        """No connection to the upstream: every station waits, the wait doubling."""
        now = asyncio.get_running_loop().time()
        if now < self.down_until:
            return  # another station found it first
        self.down_until = now + self._down_pause
        self._down_pause = min(self._down_pause * 2, MAX_PAUSE)
        await self._failed("*", [], f"unreachable: {why}")

    async def _send_rows(self, link: Link, rows: list[queue.Queued]) -> None:
        for row in rows:
            try:
                out = self._outgoing(row)
            except (NotForwardable, ValueError) as exc:
                log.error("frame %d of %s not forwardable: %s", row.frame_id, row.mn, exc)
                async with self.db.connection() as conn:  # it can never go: out of the queue
                    await queue.drop(conn, self.up.name, row.frame_id, str(exc))
                continue
            if not await link.send(out, self.up.overtime, self.up.recount):
                raise _Unanswered(f"no 9014 for QN {out.qn} after {self.up.recount + 1} sends")
            async with self.db.connection() as conn:
                await queue.delivered(conn, self.up.name, row.frame_id)
            self.counters.delivered += 1

    def _outgoing(self, row: queue.Queued) -> Outgoing:
        up = self.up
        mn = pw = None
        if up.mode == "rewrite":
            change = up.rewrite.get(row.mn)
            mn, pw = (change.mn, change.pw) if change else (None, up.password)
        backlog = (self.now() - row.received_at).total_seconds() > up.backlog_after
        return outgoing(
            row.raw,
            version=up.version,
            mn=mn,
            pw=pw,
            resent=backlog or row.attempts > 0,
            station_key=self.keys(row.mn),
            upstream_key=self._key,
        )

    async def _failed(self, mn: str, frame_ids: list[int], why: str) -> None:
        self.counters.failures += 1
        log.info("upstream %s, station %s: %s", self.up.name, mn, why)
        try:
            async with self.db.connection() as conn:
                await queue.failed(conn, self.up.name, frame_ids, why)
        except (OSError, psycopg.Error) as exc:  # the database away too: still queued
            log.warning("upstream %s: failure not recorded (%s)", self.up.name, exc)


class _Unanswered(Exception):
    """The upstream took the frame but never answered 9014 for it."""
