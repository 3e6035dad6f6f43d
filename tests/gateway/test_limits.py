"""Limits against broken or hostile peers: each is hit for real over loopback."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import anyio
import anyio.abc
import pytest

from tests.gateway.support import (
    answer,
    closed_by_peer,
    new_mn,
    read_frame,
    rows,
    running,
    upload,
)

pytestmark = [pytest.mark.db, pytest.mark.anyio]


async def test_idle_connection_is_closed(dsn: str, tmp_path: Path) -> None:
    async with running(dsn, tmp_path, idle_timeout=1.0) as gw:
        async with await anyio.connect_tcp("127.0.0.1", gw.port or 0) as stream:
            assert await closed_by_peer(stream, limit=5)


async def test_slow_sender_is_closed(dsn: str, tmp_path: Path) -> None:
    frame = upload(new_mn())
    async with running(dsn, tmp_path, frame_timeout=1.5) as gw:
        async with await anyio.connect_tcp("127.0.0.1", gw.port or 0) as stream:
            closed = False
            for i in range(40):  # one byte every 0.2 s: never idle, never finished
                try:
                    await stream.send(frame[i : i + 1])
                except (anyio.BrokenResourceError, ConnectionResetError):
                    closed = True
                    break
                await anyio.sleep(0.2)
            assert closed or await closed_by_peer(stream, limit=3)
    # the unfinished frame was archived, as received, when the connection ended
    stored = rows(
        dsn,
        "SELECT status, error FROM hj212.frame WHERE length(raw) >= 5"
        " AND position(raw IN %s) = 1 AND mn IS NULL",
        frame,
    )
    assert len(stored) == 1
    assert stored[0][0] == "garbage"
    assert "stream ended inside a frame" in str(stored[0][1])


async def test_garbage_before_any_valid_frame_closes_the_connection(
    dsn: str, tmp_path: Path
) -> None:
    async with running(dsn, tmp_path, max_garbage=4096) as gw:
        async with await anyio.connect_tcp("127.0.0.1", gw.port or 0) as stream:
            noise = b"\x00garbage##xx" * 100  # "##xx" is a header with a bad length
            closed = False
            for _ in range(20):
                try:
                    await stream.send(noise)
                except (anyio.BrokenResourceError, ConnectionResetError):
                    closed = True
                    break
            assert closed or await closed_by_peer(stream, limit=5)


async def test_connections_per_ip_are_capped(dsn: str, tmp_path: Path) -> None:
    async with running(dsn, tmp_path, max_connections_per_ip=3) as gw:
        streams = [await anyio.connect_tcp("127.0.0.1", gw.port or 0) for _ in range(3)]
        async with await anyio.connect_tcp("127.0.0.1", gw.port or 0) as fourth:
            assert await closed_by_peer(fourth, limit=5)
        mn = new_mn()
        await streams[0].send(upload(mn))  # the admitted ones still work
        assert await read_frame(streams[0]) == answer(mn)
        for stream in streams:
            await stream.aclose()


async def test_frame_rate_limit_slows_a_flood_without_losing_it(dsn: str, tmp_path: Path) -> None:
    mn = new_mn()
    frames = [
        upload(mn, qn=f"2026112310{i:07d}", flag=4, data_time=f"202611231{i:05d}")
        for i in range(60)
    ]
    last = upload(mn, qn="20261123109999999", data_time="20261123190000")
    async with running(dsn, tmp_path, frames_per_second=20.0, frames_burst=10) as gw:
        async with await anyio.connect_tcp("127.0.0.1", gw.port or 0) as stream:
            await stream.send(b"".join(frames) + last)
            assert await read_frame(stream, limit=20) == answer(mn, qn="20261123109999999")
        paused = gw.metrics.rate_limited._value.get()
    assert paused >= 1
    assert rows(dsn, "SELECT count(*) FROM hj212.frame WHERE mn = %s", mn) == [(61,)]


async def test_oversized_frame_is_rejected_and_the_next_one_answered(
    dsn: str, tmp_path: Path
) -> None:
    mn = new_mn()
    big = upload(mn, qn="20261123101500001").replace(b"w01018-Rtd", b"w01018-Rtd" + b"0" * 2000)
    big = b"##%04d" % (len(big) - 12) + big[6:]
    started = datetime.now(UTC)
    async with running(dsn, tmp_path, max_segment=1024) as gw:
        async with await anyio.connect_tcp("127.0.0.1", gw.port or 0) as stream:
            peer = f"127.0.0.1:{stream.extra(anyio.abc.SocketAttribute.local_port)}"
            await stream.send(big + upload(mn))
            assert await read_frame(stream) == answer(mn)
    # the pieces without an MN form their own chain (one writer lane): id order is
    # arrival order within it
    pieces = rows(
        dsn,
        "SELECT status, error, raw FROM hj212.frame WHERE peer = %s AND received_at >= %s"
        " AND mn IS NULL ORDER BY id",
        peer,
        started,
    )
    assert str(pieces[0][1]).startswith("length: segment length")
    assert b"".join(r[2] for r in pieces) == big  # every byte kept
    assert rows(dsn, "SELECT status FROM hj212.frame WHERE peer = %s AND mn = %s", peer, mn) == [
        ("ok",)
    ]
