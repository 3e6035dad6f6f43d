"""Platform commands to connected stations, through the ``hj212.command`` table.

Anyone (``hj212 command send``, the console, another gateway process) inserts a row with
state ``queued`` and sends ``NOTIFY hj212_command`` with the station's MN. The gateway
process that holds the station's connection claims it (``FOR UPDATE SKIP LOCKED``). The
dispatcher looks only when told: by a notification, when a station connects (what was
queued while it was away), and at every (re)connection of its LISTEN (what was queued
while it did not listen), at once; a look at every connected station each
``command_poll`` stays as a safety net (docs/performance.md §9). It sends it with the protocol's
request tracking (9011 -> data -> 9012, OverTime/ReCount), and records the outcome:
``done``, ``refused`` (QnRtn != 1), ``failed`` (ExeRtn != 1) or ``timeout``; every frame the
device sent for it is linked in ``hj212.command_reply``. Commands the gateway issues by
itself (1012 after a 1013, drift correction) are logged the same way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from contextlib import aclosing
from datetime import datetime
from typing import Concatenate, ParamSpec, Protocol, TypeVar

import psycopg

from gateway.metrics import Metrics
from gateway.registry import SessionStation
from protocol import Connection, LocalProtocolError, RequestFinished, encode
from protocol.codes import Cn
from storage import commands as store
from storage.db import AsyncConn, AsyncPool

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")
OUTCOME_STATE = {"ok": "done", "rejected": "refused", "failed": "failed", "timeout": "timeout"}


class Linked(Protocol):
    """A station's connection as commands see it (gateway.session.StationSession)."""

    mn: str | None
    station: SessionStation | None
    conn: Connection
    transport: asyncio.Transport | None
    last_future: asyncio.Future[str] | None

    def flush(self) -> None: ...


