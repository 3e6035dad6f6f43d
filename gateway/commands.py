"""Platform commands to connected stations, through the ``hj212.command`` table.

Anyone (``hj212 command send``, the console, another gateway process) inserts a row with
state ``queued`` and sends ``NOTIFY hj212_command``. The gateway process that holds the
station's connection claims it (``FOR UPDATE SKIP LOCKED``), sends it with the protocol's
request tracking (9011 -> data -> 9012, OverTime/ReCount), and records the outcome:
``done``, ``refused`` (QnRtn != 1), ``failed`` (ExeRtn != 1) or ``timeout``; every frame the
device sent for it is linked in ``hj212.command_reply``. Commands the gateway issues by
itself (1012 after a 1013, drift correction) are logged the same way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

import psycopg

from protocol import LocalProtocolError, RequestFinished, encode
from storage import commands as store

if TYPE_CHECKING:
    from gateway.app import Gateway
    from gateway.session import StationSession

log = logging.getLogger(__name__)
OUTCOME_STATE = {"ok": "done", "rejected": "refused", "failed": "failed", "timeout": "timeout"}


class Commands:
    def __init__(self, gateway: Gateway) -> None:
        self.gw = gateway
        self.sent: dict[tuple[str, str], int] = {}  # (mn, qn) -> command id
        self.finished_early: dict[tuple[str, str], RequestFinished] = {}
        self._wake = asyncio.Event()

    async def run(self) -> None:
        """Claim queued commands for connected stations; woken by NOTIFY or every poll."""
        poll = self.gw.settings.command_poll
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.gw.dsn, autocommit=True, connect_timeout=5
                ) as conn:
                    await conn.execute("LISTEN hj212_command")
                    while True:
                        await self._dispatch()
                        try:
                            async with asyncio.timeout(poll):
                                async for _ in conn.notifies():
                                    break
                        except TimeoutError:
                            pass
            except (psycopg.Error, OSError) as exc:
                log.debug("command dispatcher waiting for the database: %s", exc)
                await asyncio.sleep(poll)

    async def _dispatch(self) -> None:
        connected = [mn for mn, s in self.gw.sessions.items() if s.transport is not None]
        if not connected:
            return
        claimed = await store.claim_queued(self.gw.dsn, connected)
        for command in claimed:
            session = self.gw.sessions.get(command.mn)
            if session is None or session.transport is None:
                await store.finish(self.gw.dsn, command.id, "timeout", None, None, [])
                continue
            self.sent[(command.mn, command.qn)] = command.id  # before the answers can come
            try:  # encoded again here: whoever queued it, a bad command fails alone
                wire = self._send(session, command.cn, command.params, command.qn)
            except LocalProtocolError as exc:
                self.sent.pop((command.mn, command.qn), None)
                log.error("command %d to %s not sent: %s", command.id, command.mn, exc)
                await store.refuse(self.gw.dsn, command.id, str(exc))
                continue
            await store.mark_sent(self.gw.dsn, command.id, wire)

    def _send(self, session: StationSession, cn: str, params: dict[str, object], qn: str) -> bytes:
        station = session.station
        wire = session.conn.send_request(
            cn,
            params,
            qn=qn,
            st=station.st if station else "32",
            pw=station.password if station else "123456",
            mn=session.mn or "",
            now=time.monotonic(),
            version=station.version if station else "2017",
        )
        session.flush()
        return wire

    def send_auto(self, session: StationSession, cn: str, params: dict[str, object]) -> None:
        """A command the gateway decides on its own (1012 time setting), logged as such."""
        if session.mn is None:
            return
        qn = encode.new_qn(self.gw.now())
        wire = self._send(session, cn, params, qn)
        mn = session.mn

        async def log_it() -> None:
            command_id = await store.log_sent(self.gw.dsn, mn, qn, cn, params, wire, "gateway")
            if command_id is None:
                return
            if (mn, qn) in self.finished_early:  # answered before the log row existed
                event = self.finished_early.pop((mn, qn))
                await store.finish(
                    self.gw.dsn,
                    command_id,
                    OUTCOME_STATE[event.outcome],
                    event.qn_rtn,
                    event.exe_rtn,
                    [qn],
                )
            else:
                self.sent[(mn, qn)] = command_id

        self.gw.spawn(log_it())

    def finished(self, session: StationSession, event: RequestFinished) -> None:
        self.gw.metrics.commands.labels(event.cn, event.outcome).inc()
        command_id = self.sent.pop((session.mn or "", event.qn), None)
        if command_id is None:
            self.finished_early[(session.mn or "", event.qn)] = event
            return
        qns = sorted({event.qn, *(m.qn for m in event.responses if m.qn)})
        durable = session.last_future

        async def record() -> None:
            if durable is not None:
                await asyncio.wait([durable])  # the last reply frame is in the archive
            await store.finish(
                self.gw.dsn,
                command_id,
                OUTCOME_STATE[event.outcome],
                event.qn_rtn,
                event.exe_rtn,
                qns,
            )
            if event.cn in store.ADOPT and event.outcome == "ok":
                await self.gw.registry.refresh(self.gw.dsn)  # its new PW/key, at once

        self.gw.spawn(record())
