"""Attacks that try to fill the gateway or the archive (issue 14: F-04, F-17, F-20, F-23),
each against a real ``hj212 serve``, then the good station."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import pytest

from tests.security.support import (
    ROOT,
    GoodStation,
    closed_by_peer,
    new_mn,
    read_until,
    register,
    rows,
    serve,
    upload,
)

pytestmark = [pytest.mark.db, pytest.mark.anyio]
MIB = 1 << 20


async def _flood(port: int, mn: str, n: int, garbage: bytes, limit: int) -> str:
    """One connection: a valid frame, then garbage until the gateway closes it (or
    ``limit`` bytes are sent); its peer address."""
    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
        peer = f"127.0.0.1:{stream.extra(anyio.abc.SocketAttribute.local_port)}"
        wire, qn = upload(mn, "123456", n)
        await stream.send(wire)
        await read_until(stream, f"QN={qn};ST=91;CN=9014".encode())
        sent = 0
        try:
            while sent < limit:
                await stream.send(garbage)
                sent += len(garbage)
        except (anyio.BrokenResourceError, ConnectionResetError, anyio.EndOfStream):
            pass
        else:
            assert await closed_by_peer(stream), f"{sent} bytes of garbage and still open"
    return peer


async def test_f04_garbage_after_a_valid_frame_is_bounded(dsn: str, tmp_path: Path) -> None:
    good = GoodStation(dsn)
    with serve(dsn, tmp_path) as gw:
        await good.connect(gw.port)
        await good.send(1)
        noise = (b"\x00not a frame " * 5000)[:64000]
        peers = []
        for n in range(40):  # 40 connections x up to 2 MiB: 80 MiB offered
            peers.append(await _flood(gw.port, new_mn(), n, noise, 2 * MIB))
            if n % 10 == 0:
                await good.send(1)
        await good.send(1)
        good.check()
        await good.close()
    [(archived, summaries)] = rows(
        dsn,
        "SELECT coalesce(sum(length(raw)), 0), count(*) FILTER (WHERE error LIKE"
        " '%%not archived%%') FROM hj212.frame WHERE peer = ANY(%s)"
        " AND status IN ('garbage', 'rejected')",
        peers,
    )
    # the address's budget (1 MiB in 10 min), plus at most one read past it
    assert archived <= MIB + 128 * 1024
    assert summaries >= 1  # what was left out is counted, not silently dropped


async def test_f17_connections_that_never_identify_are_closed(dsn: str, tmp_path: Path) -> None:
    good = GoodStation(dsn)
    with serve(
        dsn,
        tmp_path,
        HJ212_GATEWAY_FIRST_FRAME_TIMEOUT="2",
        HJ212_GATEWAY_MAX_UNIDENTIFIED_PER_IP="40",
    ) as gw:
        await good.connect(gw.port)
        await good.send(1)
        silent = [await anyio.connect_tcp("127.0.0.1", gw.port) for _ in range(60)]
        closed = []
        async with anyio.create_task_group() as tg:

            async def watch(stream: anyio.abc.SocketStream) -> None:
                closed.append(await closed_by_peer(stream, limit=20))

            for stream in silent:
                tg.start_soon(watch, stream)
            await good.send(2)
        assert closed == [True] * 60
        for stream in silent:
            await stream.aclose()
        await good.send(1)
        good.check()
        await good.close()


async def test_f20_invented_cp_keys_are_not_pollutants(dsn: str, tmp_path: Path) -> None:
    good, noisy = GoodStation(dsn), new_mn()
    register(dsn, noisy, "N01sy1")
    invented = ";".join(f"z{i:03d}-Rtd=1" for i in range(760))
    with serve(dsn, tmp_path) as gw:
        await good.connect(gw.port)
        await good.send(1)
        wire, qn = upload(noisy, "N01sy1", 0, values=f"w01018-Rtd=3.5;{invented}")
        assert len(wire) > 8000
        async with await anyio.connect_tcp("127.0.0.1", gw.port) as stream:
            await stream.send(wire)
            await read_until(stream, f"QN={qn};ST=91;CN=9014".encode())  # stored, answered
        await good.send(1)
        good.check()
        await good.close()
    [(frame, error)] = rows(
        dsn, "SELECT id, error FROM hj212.frame WHERE qn = %s AND mn = %s", qn, noisy
    )
    assert "760 unknown pollutant code(s) not stored" in str(error)
    kept = rows(dsn, "SELECT pollutant FROM hj212.measurement WHERE frame_id = %s", frame)
    assert kept == [("w01018",)]


async def test_f23_an_empty_password_is_not_imported_as_the_default(
    dsn: str, tmp_path: Path
) -> None:
    mn, keyed = new_mn(), new_mn()
    sheet = tmp_path / "stations.csv"
    sheet.write_text(
        "mn,name,medium,region_code,password,sm4_key\n"
        f"{mn},outlet 1,water,420100,,\n"
        f"{keyed},outlet 2,water,420100,Ab12cd,0123456789ABCDEF0123456789ABCDEG\n"
    )
    done = await anyio.run_process(
        [sys.executable, "-m", "cli", "stations", "import", str(sheet), "--dsn", dsn],
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 1
    err = done.stderr.decode()
    assert "line 2: password is empty" in err
    assert "line 3: sm4_key must be 32 hex digits" in err
    assert rows(dsn, "SELECT count(*) FROM hj212.station WHERE mn = ANY(%s)", [mn, keyed]) == [(0,)]
    register(dsn, new_mn(), "x")  # an unrelated station, so the registry is not empty
    good = GoodStation(dsn)
    with serve(dsn, tmp_path) as gw:
        await good.connect(gw.port)
        await good.send(1)
        async with await anyio.connect_tcp("127.0.0.1", gw.port) as stream:
            wire, qn = upload(mn, "123456", 0)  # the default PW gets nothing registered
            await stream.send(wire)
            await read_until(stream, f"QN={qn};ST=91;CN=9014".encode())
        await good.send(1)
        good.check()
        await good.close()
    assert rows(dsn, "SELECT status FROM hj212.frame WHERE mn = %s", mn) == [("quarantined",)]
    assert rows(dsn, "SELECT count(*) FROM hj212.measurement WHERE mn = %s", mn) == [(0,)]
