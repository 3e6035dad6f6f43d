"""Encoders: events in, bytes out, for both roles (HJ 212-2017 Appendix C).

* :func:`frame` wraps a data segment: ``##`` + length + segment + CRC + CRLF.
* :func:`command` builds any request or notification the platform sends, checked
  against :data:`PLATFORM_PARAMS` (what each CN takes).
* :func:`upload` builds what a station sends (data uploads of every kind), split into
  PNUM/PNO packets when a segment would exceed the limit (1024 bytes).
* :func:`answer` builds 9011-9015 answers, in the 2005 layout for 2005 devices.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta

from protocol._crc import crc16_hex
from protocol._segment import format_time, parse_time
from protocol._sm4 import encrypt_segment
from protocol.codes import STATION_ANSWERS_9013, VERSION_FLAG, Cn, Flag
from protocol.errors import LocalProtocolError
from protocol.params import check as check_value

MAX_SEGMENT = 9999
STANDARD_SEGMENT = 1024

# CP keys of every platform request/notification: (required, optional).
PLATFORM_PARAMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    Cn.SET_TIMEOUTS: (("OverTime", "ReCount"), ()),
    Cn.SET_MN: (("i23005-Info",), ()),
    Cn.GET_TIME: ((), ("PolId",)),
    Cn.SET_TIME: (("SystemTime",), ("PolId",)),
    Cn.NEW_KEY: (("SKCreateTime", "NewSK"), ()),
    Cn.GET_RTD_INTERVAL: ((), ()),
    Cn.SET_RTD_INTERVAL: (("RtdInterval",), ()),
    Cn.GET_MIN_INTERVAL: ((), ()),
    Cn.SET_MIN_INTERVAL: (("MinInterval",), ()),
    Cn.SET_PASSWORD: (("NewPW",), ()),
    Cn.REALTIME: ((), ()),
    Cn.STOP_REALTIME: ((), ()),
    Cn.RAW_DATA: ((), ("PolId", "BeginTime", "EndTime")),
    Cn.STATE: ((), ()),
    Cn.STOP_STATE: ((), ()),
    Cn.DAILY: (("BeginTime", "EndTime"), ()),
    Cn.DAILY_RUN_TIME: (("BeginTime", "EndTime"), ()),
    Cn.MINUTE: (("BeginTime", "EndTime"), ()),
    Cn.HOURLY: (("BeginTime", "EndTime"), ()),
    Cn.STANDARD_CHECK: ((), ("PolId", "BeginTime", "EndTime")),
    Cn.CALIBRATE: (("PolId",), ("CalibrationType",)),
    Cn.SAMPLE_NOW: (("PolId",), ()),
    Cn.CLEAN: (("PolId",), ()),
    Cn.COMPARISON_SAMPLE: (("PolId",), ()),
    Cn.OVER_LIMIT_SAMPLE: ((), ()),
    Cn.SET_SAMPLING_PERIOD: (("PolId", "CstartTime", "Ctime"), ()),
    Cn.GET_SAMPLING_PERIOD: (("PolId",), ()),
    Cn.GET_SAMPLE_TIME: (("PolId",), ()),
    Cn.GET_INSTRUMENT_ID: (("PolId",), ()),
    Cn.FIELD_INFO: (("InfoId",), ("PolId", "BeginTime", "EndTime")),
    Cn.SET_FIELD_PARAM: (("PolId", "InfoId"), ()),  # plus the parameter itself: "<InfoId>-Info"
    Cn.RETAIN_SAMPLE: ((), ("PolId",)),
    Cn.START_STANDARD_CHECK: (("PolId",), ()),
}
# HJ/T 212-2005 (§6.5.1, App. C): the commands only it has, and its own forms of 1072
# (the new password as ``PW`` inside CP, example 1) and 3014 (set the sampling times:
# ``PolId`` and one ``CTime`` per hour, example 23). ``CTime``/``PolId`` take several
# values as ``04,10``; 1022 takes ``<code>-LowValue`` / ``<code>-UpValue`` (example 17).
PLATFORM_PARAMS_2005: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    Cn.GET_ALARM_LIMITS: (("PolId",), ()),
    Cn.SET_ALARM_LIMITS: ((), ()),
    Cn.GET_PLATFORM_ADDRESS: ((), ()),
    Cn.SET_PLATFORM_ADDRESS: (("AlarmTarget",), ()),
    Cn.GET_REPORT_TIME: ((), ()),
    Cn.SET_REPORT_TIME: (("ReportTime",), ()),
    Cn.ALARM_RECORDS: (("BeginTime", "EndTime"), ()),
    Cn.SET_PASSWORD: (("NewPW",), ()),
    Cn.COMPARISON_SAMPLE: (("PolId", "CTime"), ()),
}
_ONLY_2005 = frozenset(PLATFORM_PARAMS_2005) - {Cn.SET_PASSWORD, Cn.COMPARISON_SAMPLE}
_LIMIT_SUFFIXES = ("-LowValue", "-UpValue")
NOTIFICATIONS = STATION_ANSWERS_9013  # the platform's notifications: 2012, 2022, 1014
_Build = Callable[[list[str], int | None, int | None, str], str]


def frame(segment: str | bytes, *, plaintext: bytes | None = None) -> bytes:
    """Wrap a data segment: ``##`` + length + segment + CRC + CRLF.

    For an encrypted segment pass its ``plaintext``: HJ 212-2025 computes the CRC over
    the plaintext, and its examples write the plaintext length.

    :raises LocalProtocolError: when the segment does not fit the 4-digit length.
    """
    data = segment.encode("utf-8") if isinstance(segment, str) else segment
    if len(data) > MAX_SEGMENT:
        raise LocalProtocolError(f"segment of {len(data)} bytes does not fit 4 digits")
    plain = data if plaintext is None else plaintext
    crc = crc16_hex(plain).encode("ascii")
    return b"##%04d%b%b\r\n" % (len(plain), data, crc)


def text(value: object) -> str:
    """The wire text of a CP value: numbers without noise, times as YYYYMMDDhhmmss."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return repr(value) if "e" not in repr(value) else f"{value:.6f}".rstrip("0").rstrip(".")
    if isinstance(value, datetime):
        return format_time(value)
    return str(value)


