"""A fleet split over worker processes: ``hj212 simulate --processes N``.

One process is bound by one core: the station model, the frame text, the CRC, the
event loop and the socket calls are CPU work (80-100 µs a frame on the shared 2-vCPU
machine of benchmarks/RESULTS.md, ~10,000-11,500 frames/s a process). The stations
are dealt round-robin to N spawned worker processes (a fresh interpreter each, nothing
inherited from the parent's event loop), each running :func:`simulators.fleet.run_fleet`
on its share with an event loop of its own (uvloop where installed). Station ``i`` has
the same MN, model, seed and jitter in every split, and every worker reads one
:class:`~simulators.timebase.SimulatedClock` whose origin is set once all of them are
ready: a station uploads the same values for the same DataTime whatever the split.

Each station is still one TCP connection, stop-and-wait for its 9014. The parent merges
the workers' counts (:meth:`Counts.merge`) for the progress display and the summary,
and keeps each worker's CPU time and resident set (:attr:`ProcessFleet.states`).
Cancelling the run (Ctrl-C) asks every worker to stop and waits for its counts; a worker
whose parent is gone stops by itself (its pipe closes); a worker that does not finish
in time is terminated. Workers ignore SIGINT: Ctrl-C reaches the whole process group,
and the parent decides. Workers are spawned, so a script that starts a ProcessFleet
needs the usual ``if __name__ == "__main__":`` guard (``hj212`` and ``python -m cli``
have it, or are skipped by multiprocessing as a package ``__main__``).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import resource
import signal
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from functools import partial
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from simulators.fleet import Counts, check_target, run_fleet
from simulators.logger import DEFAULT_UPLOADS
from simulators.scenario import Scenario
from simulators.timebase import SimulatedClock

READY_TIMEOUT = 120.0  # seconds for the workers to start (imports, on a busy machine)
GRACE = 10.0  # seconds past the run's end (and its drain) before workers are terminated


@dataclass(frozen=True)
class Job:
    """One worker's share: station indices of the whole fleet, and run_fleet's options."""

    stations: int
    indices: range
    host: str
    port: int
    duration: float
    interval: float | None
    seed: int | None
    scenario: Scenario
    rate: float | None
    versions: tuple[str, ...] | None
    uploads: frozenset[str]
    allow_remote: bool
    report_every: float


@dataclass
class WorkerState:
    """What the parent knows of a worker: its last counts, CPU seconds and RSS bytes."""

    index: int
    stations: int
    pid: int | None = None
    ready: bool = False
    done: bool = False
    error: str | None = None
    counts: Counts = field(default_factory=Counts)
    cpu: float = 0.0
    rss: int = 0
    cpu_ready: float = 0.0  # CPU seconds and resident set once started (imports done),
    rss_ready: int = 0  # before the stations were built
    rss_peak: int = 0


def shares(stations: int, processes: int) -> list[range]:
    """Round-robin: worker k runs stations k, k + N, k + 2N... (models and versions are
    dealt round-robin too, so each worker gets the same mix)."""
    n = max(1, min(processes, stations))
    return [range(k, stations, n) for k in range(n)]


class ProcessFleet:
    """``stations`` loggers against ``host:port`` for ``duration`` real seconds, in
    ``processes`` worker processes. Options as :func:`simulators.fleet.run_fleet`;
    ``rate`` is over the whole fleet (each worker gets its stations' share)."""

    def __init__(
        self,
        processes: int,
        stations: int,
        host: str,
        port: int,
        duration: float,
        *,
        interval: float | None = None,
        seed: int | None = None,
        scenario: Scenario | None = None,
        rate: float | None = None,
        versions: tuple[str, ...] | None = None,
        speed: float | None = None,
        start: datetime | None = None,
        uploads: frozenset[str] = DEFAULT_UPLOADS,
        allow_remote: bool = False,
        report_every: float = 1.0,
        clock: SimulatedClock | None = None,
    ) -> None:
        check_target(host, allow_remote=allow_remote)
        scenario = scenario or Scenario()
        self.duration = duration
        self.report_every = report_every
        self.overtime = scenario.overtime or 5.0
        # one simulated start and speed for all, resolved here as run_fleet would
        self.start = clock.start if clock else start or scenario.start or _now()
        self.speed = clock.speed if clock else speed or scenario.speed or 1.0
        self.clock = clock
        total_rate = rate if rate is not None else scenario.rate
        self.jobs = [
            Job(
                stations=stations,
                indices=indices,
                host=host,
                port=port,
                duration=duration,
                interval=interval,
                seed=seed,
                scenario=scenario,
                rate=total_rate * len(indices) / stations if total_rate else total_rate,
                versions=versions,
                uploads=uploads,
                allow_remote=allow_remote,
                report_every=report_every,
            )
            for indices in shares(stations, processes)
        ]
        self.states = [
            WorkerState(k, len(job.indices), counts=Counts(stations=len(job.indices)))
            for k, job in enumerate(self.jobs)
        ]
        self._pipes: list[Connection] = []
        self._procs: list[BaseProcess] = []
        self._changed = asyncio.Event()

    def merged(self) -> Counts:
        return Counts.merge([s.counts for s in self.states])

    async def run(self, progress: Callable[[Counts], None] | None = None) -> Counts:
        """Start the workers, run them to the end (or until cancelled), merge."""
        loop = asyncio.get_running_loop()
        ctx = multiprocessing.get_context("spawn")
        try:
            for job, state in zip(self.jobs, self.states, strict=True):
                mine, theirs = ctx.Pipe()
                proc = ctx.Process(target=_worker, args=(job, theirs), daemon=True)
                proc.start()
                theirs.close()
                state.pid = proc.pid
                self._pipes.append(mine)
                self._procs.append(proc)
                watch(loop, mine, partial(self._receive, state.index))
            await self._until(lambda s: s.ready or s.done, READY_TIMEOUT)
            self._terminate(lambda s: not s.ready, "did not start in time")
            origin = time.monotonic()
            clock = self.clock or SimulatedClock(self.start, self.speed, origin)
            self._send_all(("go", clock))
            started = time.monotonic()
            try:
                await self._follow(progress, started)
            except asyncio.CancelledError:  # Ctrl-C: the workers stop as at the end
                self._send_all(("stop", None))
                await self._until(lambda s: s.done, self.overtime + GRACE)
                self._final(progress, started)
                raise
            return self._final(progress, started)
        finally:
            self._close(loop)

    def _final(self, progress: Callable[[Counts], None] | None, started: float) -> Counts:
        for state in self.states:
            state.counts.errors += state.error is not None
        counts = self.merged()
        counts.elapsed = time.monotonic() - started
        if progress is not None:
            progress(counts)
        return counts

    async def _follow(self, progress: Callable[[Counts], None] | None, started: float) -> None:
        """Merged progress every ``report_every`` s until every worker is done."""
        limit = started + self.duration + self.overtime + GRACE
        while not all(s.done for s in self.states):
            if time.monotonic() > limit:
                self._terminate(lambda s: not s.done, "did not finish in time")
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), self.report_every)
            self._changed.clear()
            if progress is not None:
                counts = self.merged()
                counts.elapsed = time.monotonic() - started
                progress(counts)

    async def _until(self, done: Callable[[WorkerState], bool], seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not all(done(s) for s in self.states) and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), 0.5)
            self._changed.clear()

    def _receive(self, k: int) -> None:
        state, pipe = self.states[k], self._pipes[k]
        try:
            kind, payload = pipe.recv()
        except (EOFError, OSError):  # the worker is gone
            asyncio.get_running_loop().remove_reader(pipe.fileno())
            if not state.done:
                state.done = True
                state.error = state.error or "worker exited without its counts"
            self._changed.set()
            return
        if kind == "error":
            state.error = payload
            return
        usage, counts = payload
        state.cpu, state.rss = usage
        state.rss_peak = max(state.rss_peak, state.rss)
        if kind == "ready":
            state.ready, state.cpu_ready, state.rss_ready = True, state.cpu, state.rss
        elif kind == "progress":
            state.counts = Counts(**counts)
        elif kind == "done":
            state.counts, state.done = counts, True
        if kind != "progress":
            self._changed.set()

    def _terminate(self, which: Callable[[WorkerState], bool], why: str) -> None:
        for state, proc in zip(self.states, self._procs, strict=False):  # all started?
            if which(state) and not state.done:
                state.error, state.done = f"{why}: terminated", True
                proc.terminate()

    def _send_all(self, message: tuple[str, object]) -> None:
        for state, pipe in zip(self.states, self._pipes, strict=True):
            if not state.done:
                with contextlib.suppress(OSError):
                    pipe.send(message)

    def _close(self, loop: asyncio.AbstractEventLoop) -> None:
        for pipe in self._pipes:
            with contextlib.suppress(OSError, ValueError):
                loop.remove_reader(pipe.fileno())
            pipe.close()
        self._terminate(lambda s: not s.done, "still running at the end")
        for proc in self._procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join(5)


