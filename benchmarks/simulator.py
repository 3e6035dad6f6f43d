"""Simulator benchmark: how many frames/s the fleet sends and gets acknowledged, alone.

The platform side is a trivial ack sink in a separate process (uvloop, asyncio
Protocol): it cuts frames on CRLF, reads QN/PW/MN from the header and answers 9014 with
the standard CRC, without a database or a full decode, so that the figure measures the
simulator. Both processes share this machine's cores, which the report says.

    .venv/bin/python -m benchmarks.simulator [--connections 10000] [--seconds 30]
        [--rate 25000] [--interval 0.4]

Per-connection memory is the simulator's resident set at full connection count minus
its resident set before the fleet started, divided by the connections.
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
from simulators.fleet import Counts, run_fleet


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


def _sink_main(sock: socket.socket, stop: Any, cpu: Any) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Sink, sock=sock, backlog=16384)
        while not stop.is_set():  # noqa: ASYNC110 - a flag set by the other process
            await asyncio.sleep(0.2)
        server.close()
        cpu.value = time.process_time()

    uvloop.run(main())


# -- the simulator (this process) ------------------------------------------------------
Sample = tuple[float, int, int, int]  # (time, frames sent, acks, open connections)


async def _fleet(
    args: argparse.Namespace, port: int, peak: list[float], samples: list[Sample]
) -> Counts:
    def sample(counts: Counts) -> None:
        samples.append((time.monotonic(), counts.frames_sent, counts.acks, counts.open_connections))
        if counts.open_connections >= peak[1]:
            peak[0] = max(peak[0], rss_bytes())
            peak[1] = counts.open_connections

    return await run_fleet(
        args.connections,
        "127.0.0.1",
        port,
        args.seconds,
        interval=args.interval,
        speed=30.0 / args.interval,  # RtdInterval 30 simulated seconds
        rate=args.rate,
        uploads=frozenset({"2011"}),
        start=datetime(2026, 3, 2, tzinfo=UTC),
        progress=sample,
        report_every=0.5,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=25_000.0, help="frames/s cap")
    parser.add_argument("--interval", type=float, default=0.4, help="s between a station's")
    args = parser.parse_args()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16384)
    port = sock.getsockname()[1]
    ctx = multiprocessing.get_context("fork")
    stop = ctx.Event()
    sink_cpu = ctx.Value("d", 0.0)
    sink = ctx.Process(target=_sink_main, args=(sock, stop, sink_cpu), daemon=True)
    sink.start()
    load_before = os.getloadavg()[0]
    baseline = rss_bytes()
    peak = [0.0, 0.0]
    started = time.process_time()
    samples: list[Sample] = []
    counts = uvloop.run(_fleet(args, port, peak, samples))
    cpu = time.process_time() - started
    stop.set()
    sink.join(5)
    summary = counts.summary()
    per_conn = (peak[0] - baseline) / max(peak[1], 1)
    # steady state: from the first sample with every connection open to the last one
    # before the fleet stopped (the final sample is taken after the drain)
    full = [s for s in samples[:-1] if s[3] >= args.connections]
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
        "connections": args.connections,
        "peak_open_connections": int(peak[1]),
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
        "simulator_cpu_us_per_frame": round(cpu / max(counts.frames_sent, 1) * 1e6, 1),
        "sink_cpu_s": round(sink_cpu.value, 1),
        "loadavg_1min_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "rss_baseline_mb": round(baseline / 2**20, 1),
        "rss_peak_mb": round(peak[0] / 2**20, 1),
        "bytes_per_connection": round(per_conn),
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
