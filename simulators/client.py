"""One simulated station on the wire: an asyncio Protocol per connection, and the
behaviour of a real data logger around it.

* reconnects with exponential backoff and jitter (0.5 s doubling to 30 s);
* sends one upload at a time and waits for the platform's 9014 for OverTime seconds,
  resending up to ReCount times (HJ 212-2017 §6.2, Table 1), then gives it up;
* keeps what it could not send while the platform is unreachable and uploads the
  backlog when the link returns (2025: ``RF=1``);
* answers platform commands through :class:`~simulators.logger.DataLogger`;
* applies the scenario's link faults (garbage, bad CRC, duplicates, split packets,
  slow writes, reconnect storms, disconnects).

Per connection it keeps a :class:`Link` (slots, a protocol.Connection) and per station
a :class:`Device` (slots); no task per frame, timers only.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Protocol

from protocol import Connection, Message, Rejected, Reply, Role, crc16_hex, encode
from protocol.codes import Cn
from simulators.counts import Counts
from simulators.logger import MEASUREMENT_CNS, DataLogger
from simulators.records import Record
from simulators.scenario import Fault
from simulators.signals import mix, uniform
from simulators.wire import bad_crc

BACKOFF_MIN = 0.5
BACKOFF_MAX = 30.0
HEARTBEAT = 60.0  # simulated seconds of silence before a 2025 logger sends 9015
MAX_BACKLOG = 20_000  # records kept while the platform is unreachable
MAX_TICK = 1.0  # real seconds between two looks at the fault timeline


class Link(asyncio.Protocol):
    """One connection: bytes to :class:`protocol.Connection`, events to the device."""

    __slots__ = ("_chunks", "closed", "conn", "device", "transport")

    def __init__(self, device: Device) -> None:
        self.device = device
        self.conn = Connection(Role.STATION)
        self.transport: asyncio.WriteTransport | None = None
        self.closed: asyncio.Future[None] = device.fleet.loop.create_future()
        self._chunks: deque[bytes] | None = None  # slow writes in progress

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.device.connected(self)

    def data_received(self, data: bytes) -> None:
        device = self.device
        qn = _plain_9014(data)
        if qn is not None:  # the hot path of a load run: one whole, valid 9014
            device.fleet.counts.acks += 1
            device.acked(qn)
            return
        events = self.conn.receive_data(data, device.fleet.loop.time())
        for event in events:
            if isinstance(event, Reply):
                device.answered(event)
            elif isinstance(event, Message):
                for wire in device.logger.handle(event, device.fleet.sim_now()):
                    self.write(wire)
                device.fleet.counts.commands += 1
            elif isinstance(event, Rejected):
                device.fleet.counts.rejected_in += 1
        if auto := self.conn.data_to_send():  # 9013 for 2012/2022
            self.write(auto)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
        self.device.lost(self)

    def write(self, data: bytes) -> None:
        fault = self.device.fault("slow_writes")
        if fault is None and self._chunks is None:
            if self.transport is not None:
                self.transport.write(data)
            return
        chunk = fault.chunk if fault else 64
        first = self._chunks is None
        if self._chunks is None:
            self._chunks = deque()
        self._chunks.extend(data[i : i + chunk] for i in range(0, len(data), chunk))
        if first:
            self._dribble(fault.delay if fault else 0.0)

    def _dribble(self, delay: float) -> None:
        chunks = self._chunks
        if not chunks or self.transport is None or self.transport.is_closing():
            self._chunks = None
            return
        self.transport.write(chunks.popleft())
        self.device.fleet.loop.call_later(delay, self._dribble, delay)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class Flight:
    """The upload waiting for its 9014(s): one per packet of a split upload."""

    __slots__ = ("attempts", "frames", "number", "pending", "record", "sent_at")

    def __init__(
        self, number: int, record: Record, frames: list[bytes], pending: set[str], at: float
    ) -> None:
        self.number = number  # the device's upload count when it was sent
        self.record = record
        self.frames = frames
        self.pending = pending
        self.attempts = 1
        self.sent_at = at


def _plain_9014(data: bytes) -> str | None:
    """The QN of ``data`` when it is exactly one 2017/2025 9014 with a good CRC (what a
    platform sends back thousands of times a second), else None: the caller decodes it
    with :class:`protocol.Connection` like anything else."""
    if (
        len(data) > 150
        or data[:4] != b"##00"
        or data[-2:] != b"\r\n"
        or not data.startswith(b"QN=", 6)
        or b";CN=9014;" not in data
    ):
        return None
    segment = data[6:-6]
    if not data[2:6].isdigit() or int(data[2:6]) != len(segment):
        return None
    if crc16_hex(segment).encode() != data[-6:-2].upper():
        return None
    return segment[3:20].decode("ascii")


def _qn(frame: bytes) -> str | None:
    at = frame.find(b"QN=", 6)
    return frame[at + 3 : at + 20].decode("ascii") if at >= 0 else None


class Device:
    """A station's logger plus its link state, backlog and timers."""

    __slots__ = (
        "_attempt",
        "_held",
        "_jitter",
        "_storm_at",
        "_tick",
        "faults",
        "fleet",
        "flight",
        "last_sent",
        "link",
        "logger",
        "outage",
        "outbox",
        "uploads",
        "waiting",
    )

    def __init__(self, fleet: Host, logger: DataLogger, faults: tuple[Fault, ...]) -> None:
        self.fleet = fleet
        self.logger = logger
        self.faults = faults  # link faults of this station, bound to the run
        self.outbox: deque[Record] = deque(maxlen=MAX_BACKLOG)
        self.link: Link | None = None
        self.flight: Flight | None = None
        self.waiting = False  # queued at the rate limiter
        self.outage = False  # the platform was unreachable: what waits now is 补传
        self.uploads = 0
        self.last_sent = fleet.sim_now()
        self._tick: asyncio.TimerHandle | None = None
        self._storm_at = 0.0
        self._jitter = (logger.station.index * 0.6180339887) % 1.0  # spreads the sends
        self._attempt = 0
        self._held: Record | None = None  # out_of_order: a real-time record sent late

    def fault(self, kind: str, now: float | None = None) -> Fault | None:
        if not self.faults:
            return None
        t = self.fleet.sim_now() if now is None else now
        for f in self.faults:
            if f.kind == kind and f.begin <= t < f.end:
                return f
        return None

    # -- lifecycle --------------------------------------------------------------------
    async def run(self) -> None:
        """Connect, wait for the link to drop, reconnect with backoff, until the end."""
        fleet, backoff = self.fleet, BACKOFF_MIN
        self.tick()
        while not fleet.stopping:
            if (outage := self.fault("disconnect") or self.fault("cut_off")) is not None:
                await fleet.sleep(fleet.real_delay(outage.end))
                continue
            try:
                link = await fleet.open_link(self)
            except OSError:
                self.outage = True
                fleet.counts.connect_errors += 1
                await fleet.sleep(backoff * self.jitter())
                backoff = min(backoff * 2, BACKOFF_MAX)
                continue
            backoff = BACKOFF_MIN
            if fleet.stopped():
                link.close()
            await link.closed
            if self.fault("reconnect_storm") is None and not fleet.stopped():
                await fleet.sleep(BACKOFF_MIN * self.jitter())

    def jitter(self) -> float:
        """0.5..1.5, different for every attempt of every station, from the seed: a
        fleet that lost its platform does not come back in one wave."""
        self._attempt += 1
        station = self.logger.station
        return 0.5 + uniform(mix(station.seed, station.index, self._attempt))

    def connected(self, link: Link) -> None:
        self.link = link
        self.outage = False
        self.fleet.counts.connections += 1
        self.fleet.counts.open_connections += 1
        self._storm_at = 0.0
        ask = self.logger.time_request(self.fleet.sim_now())
        if ask is not None:
            link.write(ask)
            self.fleet.counts.time_requests += 1
        self.pump()

    def lost(self, link: Link) -> None:
        if self.link is not link:
            return
        self.link = None
        self.outage = True
        self.fleet.counts.open_connections -= 1
        if self.flight is not None:  # not acknowledged: keep it for the backlog
            self.flight.record.resent = True
            self.outbox.appendleft(self.flight.record)
            self.flight = None

    def stop(self) -> None:
        if self._tick is not None:
            self._tick.cancel()
        if self.link is not None:
            self.link.close()

    # -- the schedule -----------------------------------------------------------------
    def tick(self) -> None:
        fleet = self.fleet
        if fleet.stopping or fleet.overdue():
            return
        now = fleet.sim_now()
        late = self.link is None and self.outage
        for record in self._reorder(self.logger.due(now), now):
            if self.fault("cut_off", record.t) is not None:
                continue  # lost to the upload queue; the logger's history still has it
            record.resent = late
            if len(self.outbox) == MAX_BACKLOG:
                fleet.counts.dropped += 1
            self.outbox.append(record)
            fleet.counts.records += 1
        fleet.counts.backlog_max = max(fleet.counts.backlog_max, len(self.outbox))
        if self.link is not None:
            storm = self.fault("reconnect_storm", now)
            if storm is not None and not self._storm_at:
                # drop the link `every` simulated seconds from now, on a timer of its own
                self._storm_at = now + storm.every
                fleet.loop.call_later(storm.every / fleet.speed, self.link.close)
            if self.fault("disconnect", now) or self.fault("cut_off", now):
                self.link.close()
            elif self.logger.station.version == "2025" and now - self.last_sent >= HEARTBEAT:
                self.link.write(self.logger.heartbeat(now))
                self.last_sent = now
                fleet.counts.heartbeats += 1
        self.pump()
        # a logger sends a little after it samples: spread over the RtdInterval, so that
        # a fleet on one grid does not send in one burst
        spread = self._jitter * self.logger.rtd_interval / fleet.speed
        delay = fleet.real_delay(self.logger.next_due()) + spread
        delay = min(delay, MAX_TICK if self.faults else 3600.0)
        self._tick = fleet.loop.call_later(max(delay, 0.001), self.tick)

    def _reorder(self, due: list[Record], now: float) -> list[Record]:
        """``out_of_order``: every other real-time record waits for the next one and
        goes after it, so DataTime steps back (a logger with a muddled queue)."""
        if self.fault("out_of_order", now) is None:
            held, self._held = self._held, None
            return due if held is None else [held, *due]
        out = []
        for record in due:
            if record.cn != Cn.REALTIME:
                out.append(record)
            elif self._held is None:
                self._held = record
            else:
                out += [record, self._held]
                self._held = None
        return out

    # -- sending ----------------------------------------------------------------------
    def pump(self) -> None:
        """Send the next upload if none is waiting for its answer (stop-and-wait)."""
        fleet = self.fleet
        if self.flight is not None or self.link is None or not self.outbox or fleet.overdue():
            return
        if not fleet.limiter.acquire(self):
            return
        record = self.outbox.popleft()
        now = fleet.sim_now()
        split = self.fault("split_packets", now)
        limit = split.limit if split else encode.STANDARD_SEGMENT
        frames = self.logger.frames(record, now, limit=limit)
        self.uploads += 1
        self.last_sent = now
        self._transmit(frames, now)
        qns = {qn for f in frames if (qn := _qn(f)) is not None}
        if self.logger.station.version == "2005" or not qns:
            fleet.counts.unacked_sent += 1  # 2005 uploads carry no Flag: nothing comes back
            fleet.loop.call_soon(self.pump)
            return
        self.flight = Flight(self.uploads, record, frames, qns, fleet.loop.time())
        fleet.expect(self, self.flight, self.overtime)

    @property
    def overtime(self) -> float:
        return self.logger.overtime or self.fleet.overtime

    def _transmit(self, frames: list[bytes], now: float) -> None:
        link, counts = self.link, self.fleet.counts
        assert link is not None
        n = self.uploads
        garbage = self.fault("garbage", now)
        if garbage is not None and n % int(garbage.every) == 0:
            link.write(b"\x00\xff\x13garbage on the line\x11" + str(n).encode())
            counts.garbage_sent += 1
        corrupt = self.fault("bad_crc", now)
        copies = 2 if (dup := self.fault("duplicates", now)) and n % int(dup.every) == 0 else 1
        for frame in frames:
            if corrupt is not None and n % int(corrupt.every) == 0:
                link.write(bad_crc(frame))
                counts.bad_crc_sent += 1
            for _ in range(copies):
                link.write(frame)
                counts.frames_sent += 1
        counts.duplicates_sent += copies - 1

    def answered(self, reply: Reply) -> None:
        counts = self.fleet.counts
        if reply.cn == Cn.NOTIFY_ANSWER:
            counts.answers_9013 += 1
            return
        if reply.cn != Cn.DATA_ANSWER:
            return
        counts.acks += 1
        self.acked(reply.answers_qn)

    def acked(self, qn: str | None) -> None:
        """A 9014 for ``qn``: the upload is done once every packet of it is answered."""
        flight, counts = self.flight, self.fleet.counts
        if flight is None or qn not in flight.pending:
            return
        flight.pending.discard(qn)
        if flight.pending:
            return
        counts.latency(self.fleet.loop.time() - flight.sent_at)
        counts.uploads_acked += 1
        if flight.record.cn in MEASUREMENT_CNS:
            values = flight.record.values
            counts.values_acked += len(values) if values else len(self.logger.station.model.codes)
        if flight.record.resent:
            counts.resent_acked += 1
        self.flight = None
        self.pump()

    def timed_out(self, number: int, attempt: int) -> None:
        """OverTime passed since ``attempt`` of upload ``number`` was sent (called by
        the fleet's deadline sweep, which also calls for uploads since answered)."""
        counts, flight = self.fleet.counts, self.flight
        if flight is None or flight.number != number or flight.attempts != attempt:
            return
        if self.link is None:
            return
        recount = self.logger.recount if self.logger.recount is not None else self.fleet.recount
        if flight.attempts <= recount and not self.fleet.stopping:
            flight.attempts += 1
            counts.retries += 1
            for frame in flight.frames:
                self.link.write(frame)
                counts.frames_sent += 1
            flight.sent_at = self.fleet.loop.time()
            self.fleet.expect(self, flight, self.overtime)
            return
        counts.timeouts += 1
        self.flight = None
        self.pump()


class Limiter(Protocol):
    def acquire(self, device: Device) -> bool: ...


class Host(Protocol):
    """What a device uses of :class:`simulators.fleet.Fleet` that runs it (a protocol
    type, so that the fleet imports its devices and not the other way round too)."""

    @property
    def loop(self) -> asyncio.AbstractEventLoop: ...
    @property
    def counts(self) -> Counts: ...
    @property
    def limiter(self) -> Limiter: ...
    @property
    def speed(self) -> float: ...
    @property
    def stopping(self) -> bool: ...
    @property
    def overtime(self) -> float: ...
    @property
    def recount(self) -> int: ...
    @property
    def open_link(self) -> Callable[[Device], asyncio.Future[Link]]: ...

    def expect(self, device: Device, flight: Flight, overtime: float) -> None: ...
    def sim_now(self) -> float: ...
    def real_delay(self, sim_time: float) -> float: ...
    async def sleep(self, seconds: float) -> None: ...
    def stopped(self) -> bool: ...
    def overdue(self) -> bool: ...
