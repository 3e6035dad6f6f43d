"""Secrets inside frames: the device password (PW, HJ 212-2017 §6.3.2 Table 3) and the
secrets some commands carry (1072 NewPW; HJ 212-2025 1014 NewSK).

:func:`mask` gives a frame to show to someone who need not know them: each secret value
becomes asterisks of the same length and the CRC too (the CRC is computed over the
data segment, password included: four hex digits would narrow a 6-digit password down
to a handful). The archive keeps the frame as received; only what is shown is masked.
"""

from __future__ import annotations

import re

SECRET_KEYS = ("PW", "NewPW", "NewSK")
_SECRET = re.compile(rb"(?i)(?<![0-9A-Za-z-])(PW|NewPW|NewSK)=([^;,&\r\n]*)")
_CRC_TAIL = re.compile(rb"[0-9A-Fa-f]{4}\r\n$")


def mask(raw: bytes) -> bytes:
    """``raw`` with every secret value and the CRC replaced by asterisks."""
    masked = _SECRET.sub(lambda m: m.group(1) + b"=" + b"*" * len(m.group(2)), raw)
    if masked.startswith(b"##") and _CRC_TAIL.search(masked):
        masked = masked[:-6] + b"****\r\n"
    return masked


def mask_text(cp: str) -> str:
    """The same for CP text as stored with a command (``NewPW=123456`` -> asterisks)."""
    return mask(cp.encode()).decode()
