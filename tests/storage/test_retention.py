"""Retention drops whole old chunks per table (Apache edition: no jobs, no policies)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from config.settings import StorageSettings
from services.writer import Writer
from storage import maintenance
from storage.chain import verify
from tests.storage.support import new_mn, rows, running, status_upload, upload

pytestmark = [pytest.mark.db, pytest.mark.anyio]
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
OLD = datetime(2015, 3, 1, tzinfo=UTC)  # far past five years


async def test_retention_drops_old_chunks_and_keeps_recent_ones(dsn: str, owner_dsn: str) -> None:
    mn = new_mn()
    recent = NOW - timedelta(days=30)
    async with running(Writer(dsn)) as writer:
        for at in (OLD, recent):
            await writer.submit(upload(mn, at, received_at=at))
            await writer.submit(status_upload(mn, at))
    with psycopg.connect(owner_dsn, autocommit=True) as conn:  # drop_chunks: the owner
        conn.execute(
            "INSERT INTO hj212.audit_log (at, action, object) VALUES (%s, 't', 'x')", (OLD,)
        )
        settings = StorageSettings()
        dropped = {d.table: d for d in maintenance.apply_retention(conn, settings, NOW)}
        again = maintenance.apply_retention(conn, settings, NOW)
        report = verify(conn, mn)
    assert all(dropped[t].chunks for t in ("frame", "measurement", "device_status", "audit_log"))
    assert all(not d.chunks for d in again)
    measured = rows(dsn, "SELECT DISTINCT data_time FROM hj212.measurement WHERE mn = %s", mn)
    assert measured == [(recent,)]
    archived = rows(dsn, "SELECT min(received_at) FROM hj212.frame WHERE mn = %s", mn)
    assert archived == [(recent,)]
    # the chain's start went with the chunk: it still verifies, anchored on prev_hash
    assert report.ok
    assert report.unanchored == [mn]
    logged = rows(dsn, "SELECT object FROM hj212.audit_log WHERE action = 'drop_chunks'")
    assert {"frame", "measurement"} <= {r[0] for r in logged}


def test_zero_days_keeps_everything_and_compression_is_skipped_on_apache(owner_dsn: str) -> None:
    keep = replace(
        StorageSettings(),
        retention_days_frame=0,
        retention_days_measurement=0,
        retention_days_device_status=0,
        retention_days_audit=0,
        retention_days_access=0,
    )
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        assert maintenance.apply_retention(conn, keep, NOW) == []
        if maintenance.license_of(conn) == "apache":
            assert not maintenance.compression_available(conn)
            assert "skipped" in maintenance.apply_compression(conn, StorageSettings())


def test_chunk_intervals_come_from_the_settings(owner_dsn: str) -> None:
    settings = replace(StorageSettings(), chunk_hours_measurement=3)
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        maintenance.apply_chunk_intervals(conn, settings)
        interval = conn.execute(
            "SELECT time_interval FROM timescaledb_information.dimensions"
            " WHERE hypertable_schema = 'hj212' AND hypertable_name = 'measurement'"
        ).fetchone()
        maintenance.apply_chunk_intervals(conn, StorageSettings())
    assert interval == (timedelta(hours=3),)
