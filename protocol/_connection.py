"""The sans-IO connection: bytes in, events out; answers and requests queued as bytes."""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from typing import Any

from protocol import encode
from protocol._decode import DEFAULT_OPTIONS, DecodeOptions, decode
from protocol._frame import Framer, Garbage
from protocol._reassembly import Reassembler
from protocol._requests import ACK_MODE, RequestTracker
from protocol.codes import (
    PLATFORM_ANSWERS_9013,
    REPLY_CODES,
    STATION_ANSWERS_9013,
    UPLOAD_CODES,
)
from protocol.events import DataUpload, Event, Message, Rejected, Reply, RequestFinished


class Role(Enum):
    PLATFORM = "platform"
    STATION = "station"


class Connection:
    """One HJ 212 conversation, in either role, with no I/O and no clock of its own.

    ``receive_data(chunk, now)`` returns the events found (``b""`` means end of stream);
    ``data_to_send()`` returns the bytes to write. ``now`` is any monotonic time in
    seconds; it drives request retries and split-packet timeouts (see :meth:`tick`).

    Answers the standard requires (9014 for an upload whose Flag asks, 9013 for
    notifications such as 1013 and 9015) are queued as soon as a frame is received when
    ``auto_answer`` is true. A platform that must answer only what it has stored passes
    ``auto_answer=False`` and calls :meth:`acknowledge` once the frame is durable.
    """

    def __init__(
        self,
        role: Role,
        *,
        max_segment: int = 9999,
        options: DecodeOptions = DEFAULT_OPTIONS,
        auto_answer: bool = True,
        split_timeout: float = 60.0,
    ) -> None:
        self.role = role
        self.options = options
        self.auto_answer = auto_answer
        self._framer = Framer(max_segment)
        self._outgoing = bytearray()
        self._requests = RequestTracker()
        self._splits = Reassembler(split_timeout)
        self._now = 0.0
        self.closed = False

    # -- receiving ---------------------------------------------------------------------
    def receive_data(self, data: bytes, now: float | None = None) -> list[Event]:
        if now is not None:
            self._now = now
        if data:
            items = self._framer.feed(data)
        else:
            self.closed = True
            items = self._framer.flush()
        events: list[Event] = []
        for item in items:
            if isinstance(item, Garbage):
                events.append(Rejected(raw=item.raw, code=item.code, detail=item.detail))
                continue
            event = decode(item, self.options)
            events.append(event)
            if isinstance(event, Message):
                self._follow(event, events)
        return events

    def _follow(self, message: Message, events: list[Event]) -> None:
        if self.role is Role.PLATFORM and self._requests.pending:
            outcome = self._requests.on_message(message, self._now)
            if outcome is ACK_MODE and message.version == "2005":
                message = replace(message, flow_ack=True)
                events[-1] = message
            elif isinstance(outcome, RequestFinished):
                if outcome.ack_mode and message.version == "2005":
                    message = replace(message, flow_ack=True)
                    events[-1] = message
                events.append(outcome)
        if isinstance(message, DataUpload) and message.pnum is not None:
            complete = self._splits.add(message, self._now)
            if complete is not None:
                events.append(complete)
        if self.auto_answer:
            self.acknowledge(message)

    # -- answering ---------------------------------------------------------------------
    def answer_required(self, message: Message) -> str | None:
        """The answer the standard requires for ``message`` in this role, if any."""
        cn = message.cn or ""
        if self.role is Role.STATION:
            return "9013" if cn in STATION_ANSWERS_9013 else None
        if cn in PLATFORM_ANSWERS_9013:
            return "9013"
        if message.flow_ack and cn != "9011":
            return "9014"  # HJ/T 212-2005 App. C example 6: ack mode is set by the request
        if cn in REPLY_CODES:
            return None
        if (isinstance(message, DataUpload) or cn in UPLOAD_CODES) and message.ack_requested:
            return "9014"
        return None

    def acknowledge(self, message: Message) -> bool:
        """Queue the answer ``message`` requires; False when it requires none."""
        cn = self.answer_required(message)
        if cn is None:
            return False
        qn = message.qn or (message.answers_qn if isinstance(message, Reply) else None)
        self._outgoing += encode.answer(
            cn,
            qn=qn,
            pw=message.pw,
            mn=message.mn,
            version=message.version,
            request_cn=message.cn,
            pno=message.pno,
            pnum=message.pnum,
            flag=message.flag,
        )
        return True

    # -- requests (platform role) ------------------------------------------------------
    def send_request(
        self,
        cn: str,
        params: dict[str, Any] | None = None,
        *,
        qn: str,
        st: str,
        pw: str,
        mn: str,
        now: float,
        version: str = "2017",
        overtime: float = 10.0,
        recount: int = 3,
        ack: bool = True,
        sm4_key: bytes | None = None,
    ) -> bytes:
        """Queue a platform request (or notification) and follow it by its QN;
        ``sm4_key`` encrypts its CP area (:func:`protocol.encode.command`).

        Defaults follow HJ 212-2017 Table 1 for mobile networks: 10 s, 3 retries.
        """
        self._now = now
        wire = encode.command(
            cn, params, qn=qn, st=st, pw=pw, mn=mn, version=version, ack=ack, sm4_key=sm4_key
        )
        self._requests.start(
            qn,
            cn,
            wire,
            notify=cn in encode.NOTIFICATIONS,
            now=now,
            overtime=overtime,
            recount=recount,
            ack_mode=ack,
            mn=mn,
            pw=pw,
        )
        self._outgoing += wire
        return wire

    @property
    def buffered(self) -> int:
        """Bytes received but not yet a whole frame (a sender still mid-frame)."""
        return self._framer.buffered

    def decode_again(self, raw: bytes, options: DecodeOptions) -> Event | None:
        """``raw``, one frame this connection refused, decoded with ``options`` (a known
        station's legacy CRC or SM4 key); None if ``raw`` is not exactly one frame."""
        frames = Framer(self._framer.max_segment).feed(raw)
        if len(frames) == 1 and not isinstance(frames[0], Garbage):
            return decode(frames[0], options)
        return None

    @property
    def pending_requests(self) -> list[str]:
        return list(self._requests.pending)

    @property
    def timing(self) -> bool:
        """Whether :meth:`tick` has anything to time (requests in flight, split sets
        waiting): an I/O shell with thousands of idle connections ticks only these."""
        return bool(self._requests.pending) or self._splits.waiting

    def tick(self, now: float) -> list[Event]:
        """Advance time: resend requests due, finish timed-out ones, expire split sets."""
        self._now = now
        resend, finished = self._requests.tick(now)
        for wire in resend:
            self._outgoing += wire
        events: list[Event] = list(finished)
        events += self._splits.expire(now)
        return events

    # -- sending -----------------------------------------------------------------------
    def send_raw(self, wire: bytes) -> None:
        """Queue bytes already encoded (e.g. by :mod:`protocol.encode`)."""
        self._outgoing += wire

    def data_to_send(self) -> bytes:
        out = bytes(self._outgoing)
        self._outgoing.clear()
        return out
