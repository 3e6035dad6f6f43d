"""Wiring: listeners, serial ports, the durable sink, commands, clocks and metrics in
one anyio task group, plus the gateway-wide policies the sessions call into (limits,
station binding, backpressure)."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import time
from collections import Counter as Tally
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import anyio
import psycopg
from anyio.abc import TaskStatus

from config.settings import (
    BackfillSettings,
    GatewaySettings,
    StorageSettings,
    UpstreamSettings,
)
from gateway.clock import Clock
from gateway.commands import Commands, Linked
from gateway.forwarding import Forwarding
from gateway.guard import Guard
from gateway.metrics import Metrics, serve_http
from gateway.registry import Registry, after_command
from gateway.serial_port import open_serial
from gateway.session import StationSession
from gateway.sink import DurableSink, SpoolMismatch
from gateway.spool import Spool
from services.backfill import Backfill
from services.forwarding import holder_name
from services.writer import Writer
from storage.db import async_pool
from storage.records import FrameRecord

log = logging.getLogger(__name__)
# A stop waits this long for every received frame to be written (or spooled, when the
# database is down); only a database that is up and still slower than this loses the
# race, and then what is left is spooled, never dropped.
STOP_TIMEOUT = 60.0
CLOCK_FLUSH_TIMEOUT = 5.0  # seconds the last clock-drift save may take at a stop


# A young collection every this many allocations instead of CPython's 700: under load
# the gateway allocates a few dozen objects per frame, so with the default it collected
# many times per batch, and the collections surfaced as the hottest lines of the profile
# (docs/performance.md §9). The simulators do the same (simulators/fleet.py).
YOUNG_GC = 50_000


def tune_gc() -> None:
    """For a gateway process, once it has started: what exists now (code, settings,
    registry) is frozen out of every later collection, and young collections are rarer.
    Not done by :class:`Gateway` itself: it changes the whole process (tests run
    gateways inside theirs)."""
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GC, middle, old)


def utcnow() -> datetime:
    return datetime.now(UTC)


async def supervised(name: str, task: Callable[[], Coroutine[object, object, object]]) -> None:
    """Run ``task`` for ever: an exception is logged and the task started again (after
    a growing pause), never allowed out into the task group, where it would stop the
    whole gateway and everything beside it (issue 14, F-02)."""
    pause = 1.0
    while True:
        started = time.monotonic()
        try:
            await task()
            return
        except Exception:
            log.exception("%s failed; restarting it in %.0f s", name, pause)
        pause = 1.0 if time.monotonic() - started > 60 else min(pause * 2, 60.0)
        await anyio.sleep(pause)


@dataclass(frozen=True)
class Stats:
    open_connections: int
    frames: int
    acks: int
    rejected: int


class Gateway:
    """A running gateway: its sessions, storage path, counters and the port it serves."""

    def __init__(
        self,
        settings: GatewaySettings,
        dsn: str,
        storage: StorageSettings | None = None,
        *,
        now: Callable[[], datetime] = utcnow,
        upstreams: Sequence[UpstreamSettings] = (),
        worker: int = 0,
        backfill: BackfillSettings | None = None,
    ) -> None:
        """``now`` is the platform's clock: receive times, the time a 1012 sets, QNs of
        commands. Real UTC time, except in accelerated runs (tests, demos), where the
        simulators, the gateway and the rules share one simulated clock."""
        self.settings = settings
        self.dsn = dsn
        self.now = now
        storage = storage or StorageSettings()
        self.writer = Writer(
            dsn,
            max_batch=storage.max_batch,
            max_delay=storage.max_delay_ms / 1000,
            lanes=storage.writer_lanes,
            forward=bool(upstreams),
        )
        # One pool for the bookkeeping (registry, commands, clock drift, spool checks),
        # opened in run(); the writer's lanes keep connections of their own (their
        # session tables and long COPY transactions).
        self.db = async_pool(dsn, name="gateway")
        self.spool = Spool(settings.spool_dir, settings.spool_max_bytes)
        self.sink = DurableSink(self.writer, self.spool, self.db)
        self.sink.on_settled = self._maybe_resume
        self.registry = Registry()
        self.guard = Guard(
            settings.auth_failures_per_mn,
            settings.auth_failures_per_ip,
            settings.max_garbage_per_ip,
            settings.auth_window,
        )
        self.unidentified: Tally[str] = Tally()  # per IP, connections naming no station yet
        self.metrics = Metrics()
        self.sessions: dict[str, StationSession] = {}  # by MN
        self.commands = Commands(
            self.db,
            settings.command_poll,
            self.sessions,
            now=now,
            spawn=self.spawn,
            metrics=self.metrics,
            adopt=self.adopt,
            adopted=self.adopted,
        )
        self.clock = Clock(self.db, settings, now, self.commands.send_auto)
        self.upstreams = tuple(upstreams)
        self.forwarding = Forwarding(dsn, self.upstreams, holder_name(worker), self._key, now)
        self.backfill = None
        if backfill is not None and backfill.enabled:
            self.backfill = Backfill(self.db, backfill, self._connected, now)
        self.connections: set[StationSession] = set()
        self.per_ip: Tally[str] = Tally()
        self.reading_paused = False
        self.stopping = False  # shutting down: nothing is read any more
        self.port: int | None = None
        self.metrics_port: int | None = None
        self._writer_scope = anyio.CancelScope(shield=True)
        self._settled = asyncio.Event()  # set whenever a frame becomes durable (or fails)
        self._background: set[asyncio.Task[object]] = set()

    def spawn(self, coro: Coroutine[object, object, object]) -> asyncio.Task[object]:
        """Run database bookkeeping in the background; shutdown waits for it."""
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    # -- what sessions call --------------------------------------------------------------
    def admit(self, session: StationSession) -> bool:
        if len(self.connections) >= self.settings.max_connections:
            self.metrics.refused.labels("total").inc()
            return False
        if self.per_ip[session.ip] >= self.settings.max_connections_per_ip:
            self.metrics.refused.labels("per_ip").inc()
            return False
        if self.unidentified[session.ip] >= self.settings.max_unidentified_per_ip:
            self.metrics.refused.labels("unidentified_per_ip").inc()
            return False
        self.connections.add(session)
        self.per_ip[session.ip] += 1
        self.unidentified[session.ip] += 1
        self.metrics.connections.inc()
        self.metrics.open.set(len(self.connections))
        return True

    def release(self, session: StationSession) -> None:
        if session in self.connections:
            self.connections.discard(session)
            self.per_ip[session.ip] -= 1
            if self.per_ip[session.ip] <= 0:
                del self.per_ip[session.ip]
            self.identified(session)
        if session.mn is not None and self.sessions.get(session.mn) is session:
            del self.sessions[session.mn]
        self.metrics.open.set(len(self.connections))

    def identified(self, session: StationSession) -> None:
        """``session`` named a station (or ended): it no longer counts as unidentified."""
        if session.counted_unidentified:
            session.counted_unidentified = False
            self.unidentified[session.ip] -= 1
            if self.unidentified[session.ip] <= 0:
                del self.unidentified[session.ip]

    def bind(self, mn: str, session: StationSession) -> None:
        """A second connection with the same MN replaces the first."""
        old = self.sessions.get(mn)
        self.sessions[mn] = session
        if old is not session:
            self.commands.arrived(mn)  # commands queued while it was away
        if self.backfill is not None and old is not session:
            self.backfill.reconnected(mn)
        if old is not None and old is not session:
            old.mn = None  # its release must not unbind the new one
            old.close("replaced by a new connection of the same station")

    def adopt(self, session: Linked, cn: str, params: dict[str, object]) -> frozenset[str]:
        """A confirmed command's effect on the live session and registry, at once: the
        device's next frame carries its new password, key or MN (docs/forwarding.md §1).
        The MNs touched are held in memory until the database has the change."""
        old = session.station or self.registry.get(session.mn)
        if old is None:
            return frozenset()
        new = after_command(old, cn, params)
        if new == old:
            return frozenset()
        self.registry.hold(new)
        session.station = new
        session.conn.options = new.options
        if new.mn != old.mn:  # 1002: the connection now speaks for the new MN
            self.registry.hold(replace(old, active=False))
            session.mn = new.mn
            live = self.sessions.pop(old.mn, None)
            if live is not None:
                self.sessions[new.mn] = live
        return frozenset({old.mn, new.mn})

    def _connected(self) -> dict[str, str]:
        """Registered stations with a live connection, and their ST (back-fill)."""
        return {
            mn: s.station.st
            for mn, s in self.sessions.items()
            if s.transport is not None and s.station is not None
        }

    def _key(self, mn: str) -> bytes | None:
        """A station's own SM4 key (to read a frame it encrypted, for an upstream)."""
        station = self.registry.get(mn)
        return station.options.sm4_key if station else None

    async def adopted(self, mns: frozenset[str]) -> None:
        self.registry.release(mns)
        await self.registry.refresh(self.db)

    def submit(self, record: FrameRecord) -> asyncio.Future[str]:
        future = self.sink.submit(record)
        if not self.reading_paused and self.sink.pending > self.settings.queue_high:
            self.reading_paused = True
            self.metrics.backpressure.inc()
            log.warning("storage is %d frames behind: pausing reads", self.sink.pending)
            for session in self.connections:
                if session.transport is not None:
                    session.transport.pause_reading()
        return future

    def _maybe_resume(self) -> None:
        self._settled.set()
        if self.stopping:
            return
        if self.reading_paused and self.sink.pending < self.settings.queue_low:
            self.reading_paused = False
            for session in self.connections:
                if session.transport is not None and not session.paused:
                    session.transport.resume_reading()

    def oldest_pending(self) -> datetime | None:
        """Receive time of the oldest frame this process has not yet made durable."""
        return self.sink.oldest_pending()

    @property
    def stats(self) -> Stats:
        """Totals for progress lines (the same numbers /metrics serves)."""

        def total(name: str) -> int:
            return int(
                sum(
                    s.value
                    for m in self.metrics.registry.collect()
                    if m.name == name
                    for s in m.samples
                    if s.name == name + "_total"
                )
            )

        return Stats(
            open_connections=len(self.connections),
            frames=total("hj212_frames"),
            acks=total("hj212_answers"),
            rejected=total("hj212_frames_rejected"),
        )

    def health(self) -> tuple[bool, dict[str, object]]:
        detail: dict[str, object] = {
            "database": "up" if self.sink.db_up else "down (spooling)",
            "spool_bytes": self.spool.size(),
            "spool_full": self.spool.full,
            "spool_database": self.spool.owner(),
            "spool_refused": self.sink.mismatch,
            "connections": len(self.connections),
            "queue": self.sink.pending,
            "reading_paused": self.reading_paused,
        }
        return not self.spool.full and self.sink.mismatch is None, detail

    # -- running ---------------------------------------------------------------------------
    async def run(self, *, task_status: TaskStatus[int] = anyio.TASK_STATUS_IGNORED) -> None:
        """Serve until cancelled; then stop accepting, drain what was received, flush."""
        await self.db.open(wait=False)
        try:
            await self._serve(task_status)
        finally:
            with anyio.CancelScope(shield=True):
                await self.forwarding.close()
                await self.db.close(timeout=1.0)

    async def _serve(self, task_status: TaskStatus[int]) -> None:
        settings = self.settings
        try:
            await self.sink.check_owner()
        except SpoolMismatch as exc:  # refuse to start: never mix two databases' frames
            log.error("%s", exc)
            raise
        except (OSError, psycopg.Error) as exc:
            log.warning("spool owner not checked yet (%s): checked before it is drained", exc)
        try:
            await self.registry.refresh(self.db)
        except Exception as exc:  # noqa: BLE001 - start without a registry, retry later
            log.error("station registry not loaded (%s); retrying in the background", exc)
        await self.forwarding.open()  # before any frame is stored: they select against it
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._run_writer)
            tg.start_soon(supervised, "spool drain", self.sink.run_drain)
            tg.start_soon(supervised, "registry refresh", self._refresh_registry)
            tg.start_soon(supervised, "connection sweep", self._sweep)
            tg.start_soon(supervised, "command dispatcher", self.commands.run)
            tg.start_soon(supervised, "clock keeper", self.clock.run)
            if self.backfill is not None:
                tg.start_soon(supervised, "back-fill", self.backfill.run)
            for sender in self.forwarding.senders:
                run = functools.partial(self.forwarding.run_sender, sender)
                tg.start_soon(supervised, f"upstream {sender.up.name}", run)
            loop = asyncio.get_running_loop()
            server = await loop.create_server(
                lambda: StationSession(self),
                settings.host,
                settings.port,
                reuse_address=True,
                reuse_port=settings.workers > 1,
                backlog=4096,
            )
            self.port = int(server.sockets[0].getsockname()[1])
            http = None
            if settings.metrics_port:
                try:
                    http = await serve_http(
                        settings.metrics_host, settings.metrics_port, self.metrics, self.health
                    )
                    self.metrics_port = int(http.sockets[0].getsockname()[1])
                except OSError as exc:  # metrics are not worth refusing data for
                    log.error(
                        "metrics endpoint %s:%d not started: %s",
                        settings.metrics_host,
                        settings.metrics_port,
                        exc,
                    )
            serials = [
                open_serial(spec, StationSession(self, "serial"), loop)
                for spec in settings.serial_ports
            ]
            log.info(
                "gateway listening on %s:%d%s",
                settings.host,
                self.port,
                f", metrics on :{self.metrics_port}" if self.metrics_port else "",
            )
            task_status.started(self.port)
            try:
                await anyio.sleep_forever()
            finally:
                server.close()  # stop accepting
                self._stop_reading(serials)
                with anyio.CancelScope(shield=True), anyio.move_on_after(STOP_TIMEOUT):
                    await self.sink_idle()
                    await self.sink.drain_at_stop()
                    # bookkeeping only: a database that stops answering must not hold
                    # the stop (the pool's connection has no connect timeout to save us)
                    with anyio.move_on_after(CLOCK_FLUSH_TIMEOUT):
                        await self.clock.flush()
                    if self._background:
                        await asyncio.wait(list(self._background), timeout=10)
                if self.sink.pending:
                    log.error("stopped with %d frames not yet durable", self.sink.pending)
                self._writer_scope.cancel()
                if http is not None:
                    http.close()
                for session in list(self.connections):
                    if session.transport is not None:
                        session.transport.close()
                tg.cancel_scope.cancel()

    def _stop_reading(self, serials: Sequence[asyncio.BaseTransport]) -> None:
        """At a stop: read nothing more from anyone, so that what was received can all
        be written to the database (answered) before the writer stops. Stations keep
        sending while they are connected: without this, a stop under load waited for a
        queue that never emptied, then spooled what was left (issue 14)."""
        self.stopping = self.reading_paused = True
        for session in self.connections:
            if session.transport is not None and not session.transport.is_closing():
                session.transport.pause_reading()
        for transport in serials:
            transport.close()

    async def _run_writer(self) -> None:
        # Shielded: a shutdown cancels everything else first, then stops the writer only
        # once every frame received has been written (or spooled).
        with self._writer_scope:
            await self.writer.run()

    async def sink_idle(self) -> None:
        """Until every frame received so far is durable (committed or spooled)."""
        while self.sink.pending:
            self._settled.clear()
            await self._settled.wait()

    async def _refresh_registry(self) -> None:
        while True:
            await anyio.sleep(self.settings.registry_refresh)
            try:
                await self.registry.refresh(self.db)
            except Exception as exc:  # noqa: BLE001 - keep the last good registry
                log.warning("station registry refresh failed: %s", exc)

    async def _sweep(self) -> None:
        while True:
            await anyio.sleep(1.0)
            now = time.monotonic()
            for session in list(self.connections):
                session.sweep(now)
            self.guard.prune(now)
            self.metrics.queue.set(self.sink.pending)
            self.metrics.spool_bytes.set(self.spool.size())
            self.metrics.db_up.set(1 if self.sink.db_up else 0)
            self.metrics.db_errors.set(self.writer.failed_batches)
            self.forwarding.export(self.metrics)
