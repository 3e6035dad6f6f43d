"""The small records of a station's rules state, by name instead of by position.

Each is stored in the state's JSON as the list of its fields in order (the form the
state had when they were bare lists), so that snapshots taken before they had names
still load, and the JSON is no larger than it was. The records that never change once
made are named tuples: ``json`` writes them as lists by itself, at C speed (a day of
hourly series is most of a state), and ``cls._make(item)`` reads one back. The ones
that count up in place are slotted dataclasses, written by :func:`open_hours_out`.
Times are integer microseconds (``rules.times``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple


class HourRecord(NamedTuple):
    """An hour record (2061) of one factor, held until its hour is judged: the first
    one stored wins, as in the database."""

    avg: float | None
    zs: float | None
    cou: float | None
    flag: str | None
    received: int  # when it came: on time or not (docs/regulations.md §1.2)
    min: float | None
    max: float | None


@dataclass(slots=True)
class MinuteSums:
    """The minute records (2051) of one factor in an open hour: counts and sums for the
    hour's validity (docs/regulations.md §2.1) and its check against the hour (A21)."""

    n: int = 0
    n_valid: int = 0
    sum_c: float = 0.0  # Σ concentration over the valid minutes
    sum_cq: float = 0.0  # Σ concentration x flow volume (water: flow-weighted mean)
    sum_q: float = 0.0  # Σ flow volume
    n_q: int = 0  # valid minutes with a flow volume
    sum_cou: float = 0.0  # Σ Cou over every minute
    n_cou: int = 0


@dataclass(slots=True)
class OpenHour:
    """What arrived for an hour not yet judged; ``None`` where nothing of the kind came
    (stored as an absent key)."""

    h: dict[str, HourRecord] | None = None
    m: dict[str, MinuteSums] | None = None


class SeriesPoint(NamedTuple):
    """One judged hour of a factor in the series the hourly anomaly checks look back on."""

    hour: int
    value: float  # the hour's Avg as sent
    judged: float  # the value judged for exceedance (gas: converted to the O2 reference)
    valid: int  # 0/1: a valid hour (kept an int, as stored)
    running: int  # 0/1: the unit was running
    q: float | None  # the hour's flow volume, m3


class Run(NamedTuple):
    """A value repeated since ``start`` (A7 on real-time and minute data)."""

    value: float
    start: int


class FlagRun(NamedTuple):
    """A factor flagged in one group (``device`` or ``maintenance``) since ``start``."""

    group: str
    start: int


class Refusals(NamedTuple):
    """Frames refused since data last got through."""

    first: int
    code: str  # why the last one was refused
    frames: int
    pace: int  # shortest interval seen between two of them
    last: int


class Drift(NamedTuple):
    """The clock's drift so far: direction (1 ahead, -1 behind, 0 right) and how many
    records in a row showed it."""

    direction: int = 0
    records: int = 0


class Receipts(NamedTuple):
    """Retransmitted and out-of-order records in the hour being judged."""

    duplicates: int = 0
    out_of_order: int = 0


class Gap(NamedTuple):
    """The last silence (outage): data of a time inside it are back-fill."""

    start: int
    end: int


class DayCount(NamedTuple):
    """Valid and expected hours of a factor in the day being accumulated."""

    valid: int = 0
    expected: int = 0


class PlannedStop(NamedTuple):
    """An advance notice of a planned stop or maintenance (环发〔2008〕6号 第十四条):
    a case that starts inside its window, after it was filed, is planned."""

    id: int
    start: int
    end: int
    kind: str  # planned-stop | planned-maintenance
    filed: int


class Active(NamedTuple):
    """A condition in force: its alarm's key, and the CN that must clear it ("" any)."""

    key: str
    cn: str


def open_hours_out(hours: dict[str, OpenHour]) -> dict[str, dict[str, Any]]:
    """The JSON form of the open hours: ``{"h": {pol: [...]}, "m": {pol: [...]}}``
    each, without the kind that did not come (a comprehension: a ``json`` default
    hook per record costs a tenth of the whole dump)."""
    out: dict[str, dict[str, Any]] = {}
    for key, hour in hours.items():
        item: dict[str, Any] = {}
        if hour.h is not None:
            item["h"] = hour.h
        if hour.m is not None:
            item["m"] = {
                code: [m.n, m.n_valid, m.sum_c, m.sum_cq, m.sum_q, m.n_q, m.sum_cou, m.n_cou]
                for code, m in hour.m.items()
            }
        out[key] = item
    return out


def open_hour(item: dict[str, dict[str, list[Any]]]) -> OpenHour:
    h, m = item.get("h"), item.get("m")
    return OpenHour(
        None if h is None else {code: HourRecord._make(v) for code, v in h.items()},
        None if m is None else {code: MinuteSums(*v) for code, v in m.items()},
    )
