"""What the storage layer writes: protocol events turned into rows.

Every frame becomes one :class:`FrameRecord` (the archive row), carrying the rows its
content adds: measurements for the data uploads 2011/2051/2061/2031 (HJ 212-2017
§6.6, Table 9; and HJ 212-2025's 2052/2111), noise levels among them (-Data, -DayData,
-NightData, Tables C.26-C.28), device-status rows for 2021 (SBx-RS), 2041 (SBx-RT)
and 3020 (ixxxxx-Info, with its PolId), and device events for what the answers and
event uploads say (protocol/contents.py: 1011, 1061/1063, 2081, 3015, 3017-3019, 2013,
2062). The frame keeps its deviations and its 2025 ``RF`` (docs/protocol.md §16).

The codec is read through what every version of :mod:`protocol` has in common (a
message's ``raw``/``cp``/``mn``/``cn``..., a data upload's ``data_time`` and
``values``), so the codec can evolve without this module changing with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone

from protocol import Event, Message, Rejected
from protocol.codes import MEASUREMENT_CODES, MEASUREMENT_CODES_2025, Deviation
from protocol.contents import contents_of
from protocol.pollutants import lookup

# measurement columns in COPY order, after (data_time, mn, cn, pollutant)
VALUE_FIELDS = ("Rtd", "Min", "Avg", "Max", "Cou", "ZsRtd", "ZsMin", "ZsAvg", "ZsMax")
NOISE_FIELDS = ("Data", "DayData", "NightData")  # HJ 212-2017 Tables C.26-C.28
MEASUREMENT_CNS = MEASUREMENT_CODES | MEASUREMENT_CODES_2025
STATUS_CNS = frozenset({"2021", "2041", "3020"})
_BEIJING = timezone(timedelta(hours=8))  # DataTime is Beijing time (HJ 212-2017 §6.3.3)
# Longest MN/QN/ST/CN/code filed in a column (the standard's are 4-24); the raw bytes
# keep whatever was sent. Longer text from a hostile or broken peer would overflow a
# btree index entry and fail the whole batch, other stations' frames included.
MAX_KEY = 64


@dataclass(frozen=True, slots=True)
class MeasurementRow:
    data_time: datetime
    mn: str
    cn: str
    pollutant: str
    values: tuple[float | None, ...]
    flag: str | None
    eflag: str | None
    noise: tuple[float | None, ...] = ()  # NOISE_FIELDS, or () when there are none

    @property
    def key(self) -> tuple[str, str, str, datetime]:
        """What makes a record unique: a retransmission has the same key."""
        return (self.mn, self.cn, self.pollutant, self.data_time)


@dataclass(frozen=True, slots=True)
class StatusRow:
    """One item of a 2021/2041/3020 upload: ``SB1-RS=1`` is device SB1, item RS."""

    data_time: datetime
    mn: str
    cn: str
    device: str
    item: str
    value: float | None
    text_value: str

    @property
    def key(self) -> tuple[str, str, str, str, datetime]:
        return (self.mn, self.cn, self.device, self.item, self.data_time)


@dataclass(frozen=True, slots=True)
class EventRow:
    """One fact of a station message (protocol/contents.py), as hj212.device_event."""

    data_time: datetime
    mn: str
    cn: str
    kind: str
    pollutant: str
    payload: Mapping[str, object]

    @property
    def key(self) -> tuple[str, str, str, str, datetime]:
        return (self.mn, self.cn, self.kind, self.pollutant, self.data_time)


@dataclass(slots=True)
class FrameRecord:
    """One received frame, ready to archive, with the rows it carries.

    ``status`` is ``ok``, ``rejected`` or ``garbage`` here; the writer turns ``ok`` into
    ``duplicate`` when every row the frame carries was already stored.
    """

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
    status_rows: list[StatusRow] = field(default_factory=list)
    spool_id: str | None = None  # the gateway's spool id, when it was spooled first
    deviations: tuple[str, ...] = ()  # protocol.Message.deviations (a refused legacy CRC's)
    rf: bool | None = None  # HJ 212-2025 RF=1 (补传); None: not a 2025 frame
    events: list[EventRow] = field(default_factory=list)

    @property
    def chain(self) -> str:
        """The hash chain this frame belongs to: its MN, or '' when it has none."""
        return self.mn or ""


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    return float(value) if isinstance(value, float | int) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _float_or_none(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def parse_data_time(text: str) -> datetime | None:
    """``YYYYMMDDhhmmss[zzz]`` in Beijing time, or None when it is not one."""
    if not text.isdigit() or len(text) not in (14, 17):
        return None
    try:
        base = datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=_BEIJING)
    except ValueError:
        return None
    return base + timedelta(milliseconds=int(text[14:] or 0))


def _message_of(event: object) -> Message | None:
    # Older codecs wrap the message (DataUpload.message); newer ones subclass it.
    inner = getattr(event, "message", event)
    return inner if isinstance(inner, Message) else None


def _data_time(event: object, message: Message) -> datetime | None:
    at = getattr(event, "data_time", None)
    if isinstance(at, datetime):
        return at
    return parse_data_time(message.cp.get("DataTime", ""))


def measurements_of(event: object) -> list[MeasurementRow]:
    """One row per pollutant of a 2011/2051/2061/2031 upload (none for anything else)."""
    message = _message_of(event)
    values = getattr(event, "values", None)
    if message is None or message.mn is None or message.cn not in MEASUREMENT_CNS:
        return []
    at = _data_time(event, message)
    if at is None or not isinstance(values, Mapping):
        return []
    mn, cn = message.mn, message.cn
    rows = []
    for code, fields in values.items():
        if isinstance(fields, Mapping):
            numbers, noise = _columns(fields)
            flag, eflag = fields.get("Flag"), fields.get("EFlag")
            rows.append(
                MeasurementRow(
                    at,
                    mn,
                    cn,
                    str(code),
                    numbers,
                    flag if isinstance(flag, str) else None,
                    eflag if isinstance(eflag, str) else None,
                    noise,
                )
            )
    return rows


_VALUE_AT = {name: i for i, name in enumerate(VALUE_FIELDS)}
_NOISE_AT = {name: i for i, name in enumerate(NOISE_FIELDS)}
_NO_VALUES: tuple[float | None, ...] = (None,) * len(VALUE_FIELDS)


def _columns(
    fields: Mapping[str, object],
) -> tuple[tuple[float | None, ...], tuple[float | None, ...]]:
    """A pollutant's VALUE_FIELDS and NOISE_FIELDS columns (noise: () when none is a
    number), in one pass over what was sent: a 2011 sends two or three of the twelve.
    The gateway does this for every pollutant of every frame (docs/performance.md §9)."""
    values: list[float | None] | None = None
    noise: list[float | None] | None = None
    for name, value in fields.items():
        number = value if type(value) is float else _number(value)
        if number is None:
            continue
        at = _VALUE_AT.get(name)
        if at is not None:
            values = values or [None] * len(VALUE_FIELDS)
            values[at] = number
            continue
        at = _NOISE_AT.get(name)
        if at is not None:
            noise = noise or [None] * len(NOISE_FIELDS)
            noise[at] = number
    return (tuple(values) if values else _NO_VALUES), (tuple(noise) if noise else ())


def events_of(event: object, received_at: datetime) -> list[EventRow]:
    """The device events of a station message: protocol/contents.py's facts as rows."""
    message = _message_of(event)
    if message is None or message.mn is None:
        return []
    return [
        EventRow(
            c.at or received_at, message.mn, message.cn or "", c.kind, c.pollutant, c.payload()
        )
        for c in contents_of(message)
    ]


