"""Sessions against a real database: who may send, what is answered, who is closed."""

from __future__ import annotations

from pathlib import Path

import anyio
import anyio.abc
import pytest

from protocol import encode
from protocol._crc import modbus
from tests.gateway.support import (
    answer,
    closed_by_peer,
    new_mn,
    nothing_within,
    read_frame,
    register,
    rows,
    running,
    upload,
)

pytestmark = [pytest.mark.db, pytest.mark.anyio]


async def test_registered_station_is_answered_after_commit(dsn: str, tmp_path: Path) -> None:
    mn = new_mn()
    register(dsn, mn)
    async with running(dsn, tmp_path) as gw:
        async with await anyio.connect_tcp("127.0.0.1", gw.port or 0) as stream:
            await stream.send(upload(mn))
            assert await read_frame(stream) == answer(mn)
            assert gw.sessions[mn].station is not None
    assert rows(dsn, "SELECT status FROM hj212.frame WHERE mn = %s", mn) == [("ok",)]


async def test_wrong_password_is_archived_unanswered_and_closed(dsn: str, tmp_path: Path) -> None:
    mn = new_mn()
    register(dsn, mn, password="654321")
    async with running(dsn, tmp_path) as gw:
        async with await anyio.connect_tcp("127.0.0.1", gw.port or 0) as stream:
            await stream.send(upload(mn, pw="123456"))
            assert await closed_by_peer(stream)
    assert rows(dsn, "SELECT status FROM hj212.frame WHERE mn = %s", mn) == [("unauthorized",)]
    assert rows(dsn, "SELECT count(*) FROM hj212.measurement WHERE mn = %s", mn) == [(0,)]


@pytest.mark.parametrize("policy", ["archive", "close"])
async def test_unknown_station_policies(dsn: str, tmp_path: Path, policy: str) -> None:
    mn = new_mn()
    async with running(dsn, tmp_path, unknown_station=policy) as gw:
        async with await anyio.connect_tcp("127.0.0.1", gw.port or 0) as stream:
            await stream.send(upload(mn))
            if policy == "close":
                assert await closed_by_peer(stream)
            else:
                assert await nothing_within(stream, 1.0)  # archived, not answered
    assert rows(dsn, "SELECT status FROM hj212.frame WHERE mn = %s", mn) == [("unauthorized",)]


async def test_unknown_station_accepted_when_chosen(dsn: str, tmp_path: Path) -> None:
    mn = new_mn()
    async with running(dsn, tmp_path) as gw:
        async with await anyio.connect_tcp("127.0.0.1", gw.port or 0) as stream:
            await stream.send(upload(mn))
            assert await read_frame(stream) == answer(mn)


def legacy(mn: str, *, swapped: bool) -> bytes:
    segment = (
        f"QN=20261123101600000;ST=32;CN=2011;PW=123456;MN={mn};Flag=5;"
        "CP=&&DataTime=20261123101600;w01018-Rtd=1.5,w01018-Flag=N&&"
    ).encode()
    crc = modbus(segment)
    if swapped:
        crc = (crc & 0xFF) << 8 | crc >> 8
    return b"##%04d%b%04X\r\n" % (len(segment), segment, crc)


async def test_legacy_crc_follows_the_station_policy(dsn: str, tmp_path: Path) -> None:
    allowed, refused = new_mn(), new_mn()
    register(dsn, allowed, legacy_crc="swapped")
    register(dsn, refused)
    async with running(dsn, tmp_path) as gw:
        async with await anyio.connect_tcp("127.0.0.1", gw.port or 0) as stream:
            await stream.send(legacy(allowed, swapped=True))
            # answered, with the standard's CRC
            assert await read_frame(stream) == answer(allowed, qn="20261123101600000")
        async with await anyio.connect_tcp("127.0.0.1", gw.port or 0) as stream:
            await stream.send(legacy(refused, swapped=True))
            assert await nothing_within(stream, 1.0)
    assert rows(dsn, "SELECT status FROM hj212.frame WHERE mn = %s", allowed) == [("ok",)]
    [(status, error)] = rows(dsn, "SELECT status, error FROM hj212.frame WHERE mn = %s", refused)
    assert status == "rejected"
    assert str(error).startswith("legacy-crc")


async def test_second_connection_of_a_station_replaces_the_first(dsn: str, tmp_path: Path) -> None:
    mn = new_mn()
    register(dsn, mn)
    async with running(dsn, tmp_path) as gw:
        first = await anyio.connect_tcp("127.0.0.1", gw.port or 0)
        await first.send(upload(mn, qn="20261123101500001"))
        assert await read_frame(first) == answer(mn, qn="20261123101500001")
        async with await anyio.connect_tcp("127.0.0.1", gw.port or 0) as second:
            await second.send(upload(mn, qn="20261123101500002", data_time="20261123101501"))
            assert await read_frame(second) == answer(mn, qn="20261123101500002")
            assert await closed_by_peer(first)
            port = second.extra(anyio.abc.SocketAttribute.local_port)
            assert gw.sessions[mn].peer == f"127.0.0.1:{port}"  # the station is the new one
        await first.aclose()


async def test_time_calibration_request_gets_9013_then_1012(dsn: str, tmp_path: Path) -> None:
    mn = new_mn()
    register(dsn, mn)
    request = encode.frame(
        f"QN=20261123101500123;ST=32;CN=1013;PW=123456;MN={mn};Flag=5;CP=&&PolId=w01018&&"
    )
    async with running(dsn, tmp_path) as gw:
        async with await anyio.connect_tcp("127.0.0.1", gw.port or 0) as stream:
            await stream.send(request)
            data = b""
            with anyio.fail_after(10):
                while data.count(b"\r\n") < 2:
                    data += await stream.receive()
    first, second = data.split(b"\r\n")[:2]
    assert first + b"\r\n" == encode.frame(
        f"QN=20261123101500123;ST=91;CN=9013;PW=123456;MN={mn};Flag=4;CP=&&&&"
    )
    assert b"CN=1012;" in second
    assert b"CP=&&PolId=w01018;SystemTime=" in second
    [(cn, state, who)] = rows(
        dsn, "SELECT cn, state, requested_by FROM hj212.command WHERE mn = %s", mn
    )
    assert (cn, state, who) == ("1012", "sent", "gateway")
