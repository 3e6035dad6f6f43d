"""A data logger (数采仪), sans-IO: what it uploads and when, how it answers commands.

No sockets and no clock: ``now`` (simulated seconds since the epoch) comes in, frames
(bytes) go out. :mod:`simulators.client` and :mod:`simulators.serial_link` carry them.

Uploads (HJ 212-2017 §6.6, Table 9), on the true-time grid:

* 2011 every RtdInterval; 2021 every MinInterval (both while switched on: 2011/2012 and
  2021/2022 from the platform);
* 2051 after every MinInterval, 2061 every hour, 2031 and 2041 every day, for the period
  just ended; 3020 (state and parameters) every hour; 2081 once, at power-on (C.24).

Commands are answered as HJ 212-2017 Appendix C shows: 9011 QnRtn, then the response
with the request's QN (1011, 1061, 1063, 3015, 3017-3020) or history records with new
QNs (2031/2041/2051/2061, 3020 logs), then 9012 ExeRtn. 2012/2022 are answered 9013 by
:class:`protocol.Connection` itself (auto-answer).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from protocol import Message, Reply, encode, format_time, parse_time
from protocol.codes import MEASUREMENT_CODES, Cn
from protocol.errors import ProtocolError
from simulators import records
from simulators.commands import HANDLERS, new_password
from simulators.models import Station
from simulators.records import HOUR, Record, Values
from simulators.scenario import Fault
from simulators.signals import DAY
from simulators.wire import encode_record, legacy_crc, realtime_frame, station_frame

DEFAULT_UPLOADS = frozenset(
    {
        Cn.REALTIME,
        Cn.STATE,
        Cn.MINUTE,
        Cn.HOURLY,
        Cn.DAILY,
        Cn.DAILY_RUN_TIME,
        Cn.FIELD_INFO,
        Cn.RESTART,
    }
)
MEASUREMENT_CNS = MEASUREMENT_CODES
CLOCK_TOLERANCE = 60.0  # seconds of clock error before a logger asks for the time
MAX_HISTORY = 2000  # records returned for one history request at most
_HISTORY_PERIOD = {Cn.MINUTE: 0, Cn.HOURLY: HOUR, Cn.DAILY: DAY, Cn.DAILY_RUN_TIME: DAY}


def _moment(t: float) -> datetime:
    return datetime.fromtimestamp(int(t), UTC)


_SECONDS: dict[int, str] = {}


def _second(t: int) -> str:
    """``YYYYMMDDhhmmss`` of ``t`` (cached: a fleet stamps the same seconds)."""
    text = _SECONDS.get(t)
    if text is None:
        if len(_SECONDS) > 4096:
            _SECONDS.clear()
        text = _SECONDS[t] = format_time(_moment(t))
    return text


class DataLogger:
    """One station's logger. ``due(now)`` yields the uploads whose time has come;
    ``handle(message, now)`` answers a platform command; ``frames(record, now)``
    encodes an upload in the station's protocol version."""

    def __init__(
        self,
        station: Station,
        *,
        start: int,
        rtd_interval: int = 30,
        min_interval: int = 10,
        uploads: frozenset[str] = DEFAULT_UPLOADS,
        link_faults: tuple[Fault, ...] = (),
    ) -> None:
        self.station = station
        self.password = station.password
        self.rtd_interval = max(1, rtd_interval)
        self.min_interval = min_interval
        self.overtime: float | None = None  # set by CN 1000 (seconds)
        self.recount: int | None = None
        if station.version == "2005":
            uploads -= {Cn.RESTART, Cn.FIELD_INFO}  # 2081 and 3020 are new in HJ 212-2017
        self.uploads = uploads
        self.realtime_on = Cn.REALTIME in uploads
        self.status_on = Cn.STATE in uploads
        self.drift_faults = tuple(f for f in link_faults if f.kind == "clock_drift")
        self.no_hourly = tuple(f for f in link_faults if f.kind == "no_hourly")
        self.offset = 0.0  # set by 1012: the logger's clock minus true time, drift aside
        self.params: dict[str, object] = {}
        self.sampling = ("000000", 2)  # 3016 CstartTime, Ctime
        self._seq = 0
        self.restart = start
        minute = min_interval * 60
        self._next = {
            Cn.REALTIME: -(-start // self.rtd_interval) * self.rtd_interval,
            Cn.STATE: -(-start // minute) * minute,
            Cn.MINUTE: start - start % minute,
            Cn.HOURLY: start - start % HOUR,
            Cn.FIELD_INFO: -(-start // HOUR) * HOUR,
            "day": records.day_start(start),
        }
        self._pending_restart = Cn.RESTART in uploads

    # -- the logger's clock -----------------------------------------------------------
    def clock(self, now: float) -> float:
        """What the logger's clock shows at true time ``now``: offset plus drift."""
        drift = 0.0
        for f in self.drift_faults:
            if now > f.begin:
                drift += f.factor * (min(now, f.end) - f.begin) / 3600.0
        return now + self.offset + drift

    def set_rtd_interval(self, value: int, now: float) -> None:
        """1062: the new RtdInterval, the next 2011 on its grid."""
        self.rtd_interval = value
        self._next[Cn.REALTIME] = -(-int(now) // value) * value

    def new_qn(self, now: float) -> str:
        """A QN from the logger's clock; the millisecond field counts frames."""
        self._seq += 1
        return _second(int(self.clock(now))) + f"{self._seq % 1000:03d}"

    # -- uploads ----------------------------------------------------------------------
    def next_due(self) -> int:
        """The earliest true time at which :meth:`due` will have something."""
        minute = self.min_interval * 60
        times = [self._next[Cn.HOURLY] + HOUR, self._next["day"] + DAY, self._next[Cn.FIELD_INFO]]
        times.append(self._next[Cn.MINUTE] + minute)
        if self.realtime_on:
            times.append(self._next[Cn.REALTIME])
        if self.status_on:
            times.append(self._next[Cn.STATE])
        return min(times)

    def due(self, now: float) -> list[Record]:
        """Every upload due at or before ``now``, oldest first. Values are computed
        when the record is sent (:meth:`fill`): a backlog costs a few bytes a record."""
        out: list[Record] = []
        nxt, step, wanted = self._next, self.rtd_interval, self.uploads
        if self._pending_restart:
            self._pending_restart = False
            restart = _moment(self.clock(self.restart))
            out.append(self._record(Cn.RESTART, self.restart, 0, {"RestartTime": restart}))
        while nxt[Cn.REALTIME] <= now:
            if self.realtime_on:
                out.append(self._record(Cn.REALTIME, nxt[Cn.REALTIME]))
            nxt[Cn.REALTIME] += step
        minute = self.min_interval * 60
        while nxt[Cn.STATE] <= now:
            if self.status_on:
                out.append(self._record(Cn.STATE, nxt[Cn.STATE]))
            nxt[Cn.STATE] += minute
        for cn, seconds in ((Cn.MINUTE, minute), (Cn.HOURLY, HOUR)):
            while nxt[cn] + seconds <= now:
                if cn == Cn.MINUTE or not self._hourly_stopped(nxt[cn] + seconds):
                    out.append(self._record(cn, nxt[cn], seconds))
                nxt[cn] += seconds
        while nxt[Cn.FIELD_INFO] <= now:
            out.append(self._record(Cn.FIELD_INFO, nxt[Cn.FIELD_INFO]))
            nxt[Cn.FIELD_INFO] += HOUR
        while nxt["day"] + DAY <= now:
            out.append(self._record(Cn.DAILY, nxt["day"], DAY))
            out.append(self._record(Cn.DAILY_RUN_TIME, nxt["day"], DAY))
            nxt["day"] += DAY
        return [r for r in out if r.cn in wanted]

    def _hourly_stopped(self, made: int) -> bool:
        """``no_hourly``: the hour records due while the fault lasts are never made (the
        logger's hourly statistics stopped; its other uploads go on)."""
        return any(f.begin <= made < f.end for f in self.no_hourly)

    def _record(
        self, cn: str, t: int, seconds: int = 0, extra: dict[str, object] | None = None
    ) -> Record:
        stamp = round(self.clock(t))
        return Record(cn, t, stamp, None, extra, seconds=seconds, station=self.station)

    def fill(self, record: Record) -> Values:
        """The record's values, from the station as it was when the record fell due."""
        if record.values is None:
            station, cn, t = record.station or self.station, record.cn, record.t
            if cn == Cn.REALTIME:
                record.values = records.realtime(station, t)
            elif cn == Cn.STATE:
                record.values = records.status(station, t)
            elif cn == Cn.DAILY_RUN_TIME:
                record.values = records.runtime(station, t)
            elif cn == Cn.FIELD_INFO:
                pol_id, record.values = records.info(station, t)
                record.extra = {"PolId": pol_id}
            elif cn in (Cn.MINUTE, Cn.HOURLY, Cn.DAILY):
                record.values = records.period(station, t, record.seconds, self.rtd_interval)
            else:
                record.values = {}
        return record.values

    def frames(
        self, record: Record, now: float, *, limit: int = encode.STANDARD_SEGMENT
    ) -> list[bytes]:
        """The frames of one upload, in the station's version, answer wanted."""
        station, qn = self.station, self.new_qn(now)
        plain = station.version != "2005" and station.sm4_key is None
        if record.cn == Cn.REALTIME and record.values is None and plain:
            # the hot path: readings rendered to text in one pass
            items = records.realtime_text(record.station or station, record.t)
            if items is not None:
                args = (station, self.password, record, qn, items)
                frame = realtime_frame(*args, ack=True, limit=limit)
                if frame is not None:
                    return [frame]
        self.fill(record)
        return encode_record(station, self.password, record, qn, limit=limit)

    def time_request(self, now: float) -> bytes | None:
        """1013 (HJ 212-2017 C.4) when the logger's clock is off by more than a minute:
        the platform answers 9013, then sets the time with 1012. Not in 2005."""
        if self.station.version == "2005" or abs(self.clock(now) - now) <= CLOCK_TOLERANCE:
            return None
        return station_frame(
            self.station, self.password, Cn.TIME_CALIBRATION, {}, self.new_qn(now), ack=True
        )

    def heartbeat(self, now: float) -> bytes:
        """HJ 212-2025 9015, answered 9013 by the platform."""
        return station_frame(
            self.station, self.password, Cn.HEARTBEAT, {}, self.new_qn(now), ack=True
        )

    # -- commands ---------------------------------------------------------------------
    def handle(self, message: Message, now: float) -> list[bytes]:
        """The frames that answer a platform command (nothing for answers themselves)."""
        cn = message.cn or ""
        if isinstance(message, Reply) or cn in (
            Cn.NOTIFY_ANSWER,
            Cn.DATA_ANSWER,
            Cn.HEARTBEAT,
            Cn.NEW_KEY,
        ):
            return []
        if cn in (
            Cn.STOP_REALTIME,
            Cn.STOP_STATE,
        ):  # notifications: protocol.Connection queued the 9013
            if cn == Cn.STOP_REALTIME:
                self.realtime_on = False
            else:
                self.status_on = False
            return []
        handler = HANDLERS.get(cn)
        rtn = 8 if handler is None else self._check(message)
        out = [self._reply(message, Cn.REQUEST_ANSWER, qn_rtn=rtn)]
        if handler is None or rtn != 1:
            return out
        try:
            exe, frames = handler(self, message, now)
        except (ProtocolError, ValueError, KeyError):
            exe, frames = 3, []  # HJ 212-2017 Table 6: the request's conditions are wrong
        out += frames
        out.append(self._reply(message, Cn.RESULT, exe_rtn=exe))
        if cn == Cn.SET_PASSWORD and exe == 1:
            self.password = new_password(message)  # the 9012 still has the old PW (C.9)
        return out

    def _check(self, message: Message) -> int:
        """QnRtn (HJ 212-2017 Table 7): 3 wrong PW, 4 wrong MN, else 1."""
        if message.pw is not None and message.pw != self.password:
            return 3
        if message.mn is not None and message.mn != self.station.mn:
            return 4
        return 1

    def _reply(
        self, message: Message, cn: str, *, qn_rtn: int | None = None, exe_rtn: int | None = None
    ) -> bytes:
        station = self.station
        wire = encode.answer(
            cn,
            qn=message.qn,
            pw=message.pw,
            mn=station.mn,
            version=station.version,
            qn_rtn=qn_rtn,
            exe_rtn=exe_rtn,
        )
        return legacy_crc(wire, station.crc)

    def respond(self, message: Message, cn: str, params: dict[str, object]) -> bytes:
        """A response inside a request flow: the request's QN, no answer wanted."""
        qn = message.qn or self.new_qn(0)
        return station_frame(self.station, self.password, cn, params, qn, ack=False)

    def respond_new(self, params: dict[str, object], now: float) -> bytes:
        """A 3020 log record inside a request flow: a new QN of its own (C.41)."""
        qn = self.new_qn(now)
        return station_frame(self.station, self.password, Cn.FIELD_INFO, params, qn, ack=False)

    def history(self, message: Message, now: float) -> tuple[int, list[bytes]]:
        """2031/2041/2051/2061 between BeginTime and EndTime (period starts, inclusive):
        one record per period, each with a new QN (C.20-C.23), none for periods not
        yet ended."""
        cn = message.cn or ""
        begin = int(parse_time(message.cp["BeginTime"]).timestamp())
        end = int(parse_time(message.cp["EndTime"]).timestamp())
        seconds = _HISTORY_PERIOD[cn] or self.min_interval * 60
        first = records.day_start(begin) if seconds == DAY else begin - begin % seconds
        if first < begin:
            first += seconds
        frames: list[bytes] = []
        for t in range(first, min(end, int(now) - seconds) + 1, seconds):
            if len(frames) >= MAX_HISTORY:
                break
            values = (
                records.runtime(self.station, t)
                if cn == Cn.DAILY_RUN_TIME
                else records.period(self.station, t, seconds, self.rtd_interval)
            )
            record = Record(cn, t, round(self.clock(t)), values, seconds=seconds)
            qn = self.new_qn(now)
            frames += encode_record(self.station, self.password, record, qn, ack=False)
        return (1 if frames else 100), frames

    def add_fault(self, fault: Fault) -> None:
        """A fault the platform caused (3011 calibration): it shows in later readings."""
        self.station = replace(self.station, faults=(*self.station.faults, fault))
