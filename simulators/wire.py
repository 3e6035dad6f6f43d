"""Frames in the station's own dialect: HJ/T 212-2005, HJ 212-2017, HJ 212-2025, and the
legacy CRCs old loggers send.

* 2017: :func:`protocol.encode.upload` (Flag=5, split into PNUM/PNO packets over the
  segment limit);
* 2025: the same with version bits 2 (Flag=9), ``RF=1`` on data sent again after an
  outage, and the CP area SM4-encrypted when the station has a key (HJ 212-2025 §6.4);
* 2005: a 14-character MN, the old codes (``011`` for COD, ``B01`` for flow...), no QN
  and no Flag in uploads (HJ/T 212-2005 App. C examples 4-8), and responses inside a
  request flow carry the request's QN in CP;
* legacy CRC: CRC-16/MODBUS, or the same byte-swapped, in place of the HJ 212 CRC
  (docs/protocol.md §2: real devices in the wild).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from protocol import crc16_hex, crc16_modbus, encode
from protocol.codes import Cn
from protocol.pollutants import CODE_2005_TO_2017
from protocol.units import to_2005_value
from simulators.models import Station
from simulators.records import Record

CODE_2017_TO_2005 = {new: old for old, new in sorted(CODE_2005_TO_2017.items())}


def legacy_crc(frame: bytes, variant: str) -> bytes:
    """``frame`` with its CRC replaced by a legacy variant's (segment unchanged)."""
    if variant == "hj212":
        return frame
    segment = frame[6:-6]
    value = crc16_modbus(segment)
    if variant == "modbus-swapped":
        value = (value & 0xFF) << 8 | value >> 8
    return frame[:-6] + b"%04X\r\n" % value


def bad_crc(frame: bytes) -> bytes:
    """``frame`` with a CRC that no variant computes (line noise, a buggy firmware)."""
    segment = frame[6:-6]
    crc = int(frame[-6:-2], 16)
    modbus = crc16_modbus(segment)
    value = crc ^ 0x5A5A
    while value in (crc, modbus, (modbus & 0xFF) << 8 | modbus >> 8):
        value = (value + 1) & 0xFFFF
    return frame[:-6] + b"%04X\r\n" % value


def _moment(t: int) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def encode_record(
    station: Station,
    password: str,
    record: Record,
    qn: str,
    *,
    ack: bool = True,
    limit: int = encode.STANDARD_SEGMENT,
) -> list[bytes]:
    """The frames of one upload in the station's version and CRC variant."""
    version = station.version
    if record.cn == Cn.REALTIME and station.sm4_key is None and version != "2005":
        fast = _realtime(station, password, record, qn, ack, limit)
        if fast is not None:
            return [fast]
    if version == "2005":
        frames = [_upload_2005(station, password, record)]
    else:
        frames = encode.upload(
            record.cn,
            data_time=_moment(record.stamp),
            values=record.values or {},
            qn=qn,
            st=station.model.st,
            pw=password,
            mn=station.mn,
            version=version,
            ack=ack,
            resent=record.resent and version == "2025",
            extra=record.extra,
            limit=limit,
            sm4_key=station.sm4_key if version == "2025" else None,
        )
    return [legacy_crc(f, station.crc) for f in frames]


def _number(value: object) -> str:
    """:func:`protocol.encode.text` of a reading (no exponents at these magnitudes)."""
    if type(value) is float:
        text = repr(value)
        if text.endswith(".0"):
            return "0" if text == "-0.0" else text[:-2]
        return text
    return str(value)


_STAMPS: dict[int, str] = {}


def _stamp(t: int) -> str:
    text = _STAMPS.get(t)
    if text is None:
        if len(_STAMPS) > 4096:  # a fleet shares the same few instants
            _STAMPS.clear()
        text = _STAMPS[t] = encode.text(_moment(t))
    return text


def _realtime(
    station: Station, password: str, record: Record, qn: str, ack: bool, limit: int
) -> bytes | None:
    """The hot path of a load run: a 2011 frame built in one pass, byte for byte what
    :func:`protocol.encode.upload` builds (tests/simulators check it); None when it
    would need splitting."""
    items = [
        ",".join([f"{code}-{k}={_number(v)}" for k, v in fields.items()])
        for code, fields in (record.values or {}).items()
    ]
    return realtime_frame(station, password, record, qn, ";".join(items), ack=ack, limit=limit)


def realtime_frame(
    station: Station, password: str, record: Record, qn: str, items: str, *, ack: bool, limit: int
) -> bytes | None:
    """A 2017/2025 2011 frame from its rendered CP items (after DataTime); None when it
    would need splitting. The legacy CRC variant of the station is applied."""
    flag = (8 if station.version == "2025" else 4) | (1 if ack else 0)
    resent = "RF=1;" if record.resent and station.version == "2025" else ""
    segment = (
        f"QN={qn};ST={station.model.st};CN=2011;PW={password};MN={station.mn};Flag={flag};"
        f"{resent}CP=&&DataTime={_stamp(record.stamp)};{items}&&"
    ).encode()
    if len(segment) > limit:
        return None
    frame = b"##%04d%b%b\r\n" % (len(segment), segment, crc16_hex(segment).encode())
    return legacy_crc(frame, station.crc)


def _unit_2005(code_2005: str, name: str, value: object) -> object:
    """A 2005 device sends its values in the 2005 units (protocol/units.py)."""
    if isinstance(value, float | int) and not isinstance(value, bool):
        return to_2005_value(code_2005, name, float(value))
    return value


def _upload_2005(station: Station, password: str, record: Record) -> bytes:
    items = [f"DataTime={encode.text(_moment(record.stamp))}"]
    items += [f"{k}={encode.text(v)}" for k, v in (record.extra or {}).items()]
    for code, fields in (record.values or {}).items():
        old = CODE_2017_TO_2005.get(code, code)
        items.append(
            ",".join(f"{old}-{k}={encode.text(_unit_2005(old, k, v))}" for k, v in fields.items())
        )
    header = {"ST": station.model.st, "CN": record.cn, "PW": password, "MN": station.mn}
    return encode.frame(encode.segment(header, ";".join(items)))


def station_frame(
    station: Station,
    password: str,
    cn: str,
    params: Mapping[str, object],
    qn: str,
    *,
    ack: bool,
) -> bytes:
    """A station message that is not periodic data (a response in a request flow, a
    3020 log record, a 9015 heartbeat), in the station's version and CRC variant."""
    if station.version == "2005":
        header = {"ST": station.model.st, "CN": cn, "PW": password, "MN": station.mn}
        cp = ";".join(f"{k}={encode.text(v)}" for k, v in {"QN": qn, **params}.items())
        frame = encode.frame(encode.segment(header, cp))
    else:
        frame = encode.station(
            cn,
            params,
            qn=qn,
            st=station.model.st,
            pw=password,
            mn=station.mn,
            version=station.version,
            ack=ack,
        )
    return legacy_crc(frame, station.crc)
