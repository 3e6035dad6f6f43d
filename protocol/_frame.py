"""Stream framing: cut an HJ 212 byte stream into frames (HJ 212-2017 §6.3.1, Table 2).

::

    ##  LLLL  <data segment: LLLL bytes>  CCCC  \\r\\n
    |   |     |                           |     +-- terminator
    |   |     |                           +-- CRC of the data segment, 4 hex digits
    |   |     +-- QN=..;ST=..;CN=..;PW=..;MN=..;Flag=..;CP=&&...&&
    |   +-- decimal length of the data segment in bytes, zero-padded
    +-- header

Everything works on bytes, never on characters: Chinese text (UTF-8) is legal in
log fields, and the length counts bytes.

Recovery cases:

* bytes before ``##`` are garbage: reported, then skipped;
* a length field that is not 4 digits: the ``##`` is garbage, hunt for the next one;
* a segment longer than ``max_segment``: rejected as ``length``;
* the declared length does not land on ``CCCC\\r\\n`` (devices that count characters,
  2025 encrypted frames whose length holds the plaintext length): search for the
  first ``&&CCCC\\r\\n`` instead, and note the deviation;
* no terminator within the maximum frame size: garbage up to the next ``##``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from protocol.codes import Reject

HEADER = b"##"
TERMINATOR = b"\r\n"
STANDARD_MAX_SEGMENT = 1024
_HEX = frozenset(b"0123456789abcdefABCDEF")
_TAIL = re.compile(rb"&&([0-9A-Fa-f]{4})\r\n")


@dataclass(frozen=True, slots=True)
class RawFrame:
    """One complete frame cut from the stream, not yet checked."""

    raw: bytes
    segment: bytes
    declared_crc: str
    length_matches: bool


@dataclass(frozen=True, slots=True)
class Garbage:
    """Bytes that belong to no frame; kept so that nothing received is lost."""

    raw: bytes
    code: str
    detail: str


class Framer:
    """Incremental framer: :meth:`feed` bytes, get complete frames and garbage back."""

    def __init__(self, max_segment: int = 9999) -> None:
        self.max_segment = max_segment
        self._buffer = bytearray()

    @property
    def buffered(self) -> int:
        """Bytes held while waiting for the rest of a frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[RawFrame | Garbage]:
        if not self._buffer:
            whole = self._whole(data)
            if whole is not None:
                return [whole]
        self._buffer += data
        out: list[RawFrame | Garbage] = []
        while (item := self._next()) is not None:
            out.append(item)
        return out

    def _whole(self, data: bytes) -> RawFrame | None:
        """Fast path: ``data`` is exactly one well-formed frame (the usual TCP read)."""
        n = len(data)
        if n < 12 or data[:2] != HEADER or data[-2:] != TERMINATOR:
            return None
        digits = data[2:6]
        if not digits.isdigit() or int(digits) != n - 12 or n - 12 > self.max_segment:
            return None
        crc = data[-6:-2]
        if not all(b in _HEX for b in crc):
            return None
        return RawFrame(data, data[6:-6], crc.decode("ascii"), True)

    def flush(self) -> list[RawFrame | Garbage]:
        """At end of stream: whatever is left is an incomplete frame."""
        if not self._buffer:
            return []
        rest = bytes(self._buffer)
        self._buffer.clear()
        if rest.startswith(HEADER):
            return [Garbage(rest, Reject.FRAMING, "stream ended inside a frame")]
        return [Garbage(rest, Reject.FRAMING, "bytes before '##'")]

    def _take(self, n: int) -> bytes:
        chunk = bytes(self._buffer[:n])
        del self._buffer[:n]
        return chunk

    def _next(self) -> RawFrame | Garbage | None:
        buf = self._buffer
        start = buf.find(HEADER)
        if start > 0:
            return Garbage(self._take(start), Reject.FRAMING, "bytes before '##'")
        if start < 0:
            # hold garbage until the next '##' shows where it ends (so that the result does
            # not depend on how the stream was chunked), but never more than one frame's worth
            if len(buf) > 6 + self.max_segment + 6:
                keep = 1 if buf.endswith(b"#") else 0  # may be the first half of a header
                return Garbage(self._take(len(buf) - keep), Reject.FRAMING, "no '##' header")
            return None
        if len(buf) < 6:
            return None
        digits = bytes(buf[2:6])
        if not digits.isdigit():
            return Garbage(self._take(2), Reject.LENGTH, f"length field {digits!r} is not 4 digits")
        length = int(digits)
        if length > self.max_segment:
            return Garbage(
                self._take(2),
                Reject.LENGTH,
                f"segment length {length} > maximum {self.max_segment}",
            )
        end = 6 + length
        if len(buf) < end + 6:
            return self._hunt_tail(complete=False)
        crc = bytes(buf[end : end + 4])
        if buf[end + 4 : end + 6] == TERMINATOR and all(b in _HEX for b in crc):
            segment = bytes(buf[6:end])
            raw = self._take(end + 6)
            return RawFrame(raw, segment, crc.decode("ascii"), True)
        return self._hunt_tail(complete=True)

    def _hunt_tail(self, *, complete: bool) -> RawFrame | Garbage | None:
        """The declared length did not land on the CRC: look for ``&&CCCC\\r\\n``."""
        buf = self._buffer
        limit = 6 + self.max_segment + 6
        match = _TAIL.search(buf, 6, min(len(buf), limit))
        next_header = buf.find(HEADER, 2)
        if match is not None and (next_header < 0 or match.end() <= next_header):
            # read the match before _take(): it views the (mutable) buffer
            crc = bytes(match.group(1)).decode("ascii")
            segment = bytes(buf[6 : match.start() + 2])
            raw = self._take(match.end())
            return RawFrame(raw, segment, crc, False)
        if not complete and len(buf) < limit and next_header < 0:
            return None  # wait for more bytes
        if next_header > 0:
            return Garbage(
                self._take(next_header), Reject.FRAMING, "frame without a valid CRC/CRLF"
            )
        if len(buf) >= limit:
            return Garbage(self._take(len(buf)), Reject.LENGTH, "no terminator within maximum size")
        return None
