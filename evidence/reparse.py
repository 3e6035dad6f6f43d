"""Re-reading stored frames with the codec: the values their bytes carry."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from protocol import DecodeOptions, Framer, Message, RawFrame, decode
from storage.records import MeasurementRow, measurements_of

# Whatever legacy CRC a station's policy allowed, the bytes are the same: accept all
# variants here (the status the gateway gave the frame is compared separately).
OPTIONS = DecodeOptions(accept_crc=frozenset({"modbus", "modbus-swapped"}))


class Unreadable(Exception):
    """The codec does not accept the frame's bytes (``code``: its rejection code)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code


def message(raw: bytes) -> Message:
    """The one frame in ``raw``, decoded; raises :class:`Unreadable`."""
    items = Framer().feed(raw)
    if len(items) != 1 or not isinstance(items[0], RawFrame):
        detail = getattr(items[0], "detail", "") if items else "no frame"
        raise Unreadable("framing", f"not exactly one frame ({len(items)} items) {detail}")
    event = decode(items[0], OPTIONS)
    if not isinstance(event, Message):
        raise Unreadable(event.code, event.detail)
    return event


def decoded_rows(raw: bytes) -> list[MeasurementRow] | None:
    """The measurement rows the writer makes of these bytes; None if unreadable."""
    try:
        return measurements_of(message(raw))
    except Unreadable:
        return None


def row_key(row: Mapping[str, Any]) -> tuple[str, str, datetime]:
    """(cn, pollutant, data_time) of an exported or stored measurement row."""
    at = row["data_time"]
    when = at if isinstance(at, datetime) else datetime.fromisoformat(at)
    return (row["cn"], row["pollutant"], when)
