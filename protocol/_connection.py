"""The sans-IO connection: bytes in, events out; acknowledgements queued for sending."""

from __future__ import annotations

from enum import Enum

from protocol import encode
from protocol._decode import decode
from protocol._frame import Framer, Garbage
from protocol.events import DataUpload, Event, Message, Rejected


class Role(Enum):
    PLATFORM = "platform"
    STATION = "station"


class Connection:
    """One HJ 212 conversation, either role, with no I/O of its own.

    ``receive_data(chunk)`` returns the events found (``b""`` means end of stream).
    Answers to uploads are *not* sent on receipt: the platform must acknowledge only
    what it has stored, so it calls :meth:`acknowledge` once the data are durable,
    and then writes :meth:`data_to_send`.
    """

    def __init__(self, role: Role, *, max_segment: int = 9999) -> None:
        self.role = role
        self._framer = Framer(max_segment)
        self._outgoing = bytearray()
        self.closed = False

    def receive_data(self, data: bytes) -> list[Event]:
        if not data:
            self.closed = True
            items = self._framer.flush()
        else:
            items = self._framer.feed(data)
        return [
            Rejected(raw=item.raw, code=item.code, detail=item.detail)
            if isinstance(item, Garbage)
            else decode(item)
            for item in items
        ]

    def acknowledge(self, event: Message | DataUpload) -> bool:
        """Queue the 9014 answer for a stored upload; False when none was asked for."""
        message = event.message if isinstance(event, DataUpload) else event
        if not message.ack_requested:
            return False
        self._outgoing += encode.data_answer(
            qn=message.qn,
            pw=message.pw,
            mn=message.mn,
            flag=message.flag,
            cn=message.cn,
            version=message.version,
        )
        return True

    def send_raw(self, wire: bytes) -> None:
        """Queue bytes already encoded (e.g. by :mod:`protocol.encode`)."""
        self._outgoing += wire

    def data_to_send(self) -> bytes:
        out = bytes(self._outgoing)
        self._outgoing.clear()
        return out
