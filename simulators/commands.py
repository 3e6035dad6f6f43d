"""How a data logger carries out each platform request (HJ 212-2017 Table 9, Appendix C).

A handler gets the logger, the request and ``now``; it returns the ExeRtn for the 9012
and the frames that go between the 9011 and the 9012 (responses with the request's QN,
or history and log records with new QNs). :meth:`DataLogger.handle` wraps them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from protocol import Message, parse_time
from protocol.codes import Cn
from simulators import records
from simulators.models import Station
from simulators.scenario import Fault

MIN_INTERVALS = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)  # HJ 212-2017 Table 4, MinInterval


class DataLogger(Protocol):
    """What a handler reads and sets on :class:`simulators.logger.DataLogger` (a
    protocol type, so that the logger can import its handlers without a cycle)."""

    station: Station
    offset: float
    rtd_interval: int
    min_interval: int
    realtime_on: bool
    status_on: bool
    overtime: float | None
    recount: int | None
    params: dict[str, object]
    sampling: tuple[str, int]

    def clock(self, now: float) -> float: ...
    def set_rtd_interval(self, value: int, now: float) -> None: ...
    def add_fault(self, fault: Fault) -> None: ...
    def respond(self, message: Message, cn: str, params: dict[str, object]) -> bytes: ...
    def respond_new(self, params: dict[str, object], now: float) -> bytes: ...
    def history(self, message: Message, now: float) -> tuple[int, list[bytes]]: ...


Handler = Callable[[DataLogger, Message, float], tuple[int, list[bytes]]]


def _moment(t: float) -> datetime:
    return datetime.fromtimestamp(int(t), UTC)


def _set_time(logger: DataLogger, m: Message, now: float) -> tuple[int, list[bytes]]:
    target = parse_time(m.cp["SystemTime"]).timestamp()
    logger.offset += target - logger.clock(now)
    return 1, []


def _get_time(logger: DataLogger, m: Message, now: float) -> tuple[int, list[bytes]]:
    params: dict[str, object] = {"PolId": m.cp["PolId"]} if "PolId" in m.cp else {}
    params["SystemTime"] = _moment(logger.clock(now))
    return 1, [logger.respond(m, Cn.GET_TIME, params)]


def _set_rtd(logger: DataLogger, m: Message, now: float) -> tuple[int, list[bytes]]:
    value = int(m.cp["RtdInterval"])
    if not 1 <= value <= 3600:  # the standard says 30..3600; simulations go faster
        return 3, []
    logger.set_rtd_interval(value, now)
    return 1, []


def _set_min(logger: DataLogger, m: Message, now: float) -> tuple[int, list[bytes]]:
    value = int(m.cp["MinInterval"])
    if value not in MIN_INTERVALS:
        return 3, []
    logger.min_interval = value
    return 1, []


def new_password(m: Message) -> str:
    # HJ/T 212-2005 carried the new password as PW inside CP; 2017 calls it NewPW
    return m.cp.get("NewPW", m.cp.get("PW", ""))


def _set_pw(logger: DataLogger, m: Message, now: float) -> tuple[int, list[bytes]]:
    return (1 if 1 <= len(new_password(m)) <= 6 else 3), []


def _switch(logger: DataLogger, m: Message, now: float) -> tuple[int, list[bytes]]:
    if m.cn == Cn.REALTIME:
        logger.realtime_on = True
    else:
        logger.status_on = True
    return 1, []


def _calibrate(logger: DataLogger, m: Message, now: float) -> tuple[int, list[bytes]]:
    pol_id = m.cp["PolId"]
    if pol_id not in logger.station.model.codes:
        return 3, []
    fault = Fault("calibration", 0, 600, pollutants=frozenset({pol_id}), begin=now, end=now + 600)
    logger.add_fault(fault)
    return 1, []


def _done(logger: DataLogger, m: Message, now: float) -> tuple[int, list[bytes]]:
    return 1, []


def _set_period(logger: DataLogger, m: Message, now: float) -> tuple[int, list[bytes]]:
    logger.sampling = (m.cp["CstartTime"], int(m.cp["Ctime"]))
    return 1, []


def _get_simple(logger: DataLogger, m: Message, now: float) -> tuple[int, list[bytes]]:
    cn = m.cn or ""
    pol_id = m.cp.get("PolId", logger.station.model.codes[0])
    params: dict[str, object]
    if cn == Cn.GET_RTD_INTERVAL:
        params = {"RtdInterval": logger.rtd_interval}
    elif cn == Cn.GET_MIN_INTERVAL:
        params = {"MinInterval": logger.min_interval}
    elif cn == Cn.OVER_LIMIT_SAMPLE:
        params = {"DataTime": _moment(logger.clock(now)), "VaseNo": 1}
    elif cn == Cn.GET_SAMPLING_PERIOD:
        params = {"PolId": pol_id, "CstartTime": logger.sampling[0], "Ctime": logger.sampling[1]}
    elif cn == Cn.GET_SAMPLE_TIME:
        params = {"PolId": pol_id, "Stime": 40}
    else:  # 3019: the instrument's EPC-96 id, derived from the logger's MN
        params = {"PolId": pol_id, f"{pol_id}-SN": logger.station.mn[:-4] + f"{len(pol_id):04X}"}
    return 1, [logger.respond(m, cn, params)]


def _info(logger: DataLogger, m: Message, now: float) -> tuple[int, list[bytes]]:
    """3020: logs (i11001...) as records with new QNs; states and parameters with the
    request's QN (C.41, C.43, C.45)."""
    info_id = m.cp["InfoId"]
    pol_id, values = records.info(logger.station, int(now))
    pol_id = m.cp.get("PolId", pol_id)
    stamp = _moment(logger.clock(now))
    if info_id[2] == "1":  # a log: two entries in the window
        frames = []
        for text in ("//清洗管路//", "//时间校准//"):
            params = {"DataTime": stamp, "PolId": pol_id, f"{info_id}-Info": text}
            frames.append(logger.respond_new(params, now))
        return 1, frames
    value = logger.params.get(info_id, values.get(info_id, {}).get("Info"))
    if value is None:
        return 100, []
    params = {"DataTime": stamp, "PolId": pol_id, f"{info_id}-Info": value}
    return 1, [logger.respond(m, Cn.FIELD_INFO, params)]