class Commands:
    """``sessions`` is the gateway's live map of bound stations; ``spawn`` runs database
    bookkeeping in the background; ``adopt`` applies a confirmed command's effect to the
    live session and registry at once (the MNs it touched back), ``adopted`` reloads the
    registry once the database has recorded it (docs/forwarding.md §1)."""

    def __init__(
        self,
        db: AsyncPool,
        poll: float,
        sessions: Mapping[str, Linked],
        *,
        now: Callable[[], datetime],
        spawn: Callable[[Coroutine[object, object, object]], object],
        metrics: Metrics,
        adopt: Callable[[Linked, str, dict[str, object]], frozenset[str]],
        adopted: Callable[[frozenset[str]], Awaitable[None]],
    ) -> None:
        self.db = db
        self.poll = poll
        self.sessions = sessions
        self.now = now
        self.spawn = spawn
        self.metrics = metrics
        self.adopt = adopt
        self.adopted = adopted
        self.sent: dict[tuple[str, str], int] = {}  # (mn, qn) -> command id
        # (mn, qn) -> CN and parameters (secrets included, in memory only) of a command
        # whose confirmation changes the registry
        self.effects: dict[tuple[str, str], tuple[str, dict[str, object]]] = {}
        self.finished_early: dict[tuple[str, str], RequestFinished] = {}
        self._wake = asyncio.Event()
        self._everyone = False  # look for every connected station's commands
        self._wanted: set[str] = set()  # ... or for these stations'
        self._lost: BaseException | None = None  # the LISTEN connection failed

    async def run(self) -> None:
        """Claim queued commands for connected stations whenever told to (module doc)."""
        while True:
            try:
                async with self.db.connection() as conn:
                    await store.listen(conn)
                    self._want(None)  # what was queued while nobody listened
                    listener = asyncio.get_running_loop().create_task(self._listen(conn))
                    try:
                        await self._dispatching()
                    finally:
                        listener.cancel()
                        await asyncio.wait([listener])
            except (psycopg.Error, OSError) as exc:
                log.debug("command dispatcher waiting for the database: %s", exc)
                await asyncio.sleep(self.poll)

    def arrived(self, mn: str) -> None:
        """A station connected: send what was queued for it while it was away."""
        self._want(mn)

    def _want(self, mn: str | None) -> None:
        """Look for ``mn``'s queued commands (None: every connected station's)."""
        if mn is None:
            self._everyone = True
        else:
            self._wanted.add(mn)
        self._wake.set()

    async def _listen(self, conn: AsyncConn) -> None:
        try:
            # closed even when cancelled: an open notifies() holds the connection's
            # lock, and the pool could not take it back
            async with aclosing(conn.notifies()) as notes:
                async for note in notes:
                    self._want(note.payload or None)  # no payload: an older sender
        except (psycopg.Error, OSError) as exc:
            self._lost = exc  # the dispatcher reconnects
            self._wake.set()

    async def _dispatching(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll)
            except TimeoutError:
                self._everyone = True  # the safety net: a look at everyone every poll
            self._wake.clear()
            if self._lost is not None:
                lost, self._lost = self._lost, None
                raise lost
            wanted = None if self._everyone else self._wanted
            self._everyone, self._wanted = False, set()
            try:
                if await self._dispatch(wanted) >= store.CLAIM_LIMIT:
                    self._want(None)  # more than one claim's worth: look again
            except BaseException:
                self._want(None)  # not looked at: look again once the database is back
                raise

    async def _stored(
        self,
        step: Callable[Concatenate[AsyncConn, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """One storage step on a connection of the gateway's pool."""
        async with self.db.connection() as conn:
            return await step(conn, *args, **kwargs)

    async def _dispatch(self, wanted: set[str] | None) -> int:
        """Send the queued commands of connected stations (all, or the ``wanted``);
        how many were claimed."""
        sessions = self.sessions
        names = sessions if wanted is None else wanted
        connected = [mn for mn in names if (s := sessions.get(mn)) and s.transport is not None]
        if not connected:
            return 0
        claimed = await self._stored(store.claim_queued, connected)
        for command in claimed:
            session = self.sessions.get(command.mn)
            if session is None or session.transport is None:
                await self._stored(store.finish, command.id, "timeout", None, None, [])
                continue
            self.sent[(command.mn, command.qn)] = command.id  # before the answers can come
            if command.cn in store.EFFECTS:
                self.effects[(command.mn, command.qn)] = (command.cn, command.params)
            try:  # encoded again here: whoever queued it, a bad command fails alone
                wire = self._send(session, command.cn, command.params, command.qn)
            except LocalProtocolError as exc:
                self.sent.pop((command.mn, command.qn), None)
                self.effects.pop((command.mn, command.qn), None)
                log.error("command %d to %s not sent: %s", command.id, command.mn, exc)
                await self._stored(store.refuse, command.id, str(exc))
                continue
            await self._stored(store.mark_sent, command.id, wire)
        return len(claimed)

    def _send(self, session: Linked, cn: str, params: dict[str, object], qn: str) -> bytes:
        station = session.station
        # HJ 212-2025 §6.4.4: 1014 travels encrypted, with the key it replaces
        key = station.options.sm4_key if station and cn == Cn.NEW_KEY else None
        wire = session.conn.send_request(
            cn,
            params,
            qn=qn,
            st=station.st if station else "32",
            pw=station.password if station else "123456",
            mn=session.mn or "",
            now=time.monotonic(),
            version=station.version if station else "2017",
            sm4_key=key,
        )
        session.flush()
        return wire

    def send_auto(self, session: Linked, cn: str, params: dict[str, object]) -> None:
        """A command the gateway decides on its own (1012 time setting), logged as such."""
        if session.mn is None:
            return
        qn = encode.new_qn(self.now())
        wire = self._send(session, cn, params, qn)
        mn = session.mn

        async def log_it() -> None:
            command_id = await self._stored(store.log_sent, mn, qn, cn, params, wire, "gateway")
            if command_id is None:
                return
            if (mn, qn) in self.finished_early:  # answered before the log row existed
                event = self.finished_early.pop((mn, qn))
                await self._stored(
                    store.finish,
                    command_id,
                    OUTCOME_STATE[event.outcome],
                    event.qn_rtn,
                    event.exe_rtn,
                    [qn],
                )
            else:
                self.sent[(mn, qn)] = command_id

        self.spawn(log_it())

    def finished(self, session: Linked, event: RequestFinished) -> None:
        self.metrics.commands.labels(event.cn, event.outcome).inc()
        key = (session.mn or "", event.qn)
        effect = self.effects.pop(key, None)
        touched: frozenset[str] = frozenset()
        if effect is not None and event.outcome == "ok":
            touched = self.adopt(session, *effect)  # before the device's next frame
        command_id = self.sent.pop(key, None)
        if command_id is None:
            self.finished_early[key] = event
            return
        qns = sorted({event.qn, *(m.qn for m in event.responses if m.qn)})
        durable = session.last_future

        async def record() -> None:
            if durable is not None:
                await asyncio.wait([durable])  # the last reply frame is in the archive
            await self._stored(
                store.finish,
                command_id,
                OUTCOME_STATE[event.outcome],
                event.qn_rtn,
                event.exe_rtn,
                qns,
            )
            if touched:
                await self.adopted(touched)  # the registry as the database now has it

        self.spawn(record())
