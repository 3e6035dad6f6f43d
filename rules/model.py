"""What the rules see and what they say: stations, records, marks in; alarms out.

Inputs are plain frozen dataclasses built by the storage layer from the registry
(``hj212.station``, ``hj212.station_pollutant``), the measurements and the data marks.
Outputs are :class:`Alarm` (a condition found), :class:`Clear` (the condition is gone)
and :class:`CaseEvent` (a case opened, a deadline approached or passed, a case closed).
Every output carries ``key``: the identity of the condition, stable across a replay, so
that storage inserts each alarm once and a replay can be compared with what was raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

# Flow factors: flue-gas flow (m³/s) and waste-water flow (L/s), HJ 212-2017 Table B.1/B.2.
GAS_FLOW = "a00000"
WATER_FLOW = "w00000"
OXYGEN = "a19001"
NOX, NO, NO2 = "a21002", "a21003", "a21004"
FLOW_CODES = frozenset({GAS_FLOW, WATER_FLOW})

Detail = Mapping[str, object]


@dataclass(frozen=True, slots=True)
class PollutantConfig:
    """One ``hj212.station_pollutant`` row."""

    code: str
    assessed: bool = True  # counts in the effective transmission rate
    limit: float | None = None  # emission limit in the pollutant's unit
    limit_period: str | None = None  # 'hour' | 'day'; None: hour for gas, day for water
    range_low: float | None = None  # the analyser's measuring range
    range_high: float | None = None
    unit: str | None = None  # overrides the code table's unit


@dataclass(frozen=True, slots=True)
class StationInfo:
    """One ``hj212.station`` row with its pollutants (registry as the rules need it)."""

    mn: str
    medium: str = "other"  # gas | water | other
    region_code: str = "000000"
    name: str = ""
    enterprise: str = ""
    o2_ref: float | None = None  # reference O2 (%) for converted values; None: none
    rt_interval_s: int = 30
    minute_interval_min: int = 10
    active: bool = True
    registered: bool = True  # False: an MN the gateway accepted without a registry row
    created_at: datetime | None = None
    pollutants: Mapping[str, PollutantConfig] = field(default_factory=dict)

    def assessed(self) -> list[str]:
        return sorted(code for code, p in self.pollutants.items() if p.assessed)


@dataclass(frozen=True, slots=True)
class Reading:
    """One pollutant of one record (HJ 212-2017 Table 4 fields)."""

    rtd: float | None = None
    min: float | None = None
    avg: float | None = None
    max: float | None = None
    cou: float | None = None
    zs_rtd: float | None = None
    zs_avg: float | None = None
    flag: str | None = None

    @property
    def value(self) -> float | None:
        """Rtd for real-time data, Avg for minute, hour and day data."""
        return self.rtd if self.rtd is not None else self.avg

    @property
    def zs(self) -> float | None:
        return self.zs_rtd if self.zs_rtd is not None else self.zs_avg

    @property
    def normal(self) -> bool:
        """Flag N (or no flag at all, as some loggers send): HJ 212-2017 Table 8."""
        return self.flag is None or self.flag == "N"


@dataclass(frozen=True, slots=True)
class Fact:
    """One fact of a station message (``hj212.device_event``, protocol/contents.py):
    ``kind`` (restart, instrument-id, standard-check, ...), its factor ('' for the
    station's), its time and fields. For ``instrument-id`` the payload also holds
    ``previous_sn``, the serial number reported before (None: the first one)."""

    kind: str
    pollutant: str
    at: datetime
    payload: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Record:
    """One received frame of one station, with the measurements it stored.

    ``data_time`` is None for frames without measurements (heartbeats, status, replies):
    they still show the station is alive. ``duplicate``: every record in it had been
    stored before (a retransmission). ``refused``: the frame was archived but not
    accepted (``legacy-crc``, ``decrypt``, ``wrong-password`` ...): it shows that the
    station tries, never that it is alive.
    """

    mn: str
    cn: str
    received_at: datetime
    data_time: datetime | None = None
    readings: Mapping[str, Reading] = field(default_factory=dict)
    frame_id: int = 0
    duplicate: bool = False
    refused: str | None = None
    facts: tuple[Fact, ...] = ()  # what the frame's answer or event upload said


@dataclass(frozen=True, slots=True)
class Mark:
    """A data mark (标记, MEE 公告2022年第21号): ``hj212.data_mark``.

    The engine sees a mark from ``marked_at`` on, as it was live; ``revokes`` withdraws
    an earlier mark from then on.
    """

    id: int
    mn: str
    pollutant: str | None
    start: datetime
    end: datetime
    category: str
    invalidates: bool
    marked_at: datetime
    revokes: int | None = None


@dataclass(frozen=True, slots=True)
class Alarm:
    key: str
    mn: str
    kind: str
    severity: str  # info | warning | critical
    at: datetime  # when the condition became known (a receive time or a deadline)
    pollutant: str | None = None
    data_time: datetime | None = None
    value: float | None = None
    threshold: float | None = None
    detail: Detail = field(default_factory=dict)
    case_key: str | None = None


@dataclass(frozen=True, slots=True)
class Clear:
    key: str
    mn: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """A step in a case's timeline: opened, reminder, overdue, manual-sampling, closed."""

    case_key: str
    mn: str
    kind: str
    at: datetime
    detail: Detail = field(default_factory=dict)


Output = Alarm | Clear | CaseEvent
