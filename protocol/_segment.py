"""Data segment: header fields and the CP area (HJ 212-2017 §6.3.2-6.3.3, Tables 3-4).

``QN=..;ST=..;CN=..;PW=..;MN=..;Flag=..;[PNUM=..;PNO=..;][RF=1;]CP=&&<CP area>&&``

Fields are read by key, in any order (real devices put MN before PW, QN after CN).
In the CP area ``;`` separates items and ``,`` separates values of one item, but the
standard's own examples mix them, so both are accepted alike. Known keys match
case-insensitively and are stored in the standard's spelling (the 2017 text itself
writes ``CTime``/``Ctime`` and ``Overtime``/``OverTime``); unknown keys are kept as sent.
Keys of the form ``<code>-<Suffix>`` (``w01018-Rtd``) are grouped per factor code.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache

from protocol.codes import Deviation, Reject
from protocol.errors import RemoteProtocolError

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

HEADER_KEYS = ("QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO", "RF")
CP_KEYS = (
    "DataTime",
    "SystemTime",
    "BeginTime",
    "EndTime",
    "RestartTime",
    "QnRtn",
    "ExeRtn",
    "RtdInterval",
    "MinInterval",
    "NewPW",
    "OverTime",
    "ReCount",
    "VaseNo",
    "CstartTime",
    "Ctime",
    "Stime",
    "PolId",
    "InfoId",
    "SKCreateTime",
    "NewSK",
    "QN",
    "CN",
    "PNO",
    "PNUM",
    "AlarmTime",
    "AlarmType",
    "ReportTarget",
    "AlarmTarget",
    "ReportTime",
    "WarnTime",
    "CalibrationType",
    "DayStdValue",  # HJ/T 212-2005 Table 4: noise alarm limits
    "NightStdValue",
)
# HJ/T 212-2005 Table 4 spells these so; in a 2005 frame they are not a key-case slip.
LEGACY_SPELLINGS = {"CTime": "Ctime"}
SUFFIXES = (
    "Rtd",
    "Min",
    "Avg",
    "Max",
    "Cou",
    "ZsRtd",
    "ZsMin",
    "ZsAvg",
    "ZsMax",
    "ZsCou",
    "Flag",
    "EFlag",
    "SampleTime",
    "RS",
    "RT",
    "Data",
    "DayData",
    "NightData",
    "Info",
    "SN",
    "Ala",
    "UpValue",
    "LowValue",
    "ValidNum",
    "TotalNum",
    "SampleRd",
    "StandardValue",
    "ResultType",
    "CompleteTime",
    "SampleType",
)
NUMERIC_SUFFIXES = frozenset(
    {
        "Rtd",
        "Min",
        "Avg",
        "Max",
        "Cou",
        "ZsRtd",
        "ZsMin",
        "ZsAvg",
        "ZsMax",
        "ZsCou",
        "RT",
        "Data",
        "DayData",
        "NightData",
        "Ala",
        "UpValue",
        "LowValue",
        "SampleRd",
        "StandardValue",
    }
)
INTEGER_SUFFIXES = frozenset({"RS", "ValidNum", "TotalNum"})
TIME_SUFFIXES = frozenset({"SampleTime", "CompleteTime"})
TIME_KEYS = frozenset(
    {"DataTime", "SystemTime", "BeginTime", "EndTime", "RestartTime", "AlarmTime", "SKCreateTime"}
)

_HEADER_CANON = {k.lower(): k for k in HEADER_KEYS}
_HEADER_SET = frozenset(HEADER_KEYS)
_CP_CANON = {k.lower(): k for k in CP_KEYS}
_CP_SET = frozenset(CP_KEYS)
_SUFFIX_CANON = {k.lower(): k for k in SUFFIXES}
_CP_OPEN = "CP=&&"


def _canon_header(key: str) -> str:
    return key if key in _HEADER_SET else _HEADER_CANON.get(key.lower(), key)


def split_segment(text: str) -> tuple[dict[str, str], str, list[str]]:
    """Header fields, the raw CP text, and deviations found on the way.

    :raises RemoteProtocolError: ``syntax`` without ``CP=&&...&&`` or with a header item
        that has no ``=``.
    """
    deviations: list[str] = []
    cp_at = text.find(_CP_OPEN)
    if cp_at < 0:
        cp_at = text.lower().find("cp=&&")
        if cp_at < 0:
            raise RemoteProtocolError(Reject.SYNTAX, "no 'CP=&&' in the data segment")
        deviations.append(Deviation.KEY_CASE)
    body = text[cp_at + 5 :]
    if not body.endswith("&&"):
        raise RemoteProtocolError(Reject.SYNTAX, "CP area does not end with '&&'")
    head = text[:cp_at]
    if " " not in head and "," not in head:
        try:
            fast = dict([item.split("=", 1) for item in head.split(";") if item])
        except ValueError:
            fast = None
        if fast is not None and fast.keys() <= _HEADER_SET:
            return fast, body[:-2], deviations
    if ",QN=" in head or ",ST=" in head or ",CN=" in head:
        deviations.append(
            Deviation.HEADER_COMMA
        )  # HJ 212-2017 C.22/C.48 misprint: "QN=..534,ST=32"
        head = head.replace(",", ";")
    header: dict[str, str] = {}
    for item in head.split(";"):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep:
            # "Flag=5CP=&&" (C.19) leaves "Flag=5" fine; a bare word is not
            raise RemoteProtocolError(Reject.SYNTAX, f"header item {item!r} has no '='")
        key = key.strip()
        canon = _canon_header(key)
        if canon != key:
            deviations.append(Deviation.KEY_CASE)
        header[canon] = value.strip()
    return header, body[:-2], deviations


def parse_cp(cp: str, deviations: list[str], *, legacy: bool = False) -> dict[str, str]:
    """Every ``key=value`` of the CP area in order, values as the original text
    (``legacy``: a HJ/T 212-2005 frame, whose own spellings are no deviation)."""
    items: dict[str, str] = {}
    if not cp:
        return items
    for item in cp.replace(",", ";").split(";"):
        if not item or item.isspace():  # "CP=&& &&" (HJ 212-2017 C.4, C.13)
            continue
        key, sep, value = item.partition("=")
        if not sep:
            raise RemoteProtocolError(Reject.SYNTAX, f"CP item {item!r} has no '='")
        key = key.strip()
        code, dash, suffix = key.partition("-")
        if dash:
            canon_suffix = _SUFFIX_CANON.get(suffix.lower(), suffix)
            if canon_suffix != suffix:
                deviations.append(Deviation.KEY_CASE)
                key = f"{code}-{canon_suffix}"
        elif legacy and key in LEGACY_SPELLINGS:
            key = LEGACY_SPELLINGS[key]
        elif key not in _CP_SET:
            canon = _CP_CANON.get(key.lower())
            if canon is not None:
                deviations.append(Deviation.KEY_CASE)
                key = canon
        items[key] = value.strip()
    return items


@lru_cache(maxsize=4096)  # a fleet reporting on the same tick repeats the same stamps
def parse_time(text: str) -> datetime:
    """``YYYYMMDDhhmmss`` (or with ``zzz`` milliseconds) in Beijing time.

    :raises RemoteProtocolError: ``syntax`` when it is not such a timestamp.
    """
    if len(text) not in (14, 17) or not text.isdigit():
        raise RemoteProtocolError(Reject.SYNTAX, f"bad timestamp {text!r}")
    try:
        moment = datetime(
            int(text[0:4]),
            int(text[4:6]),
            int(text[6:8]),
            int(text[8:10]),
            int(text[10:12]),
            int(text[12:14]),
            int(text[14:17] or 0) * 1000,
            BEIJING,
        )
    except ValueError:
        raise RemoteProtocolError(Reject.SYNTAX, f"bad timestamp {text!r}") from None
    return moment


def format_time(moment: datetime, *, millis: bool = False) -> str:
    """The HJ 212 text of a moment, in Beijing time."""
    local = moment.astimezone(BEIJING)
    text = local.strftime("%Y%m%d%H%M%S")
    return text + f"{local.microsecond // 1000:03d}" if millis else text


def typed(suffix: str, text: str) -> float | str | datetime | None:
    """A CP value typed by its suffix; None for a number or time that does not parse."""
    if suffix in NUMERIC_SUFFIXES:
        try:
            return float(text)
        except ValueError:
            return None
    if suffix in INTEGER_SUFFIXES:
        return int(text) if text.isdigit() else None
    if suffix in TIME_SUFFIXES:
        try:
            return parse_time(text)
        except RemoteProtocolError:
            return None
    return text


def group_values(
    cp: dict[str, str], deviations: list[str]
) -> dict[str, dict[str, float | str | datetime | None]]:
    """Group ``code-Suffix`` keys per code: ``{"w01018": {"Rtd": 13.6, "Flag": "N"}}``."""
    grouped: dict[str, dict[str, float | str | datetime | None]] = {}
    for key, text in cp.items():
        code, sep, suffix = key.partition("-")
        if not sep or not code or not suffix:
            continue
        value = typed(suffix, text)
        if value is None:
            deviations.append(f"{Deviation.BAD_VALUE_}{key}")
        fields = grouped.get(code)
        if fields is None:
            grouped[code] = {suffix: value}
        else:
            fields[suffix] = value
    return grouped


_KIND: dict[str, int] = dict.fromkeys(SUFFIXES, 0)
_KIND.update(dict.fromkeys(NUMERIC_SUFFIXES, 1))
_KIND.update(dict.fromkeys(INTEGER_SUFFIXES, 2))
_KIND.update(dict.fromkeys(TIME_SUFFIXES, 3))


class _SlowPath(Exception):
    pass


def parse_cp_values(
    cp_text: str, deviations: list[str], *, legacy: bool = False
) -> tuple[dict[str, str], dict[str, dict[str, float | str | datetime | None]]]:
    """:func:`parse_cp` and :func:`group_values` in one pass.

    The common frame (no spaces, canonical keys, well-formed items) takes a fast path of
    C-level splits and one loop; anything unusual falls back to the two careful passes,
    which give the same result plus the deviations and error details.
    """
    if " " not in cp_text and "\t" not in cp_text:
        try:
            return _fast_cp(cp_text)
        except _SlowPath:
            pass
    cp = parse_cp(cp_text, deviations, legacy=legacy)
    return cp, group_values(cp, deviations)


def _fast_cp(
    cp_text: str,
) -> tuple[dict[str, str], dict[str, dict[str, float | str | datetime | None]]]:
    if not cp_text:
        return {}, {}
    try:
        cp = dict([item.split("=", 1) for item in cp_text.replace(",", ";").split(";") if item])
    except ValueError:
        raise _SlowPath from None
    values: dict[str, dict[str, float | str | datetime | None]] = {}
    kinds = _KIND
    for key, text in cp.items():
        code, sep, suffix = key.partition("-")
        if not sep:
            if key not in _CP_SET and key.lower() in _CP_CANON:
                raise _SlowPath
            continue
        kind = kinds.get(suffix)
        value: float | str | datetime | None
        if kind == 1:
            try:
                value = float(text)
            except ValueError:
                raise _SlowPath from None
        elif kind == 0:
            value = text
        else:
            raise _SlowPath  # integer/time suffixes, unknown or miscased suffixes
        if not code:
            raise _SlowPath
        fields = values.get(code)
        if fields is None:
            values[code] = {suffix: value}
        else:
            fields[suffix] = value
    return cp, values
