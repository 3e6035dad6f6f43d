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
from rules import validity
from rules.config import RulesConfig
from rules.model import FLOW_CODES, OXYGEN, Reading, StationInfo
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


# -- after the link returns (docs/console.md §6) ---------------------------------------
# What an open outage case asks for once the station is heard again. The case closes on
# valid data (rules/cases.py); a plant that reports itself stopped (flag F) sends none,
# so the rule here decides what is still expected, of whom:
#
# * ``silent``: nothing since the case opened: the outage stands; enterprise: restore
#   the link, file the written report (Hubei Art. 15, 24 h), manual samples every 6 h.
# * ``stopped``: every factor F and the unit really stopped (no flow, or air-level O2:
#   rules/validity.py ``stopped``): the link is restored and the hours leave the period
#   (docs/regulations.md §1.3: F counts as shutdown only when the unit is stopped). No
#   manual sample is due while nothing is emitted. Still expected: the enterprise's
#   written report of the interruption and its stop notice or shutdown mark request
#   (环发〔2008〕6号 第十四条: a stop is reported with its window); the regulator reviews it.
# * ``flag-without-stop``: F, yet flow or O2 say the unit runs: the data are invalid
#   (received, not valid), so the case stands as for ``silent``, with the link back.
# * ``valid``: valid data: the engine closes the case at its next pass.
PHASES = ("silent", "stopped", "flag-without-stop", "invalid", "valid")


def after_link_back(
    readings: Mapping[str, Reading], cfg: RulesConfig, *, stopped_mark: bool = False
) -> str:
    """The phase of an open outage case from the newest reading of each factor since
    it opened (empty: nothing heard); ``stopped_mark``: an approved shutdown mark covers
    now, which says the unit is stopped whatever the values."""
    if not readings:
        return "silent"
    factors = {c: r for c, r in readings.items() if c not in FLOW_CODES and c != OXYGEN}
    if any(r.normal and r.value is not None for r in factors.values()):
        return "valid"
    if factors and all((r.flag or "N") == "F" for r in factors.values()):
        flow = next((readings[c].value for c in FLOW_CODES if c in readings), None)
        o2 = readings[OXYGEN].value if OXYGEN in readings else None
        unit_stopped = stopped_mark or validity.stopped(flow, o2, cfg)
        return "stopped" if unit_stopped else "flag-without-stop"
    return "invalid"


# (who, what) still expected in each phase: the case page and the board show them
EXPECTED: Mapping[str, tuple[tuple[str, str], ...]] = {
    "silent": (
        ("enterprise", "restore-link"),
        ("enterprise", "report"),
        ("enterprise", "manual-sample"),
    ),
    "stopped": (
        ("enterprise", "report"),
        ("enterprise", "stop-notice"),
        ("regulator", "review-stop"),
    ),
    "flag-without-stop": (
        ("enterprise", "valid-data"),
        ("enterprise", "report"),
        ("enterprise", "manual-sample"),
    ),
    "invalid": (
        ("enterprise", "valid-data"),
        ("enterprise", "report"),
        ("enterprise", "manual-sample"),
    ),
    "valid": (("engine", "close"),),
}
