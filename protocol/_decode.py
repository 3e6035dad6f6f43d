"""From a framed byte string to a typed event: decryption, CRC, header, CP, version.

Acceptance follows one rule: take every frame a real device sends that can be
understood, note each way it bends the standard in ``deviations``, and reject the rest
with a stable code. Deviation words: ``length-mismatch`` (the length field did not land
on the CRC), ``oversized`` (segment over the standard's 1024 bytes), ``crc-lowercase``,
``legacy-crc:<variant>``, ``encrypted``, ``key-case``, ``header-comma``,
``bad-value:<key>``, ``qn-format``, ``mn-length``, ``unknown-st``, ``unknown-cn``,
``unknown-version:<bits>``, ``split-without-pnum``, ``codes-2005``,
``unit-converted:<2005 code>-><2017 code>:<units and factor>``, ``bad-flag:<key>``,
``blank-cp``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypedDict

from protocol._crc import crc16, match_variant
from protocol._frame import RawFrame
from protocol._segment import parse_cp_values, parse_time, split_segment
from protocol._sm4 import decrypt_segment, is_encrypted
from protocol.codes import (
    COMMANDS,
    REPLY_CODES,
    SYSTEM_CODES,
    VERSION_BITS,
    Deviation,
    Flag,
    Reject,
)
from protocol.errors import RemoteProtocolError
from protocol.events import DataUpload, Fields, Message, Rejected, Reply, Values
from protocol.pollutants import to_2017
from protocol.units import conversion

STANDARD_MAX_SEGMENT = 1024


@dataclass(frozen=True, slots=True)
class DecodeOptions:
    """Per-connection (per-station) decoding policy.

    :param accept_crc: legacy CRC variants to accept (``modbus``, ``modbus-swapped``);
        by default none: a frame with a legacy CRC is rejected as ``legacy-crc``.
    :param sm4_key: the station's SM4 key for HJ 212-2025 encrypted CP areas.
    """

    accept_crc: frozenset[str] = field(default_factory=frozenset)
    sm4_key: bytes | None = None


DEFAULT_OPTIONS = DecodeOptions()


class _Common(TypedDict):
    """The fields every decoded message has, whatever its event type."""

    raw: bytes
    segment: bytes
    header: dict[str, str]
    cp: dict[str, str]
    version: str
    flag: int | None
    crc_variant: str


def decode(frame: RawFrame, options: DecodeOptions = DEFAULT_OPTIONS) -> Message | Rejected:
    """Check and parse one framed segment; damage comes back as :class:`Rejected`."""
    try:
        return _decode(frame, options)
    except RemoteProtocolError as exc:
        header = _best_effort_header(frame.segment)
        return Rejected(
            raw=frame.raw,
            code=exc.code,
            detail=exc.detail,
            mn=header.get("MN"),
            cn=header.get("CN"),
            qn=header.get("QN"),
            crc_variant=exc.variant,
        )


def _best_effort_header(segment: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    text = segment.decode("utf-8", "replace").split("CP=", 1)[0]
    for item in text.replace(",", ";").split(";"):
        key, sep, value = item.partition("=")
        if sep and key.strip() in ("MN", "CN", "QN"):
            fields[key.strip()] = value.strip()
    return fields


def _check_crc(frame: RawFrame, plain: bytes, options: DecodeOptions, devs: list[str]) -> str:
    declared = int(frame.declared_crc, 16)
    if crc16(plain) == declared:
        variant = "hj212"
    else:
        variant_or_none = match_variant(plain, declared)
        if variant_or_none is None:
            raise RemoteProtocolError(
                Reject.CRC, f"declared {frame.declared_crc}, computed {crc16(plain):04X}"
            )
        variant = variant_or_none
        if variant not in options.accept_crc:
            raise RemoteProtocolError(
                Reject.LEGACY_CRC,
                f"CRC {frame.declared_crc} is {variant}, not accepted",
                variant=variant,
            )
        devs.append(f"{Deviation.LEGACY_CRC_}{variant}")
    if not frame.declared_crc.isupper() and not frame.declared_crc.isdigit():
        devs.append(Deviation.CRC_LOWERCASE)
    return variant


def _flag(header: dict[str, str]) -> int | None:
    text = header.get("Flag")
    if text is None:
        return None
    if not text.isdigit() or int(text) > 255:
        raise RemoteProtocolError(Reject.SYNTAX, f"Flag={text!r} is not a number 0..255")
    return int(text)


def _version(flag: int | None, header: dict[str, str], devs: list[str]) -> str:
    if flag is None:
        # 2005 devices omit Flag; 2017+ always send it. A 14-character MN is the 2005 form.
        return "2005" if "QN" not in header or len(header.get("MN", "")) == 14 else "2017"
    version = VERSION_BITS.get(flag >> 2)
    if version is None:
        devs.append(f"{Deviation.UNKNOWN_VERSION_}{flag >> 2}")
        return "2017"
    return version


def _check_header(header: dict[str, str], version: str, flag: int | None, devs: list[str]) -> None:
    cn = header.get("CN")
    if cn is None or len(cn) != 4 or not cn.isdigit():
        raise RemoteProtocolError(Reject.SYNTAX, f"CN={cn!r} is not a 4-digit command code")
    for key in ("PNUM", "PNO"):
        text = header.get(key)
        if text is not None and (not text.isdigit() or len(text) > 4):
            raise RemoteProtocolError(Reject.SYNTAX, f"{key}={text!r} is not a number 0..9999")
    qn = header.get("QN")
    if qn is not None and (len(qn) != 17 or not qn.isdigit()):
        devs.append(Deviation.QN_FORMAT)
    mn = header.get("MN", "")
    if len(mn) != (14 if version == "2005" else 24) and not (version == "2005" and len(mn) == 24):
        devs.append(Deviation.MN_LENGTH)
    if header.get("ST") not in SYSTEM_CODES:
        devs.append(Deviation.UNKNOWN_ST)
    command = COMMANDS.get(cn)
    # 1021/1022/1031/1032/1041/1042/2071 exist in HJ/T 212-2005 §6.5.1 only
    if command is None or (command.until is not None and version > command.until):
        devs.append(Deviation.UNKNOWN_CN)
    if flag is not None and flag & Flag.SPLIT and "PNUM" not in header:
        devs.append(Deviation.SPLIT_WITHOUT_PNUM)


def _decode(frame: RawFrame, options: DecodeOptions) -> Message:
    devs: list[str] = [] if frame.length_matches else [Deviation.LENGTH_MISMATCH]
    segment = frame.segment
    if len(segment) > STANDARD_MAX_SEGMENT:
        devs.append(Deviation.OVERSIZED)
    if is_encrypted(segment):
        if options.sm4_key is None:
            raise RemoteProtocolError(Reject.DECRYPT, "encrypted CP area and no SM4 key for it")
        segment = decrypt_segment(segment, options.sm4_key)
        devs.append(Deviation.ENCRYPTED)
        try:  # HJ 212-2025: the CRC covers the plaintext, so a wrong key fails it
            variant = _check_crc(frame, segment, options, devs)
        except RemoteProtocolError as exc:
            if exc.code != Reject.CRC:
                raise
            raise RemoteProtocolError(
                Reject.DECRYPT, f"does not decrypt with the station's SM4 key ({exc.detail})"
            ) from None
    else:
        variant = _check_crc(frame, segment, options, devs)
    try:
        text = segment.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RemoteProtocolError(Reject.SYNTAX, f"segment is not UTF-8: {exc.reason}") from None
    header, cp_text, seg_devs = split_segment(text)
    devs += seg_devs
    flag = _flag(header)
    version = _version(flag, header, devs)
    cp, values = parse_cp_values(cp_text, devs, legacy=version == "2005")
    if cp_text and cp_text.isspace():
        devs.append(Deviation.BLANK_CP)  # the 2017 text's own C.4/C.13 print "CP=&& &&"
    _check_flags(values, devs)
    _check_header(header, version, flag, devs)
    common = _Common(
        raw=frame.raw,
        segment=segment,
        header=header,
        cp=cp,
        version=version,
        flag=flag,
        crc_variant=variant,
    )
    cn = header["CN"]
    if cn in REPLY_CODES:
        return Reply(
            **common,
            deviations=tuple(devs),
            answers_qn=header.get("QN") or cp.get("QN"),
            qn_rtn=_int_or_none(cp.get("QnRtn")),
            exe_rtn=_int_or_none(cp.get("ExeRtn")),
        )
    data_time_text = cp.get("DataTime")
    if data_time_text is None:
        return Message(**common, deviations=tuple(devs))
    data_time = parse_time(data_time_text)
    code_map: dict[str, str] = {}
    if version == "2005":
        values, code_map = _map_2005(values, devs)
        if code_map:
            devs.append(Deviation.CODES_2005)
    return DataUpload(
        **common,
        deviations=tuple(devs),
        data_time=data_time,
        values=values,
        code_map=code_map,
    )


def _int_or_none(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() else None


def _check_flags(values: Values, devs: list[str]) -> None:
    """-Flag is C1, one of A-Z/0-9 (HJ 212-2017 Table 4 and Table 8, which may be
    extended; HJ/T 212-2005 Table 4): ``NX``, an empty or a lower-case flag is noted."""
    for code, fields in values.items():
        flag = fields.get("Flag")
        if flag is not None and not (
            isinstance(flag, str) and len(flag) == 1 and flag in _FLAG_CHARS
        ):
            devs.append(f"{Deviation.BAD_FLAG_}{code}-Flag")


_FLAG_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def _map_2005(values: Values, devs: list[str]) -> tuple[Values, dict[str, str]]:
    """2005 codes to 2017 codes, and their values to the 2017 units (protocol/units.py)."""
    mapped: Values = {}
    code_map: dict[str, str] = {}
    for code, fields in values.items():
        new = to_2017(code)
        if new != code:
            code_map[code] = new
            fields = _convert(code, new, fields, devs)
        mapped[new] = fields
    return mapped, code_map


def _convert(old: str, new: str, fields: Fields, devs: list[str]) -> Fields:
    out: Fields = {}
    labels: list[str] = []
    for name, value in fields.items():
        found = conversion(old, name)
        if found is not None and isinstance(value, float):
            value = round(value * found.factor, 9)
            if found.label() not in labels:
                labels.append(found.label())
        out[name] = value
    devs.extend(f"{Deviation.UNIT_CONVERTED_}{old}->{new}:{label}" for label in labels)
    return out
