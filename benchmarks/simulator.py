"""Simulator benchmark: how many frames/s the fleet sends and gets acknowledged, alone.

The platform side is a trivial ack sink in separate processes (uvloop, asyncio
Protocol; ``--sink-processes`` of them on one port with SO_REUSEPORT): it cuts frames on
CRLF, reads QN/PW/MN from the header and answers 9014 with the standard CRC, without a
database or a full decode, so that the figure measures the simulator. The fleet runs in
this process (``--processes 1``) or in N worker processes (``hj212 simulate
--processes N``). All share this machine's cores, which the report says.

    .venv/bin/python -m benchmarks.simulator [--connections 10000] [--seconds 30]
        [--rate 25000] [--interval 0.4] [--processes 1] [--sink-processes 1]

Per-connection memory is the simulator's resident set at full connection count minus
its resident set before the fleet started, divided by the connections (summed over the
workers). CPU is this process's, plus the workers' after their start-up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import resource
import socket
import time
from datetime import UTC, datetime
from typing import Any

import uvloop

from protocol import crc16_hex
from protocol.codes import Cn
from simulators.fleet import Counts, run_fleet
from simulators.processes import ProcessFleet


def rss_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


# -- the sink (separate process) -------------------------------------------------------
def _field(segment: bytes, key: bytes) -> bytes:
    at = segment.find(key)
    if at < 0:
        return b""
    end = segment.find(b";", at)
    return segment[at + len(key) : end]


def answer_9014(frame: bytes) -> bytes | None:
    """The 9014 for an upload that asks for one (Flag bit 0), else None."""
    segment = frame[6:-6]
    flag = _field(segment, b"Flag=")
    if not flag.isdigit() or not int(flag) & 1:
        return None
    version_bits = int(flag) & 0xFC
    answer = b"QN=%b;ST=91;CN=9014;PW=%b;MN=%b;Flag=%d;CP=&&&&" % (
        _field(segment, b"QN="),
        _field(segment, b"PW="),
        _field(segment, b"MN="),
        version_bits,
    )
    return b"##%04d%b%b\r\n" % (len(answer), answer, crc16_hex(answer).encode())


class Sink(asyncio.Protocol):
    frames = 0

    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        data = self.buffer + data
        *frames, self.buffer = data.split(b"\r\n")
        out = []
        for frame in frames:
            Sink.frames += 1
            reply = answer_9014(frame + b"\r\n")
            if reply is not None:
                out.append(reply)
        if out and self.transport is not None:
            self.transport.write(b"".join(out))


def _sink_main(sock: socket.socket, stop: Any, cpu: Any, slot: int = 0) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Sink, sock=sock, backlog=16384)
        while not stop.is_set():  # noqa: ASYNC110 - a flag set by the other process
            await asyncio.sleep(0.2)
        server.close()
        cpu[slot] = time.process_time()

    uvloop.run(main())


class Sinks:
    """``n`` sink processes on one loopback port (SO_REUSEPORT spreads the connections)."""

    def __init__(self, n: int) -> None:
        ctx = multiprocessing.get_context("fork")
        self.stop = ctx.Event()
        self.cpu = ctx.Array("d", n)
        self.port = 0
        self.procs = []
        for slot in range(n):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(("127.0.0.1", self.port))
            sock.listen(16384)
            self.port = sock.getsockname()[1]
            proc = ctx.Process(target=_sink_main, args=(sock, self.stop, self.cpu, slot))
            proc.daemon = True
            proc.start()
            sock.close()
            self.procs.append(proc)

    def close(self) -> float:
        """Stop the sinks; their CPU seconds."""
        self.stop.set()
        for proc in self.procs:
            proc.join(5)
        return sum(float(self.cpu[slot]) for slot in range(len(self.procs)))


# -- the simulator ---------------------------------------------------------------------
Sample = tuple[float, int, int, int]  # (time, frames sent, acks, open connections)


class Run:
    """Samples of the fleet's progress, and its peak resident set at full connections."""

    def __init__(self, processes: ProcessFleet | None) -> None:
        self.processes = processes
        self.samples: list[Sample] = []
        self.own_baseline = rss_bytes()
        self.peak_rss = 0
        self.peak_open = 0

    def baseline(self) -> int:
        """Resident set before the stations were built (the workers': once started)."""
        if self.processes is None:
            return self.own_baseline
        return sum(s.rss_ready for s in self.processes.states)

    def rss(self) -> int:
        if self.processes is None:
            return rss_bytes()
        return sum(s.rss for s in self.processes.states)

    def sample(self, counts: Counts) -> None:
        now = time.monotonic()
        self.samples.append((now, counts.frames_sent, counts.acks, counts.open_connections))
        if counts.open_connections >= self.peak_open:
            self.peak_rss = max(self.peak_rss, self.rss())
            self.peak_open = counts.open_connections

    def grown(self) -> int:
        return self.peak_rss - self.baseline()

    def worker_cpu(self) -> float:
        if self.processes is None:
            return 0.0
        return sum(s.cpu - s.cpu_ready for s in self.processes.states)