def _set_info(logger: DataLogger, m: Message, now: float) -> tuple[int, list[bytes]]:
    info_id = m.cp["InfoId"]
    logger.params[info_id] = m.cp[f"{info_id}-Info"]
    return 1, []


def _history(logger: DataLogger, m: Message, now: float) -> tuple[int, list[bytes]]:
    return logger.history(m, now)


def _set_timeouts(logger: DataLogger, m: Message, now: float) -> tuple[int, list[bytes]]:
    logger.overtime = float(m.cp["OverTime"])
    logger.recount = int(m.cp["ReCount"])
    return 1, []


HANDLERS: dict[str, Handler] = {
    Cn.SET_TIMEOUTS: _set_timeouts,
    Cn.GET_TIME: _get_time,
    Cn.SET_TIME: _set_time,
    Cn.GET_RTD_INTERVAL: _get_simple,
    Cn.SET_RTD_INTERVAL: _set_rtd,
    Cn.GET_MIN_INTERVAL: _get_simple,
    Cn.SET_MIN_INTERVAL: _set_min,
    Cn.SET_PASSWORD: _set_pw,
    Cn.REALTIME: _switch,
    Cn.STATE: _switch,
    Cn.DAILY: _history,
    Cn.DAILY_RUN_TIME: _history,
    Cn.MINUTE: _history,
    Cn.HOURLY: _history,
    Cn.CALIBRATE: _calibrate,
    Cn.SAMPLE_NOW: _done,
    Cn.CLEAN: _done,
    Cn.COMPARISON_SAMPLE: _done,
    Cn.OVER_LIMIT_SAMPLE: _get_simple,
    Cn.SET_SAMPLING_PERIOD: _set_period,
    Cn.GET_SAMPLING_PERIOD: _get_simple,
    Cn.GET_SAMPLE_TIME: _get_simple,
    Cn.GET_INSTRUMENT_ID: _get_simple,
    Cn.FIELD_INFO: _info,
    Cn.SET_FIELD_PARAM: _set_info,
    Cn.RETAIN_SAMPLE: _done,
    Cn.START_STANDARD_CHECK: _done,
}
