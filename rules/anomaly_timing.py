"""Timing anomalies: clock drift, out-of-order and retransmitted data.

HJ 212-2017 §6.3.3: DataTime is the station's clock (Beijing time) and, for minute,
hour and day data, the **start** of the period, sent once the period is over
(docs/regulations.md §1.7). So a record is "from the future" when its period ends more
than ``drift_future_s`` after it was received: the station's clock is ahead. Real-time
data (2011) should arrive at once; repeatedly late real-time data mean a clock
behind (back-filled data after an outage are exempt: they belong to the gap).

Lateness is judged against the receive time only for data that come in real time: a
record whose DataTime moved on from the previous one of its kind by no more than the
receive time did (with a margin for the network). A logger emptying its store (补传),
or a replay of past data faster than real time, sends records whose times race ahead
of the receive time: how late they are says nothing about the station's clock. Data
from the future are a clock ahead whatever their pace: no backlog is from the future.
"""

from __future__ import annotations

from protocol.codes import Cn
from rules.config import RulesConfig
from rules.state_parts import Gap
from rules.times import DAY, HOUR, MINUTE, US


def period(cn: str, minute_interval_min: int) -> int:
    """The span a record of ``cn`` describes, µs (HJ 212-2017 Table 9)."""
    if cn == Cn.MINUTE:
        return minute_interval_min * MINUTE
    if cn == Cn.HOURLY:
        return HOUR
    if cn == Cn.DAILY:
        return DAY
    return 0


def drift_s(cn: str, data_time: int, received: int, minute_interval_min: int) -> float:
    """Seconds by which the record's period ends after it was received (+: ahead)."""
    return (data_time + period(cn, minute_interval_min) - received) / US


def real_time(
    data_time: int, newest: int | None, received: int, previous_received: int | None
) -> bool:
    """Whether a record came at the pace of its data: its DataTime later than the newest
    of its kind by no more than twice the time since that kind last arrived, plus 1 s."""
    if newest is None or previous_received is None:
        return False  # the first of its kind: no pace to judge by yet
    ahead = data_time - newest
    return 0 < ahead <= 2 * (received - previous_received) + US


def from_future(drift: float, cfg: RulesConfig) -> bool:
    return drift > cfg.drift_future_s


def late_realtime(cn: str, drift: float, cfg: RulesConfig) -> bool:
    return cn == Cn.REALTIME and drift < -cfg.drift_behind_s


def in_gap(data_time: int, gap: Gap | None) -> bool:
    """Whether ``data_time`` falls in the station's last silence (back-filled data)."""
    return gap is not None and gap.start <= data_time <= gap.end


def out_of_order(data_time: int, newest: int | None, gap: Gap | None) -> bool:
    """Older than data already received for the same CN, and not a back-fill."""
    return newest is not None and data_time < newest and not in_gap(data_time, gap)
