"""Typed events: what :class:`protocol.Connection` reports and what it can send."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from protocol.codes import Flag

Values = dict[str, dict[str, float | str]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """A frame whose envelope, CRC and syntax are valid.

    ``header`` and ``cp`` keep every key with its original text; the named fields
    are the ones the platform acts on. ``flag`` is None when the device sent none
    (HJ/T 212-2005 devices often omit it).
    """

    raw: bytes
    segment: bytes
    header: dict[str, str]
    cp: dict[str, str]
    version: str
    qn: str | None = None
    st: str | None = None
    cn: str | None = None
    pw: str | None = None
    mn: str | None = None
    flag: int | None = None
    pnum: int | None = None
    pno: int | None = None
    deviations: tuple[str, ...] = ()

    @property
    def ack_requested(self) -> bool:
        return self.flag is not None and bool(self.flag & Flag.ACK)


@dataclass(frozen=True, slots=True, kw_only=True)
class DataUpload:
    """An upload of monitoring data (2011, 2051, 2061, 2031, ...): values per pollutant."""

    message: Message
    data_time: datetime
    values: dict[str, dict[str, float | str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejected:
    """Bytes that could not be used, with a stable ``code`` and a readable ``detail``.

    ``mn``/``cn``/``qn`` are filled in when the header could still be read, so the
    archive can file a frame with a bad CRC under its station.
    """

    raw: bytes
    code: str
    detail: str
    mn: str | None = None
    cn: str | None = None
    qn: str | None = None


Event = Message | DataUpload | Rejected
