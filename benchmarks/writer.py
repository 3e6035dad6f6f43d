"""Writer benchmark: measurement rows/s through services.writer beside raw binary COPY.

Both write the same shape of rows (S stations x T records x P pollutants) into the
same ``hj212.measurement`` hypertable of a scratch database, in the same run, each run
into a time window of its own (so each starts on fresh chunks, as live data does), and
both start from the same in-memory records (what the gateway hands the writer):

* raw COPY: psycopg 3 async binary COPY of the rows, one commit per batch of
  ``max_batch x P`` rows; no frames, no dedupe, no hash chain: the ceiling;
* writer: :class:`services.writer.Writer` with the same batch size and the configured
  lanes (``[storage] writer_lanes``, connections that each write their own stations);
  every frame is also archived in ``hj212.frame`` with its hash link, duplicates are
  checked.

Runs alternate (raw, writer, raw, writer, ...), each after a CHECKPOINT; the ratio
compares the medians, and the
median of the per-round ratios is given too (raw COPY alone varies by +-25 % here). Then
the commit latency (submit -> future resolved) at a steady rate, with the default
``max_delay_ms``; and two less usual paths: a retransmission storm (every record
again) and back-filled data older than what is stored (every record looked up).

    .venv/bin/python -m benchmarks.writer [--dsn DSN] [--stations 500] [--records 40]
        [--rounds 3] [--rate 1000] [--seconds 10] [--append]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import psycopg

from config.settings import StorageSettings
from ops.cluster import Cluster
from protocol.codes import Cn
from services.writer import Writer
from storage import scratch, server
from storage.migrate import migrate
from storage.records import FrameRecord, MeasurementRow

POLLUTANTS = ("w01018", "w21003", "w21011", "w21001", "w01001", "w00000", "w01010", "w01009")
START = datetime(2026, 1, 1, tzinfo=UTC)
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
_COLUMNS = tuple(scratch.MEASUREMENT_TYPES)  # every column, in the table's order


def records(prefix: str, stations: int, count: int, day: int) -> list[FrameRecord]:
    """Real-time (2011) uploads, every 30 s per station, in time order."""
    base = START + timedelta(days=day)
    out = []
    for t in range(count):
        at = base + timedelta(seconds=30 * t)
        for s in range(stations):
            mn = f"{prefix}{s:08d}"
            rows = [
                MeasurementRow(at, mn, Cn.REALTIME, p, (10.0 + i + t % 7, *[None] * 8), "N", None)
                for i, p in enumerate(POLLUTANTS)
            ]
            raw = f"##0300QN={at:%Y%m%d%H%M%S}000;ST=32;CN=2011;MN={mn};CP=&&...&&ABCD\r\n"
            out.append(
                FrameRecord(
                    at + timedelta(seconds=1),
                    "127.0.0.1:40000",
                    "tcp",
                    (raw + "x" * (300 - len(raw))).encode(),
                    "ok",
                    mn=mn,
                    qn=f"{at:%Y%m%d%H%M%S}000",
                    st="32",
                    cn=Cn.REALTIME,
                    flag=5,
                    measurements=rows,
                )
            )
    return out


async def checkpoint(dsn: str) -> None:
    """Start every timed run from a fresh checkpoint (full-page writes hit all runs alike)."""
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        # False when not allowed (not a superuser / pg_checkpoint member): runs are
        # noisier, nothing else
        await server.checkpoint(conn)


async def raw_copy(dsn: str, frames: list[FrameRecord], batch_frames: int) -> float:
    """Rows/s of bare binary COPY of the same measurements, one commit per batch."""
    await checkpoint(dsn)
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        started = time.perf_counter()
        for at in range(0, len(frames), batch_frames):
            async with conn.transaction(), scratch.copy_measurements_async(conn, _COLUMNS) as copy:
                for i, r in enumerate(frames[at : at + batch_frames], at):
                    for m in r.measurements:
                        await copy.write_row(
                            (
                                m.data_time,
                                m.mn,
                                m.cn,
                                m.pollutant,
                                *m.values,
                                m.flag,
                                m.eflag,
                                i,
                                r.received_at,
                            )
                        )
        elapsed = time.perf_counter() - started
    return sum(len(r.measurements) for r in frames) / elapsed


async def through_writer(dsn: str, frames: list[FrameRecord], max_batch: int, lanes: int) -> float:
    """Rows/s of the same measurements through the writer (frames archived too)."""
    await checkpoint(dsn)
    writer = Writer(dsn, max_batch=max_batch, lanes=lanes)
    task = asyncio.create_task(writer.run())
    try:
        started = time.perf_counter()
        futures = [writer.submit(r) for r in frames]
        await writer.drain()
        elapsed = time.perf_counter() - started
        assert all(f.done() and not f.exception() for f in futures)
    finally:
        task.cancel()
    return sum(len(r.measurements) for r in frames) / elapsed


async def latency(
    dsn: str, stations: int, rate: float, seconds: float, max_delay_ms: int, day: int
) -> list[float]:
    """p50/p99/max ms from submit to commit at ``rate`` frames/s."""
    settings = StorageSettings()
    writer = Writer(
        dsn,
        max_batch=settings.max_batch,
        max_delay=max_delay_ms / 1000,
        lanes=settings.writer_lanes,
    )
    task = asyncio.create_task(writer.run())
    loop = asyncio.get_running_loop()
    samples: list[float] = []

    def done(submitted: float, _: object) -> None:
        samples.append(loop.time() - submitted)

    pool = records(f"LAT{day}", stations, int(rate * seconds / stations) + 1, day=day)
    tick = 0.01
    try:
        started = loop.time()
        sent = 0
        while sent < len(pool) and loop.time() - started < seconds:
            due = min(int((loop.time() - started + tick) * rate), len(pool))
            for record in pool[sent:due]:
                writer.submit(record).add_done_callback(partial(done, loop.time()))
            sent = due
            await asyncio.sleep(tick)
        await writer.drain()
    finally:
        task.cancel()
    samples.sort()
    return [1000 * samples[min(len(samples) - 1, int(q * len(samples)))] for q in (0.5, 0.99, 1)]


def _ms(figures: list[float]) -> str:
    p50, p99, worst = figures
    return f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {worst:.1f} ms"


def machine(dsn: str) -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    with psycopg.connect(dsn) as conn:
        v = server.versions(conn)
    return (
        f"{os.cpu_count()}-vCPU {cpu}, {mem:.0f} GiB, {platform.platform(terse=True)},"
        f" CPython {platform.python_version()}, psycopg {psycopg.__version__},"
        f" PostgreSQL {v.postgresql} + TimescaleDB {v.timescaledb or '?'}"
        f" ({v.license or '?'}), client and server on the same machine"
    )


async def main_async(args: argparse.Namespace, dsn: str) -> str:
    per_frame = len(POLLUTANTS)
    batch_rows = args.max_batch * per_frame
    raw_rates, writer_rates = [], []
    for k in range(args.rounds):
        raw = await raw_copy(
            dsn, records(f"RAW{k}", args.stations, args.records, 2 * k), batch_rows
        )
        data = records(f"WRT{k}", args.stations, args.records, 2 * k + 1)
        wrt = await through_writer(dsn, data, args.max_batch, args.lanes)
        raw_rates.append(raw)
        writer_rates.append(wrt)
        print(f"round {k + 1}: raw COPY {raw:,.0f} rows/s, writer {wrt:,.0f} rows/s")
    storm = await through_writer(dsn, data, args.max_batch, args.lanes)  # all again: all duplicates
    back = records("BACK", args.stations, args.records, 100)
    await through_writer(dsn, back[-args.stations :], args.max_batch, args.lanes)  # newest first
    backfill = await through_writer(dsn, back[: -args.stations], args.max_batch, args.lanes)
    default_delay = StorageSettings().max_delay_ms
    lat = {
        delay: await latency(dsn, args.stations, args.rate, args.seconds, delay, 300 + delay)
        for delay in (default_delay, 0)
    }
    raw_med, wrt_med = statistics.median(raw_rates), statistics.median(writer_rates)
    paired = statistics.median(w / r for w, r in zip(writer_rates, raw_rates, strict=True))
    rows_n = args.stations * args.records * per_frame
    return f"""
