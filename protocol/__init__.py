"""HJ 212 protocol, sans-IO: bytes in, typed events out; events in, bytes out.

Covers HJ/T 212-2005, HJ 212-2017 and HJ 212-2025 (Flag version bits, RF=1, heartbeat
9015, SM4-encrypted CP areas).

Rules of this package (checked by ``tests/test_layering.py``):

* no sockets, asyncio, anyio, serial ports, database or clock: the caller owns all
  I/O and passes ``now`` where time matters;
* nothing here imports ``gateway``, ``storage``, ``rules``, ``simulators`` or ``cli``.

Layout: ``_frame`` cuts the byte stream into frames; ``_crc`` is the HJ 212 CRC (and the
legacy variants); ``_sm4`` the 2025 encryption; ``_segment`` parses header and CP;
``_decode`` turns a frame into an event; ``encode`` builds frames; ``_requests`` and
``_reassembly`` follow request flows and split packets; ``_connection`` ties them into
one object per conversation. Code tables: ``codes`` and ``pollutants``.

Glossary (HJ 212-2017 §3, §6.3): QN request id (time-based), ST system code, CN command
code, PW password, MN device id, Flag version and ack/split bits, CP command parameters,
DataTime the moment (or the start of the period) the data describe.
"""

from protocol._connection import Connection, Role
from protocol._crc import crc16, crc16_hex, match_variant
from protocol._crc import modbus as crc16_modbus
from protocol._decode import DecodeOptions, decode
from protocol._frame import Framer, Garbage, RawFrame
from protocol._segment import BEIJING, format_time, parse_time
from protocol._sm4 import TEST_KEY, decrypt_segment, encrypt_segment
from protocol.errors import Hj212Error, LocalProtocolError, ProtocolError, RemoteProtocolError
from protocol.events import (
    DataUpload,
    Event,
    Message,
    Rejected,
    Reply,
    RequestFinished,
    SplitComplete,
    SplitIncomplete,
)

__all__ = [
    "BEIJING",
    "TEST_KEY",
    "Connection",
    "DataUpload",
    "DecodeOptions",
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
    "Reply",
    "RequestFinished",
    "Role",
    "SplitComplete",
    "SplitIncomplete",
    "crc16",
    "crc16_hex",
    "crc16_modbus",
    "decode",
    "decrypt_segment",
    "encrypt_segment",
    "format_time",
    "match_variant",
    "parse_time",
]
