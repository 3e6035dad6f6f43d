"""From a framed byte string to a typed event: CRC, header, CP, version."""

from __future__ import annotations

from protocol._crc import crc16
from protocol._frame import RawFrame
from protocol._segment import group_values, parse_cp, parse_time, split_segment
from protocol.codes import DATA_UPLOADS, VERSION_BITS
from protocol.errors import RemoteProtocolError
from protocol.events import DataUpload, Event, Message, Rejected


def _version(flag: int | None, header: dict[str, str]) -> str:
    if flag is None:
        return "2005" if "QN" not in header or len(header.get("MN", "")) == 14 else "2017"
    return VERSION_BITS.get(flag >> 2, "unknown")


def _int_field(header: dict[str, str], key: str, maximum: int) -> int | None:
    text = header.get(key)
    if text is None:
        return None
    if not text.isdigit() or int(text) > maximum:
        raise RemoteProtocolError("syntax", f"{key}={text!r} is not a number 0..{maximum}")
    return int(text)


def decode(frame: RawFrame) -> Event:
    """Check and parse one framed segment; damage comes back as :class:`Rejected`."""
    try:
        return _decode(frame)
    except RemoteProtocolError as exc:
        header = _best_effort_header(frame.segment)
        return Rejected(
            raw=frame.raw,
            code=exc.code,
            detail=exc.detail,
            mn=header.get("MN"),
            cn=header.get("CN"),
            qn=header.get("QN"),
        )


def _best_effort_header(segment: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    text = segment.decode("utf-8", "replace").split("CP=", 1)[0]
    for item in text.replace(",", ";").split(";"):
        key, sep, value = item.partition("=")
        if sep and key.strip() in ("MN", "CN", "QN"):
            fields[key.strip()] = value.strip()
    return fields


def _decode(frame: RawFrame) -> Event:
    computed = crc16(frame.segment)
    if int(frame.declared_crc, 16) != computed:
        raise RemoteProtocolError("crc", f"declared {frame.declared_crc}, computed {computed:04X}")
    header, cp_text = split_segment(frame.segment)
    cp = parse_cp(cp_text)
    flag = _int_field(header, "Flag", 255)
    deviations = () if frame.length_matches else ("length-mismatch",)
    message = Message(
        raw=frame.raw,
        segment=frame.segment,
        header=header,
        cp=cp,
        version=_version(flag, header),
        qn=header.get("QN"),
        st=header.get("ST"),
        cn=header.get("CN"),
        pw=header.get("PW"),
        mn=header.get("MN"),
        flag=flag,
        pnum=_int_field(header, "PNUM", 9999),
        pno=_int_field(header, "PNO", 9999),
        deviations=deviations,
    )
    if message.cn in DATA_UPLOADS and "DataTime" in cp:
        return DataUpload(
            message=message, data_time=parse_time(cp["DataTime"]), values=group_values(cp)
        )
    return message
