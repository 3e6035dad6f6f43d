"""The database server as a whole: its databases, its versions, its housekeeping.

The embedded cluster (:mod:`ops.cluster`) makes the platform's database with
:func:`ensure_database`; tests and benchmarks make scratch databases with
:func:`create_database` and drop them with :func:`drop_database`. These take a
connection to the server's maintenance database (``postgres``) in autocommit mode:
PostgreSQL runs ``CREATE DATABASE`` and ``DROP DATABASE`` outside any transaction.
Like every storage function, none of them connects by itself (storage/db.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from storage.db import AsyncConn, Conn


def database_exists(conn: Conn, name: str) -> bool:
    row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


def create_database(conn: Conn, name: str) -> None:
    """A new, empty database ``name`` (an error if it exists)."""
    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def ensure_database(conn: Conn, name: str) -> bool:
    """Create ``name`` unless it exists; whether it was created."""
    if database_exists(conn, name):
        return False
    create_database(conn, name)
    return True


def drop_database(conn: Conn, name: str) -> None:
    """Drop ``name`` if it exists, ending its sessions first (``WITH (FORCE)``,
    PostgreSQL 13+): a scratch database whose user crashed is dropped all the same."""
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@dataclass(frozen=True)
class Versions:
    postgresql: str
    timescaledb: str | None  # None: the extension is not installed in this database
    license: str | None  # TimescaleDB's: "apache" or "timescale" (Community)


def versions(conn: Conn) -> Versions:
    """What the connected database runs on (for the benchmarks' machine line)."""
    pg = conn.execute("SHOW server_version").fetchone()
    ts = conn.execute(
        "SELECT extversion, current_setting('timescaledb.license', true)"
        " FROM pg_extension WHERE extname = 'timescaledb'"
    ).fetchone()
    return Versions(
        str(pg[0]) if pg else "?",
        str(ts[0]) if ts else None,
        str(ts[1]) if ts and ts[1] is not None else None,
    )


async def checkpoint(conn: AsyncConn) -> bool:
    """Force a checkpoint (on an autocommit connection); False if this role may not
    (neither a superuser nor a member of ``pg_checkpoint``)."""
    try:
        await conn.execute("CHECKPOINT")
    except psycopg.errors.InsufficientPrivilege:
        return False
    return True


def analyze(conn: Conn) -> None:
    """Refresh the planner's statistics of the whole database (after a bulk load)."""
    conn.execute("ANALYZE")
