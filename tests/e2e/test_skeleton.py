"""End to end on real sockets and a real TimescaleDB: frame in, rows stored, 9014 out."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import psycopg
import pytest
from anyio.abc import SocketStream

from config.settings import GatewaySettings
from gateway.app import Gateway
from protocol import encode

pytestmark = [pytest.mark.db, pytest.mark.e2e, pytest.mark.anyio]


@dataclass
class Running:
    gateway: Gateway
    port: int


@pytest.fixture
async def running(dsn: str, tmp_path: Path) -> AsyncIterator[Running]:
    # unregistered MNs, accepted knowingly (the default quarantines them)
    settings = GatewaySettings(
        host="127.0.0.1",
        port=0,
        metrics_port=0,
        spool_dir=tmp_path / "spool",
        unknown_station="accept",
    )
    gateway = Gateway(settings, dsn)
    async with anyio.create_task_group() as tg:
        port = await tg.start(gateway.run)
        yield Running(gateway, port)
        tg.cancel_scope.cancel()


def new_mn() -> str:
    return uuid.uuid4().hex[:24].upper()


def upload(
    mn: str, *, qn: str = "20261123101500123", flag: int = 5, data_time: str = "20261123101500"
) -> bytes:
    return encode.frame(
        f"QN={qn};ST=32;CN=2011;PW=123456;MN={mn};Flag={flag};"
        f"CP=&&DataTime={data_time};w01018-Rtd=31.25,w01018-Flag=N;"
        "w21003-Rtd=2.104,w21003-Flag=N;w00000-Rtd=12.5,w00000-Flag=N&&"
    )


def answer(mn: str, *, qn: str = "20261123101500123") -> bytes:
    return encode.frame(f"QN={qn};ST=91;CN=9014;PW=123456;MN={mn};Flag=4;CP=&&&&")


async def read_frame(stream: SocketStream) -> bytes:
    data = b""
    with anyio.fail_after(10):
        while not data.endswith(b"\r\n"):
            data += await stream.receive()
    return data


def rows(dsn: str, sql: str, *params: object) -> list[tuple[object, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql.encode(), params).fetchall()


async def test_upload_is_stored_then_answered_with_the_exact_9014(
    running: Running, dsn: str
) -> None:
    mn = new_mn()
    frame = upload(mn)
    async with await anyio.connect_tcp("127.0.0.1", running.port) as stream:
        await stream.send(frame)
        reply = await read_frame(stream)
        assert reply == answer(mn)
        # the answer came after the commit: the rows are visible at once
        stored = rows(
            dsn,
            "SELECT pollutant, rtd, flag, cn, data_time AT TIME ZONE 'Asia/Shanghai'"
            " FROM hj212.measurement WHERE mn = %s ORDER BY pollutant",
            mn,
        )
        assert [r[:4] for r in stored] == [
            ("w00000", 12.5, "N", "2011"),
            ("w01018", 31.25, "N", "2011"),
            ("w21003", 2.104, "N", "2011"),
        ]
        assert str(stored[0][4]) == "2026-11-23 10:15:00"
        archived = rows(
            dsn, "SELECT raw, status, qn, cn, flag, peer FROM hj212.frame WHERE mn = %s", mn
        )
        assert len(archived) == 1
        raw, status, qn, cn, flag, peer = archived[0]
        assert raw == frame  # exactly as received (bytea comes back as bytes)
        assert (status, qn, cn, flag) == ("ok", "20261123101500123", "2011", 5)
        assert str(peer).startswith("127.0.0.1:")


async def test_bad_frames_are_archived_never_answered_and_do_not_break_the_connection(
    running: Running, dsn: str
) -> None:
    mn = new_mn()
    bad_crc = upload(mn, qn="20261123101600001")[:-6] + b"0000\r\n"
    good = upload(mn, qn="20261123101600002", data_time="20261123101600")
    async with await anyio.connect_tcp("127.0.0.1", running.port) as stream:
        await stream.send(b"\x00\x01 line noise " + bad_crc + good)
        reply = await read_frame(stream)
        assert reply == answer(mn, qn="20261123101600002")  # only the good frame is answered
    archived = rows(dsn, "SELECT status, error FROM hj212.frame WHERE mn = %s ORDER BY id", mn)
    assert archived[0][0] == "rejected"
    assert str(archived[0][1]).startswith("crc:")
    assert archived[1] == ("ok", None)
    noise = rows(
        dsn,
        "SELECT raw FROM hj212.frame WHERE status = 'garbage' AND raw = %s",
        b"\x00\x01 line noise ",
    )
    assert len(noise) == 1
    assert rows(dsn, "SELECT count(*) FROM hj212.measurement WHERE mn = %s", mn) == [(3,)]


async def test_retransmission_is_answered_again_but_stored_once(running: Running, dsn: str) -> None:
    mn = new_mn()
    async with await anyio.connect_tcp("127.0.0.1", running.port) as stream:
        for _ in range(2):
            await stream.send(upload(mn))
            assert await read_frame(stream) == answer(mn)
    assert rows(dsn, "SELECT count(*) FROM hj212.frame WHERE mn = %s", mn) == [(2,)]
    assert rows(dsn, "SELECT count(*) FROM hj212.measurement WHERE mn = %s", mn) == [(3,)]


async def test_upload_without_ack_flag_is_stored_and_not_answered(
    running: Running, dsn: str
) -> None:
    mn = new_mn()
    async with await anyio.connect_tcp("127.0.0.1", running.port) as stream:
        await stream.send(upload(mn, flag=4))
        # then one that asks, to know when the first has been handled
        await stream.send(upload(mn, qn="20261123101700001", data_time="20261123101700"))
        assert await read_frame(stream) == answer(mn, qn="20261123101700001")
    assert rows(dsn, "SELECT count(*) FROM hj212.measurement WHERE mn = %s", mn) == [(6,)]


async def test_the_simulate_command_gets_every_frame_acknowledged(
    running: Running, dsn: str
) -> None:
    result = await anyio.run_process(
        [
            sys.executable,
            "-m",
            "cli",
            "simulate",
            "--stations",
            "4",
            "--gateway",
            f"127.0.0.1:{running.port}",
            "--duration",
            "3",
            "--interval",
            "1",
        ],
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    counts = json.loads(result.stdout)
    assert counts["connections"] == 4
    assert counts["frames_sent"] >= 8
    assert counts["acks"] == counts["frames_sent"]
    assert counts["timeouts"] == 0
    stored = rows(dsn, "SELECT count(*) FROM hj212.frame WHERE mn LIKE '5131%%' AND status = 'ok'")
    assert stored[0][0] == counts["frames_sent"]
    values = rows(dsn, "SELECT count(*) FROM hj212.measurement WHERE mn LIKE '5131%%'")
    assert values[0][0] == counts["values_acked"]