## Writer (`python -m benchmarks.writer --stations {args.stations} --records {args.records} --rounds {args.rounds} --lanes {args.lanes} --rate {args.rate:g} --seconds {args.seconds:g}`)

Machine: {machine(dsn)}, {datetime.now(UTC):%Y-%m-%d}.
Data: {args.stations} stations x {args.records} real-time records x {per_frame} pollutants
= {rows_n:,} measurement rows ({rows_n // per_frame:,} frames of 300 bytes) per run, each
run into a fresh time window of the same hypertable; batches of {args.max_batch} frames
({batch_rows:,} rows), one commit per batch; the writer with {args.lanes} lane(s) (stations
split among that many connections), raw COPY on one connection. Medians of
{args.rounds} alternating rounds.

| measure | writer | raw binary COPY | ratio |
|---|---|---|---|
| measurement rows/s | {wrt_med:,.0f} | {raw_med:,.0f} | {wrt_med / raw_med:.2f}x |
| rounds, rows/s | {", ".join(f"{r:,.0f}" for r in writer_rates)} | {", ".join(f"{r:,.0f}" for r in raw_rates)} | median of per-round ratios {paired:.2f}x |

The writer also archives every frame (raw bytes, SHA-256 link, chain head per station)
and decides duplicates; raw COPY does neither.

| other paths (writer) | figure |
|---|---|
| commit latency at {args.rate:g} frames/s ({args.rate * per_frame:,.0f} rows/s), max_delay_ms={default_delay} (default) | {_ms(lat[default_delay])} |
| the same with max_delay_ms=0 (batches only as large as the queue while committing) | {_ms(lat[0])} |
| retransmission storm (every record again: archived as duplicate, no rows) | {storm:,.0f} record-rows/s |
| back-fill older than stored data (every record looked up on the unique index) | {backfill:,.0f} rows/s |
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsn", help="a TimescaleDB server (default: the embedded cluster)")
    parser.add_argument("--stations", type=int, default=500)
    parser.add_argument("--records", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-batch", type=int, default=StorageSettings().max_batch)
    parser.add_argument("--lanes", type=int, default=StorageSettings().writer_lanes)
    parser.add_argument("--rate", type=float, default=1000.0, help="frames/s for latency")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--append", action="store_true", help="append to RESULTS.md")
    args = parser.parse_args()
    server_dsn = args.dsn or Cluster(Path("var/pg")).up()
    name = f"hj212_bench_{uuid.uuid4().hex[:8]}"
    admin = server_dsn.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        server.create_database(conn, name)
    dsn = server_dsn.rsplit("/", 1)[0] + "/" + name
    try:
        migrate(dsn)
        section = asyncio.run(main_async(args, dsn))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            server.drop_database(conn, name)
    print(section)
    if args.append:
        with RESULTS.open("a", encoding="utf-8") as out:
            out.write(section)


if __name__ == "__main__":
    main()
