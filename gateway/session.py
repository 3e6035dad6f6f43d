"""One connection from a field data logger (TCP, or a serial port), as an asyncio Protocol.

asyncio's Protocol under uvloop is the hot path: in the gateway loop it measured about 2.5x
stock asyncio and 1.3-1.9x uvloop streams (docs/performance.md §3). Each chunk goes through
the sans-IO :class:`protocol.Connection`; every frame, valid or not, is archived; an
answer (9014, 9013) is written only once the frame is durable (committed, or spooled).

Identification: the station is the MN of each frame, checked against the registry
(password, allowed legacy CRCs, SM4 key); a frame the codec refused only because of a
legacy CRC or encryption is decoded again with that station's options. What a frame
may do is decided by :func:`gateway.admission.judge`; policies for unknown MNs and
wrong passwords are in :class:`config.settings.GatewaySettings`. After a failed
authentication nothing more on the connection is evaluated: later frames, pipelined or
not, are archived raw as 'unauthorized'.

Garbage (bytes that are no frame, frames failing CRC or syntax) is bounded per
connection (``max_garbage`` within ``auth_window``, before or after valid frames) and
per source address (gateway/guard.py): past the address's budget it is counted, not
archived, and a summary row says how much was left out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Protocol, cast

from config.settings import GatewaySettings
from gateway.admission import Verdict, judge
from gateway.clock import Clock
from gateway.commands import Commands
from gateway.guard import Guard, Window
from gateway.metrics import Metrics
from gateway.registry import Registry, SessionStation
from protocol import (
    Connection,
    DataUpload,
    Event,
    Message,
    Rejected,
    RequestFinished,
    Role,
)
from protocol.codes import Cn
from storage.records import drop_unknown_pollutants, record_of

if TYPE_CHECKING:
    from storage.records import FrameRecord

log = logging.getLogger(__name__)


class Host(Protocol):
    """What a session calls into: the gateway-wide policies and services
    (gateway.app.Gateway), named here so that this module does not import the app."""

    @property
    def settings(self) -> GatewaySettings: ...
    @property
    def metrics(self) -> Metrics: ...
    @property
    def guard(self) -> Guard: ...
    @property
    def registry(self) -> Registry: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def commands(self) -> Commands: ...
    @property
    def reading_paused(self) -> bool: ...
    @property
    def now(self) -> Callable[[], datetime]: ...

    def admit(self, session: StationSession) -> bool: ...
    def release(self, session: StationSession) -> None: ...
    def identified(self, session: StationSession) -> None: ...
    def bind(self, mn: str, session: StationSession) -> None: ...
    def submit(self, record: FrameRecord) -> asyncio.Future[str]: ...


class StationSession(asyncio.Protocol):
    def __init__(self, gateway: Host, transport_name: str = "tcp") -> None:
        self.gw = gateway
        self.transport_name = transport_name
        settings = gateway.settings
        # answers go out only once the frame is stored: see _stored()
        self.conn = Connection(Role.PLATFORM, max_segment=settings.max_segment, auto_answer=False)
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.ip = "?"
        self.mn: str | None = None
        self.station: SessionStation | None = None
        self.valid_frames = 0
        self.garbage: Window | None = None  # this connection's garbage bytes, once any
        self.unarchived = 0  # garbage bytes counted but not archived (over budget)
        self.refused: str | None = None  # a failed authentication: evaluate nothing more
        self.counted_unidentified = True  # in gateway.unidentified until it names a station
        self.opened = time.monotonic()
        self.last_data = time.monotonic()
        self.partial_since: float | None = None
        self.tokens = float(settings.frames_burst)
        self.token_time = time.monotonic()
        self.paused = False  # by this session's own rate limit
        self.closing = False
        self.last_future: asyncio.Future[str] | None = None

    # -- asyncio.Protocol ----------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple):
            self.ip, self.peer = str(peer[0]), f"{peer[0]}:{peer[1]}"
        else:
            self.ip = self.peer = str(peer or self.transport_name)
        if not self.gw.admit(self):
            self.closing = True
            self.transport.abort()
            return
        if self.gw.reading_paused:
            self.transport.pause_reading()

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.last_data = now
        self.gw.metrics.bytes_in.inc(len(data))
        self._handle(self.conn.receive_data(data, now=now))
        self.partial_since = (self.partial_since or now) if self.conn.buffered else None

    def eof_received(self) -> bool | None:
        return None  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        if self.closing:
            return  # never admitted: nothing received, nothing to release
        # an unfinished frame is archived too
        self._handle(self.conn.receive_data(b"", now=time.monotonic()))
        if self.unarchived:
            self._unarchived_summary()
        self.gw.release(self)
        self.transport = None

    # -- housekeeping, called by the gateway's sweep -----------------------------------
    def sweep(self, now: float) -> None:
        """Idle timeout, slow senders, request retries, split-set timeouts."""
        settings = self.gw.settings
        if now - self.last_data > settings.idle_timeout:
            self.close("idle timeout")
            return
        if self.counted_unidentified and now - self.opened > settings.first_frame_timeout:
            self.close("no frame naming a station in time")
            return
        if self.partial_since is not None and now - self.partial_since > settings.frame_timeout:
            self.close("frame not completed in time (slow sender)")
            return
        if self.conn.timing:  # most connections have nothing to time: no tick, no flush
            self._handle(self.conn.tick(now))
            self.flush()
        if self.paused and self._refill(now) >= 1:
            self.paused = False
            if self.transport is not None and not self.gw.reading_paused:
                self.transport.resume_reading()

    def close(self, why: str) -> None:
        if self.transport is not None and not self.transport.is_closing():
            log.info("closing %s (%s): %s", self.peer, self.mn or "?", why)
            self.gw.metrics.closed.labels(why.split(" (")[0]).inc()
            self.transport.close()

    # -- frames ------------------------------------------------------------------------
    def _handle(self, events: list[Event]) -> None:
        if not events:
            return
        received_at = self.gw.now()
        for event in events:
            if isinstance(event, RequestFinished):
                self.gw.commands.finished(self, event)
            elif isinstance(event, Rejected):
                self._rejected(event, received_at)
            elif isinstance(event, Message):
                self._message(event, received_at)
        self._rate_limit(len(events))

    def _rejected(self, event: Rejected, received_at: datetime) -> None:
        station = self.gw.registry.get(event.mn)
        if station is not None and event.code in ("legacy-crc", "decrypt"):
            again = self._redecode(event.raw, station)
            if isinstance(again, Message):
                self._message(again, received_at)
                return
            if isinstance(again, Rejected):  # the station's own reason (a wrong key...)
                event = again
        self.gw.metrics.rejected.labels(event.code).inc()
        if self._garbage(len(event.raw)):
            self._store(event, received_at, status=None)

    def _garbage(self, size: int) -> bool:
        """Count ``size`` bytes of garbage; whether they may still be archived."""
        now, settings = time.monotonic(), self.gw.settings
        archived = self.gw.guard.garbage(self.ip, size, now)
        self.gw.metrics.garbage_bytes.labels("yes" if archived else "no").inc(size)
        if not archived:
            self.unarchived += size
            self.close("source over its garbage budget")
        else:
            self.garbage = self.garbage or Window(settings.auth_window)  # rare: made lazily
            if self.garbage.add("", now, size) > settings.max_garbage:
                self.close("too much garbage")
        return archived

    def _unarchived_summary(self) -> None:
        """One row instead of what was left out: how much, from where (counted)."""
        note = f"garbage: {self.unarchived} bytes from this connection not archived"
        event = Rejected(raw=b"", code="framing", detail=note + " (source over its budget)")
        self._store(event, self.gw.now(), status=None)

    def _redecode(self, raw: bytes, station: SessionStation) -> Event | None:
        return self.conn.decode_again(raw, station.options)

    def _message(self, message: Message, received_at: datetime) -> None:
        self.valid_frames += 1
        if self.refused is not None:  # nothing after a failed authentication counts
            self._archive(message, received_at, "unauthorized", f"after-refusal: {self.refused}")
            return
        station = self.gw.registry.get(message.mn)
        now = time.monotonic()
        verdict = judge(
            message,
            station,
            bound=self.mn,
            throttled=self.gw.guard.throttled(self.ip, message.mn, now),
            received_at=received_at,
            settings=self.gw.settings,
        )
        self.gw.metrics.frame(message.cn or "?", verdict.status or "ok").inc()
        if self.counted_unidentified and verdict.status in (None, "quarantined"):
            self.gw.identified(self)
        if verdict.status is None:
            self._accepted(message, station, verdict, received_at)
        else:
            self._not_data(message, verdict, received_at)

    def _accepted(
        self, message: Message, station: SessionStation | None, verdict: Verdict, at: datetime
    ) -> None:
        if verdict.bind and self.mn is None and message.mn:
            self._identified(message.mn, station)
        if isinstance(message, DataUpload):
            self.gw.clock.observe(self, message, at)
        elif message.cn == Cn.GET_TIME:  # the device's answer to 1011 (C.2) shows its clock
            self.gw.clock.observe_system_time(self, message, at)
        self._store(message, at, None, station)

    def _not_data(self, message: Message, verdict: Verdict, at: datetime) -> None:
        reason = verdict.reason or verdict.status or "?"
        if verdict.failure:
            self.refused = reason
            self.gw.guard.failed(self.ip, message.mn, time.monotonic())
        if verdict.status != "quarantined":
            log.warning("%s from %s: MN=%s CN=%s", reason, self.peer, message.mn, message.cn)
        self._archive(message, at, verdict.status or "unauthorized", reason, verdict.answer)
        if verdict.close:
            self.close(reason)

    def _archive(
        self, message: Message, at: datetime, status: str, reason: str, answer: bool = False
    ) -> None:
        record = replace(
            record_of(message, received_at=at, peer=self.peer, transport=self.transport_name),
            status=status,
            error=reason,
            measurements=[],
            status_rows=[],
            events=[],
        )
        self._submit(record, message if answer else None)

    def _identified(self, mn: str, station: SessionStation | None) -> None:
        self.mn = mn
        self.station = station
        if station is not None:
            self.conn.options = station.options
        self.gw.bind(mn, self)

    def _store(
        self,
        event: Message | Rejected,
        received_at: datetime,
        status: str | None,
        station: SessionStation | None = None,
    ) -> None:
        record = record_of(
            event, received_at=received_at, peer=self.peer, transport=self.transport_name
        )
        if record.measurements:  # HJ 212-2017 App. B codes, or the station's own (F-20)
            drop_unknown_pollutants(record, station.pollutants if station else frozenset())
        if status is not None:
            record = replace(record, status=status, measurements=[], status_rows=[], events=[])
        self._submit(record, event if status is None else None)

    def _submit(self, record: FrameRecord, answer: Message | Rejected | None) -> None:
        submitted = time.monotonic()
        future = self.gw.submit(record)
        future.add_done_callback(partial(self._stored, answer, submitted))
        self.last_future = future

    def _stored(
        self, event: Message | Rejected | None, submitted: float, future: asyncio.Future[str]
    ) -> None:
        if future.cancelled() or future.exception() is not None:
            self.gw.metrics.store_failures.inc()
            return  # not durable: not answered; the device will send it again
        if not isinstance(event, Message):
            return
        if self.conn.acknowledge(event):
            self.gw.metrics.ack_latency.observe(time.monotonic() - submitted)
            self.gw.metrics.acks.inc()
        if event.cn == "1013":  # time calibration asked: 9013, then 1012 (HJ 212-2017 C.4)
            self.gw.clock.set_time(self, event)
        self.flush()

    def flush(self) -> None:
        """Write whatever the connection has queued (answers, requests, resends)."""
        wire = self.conn.data_to_send()
        if wire and self.transport is not None and not self.transport.is_closing():
            self.transport.write(wire)

    # -- rate limit --------------------------------------------------------------------
    def _refill(self, now: float) -> float:
        settings = self.gw.settings
        self.tokens = min(
            float(settings.frames_burst),
            self.tokens + (now - self.token_time) * settings.frames_per_second,
        )
        self.token_time = now
        return self.tokens

    def _rate_limit(self, frames: int) -> None:
        self._refill(time.monotonic())
        self.tokens -= frames
        if self.tokens < 0 and not self.paused and self.transport is not None:
            self.paused = True
            self.gw.metrics.rate_limited.inc()
            self.transport.pause_reading()
