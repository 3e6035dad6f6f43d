"""Encoders: build data segments and frames (events in, bytes out)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from protocol._crc import crc16_hex
from protocol.errors import LocalProtocolError

MAX_SEGMENT = 9999


def frame(segment: str | bytes) -> bytes:
    """Wrap a data segment: ``##`` + length + segment + CRC + CRLF.

    :raises LocalProtocolError: when the segment does not fit the 4-digit length.
    """
    data = segment.encode("utf-8") if isinstance(segment, str) else segment
    if len(data) > MAX_SEGMENT:
        raise LocalProtocolError(f"segment of {len(data)} bytes does not fit 4 digits")
    return b"##%04d%b%b\r\n" % (len(data), data, crc16_hex(data).encode("ascii"))


def cp_text(items: Iterable[Mapping[str, object]]) -> str:
    """CP area text: ``,`` between values of one item, ``;`` between items."""
    return ";".join(",".join(f"{k}={_text(v)}" for k, v in item.items()) for item in items)


def _text(value: object) -> str:
    return str(value)


def segment(header: Mapping[str, object], cp: str) -> str:
    """A data segment from ordered header fields (None values are left out) and CP text."""
    head = "".join(f"{k}={v};" for k, v in header.items() if v is not None)
    return f"{head}CP=&&{cp}&&"


def data_answer(
    *,
    qn: str | None,
    pw: str | None,
    mn: str | None,
    flag: int | None,
    cn: str | None,
    version: str,
) -> bytes:
    """The 9014 data answer to an upload that asked for one.

    HJ 212-2017 Tables C.14-C.19: ``QN=<same>;ST=91;CN=9014;PW=<same>;MN=<same>;
    Flag=<version bits, no ack/split>;CP=&&&&``. HJ/T 212-2005 §C puts the request's
    QN and CN inside the CP area instead: ``ST=91;CN=9014;PW=..;MN=..;CP=&&QN=..;CN=..&&``.
    """
    if version == "2005":
        cp = f"QN={qn};CN={cn}" if qn else f"CN={cn}"
        head: dict[str, object] = {"ST": "91", "CN": "9014", "PW": pw, "MN": mn}
        if flag is not None:
            head["Flag"] = flag & 0xFC
        return frame(segment(head, cp))
    reply_flag = (flag or 0) & 0xFC
    return frame(
        segment({"QN": qn, "ST": "91", "CN": "9014", "PW": pw, "MN": mn, "Flag": reply_flag}, "")
    )
