"""Outage (联网异常 / 掉线, A1): a station silent beyond its expected interval.

A1 [S]: no packet at all (heartbeat included) for more than max(3 x the real-time
interval, 10 min). The interval is the shortest of the uploads the station was seen
sending in the last day: 2011 every ``RtdInterval``, 2051 every ``MinInterval``, 2061
hourly, 2031 daily (HJ 212-2017 Table 9); a station not heard from yet is expected
hourly. The multiple and the floor are ``silence_multiple`` and ``silence_min_s``.
"""

from __future__ import annotations

from collections.abc import Mapping

from protocol.codes import Cn
from rules.config import RulesConfig
from rules.model import StationInfo
from rules.times import DAY, HOUR, MINUTE, US


def interval(cn: str, station: StationInfo) -> int | None:
    """How often ``cn`` data come from ``station``, µs (None: not a periodic upload)."""
    if cn == Cn.REALTIME:
        return station.rt_interval_s * US
    if cn == Cn.MINUTE:
        return station.minute_interval_min * MINUTE
    if cn == Cn.HOURLY:
        return HOUR
    if cn == Cn.DAILY:
        return DAY
    return None


def threshold(cadence: Mapping[str, int], station: StationInfo, now: int, cfg: RulesConfig) -> int:
    """Silence (µs) after which the station is in outage."""
    seen = [interval(cn, station) for cn, last in cadence.items() if last >= now - DAY]
    periods = [p for p in seen if p is not None]
    return silence(min(periods) if periods else HOUR, cfg)


def silence(expected: int, cfg: RulesConfig) -> int:
    """How long (µs) a station expected every ``expected`` µs may be silent."""
    return max(round(cfg.silence_multiple * expected), round(cfg.silence_min_s * US))