def status_rows_of(event: object) -> list[StatusRow]:
    """The items of a 2021/2041/3020 upload, read from the CP text as sent."""
    message = _message_of(event)
    if message is None or message.mn is None or message.cn not in STATUS_CNS:
        return []
    at = _data_time(event, message)
    if at is None:
        return []
    pol_id = message.cp.get("PolId", "")
    rows = []
    for key, text in message.cp.items():
        code, sep, suffix = key.partition("-")
        if not sep or not code or not suffix:
            continue
        if message.cn == "3020":  # DataTime;[PolId;]ixxxxx-Info=... (§6.6 Table 9)
            device, item = pol_id, code
        else:  # SB1-RS=1 / SB1-RT=23.5
            device, item = code, suffix
        rows.append(StatusRow(at, message.mn, message.cn, device, item, _float_or_none(text), text))
    return rows


def record_of(event: Event, *, received_at: datetime, peer: str, transport: str) -> FrameRecord:
    """The archive record of one frame event (valid, rejected or garbage).

    :raises TypeError: for an event that is not a frame (it has no bytes to archive).
    """
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
            deviations=(f"{Deviation.LEGACY_CRC_}{event.crc_variant}",)
            if event.crc_variant
            else (),
        )
    message = _message_of(event)
    if message is None:
        raise TypeError(f"{type(event).__name__} is not a frame: nothing to archive")
    return FrameRecord(
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
        measurements=measurements_of(event),
        status_rows=status_rows_of(event),
        deviations=message.deviations,
        rf=message.resent if message.version == "2025" else None,
        events=events_of(event, received_at),
    )


