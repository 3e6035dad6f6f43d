"""Typed settings, frozen; defaults here are the documented defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

SECONDS = 1.0


@dataclass(frozen=True)
class DatabaseSettings:
    dsn: str | None = None  # a production TimescaleDB; None = the embedded cluster
    home: Path = Path("var/pg")  # embedded cluster home (hj212 db up)
    port: int | None = None  # embedded cluster port; None = a free port


@dataclass(frozen=True)
class GatewaySettings:
    host: str = "127.0.0.1"
    port: int = 9212
    max_segment: int = 9999  # bytes; the standard says 1024, real devices send more


FIVE_YEARS_DAYS = 1827  # 5 x 365 + 2 leap days


@dataclass(frozen=True)
class StorageSettings:
    max_batch: int = 2000  # frames per transaction (group commit by size)
    max_delay_ms: int = 20  # longest a frame waits for its batch to fill (group commit by time)
    # Chunk intervals (storage/migrations/0003 explains the sizing); new chunks only.
    chunk_hours_frame: int = 12
    chunk_hours_measurement: int = 6
    chunk_hours_device_status: int = 12
    # Retention by drop_chunks, `hj212 db retention`; 0 keeps forever. Raw monitoring
    # records and ledgers: >= 5 years (排污许可管理条例 第十九条, 第二十一条).
    retention_days_frame: int = FIVE_YEARS_DAYS
    retention_days_measurement: int = FIVE_YEARS_DAYS
    retention_days_device_status: int = FIVE_YEARS_DAYS
    retention_days_audit: int = FIVE_YEARS_DAYS
    # Compress chunks older than this, only where the server's TimescaleDB license offers
    # compression (not the Apache-2 edition); 0 = never.
    compress_after_days: int = 7


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    gateway: GatewaySettings = field(default_factory=GatewaySettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
