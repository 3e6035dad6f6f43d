"""HJ 212 protocol, sans-IO: bytes in, typed events out; events in, bytes out.

Rules of this package (checked by ``tests/test_layering.py``):

* no sockets, asyncio, anyio, serial ports, database or clock: the caller owns all
  I/O and passes ``now`` where time matters;
* nothing here imports ``gateway``, ``storage``, ``rules``, ``simulators`` or ``cli``.

Glossary (HJ 212-2017 §3, §6.3): QN request id (time-based), ST system code, CN command
code, PW password, MN device id, Flag version and ack/split bits, CP command parameters,
DataTime the moment the data describe.
"""

from protocol._connection import Connection, Role
from protocol._crc import crc16, crc16_hex
from protocol._frame import Framer, Garbage, RawFrame
from protocol._segment import BEIJING, format_time, parse_time
from protocol.errors import Hj212Error, LocalProtocolError, ProtocolError, RemoteProtocolError
from protocol.events import DataUpload, Event, Message, Rejected

__all__ = [
    "BEIJING",
    "Connection",
    "DataUpload",
    "Event",
    "Framer",
    "Garbage",
    "Hj212Error",
    "LocalProtocolError",
    "Message",
    "ProtocolError",
    "RawFrame",
    "Rejected",
    "RemoteProtocolError",
    "Role",
    "crc16",
    "crc16_hex",
    "format_time",
    "parse_time",
]
