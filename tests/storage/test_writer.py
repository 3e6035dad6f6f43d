"""The writer on a real TimescaleDB: duplicates, device status, group commit, concurrency."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import psycopg
import pytest

from services.writer import Writer
from storage.chain import verify
from tests.databases import owner_of
from tests.storage.support import AT, new_mn, rows, running, status_upload, upload

pytestmark = [pytest.mark.db, pytest.mark.anyio]


async def test_a_retransmitted_frame_is_archived_as_duplicate_with_one_measurement_row(
    dsn: str,
) -> None:
    mn = new_mn()
    async with running(Writer(dsn)) as writer:
        first = await writer.submit(upload(mn, values={"w01018": 1.0}, raw=b"first"))
        again = await writer.submit(upload(mn, values={"w01018": 2.0}, raw=b"again"))
    assert (first, again) == ("ok", "duplicate")
    assert rows(dsn, "SELECT rtd FROM hj212.measurement WHERE mn = %s", mn) == [(1.0,)]
    archived = rows(dsn, "SELECT raw, status FROM hj212.frame WHERE mn = %s ORDER BY id", mn)
    assert archived == [(b"first", "ok"), (b"again", "duplicate")]


async def test_duplicates_inside_one_batch_and_partial_repeats(dsn: str) -> None:
    mn = new_mn()
    writer = Writer(dsn, max_batch=100)
    futures = [
        writer.submit(upload(mn, values={"w01018": 1.0})),
        writer.submit(upload(mn, values={"w01018": 1.0})),  # same record, same batch
        writer.submit(upload(mn, values={"w01018": 1.0, "w21003": 2.0})),  # one new value
    ]
    async with running(writer):
        statuses = await asyncio.gather(*futures)
    assert statuses == ["ok", "duplicate", "ok"]
    assert writer.committed_batches == 1
    stored = rows(dsn, "SELECT pollutant FROM hj212.measurement WHERE mn = %s ORDER BY 1", mn)
    assert stored == [("w01018",), ("w21003",)]


async def test_backfilled_older_records_are_stored_and_their_repeats_are_not(dsn: str) -> None:
    mn = new_mn()
    async with running(Writer(dsn)) as writer:
        assert await writer.submit(upload(mn, AT)) == "ok"
        # 补传: older data arriving after newer data is new, not a repeat
        assert await writer.submit(upload(mn, AT - timedelta(hours=30))) == "ok"
        assert await writer.submit(upload(mn, AT - timedelta(hours=30))) == "duplicate"
        assert await writer.submit(upload(mn, AT, cn="2051")) == "ok"  # another CN
    count = rows(dsn, "SELECT count(*) FROM hj212.measurement WHERE mn = %s", mn)
    assert count == [(6,)]


async def test_device_status_rows_and_their_repeats(dsn: str) -> None:
    mn = new_mn()
    async with running(Writer(dsn)) as writer:
        assert await writer.submit(status_upload(mn)) == "ok"
        assert await writer.submit(status_upload(mn)) == "duplicate"
    stored = rows(
        dsn,
        "SELECT device, item, value, text_value FROM hj212.device_status WHERE mn = %s"
        " ORDER BY device",
        mn,
    )
    assert stored == [("SB1", "RS", 1.0, "1"), ("SB2", "RS", 0.0, "0")]


async def test_rejected_and_garbage_frames_are_archived_with_their_status(dsn: str) -> None:
    mn = new_mn()
    record = upload(mn)
    record.status, record.error, record.measurements = "rejected", "crc: bad", []
    async with running(Writer(dsn)) as writer:
        assert await writer.submit(record) == "rejected"
    assert rows(dsn, "SELECT status, error FROM hj212.frame WHERE mn = %s", mn) == [
        ("rejected", "crc: bad")
    ]


async def test_group_commit_by_size(dsn: str) -> None:
    mn = new_mn()
    writer = Writer(dsn, max_batch=2, max_delay=3600)
    # queued before the writer runs: 4 frames make two batches of 2 ...
    futures = [writer.submit(upload(mn, AT + timedelta(minutes=i))) for i in range(4)]
    async with running(writer):
        await asyncio.gather(*futures)
        assert writer.committed_batches == 2  # ... the size closed both, not the hour
        assert writer.last_batch_size == 2


async def test_group_commit_by_time(dsn: str) -> None:
    mn = new_mn()
    async with running(Writer(dsn, max_batch=1000, max_delay=0.05)) as writer:
        # far fewer frames than max_batch: only the delay can close the batch
        first = writer.submit(upload(mn, AT))
        await asyncio.sleep(0)
        second = writer.submit(upload(mn, AT + timedelta(minutes=1)))
        assert list(await asyncio.gather(first, second)) == ["ok", "ok"]
        assert writer.committed_frames == 2
    # with a long delay and a small size limit, the size decides: both wait for a third
    async with running(Writer(dsn, max_batch=3, max_delay=3600)) as writer:
        waiting = [writer.submit(upload(mn, AT + timedelta(minutes=m))) for m in (2, 3)]
        await asyncio.sleep(0.2)
        assert not any(f.done() for f in waiting)
        waiting.append(writer.submit(upload(mn, AT + timedelta(minutes=4))))
        assert await asyncio.gather(*waiting) == ["ok", "ok", "ok"]
        assert writer.committed_batches == 1


async def test_two_writers_on_one_station_store_each_record_once_and_keep_the_chain(
    dsn: str,
) -> None:
    mn = new_mn()
    records = [upload(mn, AT + timedelta(minutes=i % 20)) for i in range(60)]
    a, b = Writer(dsn, max_batch=7), Writer(dsn, max_batch=5)
    async with running(a), running(b):
        statuses = await asyncio.gather(
            *[(a if i % 2 else b).submit(r) for i, r in enumerate(records)]
        )
    assert statuses.count("ok") == 20
    assert statuses.count("duplicate") == 40
    assert rows(dsn, "SELECT count(*) FROM hj212.measurement WHERE mn = %s", mn) == [(40,)]
    links = rows(dsn, "SELECT hash, prev_hash FROM hj212.frame WHERE mn = %s ORDER BY id", mn)
    assert all(links[i][0] == links[i + 1][1] for i in range(len(links) - 1))
    head = rows(dsn, "SELECT last_hash, frames FROM hj212.chain_head WHERE chain = %s", mn)
    assert head == [(links[-1][0], 60)]


async def test_a_database_error_fails_the_future_and_the_writer_goes_on() -> None:
    writer = Writer("postgresql://nobody:x@127.0.0.1:9/none?connect_timeout=2")
    async with running(writer):
        with pytest.raises(Exception, match="connection"):
            await writer.submit(upload(new_mn()))
        assert writer.failed_batches == 1


async def test_drain_waits_for_a_batch_that_is_still_filling(dsn: str) -> None:
    async with running(Writer(dsn, max_batch=10, max_delay=0.3)) as writer:
        future = writer.submit(upload(new_mn()))
        await asyncio.sleep(0.05)  # taken from the queue, waiting for company
        await writer.drain()
        assert future.done()
        assert future.result() == "ok"


async def test_lanes_split_stations_and_keep_each_chain_in_order(dsn: str) -> None:
    mns = [new_mn() for _ in range(6)]
    records = [upload(mn, AT + timedelta(minutes=i)) for i in range(5) for mn in mns]
    async with running(Writer(dsn, max_batch=4, lanes=2)) as writer:
        statuses = await asyncio.gather(*(writer.submit(r) for r in records))
        again = await writer.submit(upload(mns[0], AT))
    assert set(statuses) == {"ok"}
    assert again == "duplicate"
    with psycopg.connect(dsn) as conn:
        reports = [verify(conn, mn) for mn in mns]
    assert all(r.ok and r.unanchored == [] for r in reports)
    assert [r.frames for r in reports] == [6, 5, 5, 5, 5, 5]


async def test_rows_written_around_the_writer_are_found_by_the_exact_recheck(dsn: str) -> None:
    mn = new_mn()
    async with running(Writer(dsn)) as writer:
        assert await writer.submit(upload(mn, AT)) == "ok"  # high-water mark: AT
        with psycopg.connect(dsn) as conn:  # a newer row that did not come through it
            conn.execute(
                "INSERT INTO hj212.measurement (data_time, mn, cn, pollutant, rtd, frame_id,"
                " received_at) VALUES (%s, %s, '2011', 'w01018', 99, 0, now())",
                (AT + timedelta(minutes=1), mn),
            )
        later = upload(mn, AT + timedelta(minutes=1), values={"w01018": 1.0, "w21003": 2.0})
        assert await writer.submit(later) == "ok"  # w21003 is new
        assert writer.failed_batches == 0
    stored = rows(
        dsn,
        "SELECT pollutant, rtd FROM hj212.measurement WHERE mn = %s AND data_time = %s ORDER BY 1",
        mn,
        AT + timedelta(minutes=1),
    )
    assert stored == [("w01018", 99.0), ("w21003", 2.0)]


async def test_hostile_text_never_fails_other_stations_frames(dsn: str) -> None:
    good, nul_code = new_mn(), new_mn()
    long_mn = upload(good, raw=b"long")
    long_mn.mn, long_mn.status, long_mn.measurements = "M" * 3000, "rejected", []
    nul_mn = upload(good, raw=b"nul")
    nul_mn.mn = "AB\x00CD"
    poisoned = upload(nul_code, values={"w01018": 1.0, "w\x00bad": 2.0})
    poisoned.measurements[0] = replace(poisoned.measurements[0], flag="N\x00")
    poisoned.raw = b"##0100...;CP=&&w01018-Rtd=1,w01018-Flag=N\x00;w\x00bad-Rtd=2&&...\r\n"
    writer = Writer(dsn)
    futures = [writer.submit(r) for r in (long_mn, nul_mn, upload(good), poisoned)]
    async with running(writer):
        statuses = await asyncio.gather(*futures)
    assert statuses == ["rejected", "rejected", "ok", "ok"]
    errors = rows(dsn, "SELECT error FROM hj212.frame WHERE raw IN ('long', 'nul') ORDER BY id")
    assert [str(e[0]).split(" (")[0] for e in errors] == ["MN unusable", "MN unusable"]
    assert rows(dsn, "SELECT count(*) FROM hj212.measurement WHERE mn = %s", good) == [(2,)]
    kept = rows(dsn, "SELECT pollutant, flag FROM hj212.measurement WHERE mn = %s", nul_code)
    assert kept == [("w01018", "N\ufffd")]


async def test_a_frame_the_database_refuses_fails_alone(dsn: str) -> None:
    mn = new_mn()
    records = [upload(mn, AT + timedelta(minutes=i)) for i in range(5)]
    records[2].peer = "refused-peer"
    with psycopg.connect(owner_of(dsn)) as conn:  # a real refusal, from a real constraint
        conn.execute(
            "ALTER TABLE hj212.frame ADD CONSTRAINT test_refuse CHECK (peer <> 'refused-peer')"
            " NOT VALID"
        )
    try:
        writer = Writer(dsn)
        futures = [writer.submit(r) for r in records]
        async with running(writer):
            results = await asyncio.gather(*futures, return_exceptions=True)
    finally:
        with psycopg.connect(owner_of(dsn)) as conn:
            conn.execute("ALTER TABLE hj212.frame DROP CONSTRAINT test_refuse")
    assert isinstance(results[2], psycopg.errors.CheckViolation)
    assert [results[i] for i in (0, 1, 3, 4)] == ["ok"] * 4
    assert (writer.failed_frames, writer.failed_batches) == (1, 0)
    with psycopg.connect(dsn) as conn:
        report = verify(conn, mn)
    assert report.ok
    assert report.frames == 4