def _options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "interval": args.interval,
        "speed": 30.0 / args.interval,  # RtdInterval 30 simulated seconds
        "rate": args.rate,
        "uploads": frozenset({Cn.REALTIME}),
        "start": datetime(2026, 3, 2, tzinfo=UTC),
        "report_every": 0.5,
    }


async def _fleet(args: argparse.Namespace, port: int, run: Run) -> Counts:
    if run.processes is not None:
        return await run.processes.run(run.sample)
    fleet = (args.connections, "127.0.0.1", port, args.seconds)
    return await run_fleet(*fleet, progress=run.sample, **_options(args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=25_000.0, help="frames/s cap")
    parser.add_argument("--interval", type=float, default=0.4, help="s between a station's")
    parser.add_argument("--processes", type=int, default=1, help="simulator processes")
    parser.add_argument("--sink-processes", type=int, default=1, help="ack sink processes")
    args = parser.parse_args()
    sinks = Sinks(args.sink_processes)
    processes = None
    if args.processes > 1:
        fleet = (args.processes, args.connections, "127.0.0.1", sinks.port, args.seconds)
        processes = ProcessFleet(*fleet, **_options(args))
    load_before = os.getloadavg()[0]
    run = Run(processes)
    started, usage = time.process_time(), resource.getrusage(resource.RUSAGE_SELF)
    counts = uvloop.run(_fleet(args, sinks.port, run))
    cpu = time.process_time() - started + run.worker_cpu()
    after = resource.getrusage(resource.RUSAGE_SELF)
    per_frame = 1e6 / max(counts.frames_sent, 1)
    # user (Python, uvloop) and system (sockets) time: this process's, so one process only
    split = {
        "user": round((after.ru_utime - usage.ru_utime) * per_frame, 1),
        "system": round((after.ru_stime - usage.ru_stime) * per_frame, 1),
    }
    sink_cpu = sinks.close()
    summary = counts.summary()
    per_conn = run.grown() / max(run.peak_open, 1)
    # steady state: from the first sample with every connection open to the last one
    # before the fleet stopped (the final sample is taken after the drain)
    full = [s for s in run.samples[:-1] if s[3] >= args.connections]
    steady = {"seconds": 0.0, "frames_per_s": 0.0, "acks_per_s": 0.0}
    if len(full) >= 2:
        span = full[-1][0] - full[0][0]
        steady = {
            "seconds": round(span, 1),
            "frames_per_s": round((full[-1][1] - full[0][1]) / span),
            "acks_per_s": round((full[-1][2] - full[0][2]) / span),
        }
    report = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores,"
        f" Python {platform.python_version()}",
        "processes": args.processes,
        "sink_processes": args.sink_processes,
        "connections": args.connections,
        "peak_open_connections": run.peak_open,
        "seconds": round(counts.elapsed, 1),
        "frames_sent": counts.frames_sent,
        "acks": counts.acks,
        "frames_per_s_whole_run": summary.get("frames_per_s"),
        "acks_per_s_whole_run": summary.get("acks_per_s"),
        "steady_state": steady,
        "ack_p50_ms": summary.get("ack_p50_ms"),
        "ack_p99_ms": summary.get("ack_p99_ms"),
        "timeouts": counts.timeouts,
        "connect_errors": counts.connect_errors,
        "simulator_cpu_s": round(cpu, 1),
        "simulator_cpu_us_per_frame": round(cpu * per_frame, 1),
        "simulator_us_per_frame_user_system": split if processes is None else None,
        "sink_cpu_s": round(sink_cpu, 1),
        "sink_cpu_us_per_frame": round(sink_cpu / max(counts.frames_sent, 1) * 1e6, 1),
        "loadavg_1min_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "rss_baseline_mb": round(run.baseline() / 2**20, 1),
        "rss_peak_mb": round(run.peak_rss / 2**20, 1),
        "bytes_per_connection": round(per_conn),
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
