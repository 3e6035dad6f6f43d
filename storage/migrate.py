"""Versioned schema migrations (``storage/migrations/NNNN_name.sql``).

Each file runs once, in its own transaction, and is recorded with its SHA-256 in
``hj212.schema_migration``; running the migrator again changes nothing. A recorded
file whose text has since changed is an error: migrations are append-only. Run it as
the schema's owner; it ends by granting the application role ``hj212_app`` what it may
do (migration 0050, :mod:`storage.roles`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

import psycopg
from psycopg.rows import TupleRow

_LOCK_KEY = 212_2017  # pg_advisory_xact_lock key: one migrator at a time
_BOOTSTRAP = """
CREATE SCHEMA IF NOT EXISTS hj212;
CREATE TABLE IF NOT EXISTS hj212.schema_migration (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    sha256     text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
"""


class MigrationError(RuntimeError):
    """Raised when the recorded migrations disagree with the files shipped."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available() -> list[Migration]:
    found = []
    for entry in resources.files("storage.migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append(Migration(int(name[:4]), name[5:-4], entry.read_text("utf-8")))
    return sorted(found, key=lambda m: m.version)


def _not_owner(conn: psycopg.Connection[TupleRow]) -> bool:
    """The schema exists and belongs to someone else (the application's role)."""
    row = conn.execute(
        "SELECT pg_has_role(current_user, nspowner, 'USAGE') FROM pg_namespace"
        " WHERE nspname = 'hj212'"
    ).fetchone()
    return row is not None and not row[0]


def _check_current(conn: psycopg.Connection[TupleRow]) -> None:
    """As a role that may not migrate: refuse to run on a schema that is behind."""
    done = {int(r[0]) for r in conn.execute("SELECT version FROM hj212.schema_migration")}
    pending = [m for m in available() if m.version not in done]
    if pending:
        raise MigrationError(
            f"{len(pending)} migration(s) pending ({pending[0].version:04d}_{pending[0].name}"
            " ...): run `hj212 db migrate` as the schema's owner ([database] owner_dsn)"
        )


def migrate(dsn: str) -> list[Migration]:
    """Apply every migration not yet recorded; return the ones applied now."""
    applied_now: list[Migration] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET client_min_messages = warning")
        if _not_owner(conn):
            _check_current(conn)  # the application's role: nothing to do, or an error
            return []
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            conn.execute(_BOOTSTRAP)
        for migration in available():
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
                row = conn.execute(
                    "SELECT sha256 FROM hj212.schema_migration WHERE version = %s",
                    (migration.version,),
                ).fetchone()
                if row is not None:
                    if row[0] != migration.sha256:
                        raise MigrationError(
                            f"migration {migration.version:04d}_{migration.name} was changed "
                            "after it was applied; add a new migration instead"
                        )
                    continue
                conn.execute(migration.sql.encode())
                conn.execute(
                    "INSERT INTO hj212.schema_migration (version, name, sha256) "
                    "VALUES (%s, %s, %s)",
                    (migration.version, migration.name, migration.sha256),
                )
                applied_now.append(migration)
        with conn.transaction():
            # the application role's privileges, for the tables of every migration
            # (0050); only the owner runs this far
            conn.execute("SELECT hj212.apply_app_grants()")
    return applied_now
