"""Forwarding upstream, in one process: a city gateway and database forward to a
provincial gateway and database (docs/forwarding.md §2-§4)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import anyio
import anyio.abc
import pytest

from protocol import encode
from tests.forwarding.support import free_port, gateway, province_database, settings, upstream
from tests.gateway.support import eventually, new_mn, read_frame, register, rows

pytestmark = [pytest.mark.db, pytest.mark.anyio]


def _upload(mn: str, n: int, flag: int = 5) -> bytes:
    return encode.frame(
        f"QN=20261123101500{n:03d};ST=32;CN=2011;PW=123456;MN={mn};Flag={flag};"
        f"CP=&&DataTime=20261123{10 + n // 60:02d}{n % 60:02d}00;w01018-Rtd={n}.5,w01018-Flag=N&&"
    )


async def _send(port: int, mn: str, numbers: range, flag: int = 5) -> None:
    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
        for n in numbers:
            await stream.send(_upload(mn, n, flag))
            if flag & 1:
                await read_frame(stream)  # the city's 9014: stored there


def _count(dsn: str, mn: str) -> int:
    sql = "SELECT count(*) FROM hj212.frame WHERE mn = %s AND cn = '2011' AND status = 'ok'"
    return int(rows(dsn, sql, mn)[0][0])


def _queued(dsn: str, mn: str) -> int:
    sql = "SELECT count(*) FROM hj212.upstream_queue WHERE upstream = 'province' AND mn = %s"
    return int(rows(dsn, sql, mn)[0][0])


async def test_frames_reach_the_province_once_even_across_its_outage(
    dsn: str, server_dsn: str, tmp_path: Path
) -> None:
    mn = new_mn()
    register(dsn, mn)
    port = free_port()
    with province_database(server_dsn) as province:
        register(province, mn)
        up = (upstream(port),)
        async with gateway(dsn, settings(tmp_path, "city"), up) as city:
            assert city.port is not None
            async with gateway(province, settings(tmp_path, "province", port)):
                await _send(city.port, mn, range(5), flag=4)  # no answer asked: A bit set
                await eventually(lambda: _count(dsn, mn) == 5)
                await eventually(lambda: _count(province, mn) == 5, 20)
            await _send(city.port, mn, range(5, 12))  # the province is down
            await anyio.sleep(2)
            assert _count(province, mn) == 5
            assert _queued(dsn, mn) == 7  # kept, visible
            async with gateway(province, settings(tmp_path, "province", port)):
                await eventually(lambda: _queued(dsn, mn) == 0, 40)
        assert _count(province, mn) == 12
        stored = rows(
            province,
            "SELECT count(*), count(DISTINCT data_time) FROM hj212.measurement WHERE mn = %s",
            mn,
        )
        assert stored == [(12, 12)]
        ((delivered, failures),) = rows(
            dsn, "SELECT delivered, failures FROM hj212.upstream WHERE name = 'province'"
        )
        assert delivered == 12
        assert failures >= 1


async def test_an_upstream_that_never_answers_keeps_the_backlog_visible(
    dsn: str, tmp_path: Path
) -> None:
    """It accepts connections and reads, but never sends a 9014: nothing is delivered,
    nothing leaves the queue, and the failures and backlog say so."""
    mn = new_mn()
    register(dsn, mn)
    received: list[bytes] = []

    async def silent(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            with contextlib.suppress(anyio.EndOfStream, anyio.BrokenResourceError):
                while True:
                    received.append(await stream.receive())

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    up = (upstream(port, name="silent", behind_alarm=1.0),)
    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, silent)
        async with gateway(dsn, settings(tmp_path, "city"), up) as city:
            assert city.port is not None
            await _send(city.port, mn, range(3))
            await eventually(lambda: len(received) >= 2, 20)  # sent, resent ...
            await anyio.sleep(1.5)
            sender = city.forwarding.senders[0]
            await eventually(lambda: sender.counters.backlog == 3, 20)
            assert sender.counters.delivered == 0
            assert sender.counters.failures >= 1
            await eventually(lambda: sender.counters.behind, 20)  # older than 1 s: behind
        tg.cancel_scope.cancel()
    queued = rows(
        dsn, "SELECT count(*), min(attempts) FROM hj212.upstream_queue WHERE upstream = 'silent'"
    )
    assert queued[0][0] == 3
    ((delivered, failures, error),) = rows(
        dsn, "SELECT delivered, failures, last_error FROM hj212.upstream WHERE name = 'silent'"
    )
    assert (delivered, failures >= 1) == (0, True)
    assert "no 9014" in error
    noticed = rows(
        dsn,
        "SELECT detail FROM hj212.audit_log WHERE action = 'upstream-behind'"
        " AND object = 'upstream:silent'",
    )
    assert [d["backlog"] for (d,) in noticed] == [3]