async def run_processes(
    processes: int,
    stations: int,
    host: str,
    port: int,
    duration: float,
    *,
    progress: Callable[[Counts], None] | None = None,
    **options: Any,
) -> Counts:
    """:class:`ProcessFleet` in one call: the merged counts."""
    return await ProcessFleet(processes, stations, host, port, duration, **options).run(progress)


def watch(loop: asyncio.AbstractEventLoop, pipe: Connection, call: Callable[[], None]) -> None:
    """Call ``call`` whenever ``pipe`` is readable. uvloop's add_reader makes the
    descriptor non-blocking, and then sending or receiving a message larger than the
    socket buffer (the final counts carry up to 50,000 latencies) fails half-way with
    EAGAIN: the descriptor is put back in blocking mode, which epoll does not mind."""
    loop.add_reader(pipe.fileno(), call)
    os.set_blocking(pipe.fileno(), True)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


# -- in the worker --------------------------------------------------------------------
def _worker(job: Job, pipe: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _event_loop_run(_work(job, pipe))


def _event_loop_run(main: Coroutine[Any, Any, None]) -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency off Windows
        asyncio.run(main)
        return
    uvloop.run(main)


async def _work(job: Job, pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    go: asyncio.Future[SimulatedClock | None] = loop.create_future()

    def receive() -> None:
        try:
            kind, payload = pipe.recv()
        except (EOFError, OSError):  # the parent is gone: stop
            kind, payload = "stop", None
        if kind == "go" and not go.done():
            go.set_result(payload)
            return
        loop.remove_reader(pipe.fileno())
        stop.set()
        if not go.done():
            go.set_result(None)

    watch(loop, pipe, receive)
    _send(pipe, ("ready", (_usage(), None)))
    clock = await go
    counts = Counts(stations=len(job.indices))
    if clock is not None:
        try:
            counts = await run_fleet(
                job.stations,
                job.host,
                job.port,
                job.duration,
                interval=job.interval,
                seed=job.seed,
                progress=lambda c: _send(pipe, ("progress", (_usage(), _public(c)))),
                scenario=job.scenario,
                rate=job.rate,
                versions=job.versions,
                uploads=job.uploads,
                allow_remote=job.allow_remote,
                report_every=job.report_every,
                clock=clock,
                indices=job.indices,
                stop=stop,
            )
        except Exception as exc:  # noqa: BLE001 - reported to the parent, counted as an error
            _send(pipe, ("error", f"{type(exc).__name__}: {exc}"))
    _send(pipe, ("done", (_usage(), counts)))


def _public(counts: Counts) -> dict[str, Any]:
    """The counts without the latency sample: cheap enough to send every report."""
    return {f.name: getattr(counts, f.name) for f in fields(counts) if f.name[0] != "_"}


def _usage() -> tuple[float, int]:
    """(CPU seconds, resident bytes) of this process."""
    return time.process_time(), _rss()


def _rss() -> int:
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # pragma: no cover - not Linux: the peak is what there is
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _send(pipe: Connection, message: tuple[str, object]) -> None:
    with contextlib.suppress(OSError):  # the parent is gone; receive() stops the run
        pipe.send(message)


__all__ = ["ProcessFleet", "WorkerState", "run_processes", "shares"]
