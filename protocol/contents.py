"""What a device's answers and event uploads say, typed (docs/protocol.md §16).

The measurements of 2011/2051/2061/2031 (and 2025's 2052/2111) are
:class:`protocol.DataUpload` values. The other station messages carry one fact each:
the device's clock (1011, HJ 212-2017 C.2), its intervals (1061 C.5, 1063 C.7), a
restart (2081 C.24), a sample kept over the limit (3015 C.34), its sampling period
(3017 C.36), its sample-output time (3018 C.37), an instrument's serial number (3019
C.38-C.39), and in HJ 212-2025 raw monitoring data (2013) and the automatic
standard-sample check (2062). :func:`contents_of` turns a message into these records;
a field that is missing or does not parse is None (the frame is archived as sent).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import ClassVar

from protocol._segment import parse_time
from protocol.codes import Cn
from protocol.errors import RemoteProtocolError
from protocol.events import Message

Payload = dict[str, str | float | int | None]


@dataclass(frozen=True, slots=True)
class Content:
    """One fact of a station message: ``kind`` names it, ``pollutant`` is '' when the
    fact is the station's, ``at`` is its DataTime (None: the time it was received)."""

    kind: ClassVar[str] = ""
    pollutant: str
    at: datetime | None

    def payload(self) -> Payload:
        """The fact's own fields, for storage (times as their HJ 212 text)."""
        out: Payload = {}
        for key, value in asdict(self).items():
            if key in ("pollutant", "at"):
                continue
            out[key] = value.isoformat() if isinstance(value, datetime) else value
        return out


@dataclass(frozen=True, slots=True)
class SystemTime(Content):
    """1011 upload: the device's clock (C.2 ``PolId=w01018;SystemTime=...``)."""

    kind: ClassVar[str] = "system-time"
    system_time: datetime | None


@dataclass(frozen=True, slots=True)
class Interval(Content):
    """1061 ``RtdInterval`` (seconds) or 1063 ``MinInterval`` (minutes)."""

    kind: ClassVar[str] = "interval"
    rtd_interval_s: int | None
    min_interval_min: int | None


@dataclass(frozen=True, slots=True)
class Restart(Content):
    """2081: the data logger started at ``restart_time`` (C.24)."""

    kind: ClassVar[str] = "restart"
    restart_time: datetime | None


@dataclass(frozen=True, slots=True)
class OverLimitSample(Content):
    """3015: a sample kept in bottle ``vase_no`` because the limit was exceeded (C.34)."""

    kind: ClassVar[str] = "over-limit-sample"
    vase_no: int | None


@dataclass(frozen=True, slots=True)
class SamplingPeriod(Content):
    """3017: sampling starts at ``cstart_time`` (hhmmss) every ``ctime_h`` hours (C.36)."""

    kind: ClassVar[str] = "sampling-period"
    cstart_time: str | None
    ctime_h: int | None


@dataclass(frozen=True, slots=True)
class SampleTime(Content):
    """3018: the instrument needs ``stime_min`` minutes to deliver a sample (C.37)."""

    kind: ClassVar[str] = "sample-time"
    stime_min: int | None


@dataclass(frozen=True, slots=True)
class InstrumentId(Content):
    """3019: the instrument's serial number (C.38); a new one means it was replaced,
    which seed 003 Art. 12 wants on record."""

    kind: ClassVar[str] = "instrument-id"
    sn: str | None


@dataclass(frozen=True, slots=True)
class RawSample(Content):
    """2013 (HJ 212-2025): one raw measurement with its sampling and completion times."""

    kind: ClassVar[str] = "raw-data"
    value: float | None
    sample_time: str | None
    complete_time: str | None
    sample_type: str | None
    flag: str | None


@dataclass(frozen=True, slots=True)
class StandardCheck(Content):
    """2062 (HJ 212-2025): an automatic standard-sample check: the reading of the
    standard sample, its certified value and the result type the device reports."""

    kind: ClassVar[str] = "standard-check"
    sample_rd: float | None
    standard_value: float | None
    result_type: str | None


def _time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_time(text)
    except RemoteProtocolError:
        return None


def _int(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() else None


def _grouped(message: Message) -> dict[str, dict[str, str]]:
    """``code-Suffix`` keys of the CP text per code, as sent."""
    out: dict[str, dict[str, str]] = {}
    for key, text in message.cp.items():
        code, dash, suffix = key.partition("-")
        if dash and code and suffix:
            out.setdefault(code, {})[suffix] = text
    return out


def contents_of(message: Message) -> tuple[Content, ...]:
    """The typed facts of a station message (none for data uploads and answers)."""
    cp, cn = message.cp, message.cn
    at = _time(cp.get("DataTime"))
    pol = cp.get("PolId", "")
    if cn == Cn.GET_TIME:
        return (SystemTime(pol, at, _time(cp.get("SystemTime"))),)
    if cn == Cn.GET_RTD_INTERVAL and "RtdInterval" in cp:
        return (Interval("", at, _int(cp.get("RtdInterval")), None),)
    if cn == Cn.GET_MIN_INTERVAL and "MinInterval" in cp:
        return (Interval("", at, None, _int(cp.get("MinInterval"))),)
    if cn == Cn.RESTART:
        return (Restart("", at, _time(cp.get("RestartTime"))),)
    if cn == Cn.OVER_LIMIT_SAMPLE and "VaseNo" in cp:
        return (OverLimitSample("", at, _int(cp.get("VaseNo"))),)
    if cn == Cn.GET_SAMPLING_PERIOD and "CstartTime" in cp:
        return (SamplingPeriod(pol, at, cp.get("CstartTime"), _int(cp.get("Ctime"))),)
    if cn == Cn.GET_SAMPLE_TIME and "Stime" in cp:
        return (SampleTime(pol, at, _int(cp.get("Stime"))),)
    if cn == Cn.GET_INSTRUMENT_ID:
        return tuple(
            InstrumentId(c, at, f["SN"]) for c, f in _grouped(message).items() if "SN" in f
        )
    if cn == Cn.RAW_DATA and at is not None:
        return tuple(_raw(code, at, f) for code, f in _grouped(message).items())
    if cn == Cn.STANDARD_CHECK and at is not None:
        return tuple(_check(code, at, f) for code, f in _grouped(message).items())
    return ()


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _raw(code: str, at: datetime, fields: dict[str, str]) -> RawSample:
    value = _number(fields.get("Rtd", fields.get("Avg")))
    return RawSample(
        code,
        at,
        value,
        fields.get("SampleTime"),
        fields.get("CompleteTime"),
        fields.get("SampleType"),
        fields.get("Flag"),
    )


def _check(code: str, at: datetime, fields: dict[str, str]) -> StandardCheck:
    return StandardCheck(
        code,
        at,
        _number(fields.get("SampleRd")),
        _number(fields.get("StandardValue")),
        fields.get("ResultType"),
    )
