"""storage/command_effects.py on the real database: a confirmed command's effect
commits with its outcome, an unconfirmed one changes nothing (docs/forwarding.md §1)."""

from __future__ import annotations

import itertools

import psycopg
import pytest

from storage import commands
from tests.gateway.support import new_mn, register, rows

pytestmark = [pytest.mark.db, pytest.mark.anyio]
KEY = "0123456789ABCDEF0123456789ABCDEF"
NEW_KEY = "FEDCBA9876543210FEDCBA9876543210"
_QN = itertools.count()


async def _queued(dsn: str, mn: str, cn: str, params: dict[str, object]) -> int:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        qn = f"20261123101500{next(_QN):03d}"
        return await commands.queue(conn, mn, cn, params, qn, "32", "test")


async def _finish(dsn: str, command_id: int, state: str) -> None:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        await commands.finish(conn, command_id, state, 1, 1 if state == "done" else 2, [])


async def test_intervals_change_only_when_the_device_confirmed(dsn: str) -> None:
    mn = new_mn()
    register(dsn, mn)
    refused = await _queued(dsn, mn, "1064", {"MinInterval": 5})
    await _finish(dsn, refused, "failed")
    assert rows(dsn, "SELECT minute_interval_min FROM hj212.station WHERE mn = %s", mn) == [(10,)]
    done = await _queued(dsn, mn, "1064", {"MinInterval": 5})
    await _finish(dsn, done, "done")
    assert rows(dsn, "SELECT minute_interval_min FROM hj212.station WHERE mn = %s", mn) == [(5,)]
    audit = rows(
        dsn, "SELECT object FROM hj212.audit_log WHERE action = 'command-effect' AND mn = %s", mn
    )
    assert audit == [(f"command:{done}",)]


async def test_a_confirmed_1014_sets_the_key_and_its_age(dsn: str) -> None:
    mn = new_mn()
    register(dsn, mn, sm4_key=KEY)
    ((set_at,),) = rows(dsn, "SELECT sm4_key_set_at FROM hj212.station WHERE mn = %s", mn)
    assert set_at is not None
    command = await _queued(dsn, mn, "1014", {"SKCreateTime": "20261123101500", "NewSK": NEW_KEY})
    assert rows(dsn, "SELECT sm4_key FROM hj212.station WHERE mn = %s", mn) == [(KEY,)]
    assert NEW_KEY not in str(rows(dsn, "SELECT cp FROM hj212.command WHERE id = %s", command))
    await _finish(dsn, command, "done")
    ((key, pending, new_set_at),) = rows(
        dsn, "SELECT sm4_key, pending_sm4_key, sm4_key_set_at FROM hj212.station WHERE mn = %s", mn
    )
    assert (key, pending) == (NEW_KEY, None)
    assert new_set_at > set_at


async def test_a_confirmed_1002_moves_the_station_to_its_new_mn(dsn: str) -> None:
    old, new = new_mn(), new_mn()
    register(dsn, old, password="a1b2")
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO hj212.station_pollutant (mn, pollutant) VALUES (%s, 'w01018')", (old,)
        )
    command = await _queued(dsn, old, "1002", {"i23005-Info": new})
    await _finish(dsn, command, "done")
    assert rows(
        dsn,
        "SELECT mn, active, replaced_by, password FROM hj212.station WHERE mn IN (%s, %s)"
        " ORDER BY active",
        old,
        new,
    ) == [(old, False, new, "a1b2"), (new, True, None, "a1b2")]
    assert rows(dsn, "SELECT pollutant FROM hj212.station_pollutant WHERE mn = %s", new) == [
        ("w01018",)
    ]