def cp_text(items: Iterable[Mapping[str, object]]) -> str:
    """CP area text: ``,`` between values of one item, ``;`` between items."""
    return ";".join(",".join(f"{k}={text(v)}" for k, v in item.items()) for item in items)


def segment(header: Mapping[str, object], cp: str) -> str:
    """A data segment from ordered header fields (None values are left out) and CP text."""
    head = "".join(f"{k}={v};" for k, v in header.items() if v is not None)
    return f"{head}CP=&&{cp}&&"


def new_qn(now: datetime) -> str:
    """A QN for a frame created at ``now`` (``YYYYMMDDhhmmsszzz``, Beijing time)."""
    return format_time(now, millis=True)


def _flag(version: str, *, ack: bool, split: bool = False) -> int | None:
    if version == "2005" and not ack and not split:
        return None
    return VERSION_FLAG.get(version, 4) | (Flag.ACK if ack else 0) | (Flag.SPLIT if split else 0)


def command(
    cn: str,
    params: Mapping[str, object] | None = None,
    *,
    qn: str,
    st: str,
    pw: str,
    mn: str,
    version: str = "2017",
    ack: bool = True,
    sm4_key: bytes | None = None,
) -> bytes:
    """A platform request or notification (``cn`` in :data:`PLATFORM_PARAMS`);
    ``sm4_key`` encrypts its CP area (HJ 212-2025 §6.4.4: 1014 is sent encrypted).

    :raises LocalProtocolError: for an unknown CN, a missing or unknown parameter, or a
        value its format (HJ 212-2017 Table 4) does not allow.
    """
    params = dict(params or {})
    if version == "2005" and cn in PLATFORM_PARAMS_2005:
        return _command_2005(cn, params, qn=qn, st=st, pw=pw, mn=mn, ack=ack)
    if cn not in PLATFORM_PARAMS:
        raise LocalProtocolError(
            f"CN {cn} is a HJ/T 212-2005 command: for 2005 stations only"
            if cn in _ONLY_2005
            else f"CN {cn} is not a command the platform sends"
        )
    required, optional = PLATFORM_PARAMS[cn]
    missing = [k for k in required if k not in params]
    if missing:
        raise LocalProtocolError(f"CN {cn} needs {', '.join(missing)}")
    allowed = set(required) | set(optional)
    info = f"{params.get('InfoId')}-Info" if cn == Cn.SET_FIELD_PARAM else None
    unknown = [k for k in params if k not in allowed and k != info]
    if unknown:
        raise LocalProtocolError(f"CN {cn} does not take {', '.join(unknown)}")
    for key, value in params.items():  # HJ 212-2017 §6.3.3, Table 4
        check_value(cn, key, text(value))
    wire = _single(cn, params, qn=qn, st=st, pw=pw, mn=mn, version=version, ack=ack)
    if sm4_key is None:
        return wire
    plain = wire[6:-6]  # the segment between ``##LLLL`` and ``CRC\r\n``
    return frame(encrypt_segment(plain, sm4_key), plaintext=plain)


