"""What the storage layer writes: protocol events turned into rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from protocol import DataUpload, Event, Message, Rejected

# measurement columns in COPY order, after (data_time, mn, cn, pollutant)
VALUE_FIELDS = ("Rtd", "Min", "Avg", "Max", "Cou", "ZsRtd", "ZsMin", "ZsAvg", "ZsMax")


@dataclass(frozen=True, slots=True)
class MeasurementRow:
    data_time: datetime
    mn: str
    cn: str
    pollutant: str
    values: tuple[float | None, ...]
    flag: str | None
    eflag: str | None


@dataclass(slots=True)
class FrameRecord:
    """One received frame, ready to archive, with the measurements it carries."""

    received_at: datetime
    peer: str
    transport: str
    raw: bytes
    status: str
    error: str | None = None
    mn: str | None = None
    qn: str | None = None
    st: str | None = None
    cn: str | None = None
    flag: int | None = None
    measurements: list[MeasurementRow] = field(default_factory=list)


def _number(value: float | str | None) -> float | None:
    return value if isinstance(value, float) else None


def _text(value: float | str | None) -> str | None:
    return value if isinstance(value, str) else None


def measurements_of(upload: DataUpload) -> list[MeasurementRow]:
    message = upload.message
    if message.mn is None or message.cn is None:
        return []
    return [
        MeasurementRow(
            data_time=upload.data_time,
            mn=message.mn,
            cn=message.cn,
            pollutant=code,
            values=tuple(_number(fields.get(name)) for name in VALUE_FIELDS),
            flag=_text(fields.get("Flag")),
            eflag=_text(fields.get("EFlag")),
        )
        for code, fields in upload.values.items()
    ]


def record_of(event: Event, *, received_at: datetime, peer: str, transport: str) -> FrameRecord:
    """The archive record of one event (valid, rejected or garbage)."""
    if isinstance(event, Rejected):
        status = "garbage" if event.code == "framing" and event.mn is None else "rejected"
        return FrameRecord(
            received_at,
            peer,
            transport,
            event.raw,
            status,
            f"{event.code}: {event.detail}",
            mn=event.mn,
            qn=event.qn,
            cn=event.cn,
        )
    message: Message = event.message if isinstance(event, DataUpload) else event
    record = FrameRecord(
        received_at,
        peer,
        transport,
        message.raw,
        "ok",
        mn=message.mn,
        qn=message.qn,
        st=message.st,
        cn=message.cn,
        flag=message.flag,
    )
    if isinstance(event, DataUpload):
        record.measurements = measurements_of(event)
    return record
