"""The schema on a real TimescaleDB: migrations, hypertables, the writer."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import psycopg
import pytest

from services.writer import Writer
from storage.migrate import MigrationError, available, migrate
from storage.records import FrameRecord, MeasurementRow

pytestmark = pytest.mark.db


def test_timescaledb_is_loaded_and_the_time_series_are_hypertables(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        ext = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
        assert ext.fetchone() is not None
        tables = conn.execute(
            "SELECT hypertable_name FROM timescaledb_information.hypertables"
            " WHERE hypertable_schema = 'hj212' ORDER BY 1"
        ).fetchall()
        assert {"audit_log", "device_status", "frame", "measurement"} <= {t[0] for t in tables}


def test_migrations_apply_cleanly_twice(fresh_database: str, dsn: str) -> None:
    # `dsn` already migrated `fresh_database`: a second run applies nothing
    assert migrate(fresh_database) == []
    with psycopg.connect(dsn) as conn:
        versions = conn.execute("SELECT version FROM hj212.schema_migration ORDER BY 1")
        assert [v[0] for v in versions] == [m.version for m in available()]


def test_a_changed_migration_is_refused(owner_dsn: str) -> None:
    dsn = owner_dsn  # the owner migrates, and only the owner could change the record
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE hj212.schema_migration SET sha256 = 'x' WHERE version = 1")
    try:
        with pytest.raises(MigrationError, match="was changed"):
            migrate(dsn)
    finally:
        with psycopg.connect(dsn) as conn:
            conn.execute(
                "UPDATE hj212.schema_migration SET sha256 = %s WHERE version = 1",
                (available()[0].sha256,),
            )


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _record(mn: str, value: float, raw: bytes) -> FrameRecord:
    at = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    row = MeasurementRow(at, mn, "2011", "w01018", (value, *[None] * 8), "N", None)
    return FrameRecord(
        at, "127.0.0.1:1", "tcp", raw, "ok", mn=mn, cn="2011", flag=5, measurements=[row]
    )


@pytest.mark.anyio
async def test_a_retransmitted_record_makes_no_second_row(dsn: str) -> None:
    writer = Writer(dsn)
    task = asyncio.create_task(writer.run())
    try:
        await writer.submit(_record("DUPLICATE-MN", 1.0, b"first"))
        await writer.submit(_record("DUPLICATE-MN", 2.0, b"again"))
    finally:
        await _stop(task)
    with psycopg.connect(dsn) as conn:
        rtd = conn.execute("SELECT rtd FROM hj212.measurement WHERE mn = 'DUPLICATE-MN'")
        assert rtd.fetchall() == [(1.0,)]  # the first one stands
        raws = conn.execute(
            "SELECT raw FROM hj212.frame WHERE mn = 'DUPLICATE-MN' ORDER BY id"
        ).fetchall()
        assert [bytes(r[0]) for r in raws] == [b"first", b"again"]  # both archived


@pytest.mark.anyio
async def test_an_unreachable_database_fails_the_future_not_the_writer() -> None:
    writer = Writer("postgresql://nobody:x@127.0.0.1:9/none?connect_timeout=2")
    task = asyncio.create_task(writer.run())
    try:
        with pytest.raises(psycopg.OperationalError):
            await writer.submit(_record("NOWHERE", 1.0, b"x"))
        assert not task.done()
        assert writer.failed_batches == 1
    finally:
        await _stop(task)
