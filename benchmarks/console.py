"""Console benchmark: the station page's API calls against a realistic database.

Makes a scratch database on the embedded cluster (``var/pg``), fills it with binary COPY
(``--stations`` registered stations over three cities, ``--days`` of minute data (2051)
at each station's MinInterval of ``--minute`` minutes for ``--factors`` factors, plus
the last hour of real-time data (2011) every 30 s, chain heads, an open alarm and case
on every 50th station), then starts ``hj212 console`` in its own process and times,
over ``--pages`` random stations, the calls the station page makes (five at once, as
the browser does, then the chart's series of the last 48 h of minute data), plus the
overview and the station list. Every request is authenticated by an API token and
audited, as in production. Prints a Markdown section; ``--append`` adds it to
RESULTS.md. The scratch database is dropped at the end.

    python -m benchmarks.console [--stations 10000] [--days 30] [--pages 200] [--append]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

from console.auth import hash_password
from ops.cluster import Cluster
from protocol.codes import Cn
from storage import api_tokens, console_store, scratch, server
from storage.migrate import migrate

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
CITIES = ("420102", "420502", "420602")
FACTORS = ("a21026", "a21002", "a34013", "a19001", "a00000")
_M_COLUMNS = ("data_time", "mn", "cn", "pollutant", "avg", "flag", "frame_id", "received_at")
_RT_COLUMNS = tuple("rtd" if c == "avg" else c for c in _M_COLUMNS)


def mn_of(i: int) -> str:
    return f"BENCH{i:019d}"


def registry(conn: psycopg.Connection[tuple[object, ...]], stations: int, factors: int) -> None:
    now = datetime.now(UTC)
    columns = ("mn", "name", "enterprise", "medium", "region_code")
    with scratch.copy_rows(conn, "station", columns) as copy:
        for i in range(stations):
            copy.write_row((mn_of(i), f"站点{i}", f"企业{i // 3}", "gas", CITIES[i % 3]))
    with scratch.copy_rows(conn, "station_pollutant", ("mn", "pollutant", "emission_limit")) as c:
        for i in range(stations):
            for code in FACTORS[:factors]:
                c.write_row((mn_of(i), code, 100.0))
    with scratch.copy_rows(conn, "chain_head", ("chain", "updated_at", "data_high")) as c:
        for i in range(stations):
            c.write_row((mn_of(i), now - timedelta(seconds=i % 90), '{"2011": 0, "2051": 0}'))
    for i in range(0, stations, 50):
        scratch.add_alarm(
            conn, f"bench:{i}", mn_of(i), "a21026", now - timedelta(hours=1), 120.0, 100.0
        )
        due = (now - timedelta(hours=6), now)
        scratch.add_outage_case(conn, f"bench:{i}", mn_of(i), now - timedelta(hours=30), *due)
    conn.commit()


def measurements(dsn: str, stations: int, days: int, minute: int, factors: int) -> int:
    """Binary COPY, one day per transaction, time-ordered: the recent chunks stay hot."""
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    end -= timedelta(minutes=end.minute % minute)
    start = end - timedelta(days=days)
    rows = 0
    codes = FACTORS[:factors]
    mns = [mn_of(i) for i in range(stations)]
    with psycopg.connect(dsn) as conn:
        scratch.drop_measurement_index(conn)  # rebuilt once at the end
        conn.commit()
        t = start
        while t < end:
            day_end = min(end, t + timedelta(days=1))
            with scratch.copy_measurements(conn, _M_COLUMNS) as copy:
                while t < day_end:
                    for i, mn in enumerate(mns):
                        flag = "D" if (i + t.hour) % 97 == 0 else "N"
                        for k, code in enumerate(codes):
                            copy.write_row(
                                (t, mn, Cn.MINUTE, code, 40.0 + (i + k) % 30, flag, 0, t)
                            )
                    rows += len(mns) * len(codes)
                    t += timedelta(minutes=minute)
            conn.commit()
        rt = end - timedelta(hours=1)
        with scratch.copy_measurements(conn, _RT_COLUMNS) as copy:
            while rt < end:
                for i, mn in enumerate(mns):
                    for code in codes:
                        copy.write_row((rt, mn, Cn.REALTIME, code, 35.0 + i % 20, "N", 0, rt))
                rows += len(mns) * len(codes)
                rt += timedelta(seconds=30)
        conn.commit()
        scratch.restore_measurement_index(conn)
        conn.commit()
        server.analyze(conn)
    return rows


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def timed(
    client: httpx.AsyncClient, name: str, path: str, out: dict[str, list[float]]
) -> None:
    started = time.perf_counter()
    answer = await client.get(path)
    out[name].append((time.perf_counter() - started) * 1000)
    answer.raise_for_status()


async def measure(url: str, token: str, stations: int, pages: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = defaultdict(list)
    rng = random.Random(212)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as client:
        for _ in range(10):  # warm-up: pool connections, plans, page cache
            await timed(client, "warm", f"/api/stations/{mn_of(rng.randrange(stations))}", out)
        for _ in range(pages):
            mn = mn_of(rng.randrange(stations))
            started = time.perf_counter()
            await asyncio.gather(
                timed(client, "station", f"/api/stations/{mn}", out),
                timed(client, "latest", f"/api/stations/{mn}/latest?cn=2011", out),
                timed(client, "cases", f"/api/cases?mn={mn}", out),
                timed(client, "frames", f"/api/stations/{mn}/frames?limit=15", out),
                timed(client, "commands", f"/api/stations/{mn}/commands?limit=10", out),
            )
            path = f"/api/stations/{mn}/series?pollutant=a21026&cn=2051&hours=48"
            await timed(client, "series 48 h minute", path, out)
            out["whole page"].append((time.perf_counter() - started) * 1000)
        for _ in range(max(5, pages // 20)):
            await timed(client, "overview (all stations)", "/api/overview", out)
            await timed(client, "station list (all stations)", "/api/stations", out)
    out.pop("warm")
    return out


def run_console(dsn: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HJ212_DSN": dsn, "HJ212_CONSOLE_PORT": str(port)}
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "console"], env=env, cwd=ROOT, stderr=subprocess.DEVNULL
    )


async def wait_up(url: str) -> None:
    for _ in range(600):
        try:
            async with httpx.AsyncClient() as client:
                await client.get(url + "/openapi.json")
            return
        except httpx.TransportError:
            await asyncio.sleep(0.1)
    raise RuntimeError("console did not start")


def section(args: argparse.Namespace, rows: int, gen_s: float, out: dict[str, list[float]]) -> str:
    lines = [
        "",
        "## Console: the station page's API calls (`python -m benchmarks.console`)",
        "",
        (
            f"Machine: {platform.machine()} {os.cpu_count()} vCPU, "
            f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
            f"CPython {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d}; the console "
            "(uvicorn, one process) and PostgreSQL on the same machine as the client, which "
            "other sessions shared."
        ),
        (
            f"Data: {args.stations:,} stations in three cities, {args.days} days of minute data "
            f"(2051, every {args.minute} min, {args.factors} factors) and the last hour of "
            f"real-time data: {rows:,} measurement rows, generated by binary COPY in "
            f"{gen_s:.0f} s (unique index rebuilt after the load, ANALYZE included). "
            f"{args.pages} station pages of random stations, one after another; the five "
            "calls of a page at once (as the browser makes them), then the chart's series. "
            "Every request authenticated by token and written to the hash-chained audit log."
        ),
        "",
        "| call | n | p50 ms | p99 ms |",
        "|---|---|---|---|",
    ]
    for name, values in out.items():
        lines.append(
            f"| {name} | {len(values)} | {statistics.median(values):.1f} | "
            f"{pct(values, 0.99):.1f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stations", type=int, default=10000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--minute", type=int, default=10, help="MinInterval, minutes")
    parser.add_argument("--factors", type=int, default=1)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--append", action="store_true", help="append to RESULTS.md")
    args = parser.parse_args()
    server_dsn = Cluster(ROOT / "var" / "pg").up()
    name = f"hj212_bench_{uuid.uuid4().hex[:8]}"
    admin = server_dsn.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        server.create_database(conn, name)
    dsn = server_dsn.rsplit("/", 1)[0] + "/" + name
    process = None
    try:
        migrate(dsn)
        started = time.perf_counter()
        token = "bench_" + uuid.uuid4().hex
        with psycopg.connect(dsn) as conn:
            registry(conn, args.stations, args.factors)
            console_store.add_user(conn, "bench", hash_password(token), "administrator")
            api_tokens.add(conn, "bench", token)
        rows = measurements(dsn, args.stations, args.days, args.minute, args.factors)
        gen_s = time.perf_counter() - started
        print(f"generated {rows:,} rows in {gen_s:.0f} s", file=sys.stderr)
        port = free_port()
        process = run_console(dsn, port)
        url = f"http://127.0.0.1:{port}"
        asyncio.run(wait_up(url))
        out = asyncio.run(measure(url, token, args.stations, args.pages))
    finally:
        if process is not None:
            process.terminate()
            process.wait(30)
        with psycopg.connect(admin, autocommit=True) as conn:
            server.drop_database(conn, name)
    text = section(args, rows, gen_s, out)
    print(text)
    if args.append:
        with RESULTS.open("a", encoding="utf-8") as results:
            results.write(text)


if __name__ == "__main__":
    main()
