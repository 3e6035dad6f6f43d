"""The database goes away under a running gateway: frames are acknowledged from the disk
spool, then drained into the database in order, each stored exactly once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import anyio
import pytest

from gateway.spool import Spool, read_segment
from storage.records import FrameRecord, MeasurementRow
from tests.gateway.proxy import proxy_for
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

pytestmark = [pytest.mark.anyio]


def record(i: int) -> FrameRecord:
    at = datetime(2026, 11, 23, 2, 0, i, tzinfo=UTC)
    row = MeasurementRow(at, "MN1", "2011", "w01018", (float(i), *[None] * 8), "N", None)
    return FrameRecord(
        at, "127.0.0.1:1", "tcp", b"frame %d" % i, "ok", mn="MN1", cn="2011", measurements=[row]
    )


async def test_spool_round_trip_and_torn_tail(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1 << 20)
    results = [spool.append(record(i)) for i in range(5)]
    assert [await r for r in results] == ["spooled"] * 5
    [segment] = spool.segments()
    with segment.open("ab") as fh:
        fh.write(b"HJ\x00\x00\x01\x00partial")  # a record torn by a crash
    read = [r for _, r in read_segment(segment)]
    assert [r.raw for r in read] == [b"frame %d" % i for i in range(5)]
    assert read[2].measurements[0].values[0] == 2.0
    assert all(r.spool_id for r in read)


async def test_full_spool_refuses_instead_of_losing(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 600)
    first = await spool.append(record(1))
    assert first == "spooled"

    async def fill() -> None:
        for i in range(2, 10):
            await spool.append(record(i))

    with pytest.raises(OSError, match="exceed"):
        await fill()
    assert spool.full


@pytest.mark.db
async def test_database_outage_under_a_running_gateway(dsn: str, tmp_path: Path) -> None:
    mn = new_mn()
    register(dsn, mn)
    async with proxy_for(dsn) as proxy:
        async with running(proxy.dsn_through(dsn), tmp_path) as gw:
            async with await anyio.connect_tcp("127.0.0.1", gw.port or 0) as stream:
                sent = 0

                async def exchange(qn: str, when: str) -> None:
                    nonlocal sent
                    await stream.send(upload(mn, qn=qn, data_time=when, value=float(sent)))
                    assert await read_frame(stream, limit=30) == answer(mn, qn=qn)
                    sent += 1

                await exchange("20261123100000001", "20261123100000")
                proxy.cut()
                for i in range(2, 12):  # acknowledged from the spool
                    await exchange(f"202611231000000{i:02d}", f"202611231000{i:02d}")
                assert not gw.sink.db_up
                assert gw.sink.spooled == 10
                healthy, detail = gw.health()
                assert healthy
                assert detail["database"] == "down (spooling)"
                proxy.restore()
                await eventually(lambda: gw.sink.db_up, limit=30)
                await exchange("20261123100000099", "20261123100059")
    assert rows(
        dsn, "SELECT count(*), count(DISTINCT data_time) FROM hj212.measurement WHERE mn = %s", mn
    ) == [(12, 12)]
    spooled = rows(
        dsn, "SELECT count(*) FROM hj212.frame WHERE mn = %s AND spool_id IS NOT NULL", mn
    )
    assert spooled == [(10,)]
    # drained in the order received: ids grow with the QNs
    qns = [str(r[0]) for r in rows(dsn, "SELECT qn FROM hj212.frame WHERE mn = %s ORDER BY id", mn)]
    assert qns == sorted(qns)
