"""Helpers for gateway tests: a real gateway on a loopback port, registered stations,
and a TCP client that speaks through the protocol package."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import psycopg
from anyio.abc import SocketStream

from config.settings import GatewaySettings
from gateway.app import Gateway
from protocol import encode


def new_mn() -> str:
    return uuid.uuid4().hex[:24].upper()


def register(
    dsn: str,
    mn: str,
    *,
    password: str = "123456",
    medium: str = "water",
    legacy_crc: str = "reject",
    sm4_key: str | None = None,
) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO hj212.station (mn, password, name, medium, region_code, legacy_crc,"
            " sm4_key) VALUES (%s, %s, %s, %s, '420100', %s, %s)",
            (mn, password, f"test {mn[:6]}", medium, legacy_crc, sm4_key),
        )


def rows(dsn: str, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql.encode(), params).fetchall()


@contextlib.asynccontextmanager
async def running(dsn: str, tmp: Path, **changes: Any) -> AsyncIterator[Gateway]:
    # These tests send from MNs they do not register: they accept unknown MNs knowingly
    # (the default quarantines them; tests/security/ tests the defaults).
    base = GatewaySettings(
        host="127.0.0.1",
        port=0,
        metrics_port=0,
        spool_dir=tmp / "spool",
        unknown_station="accept",
    )
    settings = replace(base, **changes)
    gateway = Gateway(settings, dsn)
    async with anyio.create_task_group() as tg:
        await tg.start(gateway.run)
        yield gateway
        tg.cancel_scope.cancel()


def upload(
    mn: str,
    *,
    qn: str = "20261123101500123",
    flag: int = 5,
    pw: str = "123456",
    data_time: str = "20261123101500",
    value: float = 31.25,
) -> bytes:
    return encode.frame(
        f"QN={qn};ST=32;CN=2011;PW={pw};MN={mn};Flag={flag};"
        f"CP=&&DataTime={data_time};w01018-Rtd={value},w01018-Flag=N&&"
    )


def answer(mn: str, *, qn: str = "20261123101500123") -> bytes:
    return encode.frame(f"QN={qn};ST=91;CN=9014;PW=123456;MN={mn};Flag=4;CP=&&&&")


async def read_frame(stream: SocketStream, limit: float = 10) -> bytes:
    data = b""
    with anyio.fail_after(limit):
        while not data.endswith(b"\r\n"):
            data += await stream.receive()
    return data


async def closed_by_peer(stream: SocketStream, limit: float = 10) -> bool:
    """True when the gateway closes the connection within ``limit`` s (data ignored)."""
    with anyio.move_on_after(limit):
        try:
            while True:
                await stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionResetError):
            return True
    return False


async def nothing_within(stream: SocketStream, seconds: float) -> bool:
    with anyio.move_on_after(seconds):
        await stream.receive()
        return False
    return True


async def eventually(condition: Callable[[], bool], limit: float = 10) -> None:
    """Wait until ``condition()`` holds (polled: it watches the gateway's own state)."""
    with anyio.fail_after(limit):
        while not condition():  # noqa: ASYNC110 - nothing to wait on but the state itself
            await anyio.sleep(0.05)
