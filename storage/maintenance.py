"""Chunk intervals, retention and (where licensed) compression of the hypertables.

TimescaleDB's Apache-2 edition has ``drop_chunks`` and ``set_chunk_time_interval`` but
no jobs: no ``add_retention_policy``, no compression (docs/performance.md §1). So retention
is done here, by ``hj212 db retention`` (run it daily, from cron or a systemd timer) or
by anything that calls :func:`apply_retention`. Compression is set up only when the
server reports ``timescaledb.license = 'timescale'``; everything works without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from config.settings import StorageSettings
from storage import audit
from storage.db import Conn

# hypertable -> (retention setting, chunk setting, compress segment-by column)
HYPERTABLES = {
    "frame": ("retention_days_frame", "chunk_hours_frame", "mn"),
    "measurement": ("retention_days_measurement", "chunk_hours_measurement", "mn"),
    "device_status": ("retention_days_device_status", "chunk_hours_device_status", "mn"),
    "audit_log": ("retention_days_audit", None, None),
    "access_log": ("retention_days_access", None, None),
}


@dataclass(frozen=True)
class Dropped:
    table: str
    older_than: datetime
    chunks: list[str]


def license_of(conn: Conn) -> str:
    row = conn.execute("SELECT current_setting('timescaledb.license', true)").fetchone()
    return str(row[0]) if row and row[0] else "apache"


def compression_available(conn: Conn) -> bool:
    """Compression (columnstore) is a Community-license feature, absent from Apache-2."""
    return license_of(conn) == "timescale"


def apply_chunk_intervals(conn: Conn, settings: StorageSettings) -> None:
    """Set each hypertable's chunk interval from the settings (new chunks only)."""
    for table, (_, chunk_key, _) in HYPERTABLES.items():
        if chunk_key is None:
            continue
        hours = int(getattr(settings, chunk_key))
        if hours > 0:
            conn.execute(
                "SELECT set_chunk_time_interval(%s::regclass, %s::interval)",
                (f"hj212.{table}", timedelta(hours=hours)),
            )


def apply_retention(conn: Conn, settings: StorageSettings, now: datetime) -> list[Dropped]:
    """Drop every chunk wholly older than each table's retention; 0 days keeps all."""
    dropped = []
    for table, (retention_key, _, _) in HYPERTABLES.items():
        days = int(getattr(settings, retention_key))
        if days <= 0:
            continue
        older_than = now - timedelta(days=days)
        rows = conn.execute(
            "SELECT drop_chunks(%s::regclass, older_than => %s::timestamptz)",
            (f"hj212.{table}", older_than),
        ).fetchall()
        chunks = [str(row[0]) for row in rows]
        if chunks:
            detail = {"older_than": older_than.isoformat(), "chunks": chunks}
            audit.append(conn, "retention", "drop_chunks", table, detail)
        dropped.append(Dropped(table, older_than, chunks))
    return dropped


def apply_compression(conn: Conn, settings: StorageSettings) -> str:
    """Enable compression policies where licensed; says what it did."""
    lic = license_of(conn)
    if lic != "timescale":
        return f"compression skipped: timescaledb.license = {lic!r} has none"
    if settings.compress_after_days <= 0:
        return "compression disabled (compress_after_days = 0)"
    after = timedelta(days=settings.compress_after_days)
    for table, (_, _, segment_by) in HYPERTABLES.items():
        if segment_by is None:
            continue
        conn.execute(
            f"ALTER TABLE hj212.{table} SET (timescaledb.compress,"  # fixed names, no input
            f" timescaledb.compress_segmentby = '{segment_by}')"
        )
        conn.execute(
            "SELECT add_compression_policy(%s::regclass, %s::interval, if_not_exists => true)",
            (f"hj212.{table}", after),
        )
    return f"compression policies set: chunks older than {settings.compress_after_days} days"
