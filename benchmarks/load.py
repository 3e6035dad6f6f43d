"""Load benchmark: simulated stations -> gateway -> TimescaleDB, with durable answers.

A whole run on this machine: the embedded PostgreSQL + TimescaleDB (its own database),
``hj212 serve`` in its own process, and the load generator here (uvloop, one asyncio
Protocol per station, each station waiting for its 9014 before the next frame, as data
loggers do). Phases:

1. ramp: N stations connect and send as fast as their answers allow (saturation);
2. half rate: the same stations paced to half the saturated rate (ack latency there);
3. accept storm: while (2) runs, many new connections open at once (accept rate);
4. idle connections: 10,000 more connections held open (memory per connection).

At the end every acknowledged frame is looked up in the database (zero loss).

    .venv/bin/python -m benchmarks.load [--stations 2000] [--seconds 20] [--idle 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import uvloop

from ops import roles
from ops.cluster import Cluster
from protocol import encode
from protocol.codes import Cn
from storage import measurements, scratch, server, upstream_queue
from storage.migrate import migrate

ROOT = Path(__file__).resolve().parent.parent
CLK = os.sysconf("SC_CLK_TCK")
TEMPLATE = (
    "QN={qn};ST=32;CN=2011;PW=123456;MN={mn};Flag=5;CP=&&DataTime={dt};"
    "w01018-Rtd=31.25,w01018-Flag=N;w21003-Rtd=2.104,w21003-Flag=N;w21011-Rtd=0.351,"
    "w21011-Flag=N;w21001-Rtd=11.02,w21001-Flag=N;w01001-Rtd=7.21,w01001-Flag=N;"
    "w00000-Rtd=12.5,w00000-Flag=N&&"
)


@dataclass
class Load:
    acked: int = 0
    sent: int = 0
    latencies: list[float] = field(default_factory=list)
    record: bool = False
    acked_keys: list[tuple[str, str]] = field(default_factory=list)
    target: int = 0  # set done once this many answers came
    done: asyncio.Event = field(default_factory=asyncio.Event)


class Station(asyncio.Protocol):
    """One data logger: sends, waits for its 9014, sends the next (stop and wait)."""

    def __init__(self, mn: str, load: Load, pace: list[float], start_second: int) -> None:
        self.mn = mn
        self.load = load
        self.pace = pace  # [seconds between frames]; 0 = as fast as answers come
        self.n = start_second
        self.buffer = b""
        self.sent_at = 0.0
        self.transport: asyncio.Transport | None = None
        self.stopped = False
        self.connected = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if not self.connected.done():
            self.connected.set_result(None)

    def start(self) -> None:
        self._send()

    def _send(self) -> None:
        if self.stopped or self.transport is None or self.transport.is_closing():
            return
        self.n += 1
        t = time.gmtime(1_780_000_000 + self.n)
        dt = self.dt = time.strftime("%Y%m%d%H%M%S", t)
        wire = encode.frame(TEMPLATE.format(qn=dt + "000", mn=self.mn, dt=dt))
        self.sent_at = time.perf_counter()
        self.load.sent += 1
        self.transport.write(wire)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if b"\r\n" not in self.buffer:
            return
        self.buffer = b""
        now = time.perf_counter()
        self.load.acked += 1
        if self.load.acked == self.load.target:
            self.load.done.set()
        self.load.acked_keys.append((self.mn, self.dt))
        if self.load.record:
            self.load.latencies.append(now - self.sent_at)
        delay = self.pace[0] - (now - self.sent_at) if self.pace[0] else 0
        if delay > 0:
            asyncio.get_running_loop().call_later(delay, self._send)
        else:
            self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK  # utime + stime


def own_cpu() -> float:
    """This process's CPU seconds (the load generator's share of the two cores)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def profile(pid: int, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    """py-spy (not a project dependency: `pip install py-spy` into the venv) samples the
    gateway through the saturation phase; the flat profile goes to ``args.profile``."""
    seconds = str(max(1, int(args.seconds) - 1))
    command = [
        str(Path(sys.executable).parent / "py-spy"),
        "record",
        "-p",
        str(pid),
        "-d",
        seconds,
        "-r",
        "200",
        "-f",
        "raw",
    ]
    return subprocess.Popen([*command, "-o", args.profile, "--nonblocking"])


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def tree_pids(root: int) -> list[int]:
    """``root`` and its direct children (the postmaster's backends, the gateway's workers)."""
    pids = [root]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == root:
                pids.append(int(entry.name))
    return pids


def tree_cpu(root: int) -> float:
    total = 0.0
    for pid in tree_pids(root):
        with contextlib.suppress(OSError):
            total += cpu_seconds(pid)
    return total


def tree_rss_kb(root: int) -> int:
    return sum(rss_kb(pid) for pid in tree_pids(root))


def slab_kb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("Slab:"):
            return int(line.split()[1])
    return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000 if ordered else 0.0


async def connect_all(port: int, stations: list[Station]) -> None:
    loop = asyncio.get_running_loop()
    for i in range(0, len(stations), 500):
        chunk = stations[i : i + 500]
        await asyncio.gather(
            *(loop.create_connection(factory(s), "127.0.0.1", port) for s in chunk)
        )


def factory(station: Station) -> Callable[[], Station]:
    return lambda: station


def run(args: argparse.Namespace) -> None:
    home = ROOT / "var" / "pg-bench"
    cluster = Cluster(home)
    server_dsn = cluster.up()
    admin = server_dsn.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        server.drop_database(conn, "hj212_load")
        server.create_database(conn, "hj212_load")
    owner = server_dsn.rsplit("/", 1)[0] + "/hj212_load"
    migrate(owner)
    # the gateway runs as the application role, as in production (storage/roles.py)
    dsn = roles.with_database(cluster.url() or owner, "hj212_load")
    postmaster = cluster.status().pid or 0
    port, metrics = free_port(), free_port()
    spool = Path(tempfile.mkdtemp(prefix="hj212-load-"))
    env = {
        **os.environ,
        "HJ212_DSN": dsn,
        "HJ212_GATEWAY_PORT": str(port),
        "HJ212_GATEWAY_METRICS_PORT": str(metrics),
        "HJ212_GATEWAY_SPOOL_DIR": str(spool),
        "HJ212_GATEWAY_MAX_CONNECTIONS": "19000",
        "HJ212_GATEWAY_IDLE_TIMEOUT": "600",
        "HJ212_GATEWAY_MAX_CONNECTIONS_PER_IP": "19000",  # every station is on 127.0.0.1
        "HJ212_GATEWAY_RUN_RULES": "false",
        "HJ212_CONSOLE_ENABLED": "false",
        # the load stations are not registered: stored as data, as before issue 14
        "HJ212_GATEWAY_UNKNOWN_STATION": "accept",
        # the idle connections never send: held on purpose (memory per connection)
        "HJ212_GATEWAY_FIRST_FRAME_TIMEOUT": "3600",
        "HJ212_GATEWAY_MAX_UNIDENTIFIED_PER_IP": "19000",
        "HJ212_GATEWAY_ANCHOR_INTERVAL": "0",
    }
    if args.forward:  # docs/forwarding.md §3: the queue filled in the writer's transaction
        config = spool / "forward.toml"
        config.write_text(
            f'[[upstream]]\nname = "bench"\nhost = "127.0.0.1"\nport = {free_port()}\n'
            'cns = ["2011"]\n',
            "utf-8",
        )
        env["HJ212_CONFIG"] = str(config)  # an upstream nobody answers: every frame queued
    serve = [sys.executable, "-m", "cli", "serve", "--workers", str(args.workers)]
    gateway = subprocess.Popen(serve, env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(1.0 if args.workers > 1 else 0)  # every worker listening
        uvloop.run(bench(args, port, gateway.pid, postmaster, dsn))
    finally:
        gateway.send_signal(signal.SIGTERM)
        gateway.wait(60)
        cluster.down()


async def bench(
    args: argparse.Namespace, port: int, gw_pid: int, postmaster: int, dsn: str
) -> None:
    load = Load()
    pace = [0.0]
    # idle connections first, on a fresh gateway (memory per connection), kept open
    # through the load phases (concurrent connections while serving)
    rss0, slab0 = tree_rss_kb(gw_pid), slab_kb()
    idle_load = Load()
    idle = [Station(f"IDLE{i:020d}", idle_load, [0.0], 0) for i in range(args.idle)]
    await connect_all(port, idle)
    await asyncio.sleep(3)
    rss1, slab1 = tree_rss_kb(gw_pid), slab_kb()
    per_conn_rss = (rss1 - rss0) * 1024 / max(1, args.idle)
    per_conn_slab = (slab1 - slab0) * 1024 / max(1, 2 * args.idle)  # both ends live here
    print(f"{args.idle} idle connections open", file=sys.stderr)
    # DataTime: loggers send the current time, so every station's records fall in the
    # same chunk; --spread S starts station i at i x S seconds (the layout before issue
    # 22 used 100,000: 2,000 stations in 2,000 chunks, more than the 1,024 chunks an
    # insert keeps open, which measured the chunk cache, not the writer)
    stations = [Station(f"LOAD{i:020d}", load, pace, i * args.spread) for i in range(args.stations)]
    await connect_all(port, stations)
    for s in stations:
        s.start()
    await asyncio.sleep(3)  # warm up
    print(
        f"{args.stations} stations connected; saturation phase {args.seconds:.0f} s",
        file=sys.stderr,
    )
    load.record = True
    a0, t0 = load.acked, time.perf_counter()
    g0, p0, l0 = tree_cpu(gw_pid), tree_cpu(postmaster), own_cpu()
    profiler = profile(gw_pid, args) if args.profile else None
    await asyncio.sleep(args.seconds)
    a1, t1 = load.acked, time.perf_counter()
    g1, p1, l1 = tree_cpu(gw_pid), tree_cpu(postmaster), own_cpu()
    if profiler is not None:
        profiler.wait()
    load.record = False
    max_rate = (a1 - a0) / (t1 - t0)
    sat_lat = load.latencies
    frames = a1 - a0
    print(f"saturated: {max_rate:,.0f} frames/s", file=sys.stderr)

    # half rate, with an accept storm in the middle
    load.latencies = []
    pace[0] = args.stations / (max_rate / 2)
    await asyncio.sleep(3)
    load.record = True
    h0, ht0 = load.acked, time.perf_counter()
    await asyncio.sleep(args.seconds / 2)
    storm_load = Load()
    storm = [Station(f"STORM{i:019d}", storm_load, [0.0], 0) for i in range(args.storm)]
    s0 = time.perf_counter()
    await connect_all(port, storm)
    for s in storm:
        s.start()
    storm_load.target = len(storm)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(storm_load.done.wait(), 60)
    storm_seconds = time.perf_counter() - s0
    for s in storm:
        s.stopped = True
    await asyncio.sleep(args.seconds / 2)
    h1, ht1 = load.acked, time.perf_counter()
    load.record = False
    half_rate = (h1 - h0) / (ht1 - ht0)
    half_lat = load.latencies
    for s in stations + storm:
        s.stopped = True
    await asyncio.sleep(2)  # last answers

    open_idle = sum(1 for s in idle if s.transport is not None)
    rss2 = tree_rss_kb(gw_pid)
    for s in idle:
        if s.transport is not None:
            s.transport.close()
    for s in stations + storm:
        if s.transport is not None:
            s.transport.close()

    # zero loss: every acknowledged frame is stored (looked up one by one)
    acked_keys = set(load.acked_keys) | set(storm_load.acked_keys)
    acked_total = len(acked_keys)
    await asyncio.sleep(1)
    with psycopg.connect(dsn) as conn:
        stored_keys = scratch.measurement_keys(conn, "w01018")
        stored_rows = measurements.count(conn)
        stored_frames = scratch.count_frames(conn, "ok", Cn.REALTIME)
        queued = sum(int(str(u["backlog"])) for u in upstream_queue.status_sync(conn))
    missing = len(acked_keys - stored_keys)

    print(f"""
| measure | result | target |
|---|---|---|
| frames/s end to end, {args.stations} stations, durable answers | {max_rate:,.0f} | ≥ 20,000 |
| ack latency at saturation, p50 / p99 (ms) | {pct(sat_lat, 0.5):.1f} / {pct(sat_lat, 0.99):.1f} | |
| ack latency at half rate ({half_rate:,.0f} frames/s), p50 / p99 (ms) | \
{pct(half_lat, 0.5):.1f} / {pct(half_lat, 0.99):.1f} | p99 ≤ 500 |
| gateway CPU per frame (µs) | {(g1 - g0) / frames * 1e6:.1f} | |
| PostgreSQL CPU per frame (µs; 6 measurement rows each) | {(p1 - p0) / frames * 1e6:.1f} | |
| gateway + PostgreSQL CPU per frame (µs) | {(g1 - g0 + p1 - p0) / frames * 1e6:.1f} | ≤ 100 |
| load generator's own CPU per frame (µs) | {(l1 - l0) / frames * 1e6:.1f} | |
| accept storm: {args.storm} new connections, all answered once, under half-rate load \
| {args.storm / storm_seconds:,.0f} connections/s ({storm_seconds:.2f} s) | |
| {args.idle} idle connections held through the load (still open at the end: \
{open_idle}): gateway RSS per connection | {per_conn_rss:,.0f} B | |
| kernel slab per socket (Slab delta / both ends on this host) | {per_conn_slab:,.0f} B | |
| all-in per connection | {per_conn_rss + per_conn_slab:,.0f} B | ≤ 8 KB |
| frames acknowledged / acknowledged but not stored | {acked_total:,} / {missing} | 0 lost |
| 2011 frames stored ('ok'; includes any sent but not yet answered at the stop) | {stored_frames:,} | |
| frames queued for the upstream (--forward) | {queued:,} | = frames stored with --forward |
| measurement rows stored | {stored_rows:,} | 6 per frame |
| gateway RSS: fresh / with idle connections / after the load (MB) \
| {rss0 / 1024:.0f} / {rss1 / 1024:.0f} / {rss2 / 1024:.0f} | |
""")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stations", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--storm", type=int, default=2000)
    parser.add_argument("--idle", type=int, default=10000)
    parser.add_argument("--workers", type=int, default=1, help="gateway processes")
    parser.add_argument(
        "--forward", action="store_true", help="forward every 2011 to an upstream (queued)"
    )
    parser.add_argument("--spread", type=int, default=0, help="DataTime offset per station (s)")
    parser.add_argument("--profile", help="write a py-spy profile of the gateway here")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    run(args)


if __name__ == "__main__":
    main()