def drop_unknown_pollutants(record: FrameRecord, registered: frozenset[str]) -> list[str]:
    """Keep the measurements of factors HJ 212-2017 Appendix B names (factor, process or
    information codes) or the station is registered for; the others stay in the raw
    frame only, noted in the record's error. A CP key is not a pollutant because a
    device (or anyone) sent it: 760 invented keys would be 760 invented rows."""
    known = [m for m in record.measurements if m.pollutant in registered or lookup(m.pollutant)]
    if len(known) == len(record.measurements):
        return []
    dropped = sorted({m.pollutant for m in record.measurements} - {m.pollutant for m in known})
    record.measurements = known
    shown = ", ".join(dropped[:5]) + (" ..." if len(dropped) > 5 else "")
    note = f"{len(dropped)} unknown pollutant code(s) not stored: {shown}"
    record.error = f"{record.error}; {note}" if record.error else note
    return dropped


def _clean(text: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL (valid UTF-8, so the codec lets it through)."""
    return text.replace("\x00", "\ufffd") if text is not None and "\x00" in text else text


def _clean_payload(payload: Mapping[str, object]) -> dict[str, object]:
    return {k: _clean(v) if isinstance(v, str) else v for k, v in payload.items()}


def _row_ok(*texts: str | None) -> bool:
    return all(t is None or (len(t) <= MAX_KEY and "\x00" not in t) for t in texts)


def _plainly_safe(record: FrameRecord) -> bool:
    """The usual case, cheaply: the rows' text comes from the raw bytes, so no NUL in
    those means none in the rows (a caller's own record that slips through is still
    isolated by the writer); the header fields and all lengths are checked."""
    if b"\x00" in record.raw or "\x00" in record.peer or "\x00" in (record.error or ""):
        return False
    if not _row_ok(record.mn, record.qn, record.st, record.cn):
        return False
    if record.flag is not None and not 0 <= record.flag <= 32767:
        return False
    return (
        all(len(m.pollutant) <= MAX_KEY for m in record.measurements)
        and all(len(s.device) <= MAX_KEY and len(s.item) <= MAX_KEY for s in record.status_rows)
        and all(len(e.pollutant) <= MAX_KEY for e in record.events)
    )


def safe(record: FrameRecord) -> FrameRecord:
    """Make every column of ``record`` storable, in place; the raw bytes are untouched.

    NUL becomes U+FFFD in free text; an over-long or NUL-bearing MN/QN/ST/CN is not
    filed (the error says so), and without a usable MN the frame's rows are not stored
    (status ``rejected``). Rows with an unusable code or flag are left out, noted.
    """
    if record.received_at.tzinfo is None:  # hashed and stored as the same instant
        record.received_at = record.received_at.replace(tzinfo=UTC)
    if _plainly_safe(record):
        return record
    record.peer = _clean(record.peer) or ""
    record.transport = _clean(record.transport) or ""
    problems = []
    for name in ("mn", "qn", "st", "cn"):
        value = getattr(record, name)
        if value is not None and not _row_ok(value):
            problems.append(f"{name.upper()} unusable ({len(value)} characters), not filed")
            setattr(record, name, None)
    if record.flag is not None and not 0 <= record.flag <= 32767:
        problems.append(f"Flag {record.flag} out of range, not filed")
        record.flag = None
    record.deviations = tuple(_clean(d) or "" for d in record.deviations)
    record.events = [
        replace(e, payload=_clean_payload(e.payload))
        for e in record.events
        if record.mn is not None and _row_ok(e.pollutant)
    ]
    carried = len(record.measurements) + len(record.status_rows)
    if record.mn is None:
        record.measurements, record.status_rows = [], []
    else:
        record.measurements = [
            m
            if _row_ok(m.flag, m.eflag)
            else replace(m, flag=_clean(m.flag), eflag=_clean(m.eflag))
            for m in record.measurements
            if _row_ok(m.pollutant)
        ]
        record.status_rows = [
            s if "\x00" not in s.text_value else replace(s, text_value=_clean(s.text_value) or "")
            for s in record.status_rows
            if _row_ok(s.device, s.item)
        ]
    dropped = carried - len(record.measurements) - len(record.status_rows)
    if dropped:
        problems.append(f"{dropped} value(s) with unusable codes not stored")
        if record.status == "ok" and record.mn is None:
            record.status = "rejected"
    if problems:
        record.error = "; ".join([_clean(record.error) or "", *problems]).lstrip("; ")
    else:
        record.error = _clean(record.error)
    return record
