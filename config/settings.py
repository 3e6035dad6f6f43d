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
    max_batch: int = 2000  # frames per database transaction


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    gateway: GatewaySettings = field(default_factory=GatewaySettings)
