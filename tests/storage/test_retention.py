"""Retention drops whole old chunks per table (Apache edition: no jobs, no policies)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from config.settings import StorageSettings
from services.writer import Writer
from storage import audit, maintenance
from storage.chain import verify
from tests import databases
from tests.storage.support import new_mn, rows, running, status_upload, upload

pytestmark = [pytest.mark.db, pytest.mark.anyio]
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
OLD = datetime(2015, 3, 1, tzinfo=UTC)  # far past five years


async def test_retention_drops_old_chunks_and_keeps_recent_ones(server_dsn: str) -> None:
    # A database of its own: an audit entry from 2015 can only be made there (0063 refuses
    # a back-dated entry), and its chunk's drop must not cut the session database's chain.
    with databases.migrated(server_dsn) as dsn:
        await _retention_in(dsn, databases.owner_of(dsn))


async def _retention_in(dsn: str, owner_dsn: str) -> None:
    mn = new_mn()
    recent = NOW - timedelta(days=30)
    async with running(Writer(dsn)) as writer:
        for at in (OLD, recent):
            await writer.submit(upload(mn, at, received_at=at))
            await writer.submit(status_upload(mn, at))
    with psycopg.connect(owner_dsn, autocommit=True) as conn:  # drop_chunks: the owner
        before = audit.verify(conn)
        # only a private database's owner can make one: without 0063's trigger for a moment
        conn.execute("DROP TRIGGER audit_log_at ON hj212.audit_log")
        conn.execute(
            "INSERT INTO hj212.audit_log (at, action, object) VALUES (%s, 't', 'x')", (OLD,)
        )
        conn.execute(
            "CREATE TRIGGER audit_log_at BEFORE INSERT ON hj212.audit_log"
            " FOR EACH ROW EXECUTE FUNCTION hj212.audit_own_time()"
        )
        settings = StorageSettings()
        dropped = {d.table: d for d in maintenance.apply_retention(conn, settings, NOW)}
        again = maintenance.apply_retention(conn, settings, NOW)
        report = verify(conn, mn)
        chained = audit.verify(conn)
    assert before.entries == 0  # so the 2015 entry is the chain's first
    assert all(dropped[t].chunks for t in ("frame", "measurement", "device_status", "audit_log"))
    assert all(not d.chunks for d in again)
    measured = rows(dsn, "SELECT DISTINCT data_time FROM hj212.measurement WHERE mn = %s", mn)
    assert measured == [(recent,)]
    archived = rows(dsn, "SELECT min(received_at) FROM hj212.frame WHERE mn = %s", mn)
    assert archived == [(recent,)]
    # the chain's start went with the chunk: it still verifies, anchored on prev_hash
    assert report.ok
    assert report.unanchored == [mn]
    # so did the audit chain's first entry: the chain now starts at the drop's own entry
    assert chained.ok, chained.first_bad
    assert chained.first_seq == 2
    assert not chained.anchored_at_genesis
    logged = rows(dsn, "SELECT object FROM hj212.audit_log WHERE action = 'drop_chunks'")
    assert {"frame", "measurement"} <= {r[0] for r in logged}


def test_a_back_dated_audit_entry_is_refused(owner_dsn: str) -> None:
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.CheckViolation, match="keeps its own time"):
            conn.execute(
                "INSERT INTO hj212.audit_log (at, action, object) VALUES (%s, 't', 'back')",
                (OLD,),
            )
        kept = conn.execute("SELECT count(*) FROM hj212.audit_log WHERE object = 'back'")
        assert kept.fetchone() == (0,)
        assert audit.verify(conn).ok


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
