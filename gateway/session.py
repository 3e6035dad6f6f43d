"""One TCP connection from a field data logger, as an asyncio Protocol.

asyncio's Protocol (under uvloop when available) is the hot path: it measured about
2.5x the throughput of stream-based servers on this kind of loop (performance.md §3).
Each received chunk goes through the sans-IO :class:`protocol.Connection`; every frame,
valid or not, goes to the writer; the 9014 answer is written only after the writer
reports the frame committed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import cast

from protocol import Connection, Event, Message, Rejected, Role
from storage.records import record_of
from storage.writer import Writer

log = logging.getLogger(__name__)


@dataclass
class Stats:
    connections: int = 0
    open_connections: int = 0
    frames: int = 0
    rejected: int = 0
    acks: int = 0
    store_failures: int = 0
    by_cn: dict[str, int] = field(default_factory=dict)


class StationSession(asyncio.Protocol):
    def __init__(self, writer: Writer, stats: Stats, *, max_segment: int) -> None:
        self.writer = writer
        self.stats = stats
        # answers go out only once the frame is stored: see _stored()
        self.conn = Connection(Role.PLATFORM, max_segment=max_segment, auto_answer=False)
        self.transport: asyncio.Transport | None = None
        self.peer = "?"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it
        self.transport = cast(asyncio.Transport, transport)
        host, port, *_ = transport.get_extra_info("peername") or ("?", 0)
        self.peer = f"{host}:{port}"
        self.stats.connections += 1
        self.stats.open_connections += 1

    def data_received(self, data: bytes) -> None:
        self._handle(self.conn.receive_data(data))

    def eof_received(self) -> bool | None:
        return None  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.stats.open_connections -= 1
        self._handle(self.conn.receive_data(b""))  # an unfinished frame is archived too

    def _handle(self, events: list[Event]) -> None:
        received_at = datetime.now(UTC)
        for event in events:
            if not isinstance(event, Message | Rejected):
                continue  # split-set and request outcomes: nothing of their own to archive
            self.stats.frames += 1
            if isinstance(event, Rejected):
                self.stats.rejected += 1
                log.warning("rejected from %s: %s: %s", self.peer, event.code, event.detail)
            else:
                cn = event.cn or "?"
                self.stats.by_cn[cn] = self.stats.by_cn.get(cn, 0) + 1
            record = record_of(event, received_at=received_at, peer=self.peer, transport="tcp")
            self.writer.submit(record).add_done_callback(partial(self._stored, event))

    def _stored(self, event: Event, future: asyncio.Future[str]) -> None:
        if future.cancelled() or future.exception() is not None:
            self.stats.store_failures += 1
            return  # not stored: not acknowledged; the device will send it again
        if isinstance(event, Message) and self.conn.acknowledge(event):
            wire = self.conn.data_to_send()
            if self.transport is not None and not self.transport.is_closing():
                self.transport.write(wire)
                self.stats.acks += 1
