"""The values a platform command may carry: HJ 212-2017 §6.3.3 and Table 4 (字段对照表).

The data area joins a field and its value with ``=``, values of one item with ``,``
and items with ``;`` (§6.3.3.1), inside ``CP=&&...&&``, and the frame ends with CR LF:
a value holding any of these would change what the device reads, and one holding
markup or control characters has no business on the wire either. Table 4 gives most
fields a character set and width; the rest (HJ 212-2025 additions, ``xxxxxx-Info``
settings) get the plainest set that real values use.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from protocol.errors import LocalProtocolError

_DIGITS14 = re.compile(r"[0-9]{14}")  # N14 YYYYMMDDhhmmss
_HHMMSS = re.compile(r"([01][0-9]|2[0-3])[0-5][0-9][0-5][0-9]")  # N6 hhmmss
_CODE = re.compile(r"[0-9A-Za-z]{1,6}")  # C6 0-9/a-z (PolId, InfoId; upper case seen too)
_PLAIN = re.compile(r"[0-9A-Za-z.+\-:]{1,64}")  # none of = , ; & CR LF < > and no spaces


def _time(value: str) -> bool:
    if not _DIGITS14.fullmatch(value):
        return False
    month, day = int(value[4:6]), int(value[6:8])
    return 1 <= month <= 12 and 1 <= day <= 31 and _HHMMSS.fullmatch(value[8:]) is not None


def _number(low: int, high: int, width: int) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        return (
            value.isascii()
            and value.isdigit()
            and len(value) <= width
            and low <= int(value) <= high
        )

    return check


# field -> (check, what it must be); HJ 212-2017 Table 4 unless noted
RULES: dict[str, tuple[Callable[[str], bool], str]] = {
    "SystemTime": (_time, "YYYYMMDDhhmmss"),
    "BeginTime": (_time, "YYYYMMDDhhmmss"),
    "EndTime": (_time, "YYYYMMDDhhmmss"),
    "SKCreateTime": (_time, "YYYYMMDDhhmmss"),  # HJ 212-2025 1014
    "RtdInterval": (_number(30, 3600, 4), "30..3600 seconds"),
    "MinInterval": (
        lambda v: v in {"1", "2", "3", "4", "5", "6", "10", "12", "15", "20", "30"},
        "one of 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 minutes",
    ),
    "OverTime": (_number(1, 99, 2), "1..99 seconds"),
    "ReCount": (_number(1, 99, 2), "1..99"),
    "CstartTime": (lambda v: _HHMMSS.fullmatch(v) is not None, "hhmmss"),
    "Ctime": (_number(1, 24, 2), "1..24 hours"),
    "PolId": (lambda v: _CODE.fullmatch(v) is not None, "a factor code of 1-6 letters/digits"),
    "InfoId": (lambda v: _CODE.fullmatch(v) is not None, "an information code (1-6)"),
    "NewPW": (lambda v: _CODE.fullmatch(v) is not None, "1-6 letters or digits"),
    "NewSK": (  # HJ 212-2025 §6.4: SM4, 128 bits
        lambda v: re.fullmatch(r"[0-9A-Fa-f]{32}", v) is not None,
        "32 hex digits",
    ),
    # HJ/T 212-2005 Table 4: the daily report time hhmm (N4), the sampling hours (N2), the
    # platform's address for alarms (example 16: a number)
    "ReportTime": (
        lambda v: re.fullmatch(r"([01][0-9]|2[0-3])[0-5][0-9]", v) is not None,
        "hhmm",
    ),
    "CTime": (lambda v: re.fullmatch(r"([01]?[0-9]|2[0-3])", v) is not None, "an hour 0..23"),
    "AlarmTarget": (lambda v: re.fullmatch(r"[0-9A-Za-z.:]{1,32}", v) is not None, "an address"),
    "i23005-Info": (  # HJ 212-2025 1002: the new MN
        lambda v: re.fullmatch(r"[0-9A-Za-z]{1,24}", v) is not None,
        "an MN of 1-24 letters or digits",
    ),
}
SECRET_FIELDS = frozenset({"NewPW", "NewSK"})


def check(cn: str, key: str, text: str) -> None:
    """Refuse a value the standard's format does not allow (the value is not repeated:
    it may be a secret, or markup).

    :raises LocalProtocolError: naming the field and what it must be.
    """
    rule, shape = RULES.get(key, (lambda v: _PLAIN.fullmatch(v) is not None, ""))
    if rule(text):
        return
    must = shape or "1-64 letters, digits or . + - : (no = , ; & or line breaks)"
    raise LocalProtocolError(f"CN {cn}: this {key} is not allowed: it must be {must}")