def check_command(cn: str, params: Mapping[str, object] | None = None) -> None:
    """Refuse what :func:`command` would refuse in every version (a queue, which does
    not know the station's version, checks with this; the gateway encodes for it).

    :raises LocalProtocolError: the 2017 error, or the 2005 one for a 2005-only CN.
    """
    qn = "00000000000000000"
    try:
        command(cn, params, qn=qn, st="32", pw="0", mn="0")
    except LocalProtocolError:
        if cn not in PLATFORM_PARAMS_2005:
            raise
        command(cn, params, qn=qn, st="32", pw="0", mn="0", version="2005")


def _values(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def _command_2005(
    cn: str, params: dict[str, object], *, qn: str, st: str, pw: str, mn: str, ack: bool
) -> bytes:
    """A HJ/T 212-2005 request in the form its App. C prints."""
    required, _ = PLATFORM_PARAMS_2005[cn]
    missing = [k for k in required if k not in params]
    if missing:
        raise LocalProtocolError(f"CN {cn} needs {', '.join(missing)}")
    limits = cn == Cn.SET_ALARM_LIMITS
    unknown = [
        k for k in params if k not in required and not (limits and k.endswith(_LIMIT_SUFFIXES))
    ]
    if unknown or (limits and not params):
        raise LocalProtocolError(f"CN {cn} does not take {', '.join(unknown) or 'no limits'}")
    items: list[tuple[str, str]] = []
    for key, value in params.items():
        wire_key = "PW" if cn == Cn.SET_PASSWORD else key  # 2005 example 1: CP=&&PW=...&&
        several = key == "CTime" or (key == "PolId" and cn == Cn.GET_ALARM_LIMITS)
        for one in _values(text(value)) if several else [text(value)]:
            check_value(cn, key, one)
            if limits:
                _number_or_refuse(cn, key, one)
            items.append((wire_key, one))
    header = {"QN": qn, "ST": st, "CN": cn, "PW": pw, "MN": mn, "Flag": _flag("2005", ack=ack)}
    return frame(segment(header, ";".join(f"{k}={v}" for k, v in items)))


def _number_or_refuse(cn: str, key: str, value: str) -> None:
    try:
        float(value)
    except ValueError:
        raise LocalProtocolError(
            f"CN {cn}: this {key} is not allowed: it must be a number"
        ) from None


STATION_MESSAGES = frozenset(
    {
        Cn.LOGGER_IDS,
        Cn.GET_TIME,
        Cn.TIME_CALIBRATION,
        Cn.NEW_KEY,
        Cn.GET_RTD_INTERVAL,
        Cn.GET_MIN_INTERVAL,
        Cn.RESTART,
        Cn.OVER_LIMIT_SAMPLE,
        Cn.GET_SAMPLING_PERIOD,
        Cn.GET_SAMPLE_TIME,
        Cn.GET_INSTRUMENT_ID,
        Cn.FIELD_INFO,
        Cn.HEARTBEAT,
    }
)


def station(
    cn: str,
    params: Mapping[str, object] | None = None,
    *,
    qn: str,
    st: str,
    pw: str,
    mn: str,
    version: str = "2017",
    ack: bool = False,
) -> bytes:
    """A station frame that is not periodic data: a response inside a request flow (1011
    SystemTime, 1061 RtdInterval, 3019 SN...), a notification (1013 time calibration,
    2025 9015 heartbeat) or an event upload (2081 restart, 3020 information).

    :raises LocalProtocolError: for a CN a station does not send this way.
    """
    if cn not in STATION_MESSAGES:
        raise LocalProtocolError(f"CN {cn} is not a station message (see encode.upload)")
    return _single(cn, params or {}, qn=qn, st=st, pw=pw, mn=mn, version=version, ack=ack)


def _single(
    cn: str,
    params: Mapping[str, object],
    *,
    qn: str,
    st: str,
    pw: str,
    mn: str,
    version: str,
    ack: bool,
) -> bytes:
    """One unsplit frame: the 2017 header order, then the parameters as one CP item each."""
    header = {"QN": qn, "ST": st, "CN": cn, "PW": pw, "MN": mn, "Flag": _flag(version, ack=ack)}
    cp = ";".join(f"{k}={text(v)}" for k, v in params.items())
    return frame(segment(header, cp))


def answer(
    cn: str,
    *,
    qn: str | None,
    pw: str | None,
    mn: str | None,
    version: str,
    request_cn: str | None = None,
    qn_rtn: int | None = None,
    exe_rtn: int | None = None,
    st: str = "91",
    pno: int | None = None,
    pnum: int | None = None,
    flag: int | None = None,
) -> bytes:
    """An answer frame: 9011 (``qn_rtn``), 9012 (``exe_rtn``), 9013 or 9014.

    HJ 212-2017 (Tables C.1-C.50): same QN as the frame answered, ST=91, same PW and MN,
    Flag = version bits only, CP empty or ``QnRtn=``/``ExeRtn=``. HJ/T 212-2005 (App. C)
    puts the answered QN (and CN, PNO/PNUM for 9014) inside CP instead, and carries a
    Flag only when the answered frame had one (example 10: ``Flag=0``).
    """
    cp_items: list[str] = []
    if version == "2005":
        if qn is not None:
            cp_items.append(f"QN={qn}")
        if cn == Cn.DATA_ANSWER and request_cn is not None:
            cp_items.append(f"CN={request_cn}")
        if cn == Cn.DATA_ANSWER and pno is not None and pnum is not None:
            cp_items += [f"PNO={pno}", f"PNUM={pnum}"]
    if qn_rtn is not None:
        cp_items.append(f"QnRtn={qn_rtn}")
    if exe_rtn is not None:
        cp_items.append(f"ExeRtn={exe_rtn}")
    header: dict[str, object]
    if version != "2005":
        header = {
            "QN": qn,
            "ST": st,
            "CN": cn,
            "PW": pw,
            "MN": mn,
            "Flag": VERSION_FLAG.get(version, 4),
        }
    elif cn == Cn.DATA_ANSWER:
        header = {"ST": st, "CN": cn}  # 2005 App. C example 6: the 9014 has no PW nor MN
    else:
        header = {"ST": st, "CN": cn, "PW": pw, "MN": mn}
        if flag is not None:
            header["Flag"] = flag & 0xFC
    return frame(segment(header, ";".join(cp_items)))


def _group_items(values: Mapping[str, Mapping[str, object]]) -> list[str]:
    return [
        ",".join(f"{code}-{k}={text(v)}" for k, v in fields.items())
        for code, fields in values.items()
    ]


def upload(
    cn: str,
    *,
    data_time: datetime,
    values: Mapping[str, Mapping[str, object]],
    qn: str,
    st: str,
    pw: str,
    mn: str,
    version: str = "2017",
    ack: bool = True,
    resent: bool = False,
    extra: Mapping[str, object] | None = None,
    limit: int = STANDARD_SEGMENT,
    sm4_key: bytes | None = None,
) -> list[bytes]:
    """The frames of one station upload, split into PNUM/PNO packets when it exceeds
    ``limit`` bytes (each packet repeats DataTime, carries its own QN and its own
    share of the factors, HJ 212-2017 Tables C.47-C.50). ``resent`` adds 2025's ``RF=1``.
    ``sm4_key`` encrypts the CP area (HJ 212-2025 §6.4).
    """
    head_cp = [f"DataTime={format_time(data_time)}"]
    head_cp += [f"{k}={text(v)}" for k, v in (extra or {}).items()]
    items = _group_items(values)

    def build(part: list[str], pno: int | None, pnum: int | None, packet_qn: str) -> str:
        header: dict[str, object] = {
            "QN": packet_qn,
            "ST": st,
            "CN": cn,
            "PW": pw,
            "MN": mn,
            "Flag": _flag(version, ack=ack, split=pnum is not None),
        }
        if pnum is not None:
            header.update({"PNUM": pnum, "PNO": pno})
        if resent:
            header["RF"] = 1
        return segment(header, ";".join(head_cp + part))

    whole = build(items, None, None, qn)
    packets = [whole] if len(whole.encode()) <= limit else _split(items, build, qn, limit)
    if sm4_key is None:
        return [frame(p) for p in packets]
    out = []
    for p in packets:
        plain = p.encode()
        out.append(frame(encrypt_segment(plain, sm4_key), plaintext=plain))
    return out


def _split(items: list[str], build: _Build, qn: str, limit: int) -> list[str]:
    groups: list[list[str]] = [[]]
    for item in items:
        trial = groups[-1] + [item]
        if groups[-1] and len(build(trial, 9999, 9999, qn).encode()) > limit:
            groups.append([item])
        else:
            groups[-1] = trial
    base = parse_time(qn) if len(qn) == 17 and qn.isdigit() else None
    packets = []
    for i, group in enumerate(groups):
        packet_qn = qn if base is None else new_qn(base + timedelta(milliseconds=i))
        packets.append(build(group, i + 1, len(groups), packet_qn))
    return packets
