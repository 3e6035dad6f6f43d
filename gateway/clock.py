"""Station clocks: answer time-calibration requests, measure drift, correct it if allowed.

HJ 212-2017 C.4: a station sends 1013, the platform answers 9013, then sends 1012 with
its own time. Drift (device time minus receive time) is measured on every real-time
upload (DataTime), every frame with a 17-digit QN and every answer to 1011 (its
SystemTime, C.2: the device's own clock, asked for), kept per station, and written to
``hj212.clock_drift`` once a minute. Above ``drift_threshold`` the gateway sends 1012 by
itself when ``auto_time_correction`` is on (at most once an hour per station), logged as
a command from 'gateway'.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import psycopg

from config.settings import GatewaySettings
from gateway.commands import Linked
from protocol import DataUpload, Message, ProtocolError, parse_time
from storage import clock_drift
from storage.db import AsyncPool

log = logging.getLogger(__name__)
CORRECTION_EVERY = 3600.0
SAMPLE_EVERY = 10.0


@dataclass
class Drift:
    measured_at: datetime
    source: str
    seconds: float
    corrected: bool = False


# sends a command the gateway decides on by itself (Commands.send_auto)
SendAuto = Callable[[Linked, str, dict[str, object]], None]


class Clock:
    def __init__(
        self,
        db: AsyncPool,
        settings: GatewaySettings,
        now: Callable[[], datetime],
        send_auto: SendAuto,
    ) -> None:
        self.db = db
        self.settings = settings
        self.now = now
        self.send_auto = send_auto
        self.latest: dict[str, Drift] = {}
        self._unsaved: dict[str, Drift] = {}
        self._corrected_at: dict[str, float] = {}

    def observe(self, session: Linked, message: DataUpload, received_at: datetime) -> None:
        last = self.latest.get(message.mn or "")
        if last is not None and (received_at - last.measured_at).total_seconds() < SAMPLE_EVERY:
            return  # drift moves slowly: one measurement per station every few seconds

        by_data, by_qn = drift_seconds(message, received_at)
        seconds, source = (by_data, "datatime") if by_data is not None else (by_qn, "qn")
        if seconds is None or message.mn is None:
            return
        self._note(session, message, message.mn, Drift(received_at, source, seconds))

    def observe_system_time(self, session: Linked, message: Message, received_at: datetime) -> None:
        """A 1011 answer: ``SystemTime`` minus the receive time, always taken."""
        text = message.cp.get("SystemTime")
        if text is None or message.mn is None:
            return
        try:
            seconds = (parse_time(text) - received_at).total_seconds()
        except ProtocolError:
            return  # archived as sent; a time that does not parse says nothing
        self._note(session, message, message.mn, Drift(received_at, "systemtime", seconds))

    def _note(self, session: Linked, message: Message, mn: str, drift: Drift) -> None:
        seconds = drift.seconds
        self.latest[mn] = drift
        self._unsaved[mn] = drift
        settings = self.settings
        if settings.auto_time_correction and abs(seconds) > settings.drift_threshold:
            loop_now = asyncio.get_running_loop().time()
            if loop_now - self._corrected_at.get(mn, -CORRECTION_EVERY) >= CORRECTION_EVERY:
                self._corrected_at[mn] = loop_now
                drift.corrected = True
                log.warning("clock of %s is off by %.0f s: sending 1012", mn, seconds)
                self.set_time(session, message)

    def set_time(self, session: Linked, message: Message) -> None:
        params: dict[str, object] = {"SystemTime": self.now()}
        if "PolId" in message.cp:
            params = {"PolId": message.cp["PolId"], **params}
        self.send_auto(session, "1012", params)

    async def run(self, every: float = 60.0) -> None:
        while True:
            await asyncio.sleep(every)
            await self.flush()

    async def flush(self) -> None:
        rows, self._unsaved = self._unsaved, {}
        if not rows:
            return
        try:
            async with self.db.connection() as c:
                await clock_drift.save(
                    c,
                    [
                        (d.measured_at, mn, d.source, d.seconds, d.corrected)
                        for mn, d in rows.items()
                    ],
                )
        except (psycopg.Error, OSError) as exc:
            log.debug("clock drift not saved (%s); will retry", exc)
            for mn, drift in rows.items():
                self._unsaved.setdefault(mn, drift)


def drift_seconds(message: Message, received_at: datetime) -> tuple[float | None, float | None]:
    """Device clock minus receive time, from DataTime (real-time data) and from QN."""
    by_data = None
    if isinstance(message, DataUpload) and message.cn == "2011":
        by_data = (message.data_time - received_at).total_seconds()
    by_qn = None
    qn = message.qn
    if qn is not None and len(qn) == 17 and qn.isdigit():
        try:
            by_qn = (parse_time(qn) - received_at).total_seconds()
        except ProtocolError:
            by_qn = None  # a QN that is not a time (13-digit epoch ms, ...) says nothing
    return by_data, by_qn
