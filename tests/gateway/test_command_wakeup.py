"""Queued commands reach their station without a poll (gateway/commands.py): the
dispatcher is told by NOTIFY, by the station connecting, and by its own LISTEN
(re)connecting. The poll interval is set to an hour here, so a poll cannot be what
delivers them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import anyio
import psycopg
import pytest

from protocol import encode
from protocol.codes import Cn
from storage import commands
from tests.gateway.support import answer, new_mn, read_frame, register, rows, running, upload

pytestmark = [pytest.mark.db, pytest.mark.anyio]
HOUR = 3600.0


async def queue(dsn: str, mn: str) -> int:
    qn = encode.new_qn(datetime.now(UTC))
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        return await commands.queue(conn, mn, Cn.GET_TIME, {"PolId": "w01018"}, qn, "32", "t")


def state(dsn: str, command_id: int) -> str:
    return str(rows(dsn, "SELECT state FROM hj212.command WHERE id = %s", command_id)[0][0])


async def test_a_command_queued_for_a_connected_station_is_sent_when_notified(
    dsn: str, tmp_path: Path
) -> None:
    mn = new_mn()
    register(dsn, mn)
    async with running(dsn, tmp_path, command_poll=HOUR) as gw:
        async with await anyio.connect_tcp("127.0.0.1", gw.port or 0) as stream:
            await stream.send(upload(mn))
            assert await read_frame(stream) == answer(mn)
            command_id = await queue(dsn, mn)
            request = await read_frame(stream)
    assert b"CN=1011" in request
    assert state(dsn, command_id) != "queued"


async def test_a_command_queued_while_the_station_was_away_is_sent_when_it_connects(
    dsn: str, tmp_path: Path
) -> None:
    mn = new_mn()
    register(dsn, mn)
    async with running(dsn, tmp_path, command_poll=HOUR) as gw:
        command_id = await queue(dsn, mn)  # nobody connected for it: it waits
        await anyio.sleep(0.5)
        assert state(dsn, command_id) == "queued"
        async with await anyio.connect_tcp("127.0.0.1", gw.port or 0) as stream:
            await stream.send(upload(mn))
            frames = [await read_frame(stream), await read_frame(stream)]
    assert answer(mn) in frames
    assert any(b"CN=1011" in frame for frame in frames)
    assert state(dsn, command_id) != "queued"


async def test_commands_queued_before_the_gateway_started_are_sent(
    dsn: str, tmp_path: Path
) -> None:
    """Queued while no gateway listened (its LISTEN starts after): found at connection."""
    mn = new_mn()
    register(dsn, mn)
    command_id = await queue(dsn, mn)
    async with running(dsn, tmp_path, command_poll=HOUR) as gw:
        async with await anyio.connect_tcp("127.0.0.1", gw.port or 0) as stream:
            await stream.send(upload(mn))
            frames = [await read_frame(stream), await read_frame(stream)]
    assert any(b"CN=1011" in frame for frame in frames)
    assert state(dsn, command_id) != "queued"
