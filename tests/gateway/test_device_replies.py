"""A device's answers through the gateway: their facts stored, 1011 a drift measurement."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import anyio
import psycopg
import pytest

from protocol import BEIJING, encode, format_time
from tests.gateway.support import (
    answer,
    eventually,
    new_mn,
    read_frame,
    register,
    rows,
    running,
    upload,
)

pytestmark = [pytest.mark.db, pytest.mark.anyio]


async def test_a_1011_answer_is_stored_and_measures_the_clock(dsn: str, tmp_path: Path) -> None:
    mn = new_mn()
    register(dsn, mn)
    behind = format_time(datetime.now(BEIJING) - timedelta(hours=1))
    reply = encode.frame(
        f"QN=20261123101500124;ST=32;CN=1011;PW=123456;MN={mn};Flag=4;"
        f"CP=&&PolId=w01018;SystemTime={behind}&&"
    )
    async with running(dsn, tmp_path) as gw:
        async with await anyio.connect_tcp("127.0.0.1", gw.port or 0) as stream:
            await stream.send(upload(mn))
            assert await read_frame(stream) == answer(mn)
            await stream.send(reply)
            event = "SELECT kind, payload->>'system_time' FROM hj212.device_event WHERE mn = %s"
            await eventually(lambda: bool(rows(dsn, event, mn)))
            await gw.clock.flush()
    [(kind, system_time)] = rows(dsn, event, mn)
    assert kind == "system-time"
    assert system_time.startswith(behind[:4])
    [(drift,)] = rows(
        dsn,
        "SELECT drift_s FROM hj212.clock_drift WHERE mn = %s AND source = 'systemtime'",
        mn,
    )
    assert -3605 < drift < -3595


async def test_a_2005_only_command_goes_to_a_2005_station_in_its_form(
    dsn: str, tmp_path: Path
) -> None:
    from storage import commands as store

    mn = new_mn()[:14]
    register(dsn, mn)
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE hj212.station SET protocol_version = '2005' WHERE mn = %s", (mn,))
    hello = encode.frame(
        f"ST=32;CN=2011;PW=123456;MN={mn};CP=&&DataTime=20040516020111;011-Rtd=1.1&&"
    )
    async with running(dsn, tmp_path) as gw:
        async with await anyio.connect_tcp("127.0.0.1", gw.port or 0) as stream:
            await stream.send(hello)
            await eventually(lambda: mn in gw.sessions)
            async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                await store.queue(
                    conn, mn, "1042", {"ReportTime": "0101"}, "20040516010101001", "32", "test"
                )
            wire = await read_frame(stream)
    assert b";CN=1042;" in wire
    assert b"CP=&&ReportTime=0101&&" in wire
    assert f"MN={mn};".encode() in wire
