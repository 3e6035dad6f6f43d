"""Fault tests, bounded and on loopback only. Each ends by counting: every frame
acknowledged is stored, and no record is stored twice. The counts are printed at the end
of the run ("fault test counts")."""

from __future__ import annotations

import contextlib
import os
import random
import resource
import signal
import socket
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from ops.cluster import Cluster
from storage.migrate import migrate
from tests.faults.support import Logger, count_stored, report
from tests.gateway.proxy import proxy_for
from tests.gateway.support import eventually, new_mn, running

pytestmark = [pytest.mark.db, pytest.mark.anyio]
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive free ports (worker i serves metrics on base +
    i): a base from the kernel alone can have a neighbour held by another client's
    ephemeral port, and that worker then has no /metrics to ask."""
    for _ in range(100):
        base = free_port()
        held = []
        try:
            for offset in range(count):
                s = socket.socket()
                held.append(s)
                s.bind(("127.0.0.1", base + offset))
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
        return base
    raise RuntimeError(f"no {count} consecutive free ports")


def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def start_gateway(dsn: str, port: int, spool: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HJ212_DSN": dsn,
        "HJ212_GATEWAY_PORT": str(port),
        "HJ212_GATEWAY_METRICS_PORT": "0",
        "HJ212_GATEWAY_SPOOL_DIR": str(spool),
        "HJ212_GATEWAY_UNKNOWN_STATION": "accept",  # the loggers are not registered
        "HJ212_CONSOLE_ENABLED": "false",  # not this test's (and 8212 may be taken)
    }
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "serve"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def connections_served(metrics_port: int) -> int:
    """hj212_connections_total of one worker, from its /metrics (retried while it starts)."""
    with anyio.fail_after(30):
        while True:
            try:
                async with await anyio.connect_tcp("127.0.0.1", metrics_port) as http:
                    await http.send(b"GET /metrics HTTP/1.0\r\n\r\n")
                    body = b""
                    with contextlib.suppress(anyio.EndOfStream):
                        while True:
                            body += await http.receive()
            except OSError:
                await anyio.sleep(0.2)
                continue
            for line in body.splitlines():
                if line.startswith(b"hj212_connections_total"):
                    return int(float(line.split()[1]))
            await anyio.sleep(0.2)


async def wait_listening(port: int) -> None:
    with anyio.fail_after(30):
        while True:
            try:
                stream = await anyio.connect_tcp("127.0.0.1", port)
            except OSError:
                await anyio.sleep(0.1)
                continue
            await stream.aclose()
            return


@pytest.mark.parametrize("database", ["up", "down"])
async def test_gateway_killed_with_sigkill_and_restarted(
    dsn: str, tmp_path: Path, database: str
) -> None:
    """SIGKILL mid-stream, with the database up (acks from commits) or cut away (acks
    from the spool, drained by the restarted process)."""
    port = free_port()
    loggers = [Logger(new_mn(), port) for _ in range(8)]
    async with proxy_for(dsn) as proxy:
        gw_dsn = proxy.dsn_through(dsn)
        gateway = start_gateway(gw_dsn, port, tmp_path / "spool")
        try:
            await wait_listening(port)
            async with anyio.create_task_group() as tg:
                for logger in loggers:
                    tg.start_soon(logger.run, 60)
                await eventually(lambda: sum(len(lg.acked) for lg in loggers) >= 120, 60)
                if database == "down":
                    proxy.cut()
                    before = sum(len(lg.acked) for lg in loggers)
                    await eventually(
                        lambda: sum(len(lg.acked) for lg in loggers) >= before + 80, 60
                    )  # acknowledged from the spool
                gateway.send_signal(signal.SIGKILL)
                gateway.wait()
                await anyio.sleep(0.5)
                gateway = start_gateway(gw_dsn, port, tmp_path / "spool")
                if database == "down":
                    await anyio.sleep(2)
                    proxy.restore()
            # the restarted process drains what its predecessor spooled (and acknowledged)
            await eventually(lambda: count_stored(dsn, loggers)[1] == 8 * 60, 60)
            spooled = sum(1 for p in (tmp_path / "spool").glob("spool-*.log"))
        finally:
            gateway.send_signal(signal.SIGTERM)
            gateway.wait(30)
    acked, found, twice = report(
        f"SIGKILL + restart, database {database}", loggers, dsn, spool_segments_left=spooled
    )
    assert acked == 8 * 60
    assert found == acked
    assert twice == 0


async def test_database_stopped_and_restarted_under_load(tmp_path: Path) -> None:
    """A real PostgreSQL (its own cluster) stopped with frames in flight, then started."""
    cluster = Cluster(tmp_path / "pg", port=free_port())  # the same port after the restart
    dsn = cluster.up()
    migrate(dsn)
    loggers: list[Logger] = []
    try:
        async with running(dsn, tmp_path) as gw:
            loggers = [Logger(new_mn(), gw.port or 0) for _ in range(20)]
            async with anyio.create_task_group() as tg:
                for logger in loggers:
                    tg.start_soon(logger.run, 100)
                await eventually(lambda: sum(len(lg.acked) for lg in loggers) >= 300, 120)
                await anyio.to_thread.run_sync(cluster.down)
                down_at = sum(len(lg.acked) for lg in loggers)
                await eventually(lambda: sum(len(lg.acked) for lg in loggers) >= down_at + 300, 120)
                spooled = gw.sink.spooled
                await anyio.to_thread.run_sync(cluster.up)
            await eventually(lambda: gw.sink.db_up, 120)
        acked, found, twice = report(
            "database stopped and restarted", loggers, dsn, spooled=spooled
        )
    finally:
        cluster.down()
    assert spooled > 0
    assert acked == 20 * 100
    assert found == acked
    assert twice == 0


async def test_flood_of_garbage_and_oversized_frames(dsn: str, tmp_path: Path) -> None:
    rng = random.Random(212)
    good = [Logger(new_mn(), 0) for _ in range(4)]
    sent_garbage = 0
    async with running(dsn, tmp_path, max_segment=1024, max_garbage=1 << 30) as gw:
        for logger in good:
            logger.port = gw.port or 0

        async def flood() -> None:
            nonlocal sent_garbage
            for _ in range(20):
                try:
                    async with await anyio.connect_tcp("127.0.0.1", gw.port or 0) as s:
                        for _ in range(50):
                            kind = rng.randrange(3)
                            if kind == 0:
                                chunk = rng.randbytes(rng.randrange(1, 4096))
                            elif kind == 1:
                                chunk = b"##9999" + b"A" * 5000  # oversized
                            else:
                                chunk = b"##0100QN=1;" + rng.randbytes(200) + b"&&ZZZZ\r\n"
                            await s.send(chunk)
                            sent_garbage += len(chunk)
                except (OSError, anyio.BrokenResourceError):
                    pass

        async with anyio.create_task_group() as tg:
            for _ in range(8):
                tg.start_soon(flood)
            for logger in good:
                tg.start_soon(logger.run, 50)
        rejected = int(
            sum(
                s.value
                for m in gw.metrics.registry.collect()
                if m.name == "hj212_frames_rejected"
                for s in m.samples
                if s.name.endswith("_total")
            )
        )
    acked, found, twice = report(
        "garbage and oversized flood",
        good,
        dsn,
        garbage_bytes=sent_garbage,
        rejected_pieces=rejected,
    )
    assert rejected > 100
    assert acked == 4 * 50
    assert found == acked
    assert twice == 0


async def test_thousands_of_connections_at_once(dsn: str, tmp_path: Path) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 3000
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 2 * wanted + 500)), hard))
    count = min(wanted, (resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 500) // 2)
    async with running(dsn, tmp_path) as gw:
        loggers = [Logger(new_mn(), gw.port or 0) for _ in range(count)]
        async with anyio.create_task_group() as tg:
            for logger in loggers:
                tg.start_soon(logger.run, 2)
        peak = gw.metrics.connections._value.get()
    acked, found, twice = report(f"{count} connections at once", loggers, dsn, accepted=int(peak))
    assert acked == count * 2
    assert found == acked
    assert twice == 0


async def test_worker_processes_share_the_port(dsn: str, tmp_path: Path) -> None:
    port, metrics = free_port(), free_ports(2)
    env = {
        **os.environ,
        "HJ212_DSN": dsn,
        "HJ212_GATEWAY_PORT": str(port),
        "HJ212_GATEWAY_METRICS_PORT": str(metrics),
        "HJ212_GATEWAY_SPOOL_DIR": str(tmp_path / "spool"),
        "HJ212_GATEWAY_UNKNOWN_STATION": "accept",  # the loggers are not registered
        "HJ212_CONSOLE_ENABLED": "false",
    }
    supervisor = spawn(["serve", "--workers", "2"], env)
    try:
        await wait_listening(port)
        await anyio.sleep(1)  # both workers up
        loggers = [Logger(new_mn(), port) for _ in range(200)]
        async with anyio.create_task_group() as tg:
            for logger in loggers:
                tg.start_soon(logger.run, 3)
        served = [await connections_served(metrics + worker) for worker in range(2)]
    finally:
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(30) == 0  # a graceful stop of both workers
    acked, found, twice = report(
        "2 worker processes on one port", loggers, dsn, connections_per_worker=served
    )
    assert all(n > 0 for n in served)
    assert sum(served) >= 200
    assert acked == found == 600
    assert twice == 0
