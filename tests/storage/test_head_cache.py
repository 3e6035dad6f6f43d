"""The writer lane's cache of chain heads (storage/frame_batch.py, docs/performance.md §9):
a head moved by someone else, a commit the lane never learnt of, and a writer killed
mid-stream must all leave every chain exact and every record stored once."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from services.writer import Writer
from storage import frame_batch
from storage.chain import verify
from tests.storage.support import AT, new_mn, rows, running, upload

pytestmark = [pytest.mark.db, pytest.mark.anyio]
ROOT = Path(__file__).resolve().parents[2]


async def write(dsn: str, records: list[object], cache: frame_batch.HeadCache) -> list[str]:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        await frame_batch.prepare(conn)
        statuses, _ = await frame_batch.write(conn, records, heads=cache)  # type: ignore[arg-type]
        return statuses


def chain_ok(dsn: str, mn: str) -> tuple[bool, int]:
    with psycopg.connect(dsn) as conn:
        report = verify(conn, mn)
    return report.ok, report.frames


async def test_a_head_moved_by_another_writer_is_noticed_and_the_batch_redone(dsn: str) -> None:
    mn = new_mn()
    mine, theirs = frame_batch.HeadCache(), frame_batch.HeadCache()
    assert await write(dsn, [upload(mn, AT)], mine) == ["ok"]
    assert mine.misses == 1
    assert mn in mine.known
    # another process (its own cache) stores the next minute and a retransmission
    later = AT + timedelta(minutes=1)
    assert await write(dsn, [upload(mn, later), upload(mn, AT)], theirs) == ["ok", "duplicate"]
    # this lane still believes in its old head and an old high-water mark
    assert await write(
        dsn, [upload(mn, later), upload(mn, later + timedelta(minutes=1))], mine
    ) == [
        "duplicate",
        "ok",
    ]
    assert mine.moved == 1
    assert chain_ok(dsn, mn) == (True, 5)
    count = "SELECT count(*) FROM hj212.measurement WHERE mn = %s"
    assert rows(dsn, count, mn) == [(6,)]  # 3 DataTimes x 2 pollutants, each once
    head = "SELECT frames FROM hj212.chain_head WHERE chain = %s"
    assert rows(dsn, head, mn) == [(5,)]


async def test_a_commit_the_lane_never_learnt_of_costs_one_redo_not_the_chain(dsn: str) -> None:
    """A connection lost while COMMIT was on its way: the lane cannot tell whether it
    happened, so its cache may be one batch behind the stored head."""
    mn = new_mn()
    cache = frame_batch.HeadCache()
    await write(dsn, [upload(mn, AT)], cache)
    before = cache.known[mn]
    stale = frame_batch.Known(before.last_id, before.last_hash, dict(before.data_high))
    await write(dsn, [upload(mn, AT + timedelta(minutes=1))], cache)
    cache.known[mn] = stale  # as if that commit's answer had been lost
    statuses = await write(
        dsn, [upload(mn, AT + timedelta(minutes=1)), upload(mn, AT + timedelta(minutes=2))], cache
    )
    assert statuses == ["duplicate", "ok"]
    assert cache.moved == 1
    assert chain_ok(dsn, mn) == (True, 4)


async def test_a_lane_writes_from_its_cache_without_reading_the_heads_again(dsn: str) -> None:
    mns = [new_mn() for _ in range(5)]
    cache = frame_batch.HeadCache()
    for minute in range(4):
        await write(dsn, [upload(mn, AT + timedelta(minutes=minute)) for mn in mns], cache)
    assert (cache.misses, cache.hits, cache.moved) == (5, 15, 0)
    assert all(chain_ok(dsn, mn) == (True, 4) for mn in mns)


_CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from datetime import timedelta
    from services.writer import Writer
    from tests.storage.support import AT, upload

    async def main(dsn, mns):
        writer = Writer(dsn, max_batch=50, lanes=2)
        task = asyncio.create_task(writer.run())
        for minute in range(100000):
            at = AT + timedelta(minutes=minute)
            await asyncio.gather(*(writer.submit(upload(mn, at)) for mn in mns))
        task.cancel()

    asyncio.run(main(sys.argv[1], sys.argv[2:]))
    """
)


def kill_mid_stream(dsn: str, mns: list[str], frames: int) -> int:
    """Run a writer in a process of its own on ``mns``; SIGKILL it once ``frames`` frames
    are stored (batches in flight); how many were stored."""
    child = subprocess.Popen([sys.executable, "-c", _CHILD, dsn, *mns], cwd=ROOT)
    count = "SELECT count(*) FROM hj212.frame WHERE mn = ANY(%s)"
    try:
        deadline = time.monotonic() + 60
        while rows(dsn, count, mns)[0][0] < frames and time.monotonic() < deadline:
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    return int(rows(dsn, count, mns)[0][0])


async def test_a_writer_killed_mid_stream_leaves_exact_chains_for_the_next(dsn: str) -> None:
    mns = [new_mn() for _ in range(20)]
    stored = kill_mid_stream(dsn, mns, 400)
    assert stored >= 400
    minutes = stored // len(mns) + 2
    # the next writer (a restarted process) sends everything again, and some more
    async with running(Writer(dsn, max_batch=50, lanes=2)) as writer:
        for minute in range(minutes):
            at = AT + timedelta(minutes=minute)
            await asyncio.gather(*(writer.submit(upload(mn, at)) for mn in mns))
    for mn in mns:
        assert chain_ok(dsn, mn)[0]
        keys = "SELECT count(*), count(DISTINCT data_time) FROM hj212.measurement WHERE mn = %s"
        assert rows(dsn, keys, mn) == [(2 * minutes, minutes)]
