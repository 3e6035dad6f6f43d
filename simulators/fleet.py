"""A fleet of simulated data loggers over TCP (or one over a serial port).

:func:`run_fleet` builds the stations (models round-robin, versions, scenario
overrides and faults), runs them on simulated time (``speed`` simulated seconds per
real second, from ``start``) for ``duration`` real seconds, and returns the counts.
Targets must be loopback addresses unless ``allow_remote`` is set: a load generator
pointed at someone else's server by mistake is an attack.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ipaddress
import resource
import socket
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from simulators import serial_link
from simulators.client import Device, Flight, Link
from simulators.counts import Counts
from simulators.logger import DEFAULT_UPLOADS, DataLogger
from simulators.models import MODELS, Station, make_station
from simulators.scenario import MODEL_NAMES, Fault, Scenario
from simulators.timebase import SimulatedClock

DEFAULT_PREFIX = "5131"
SWEEP = 0.05  # seconds between two looks at the OverTime deadlines
YOUNG_GC = 50_000  # allocations between two young collections during a run (default 700)


class RateLimiter:
    """A token bucket over the whole fleet; devices without a token queue up and are
    woken in order as tokens come back."""

    def __init__(self, loop: asyncio.AbstractEventLoop, rate: float | None) -> None:
        self.loop = loop
        self.rate = rate if rate and rate > 0 else None
        self.burst = max(1.0, (self.rate or 0) * 0.02)
        self.tokens = self.burst
        self.last = loop.time()
        self.queue: deque[Device] = deque()
        self._armed = False

    def acquire(self, device: Device) -> bool:
        if self.rate is None:
            return True
        now = self.loop.time()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        if not device.waiting:
            device.waiting = True
            self.queue.append(device)
        self._arm()
        return False

    def _arm(self) -> None:
        if not self._armed and self.rate is not None:
            self._armed = True
            self.loop.call_later(max(0.002, 1.0 / self.rate), self._wake)

    def _wake(self) -> None:
        """Wake as many waiting devices as there are tokens, oldest first."""
        self._armed = False
        now = self.loop.time()
        assert self.rate is not None
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        queue = self.queue
        for _ in range(min(int(self.tokens), len(queue))):
            device = queue.popleft()
            device.waiting = False
            device.pump()
        if queue:
            self._arm()


class Fleet:
    """The run: simulated clock, limiter, counts, and how devices reach the platform."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        start: float,
        speed: float,
        deadline: float,
        rate: float | None,
        overtime: float,
        recount: int,
        counts: Counts,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.host, self.port = host, port
        self.speed = speed
        self.start = start
        self.mono0 = self.loop.time()
        self.deadline = deadline
        self.limiter = RateLimiter(self.loop, rate)
        self.overtime, self.recount = overtime, recount
        self.counts = counts
        self.stopping = False
        self._stop = asyncio.Event()
        # OverTime deadlines of uploads waiting for their 9014, swept every SWEEP s: one
        # entry per upload is much cheaper than a timer armed and cancelled each time.
        # One FIFO per OverTime value is already in deadline order; an entry names the
        # upload by number, not by its Flight, so that answered uploads (rate x OverTime
        # of them at any time) are not kept alive for the collector to walk through.
        self._deadlines: dict[float, deque[tuple[float, Device, int, int]]] = {}
        self.open_link: Callable[[Device], asyncio.Future[Link]] = self._tcp

    def expect(self, device: Device, flight: Flight, overtime: float) -> None:
        queue = self._deadlines.get(overtime)
        if queue is None:
            queue = self._deadlines[overtime] = deque()
        queue.append((self.loop.time() + overtime, device, flight.number, flight.attempts))

    async def sweep(self) -> None:
        """Call :meth:`Device.timed_out` for every deadline passed, until stopped."""
        while True:
            await asyncio.sleep(SWEEP)
            now = self.loop.time()
            for queue in list(self._deadlines.values()):  # a resend may add an OverTime
                while queue and queue[0][0] <= now:
                    _, device, number, attempt = queue.popleft()
                    device.timed_out(number, attempt)

    def sim_now(self) -> float:
        return self.start + (self.loop.time() - self.mono0) * self.speed

    def real_delay(self, sim_time: float) -> float:
        """Real seconds until simulated time ``sim_time``."""
        return max(0.0, (sim_time - self.sim_now()) / self.speed)

    async def sleep(self, seconds: float) -> None:
        """Sleep, but wake up when the run stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), max(seconds, 0.0))

    def stopped(self) -> bool:
        return self.stopping

    def overdue(self) -> bool:
        """Past the run's end (or stopped): checked by every device before it sends, so
        the bound holds even when a saturated loop runs the stop timer late."""
        if not self.stopping and self.loop.time() >= self.deadline:
            self.stop()
        return self.stopping

    def stop(self) -> None:
        self.stopping = True
        self._stop.set()

    def _tcp(self, device: Device) -> asyncio.Future[Link]:
        async def connect() -> Link:
            _, link = await self.loop.create_connection(lambda: Link(device), self.host, self.port)
            return link

        return asyncio.ensure_future(connect())


def check_target(host: str, *, allow_remote: bool) -> None:
    """Refuse a target that is not a loopback address (unless ``allow_remote``).

    :raises ValueError: for a host that resolves to a non-loopback address.
    """
    if allow_remote:
        return
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise ValueError(f"cannot resolve {host!r}: {exc}") from None
    for info in infos:
        if not ipaddress.ip_address(info[4][0]).is_loopback:
            raise ValueError(
                f"{host} is not a loopback address: the simulator only targets this machine"
                " (pass --allow-remote to override)"
            )


def raise_fd_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit (one descriptor per connection)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def station_mn(index: int, version: str = "2017", prefix: str = DEFAULT_PREFIX) -> str:
    """MN of station ``index``: 24 hex digits (EPC-96, 2017/2025) or 14 digits (2005:
    7-digit organisation code + 7-digit serial)."""
    if version == "2005":
        return (prefix + "0" * 7)[:7] + f"{index:07d}"
    return (prefix + "0" * 16)[:16] + f"{index:08d}"


def build_stations(
    scenario: Scenario, count: int, seed: int, prefix: str, indices: Iterable[int] | None = None
) -> list[Station]:
    """Stations 0..count-1, or only those of ``indices`` (one worker's share): station
    ``i`` is the same whichever process builds it."""
    stations = []
    faults = scenario.faults
    for i in range(count) if indices is None else indices:
        o = scenario.overrides.get(i)
        model = MODELS[(o and o.model) or scenario.models[i % len(scenario.models)]]
        version = (o and o.version) or scenario.versions[i % len(scenario.versions)]
        station = make_station(
            i,
            station_mn(i, version, prefix),
            model,
            seed,
            o2_ref=o.o2_ref if o else None,
            version=version,
            crc=(o and o.crc) or "hj212",
            sm4_key=o.sm4_key if o else None,
            password=(o and o.password) or "123456",
            faults=faults,
        )
        stations.append(station)
    return stations


async def run_fleet(
    stations: int,
    host: str,
    port: int,
    duration: float,
    *,
    interval: float | None = None,
    seed: int | None = None,
    progress: Callable[[Counts], None] | None = None,
    scenario: Scenario | None = None,
    rate: float | None = None,
    versions: tuple[str, ...] | None = None,
    speed: float | None = None,
    start: datetime | None = None,
    uploads: frozenset[str] = DEFAULT_UPLOADS,
    allow_remote: bool = False,
    report_every: float = 1.0,
    serial_device: str | None = None,
    clock: SimulatedClock | None = None,
    indices: Sequence[int] | None = None,
    stop: asyncio.Event | None = None,
) -> Counts:
    """Run ``stations`` simulated loggers against ``host:port`` for ``duration`` real
    seconds and return the counts.

    ``interval`` is the real seconds between two real-time frames of a station (the
    RtdInterval is ``interval x speed`` simulated seconds); None takes the scenario's
    ``rtd_interval``. Explicit arguments win over the scenario's ``[fleet]`` values.
    With ``serial_device`` one station talks over that serial port instead of TCP.
    With ``clock`` the fleet runs on that simulated clock (its start and speed win, and
    ``duration`` counts from its origin), the one the gateway and the rules engine of an
    accelerated run also read.
    With ``indices`` only those stations of the ``stations`` run here (a worker of
    :mod:`simulators.processes`); setting ``stop`` ends the run early, as its end would.

    :raises ValueError: for a non-loopback target without ``allow_remote``.
    """
    if serial_device is None:
        check_target(host, allow_remote=allow_remote)
    else:
        stations = 1
    raise_fd_limit()
    scenario = scenario or Scenario()
    if versions:
        scenario = replace(scenario, versions=versions)
    if clock is not None:
        start, speed = clock.start, clock.speed
    speed = speed or scenario.speed or 1.0
    seed = seed if seed is not None else (scenario.seed if scenario.seed is not None else 212)
    if interval is not None:
        rtd = max(1, round(interval * speed))
    else:
        # the scenario's RtdInterval, else 5 real seconds up to the standard's usual 30 s
        rtd = round(scenario.rtd_interval or min(30, max(1, round(5 * speed))))
    begin = start or scenario.start or datetime.now(UTC).replace(microsecond=0)
    t0 = begin.timestamp()
    counts = Counts(stations=stations if indices is None else len(indices))
    loop = asyncio.get_running_loop()
    fleet = Fleet(
        host=host,
        port=port,
        start=t0,
        speed=speed,
        # on a shared clock the run lasts ``duration`` from the clock's origin
        deadline=(clock.origin if clock is not None else loop.time()) + duration,
        rate=rate if rate is not None else scenario.rate,
        overtime=scenario.overtime or 5.0,
        recount=scenario.recount if scenario.recount is not None else 3,
        counts=counts,
    )
    if clock is not None:
        fleet.mono0 = clock.origin
    if serial_device is not None:
        fleet.open_link = serial_link.opener(serial_device)
    bound = tuple(f.bind(t0) for f in scenario.faults)
    scenario = replace(scenario, faults=bound)
    prefix = scenario.mn_prefix or DEFAULT_PREFIX
    devices = [
        Device(fleet, _logger(s, t0, rtd, scenario, uploads), _link_faults(bound, s.index))
        for s in build_stations(scenario, stations, seed, prefix, indices)
    ]
    # the fleet's long-lived objects never become garbage: keep the collector off them;
    # what a frame allocates goes with its last reference, so collect 70x less often
    gc.collect()
    gc.freeze()
    threshold = gc.get_threshold()
    gc.set_threshold(YOUNG_GC, *threshold[1:])
    watch = asyncio.ensure_future(_stop_on(stop, fleet)) if stop is not None else None
    try:
        return await _run(fleet, devices, progress, report_every)
    finally:
        if watch is not None:
            watch.cancel()
        gc.set_threshold(*threshold)
        gc.unfreeze()


async def _stop_on(event: asyncio.Event, fleet: Fleet) -> None:
    await event.wait()
    fleet.stop()


def _logger(
    station: Station, t0: float, rtd: int, scenario: Scenario, uploads: frozenset[str]
) -> DataLogger:
    return DataLogger(
        station,
        start=int(t0),
        rtd_interval=rtd,
        min_interval=scenario.min_interval or 10,
        uploads=uploads,
        link_faults=_link_faults(scenario.faults, station.index),
    )


def _link_faults(faults: tuple[Fault, ...], index: int) -> tuple[Fault, ...]:
    return tuple(f for f in faults if not f.is_value_fault and f.applies_to(index))


async def _run(
    fleet: Fleet,
    devices: list[Device],
    progress: Callable[[Counts], None] | None,
    report_every: float,
) -> Counts:
    started = time.monotonic()
    tasks = [asyncio.create_task(d.run()) for d in devices]
    sweeper = asyncio.create_task(fleet.sweep())
    reporter = asyncio.create_task(_report(fleet, progress, report_every, started))
    await fleet.sleep(fleet.deadline - fleet.loop.time())
    fleet.stop()
    # uploads already sent get their answer (or their OverTime) before the links close
    drain_until = fleet.loop.time() + fleet.overtime
    while any(d.flight is not None for d in devices) and fleet.loop.time() < drain_until:  # noqa: ASYNC110 - polls 10 k devices' state, no event to wait on
        await asyncio.sleep(0.01)
    for device in devices:
        device.stop()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    fleet.counts.errors += sum(1 for r in results if isinstance(r, BaseException))
    reporter.cancel()
    sweeper.cancel()
    fleet.counts.elapsed = time.monotonic() - started
    if progress is not None:
        progress(fleet.counts)
    return fleet.counts


async def _report(
    fleet: Fleet, progress: Callable[[Counts], None] | None, every: float, started: float
) -> None:
    while True:
        await asyncio.sleep(every)
        fleet.counts.elapsed = time.monotonic() - started
        if progress is not None:
            progress(fleet.counts)


__all__ = ["MODEL_NAMES", "Counts", "check_target", "run_fleet", "station_mn"]
