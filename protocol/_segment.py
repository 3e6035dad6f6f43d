"""Data segment: header fields and the CP area (HJ 212-2017 §6.3.2-6.3.3, Tables 3-4).

``QN=..;ST=..;CN=..;PW=..;MN=..;Flag=..;[PNUM=..;PNO=..;]CP=&&<CP area>&&``

Fields are read by key, in any order (real devices put MN before PW, QN after CN).
In the CP area ``;`` separates items and ``,`` separates values of one item, but the
standard's own examples mix them, so both are accepted alike. Keys of the form
``<code>-<Suffix>`` (``w01018-Rtd``) are grouped per pollutant code.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from protocol.errors import RemoteProtocolError

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
_CP_OPEN = b"CP=&&"
_SPLIT = re.compile(r"[;,]")
_NUMERIC_SUFFIXES = frozenset(
    {"Rtd", "Min", "Avg", "Max", "Cou", "ZsRtd", "ZsMin", "ZsAvg", "ZsMax"}
)


def split_segment(segment: bytes) -> tuple[dict[str, str], str]:
    """Split a data segment into its header fields and the raw CP text.

    :raises RemoteProtocolError: ``syntax`` when the segment is not UTF-8, has no
        ``CP=&&...&&`` or a header item without ``=``.
    """
    try:
        text = segment.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RemoteProtocolError("syntax", f"segment is not UTF-8: {exc.reason}") from None
    cp_at = text.find(_CP_OPEN.decode())
    if cp_at < 0:
        raise RemoteProtocolError("syntax", "no 'CP=&&' in the data segment")
    body = text[cp_at + len(_CP_OPEN) :]
    if not body.endswith("&&"):
        raise RemoteProtocolError("syntax", "CP area does not end with '&&'")
    header: dict[str, str] = {}
    for item in _SPLIT.split(text[:cp_at]):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep:
            raise RemoteProtocolError("syntax", f"header item {item!r} has no '='")
        header[key.strip()] = value.strip()
    return header, body[:-2]


def parse_cp(cp: str) -> dict[str, str]:
    """Every ``key=value`` of the CP area, in order, values as raw strings."""
    items: dict[str, str] = {}
    for item in _SPLIT.split(cp):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep:
            raise RemoteProtocolError("syntax", f"CP item {item!r} has no '='")
        items[key.strip()] = value.strip()
    return items


def parse_time(text: str) -> datetime:
    """``YYYYMMDDhhmmss`` (or with ``zzz`` milliseconds) in Beijing time.

    :raises RemoteProtocolError: ``syntax`` when it is not such a timestamp.
    """
    if not text.isdigit() or len(text) not in (14, 17):
        raise RemoteProtocolError("syntax", f"bad timestamp {text!r}")
    try:
        base = datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=BEIJING)
    except ValueError:
        raise RemoteProtocolError("syntax", f"bad timestamp {text!r}") from None
    millis = int(text[14:]) if len(text) == 17 else 0
    return base + timedelta(milliseconds=millis)


def format_time(moment: datetime, *, millis: bool = False) -> str:
    """The HJ 212 text of a moment, in Beijing time."""
    local = moment.astimezone(BEIJING)
    text = local.strftime("%Y%m%d%H%M%S")
    return text + f"{local.microsecond // 1000:03d}" if millis else text


def typed_value(suffix: str, text: str) -> float | str:
    """A CP value typed by its suffix: numbers as float, everything else kept as text."""
    if suffix in _NUMERIC_SUFFIXES:
        try:
            return float(text)
        except ValueError:
            raise RemoteProtocolError(
                "syntax", f"{suffix} value {text!r} is not a number"
            ) from None
    return text


def group_values(cp: dict[str, str]) -> dict[str, dict[str, float | str]]:
    """Group ``code-Suffix`` keys per code: ``{"w01018": {"Rtd": 13.6, "Flag": "N"}}``."""
    grouped: dict[str, dict[str, float | str]] = {}
    for key, text in cp.items():
        code, sep, suffix = key.partition("-")
        if not sep or not code or not suffix:
            continue
        grouped.setdefault(code, {})[suffix] = typed_value(suffix, text)
    return grouped
