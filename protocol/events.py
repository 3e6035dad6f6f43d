"""Typed events: what :class:`protocol.Connection` reports.

Every valid frame is a :class:`Message` (or one of its subclasses); bytes that cannot be
used are a :class:`Rejected`. The connection adds events of its own: a platform request
finished (:class:`RequestFinished`), a split set completed or timed out
(:class:`SplitComplete`, :class:`SplitIncomplete`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from protocol.codes import Flag

Value = float | str | datetime | None
Fields = dict[str, Value]
Values = dict[str, Fields]


# Frames are value objects and nothing mutates them, but they are not ``frozen``: a frozen
# dataclass pays object.__setattr__ per field, 2.1 µs against 0.7 µs per frame measured
# here, on a path that runs for every frame received.
@dataclass(slots=True, kw_only=True)
class Message:
    """A frame whose envelope, CRC and syntax are valid.

    ``header`` and ``cp`` hold every key with its original text (keys in the standard's
    spelling when known, so ``OverTime`` whatever case the device used; unknown keys as
    sent). ``flag`` is None when the device sent none (HJ/T 212-2005 often omits it).
    ``deviations`` lists every way the frame bent the standard; ``crc_variant`` is
    ``hj212``, or the legacy variant the station's policy accepted.
    """

    raw: bytes
    segment: bytes
    header: dict[str, str]
    cp: dict[str, str]
    version: str
    flag: int | None = None
    crc_variant: str = "hj212"
    deviations: tuple[str, ...] = ()
    flow_ack: bool = False  # part of a 2005 request flow in ack mode: answer it with 9014

    @property
    def qn(self) -> str | None:
        return self.header.get("QN")

    @property
    def st(self) -> str | None:
        return self.header.get("ST")

    @property
    def cn(self) -> str | None:
        return self.header.get("CN")

    @property
    def pw(self) -> str | None:
        return self.header.get("PW")

    @property
    def mn(self) -> str | None:
        return self.header.get("MN")

    @property
    def pnum(self) -> int | None:
        text = self.header.get("PNUM")
        return int(text) if text is not None else None

    @property
    def pno(self) -> int | None:
        text = self.header.get("PNO")
        return int(text) if text is not None else None

    @property
    def ack_requested(self) -> bool:
        return self.flag is not None and bool(self.flag & Flag.ACK)

    @property
    def split(self) -> bool:
        return self.pnum is not None or (self.flag is not None and bool(self.flag & Flag.SPLIT))

    @property
    def resent(self) -> bool:
        """HJ 212-2025 ``RF=1``: data sent again after an outage (补传)."""
        return self.header.get("RF") == "1"

    @property
    def dedupe_key(self) -> tuple[str | None, ...]:
        """Same key = the same frame sent again (MN, CN, QN, PNO)."""
        return (self.mn, self.cn, self.qn, self.header.get("PNO"))


@dataclass(slots=True, kw_only=True)
class DataUpload(Message):
    """Monitoring data: ``values[code][suffix]`` typed (float, text, datetime).

    ``code_map`` maps the codes the device sent to the 2017 codes used as keys in
    ``values`` (only for HJ/T 212-2005 devices that send old codes).
    """

    data_time: datetime
    values: Values = field(default_factory=dict)
    code_map: dict[str, str] = field(default_factory=dict)

    @property
    def dedupe_key(self) -> tuple[str | None, ...]:
        """Same key = the same record again, whatever its QN: (MN, CN, DataTime, PNO)."""
        return (self.mn, self.cn, self.data_time.isoformat(), self.header.get("PNO"))


@dataclass(slots=True, kw_only=True)
class Reply(Message):
    """An answer: 9011 (``qn_rtn``), 9012 (``exe_rtn``), 9013 or 9014.

    ``answers_qn`` is the QN of the frame answered: the header QN, or for HJ/T 212-2005
    the ``QN`` inside CP.
    """

    answers_qn: str | None = None
    qn_rtn: int | None = None
    exe_rtn: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejected:
    """Bytes that could not be used, with a stable ``code`` and a readable ``detail``.

    Codes: ``framing`` (no frame structure), ``length`` (bad or too large length),
    ``crc`` (no CRC matches), ``legacy-crc`` (a legacy CRC matched but is not accepted),
    ``syntax`` (bad segment), ``decrypt`` (SM4 failed). ``mn``/``cn``/``qn`` are filled
    in when the header could still be read, so the archive can file a frame with a bad
    CRC under its station; ``crc_variant`` names the legacy CRC that matched, if any.
    """

    raw: bytes
    code: str
    detail: str
    mn: str | None = None
    cn: str | None = None
    qn: str | None = None
    crc_variant: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestFinished:
    """A platform request (sent with :meth:`Connection.send_request`) has ended.

    ``outcome``: ``ok`` (9012 ExeRtn=1, or 9013 for a notification), ``rejected`` (9011
    QnRtn != 1), ``failed`` (9012 ExeRtn != 1), ``timeout`` (no 9011 after ReCount
    retries, or no result within the execution timeout).
    """

    qn: str
    cn: str
    outcome: str
    qn_rtn: int | None = None
    exe_rtn: int | None = None
    attempts: int = 1
    responses: tuple[Message, ...] = ()
    ack_mode: bool = False  # the request's Flag asked for answers


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitComplete:
    """Every packet of a split set arrived; ``upload`` merges their values."""

    upload: DataUpload
    packets: tuple[DataUpload, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitIncomplete:
    """A split set timed out with packets missing (each packet was reported on its own)."""

    mn: str | None
    cn: str | None
    data_time: datetime
    pnum: int
    received: tuple[int, ...]


Event = Message | Rejected | RequestFinished | SplitComplete | SplitIncomplete
