"""Database roles: the schema's owner runs migrations, the application runs as ``hj212_app``.
(This is the SQL; the DSN arithmetic is :mod:`ops.roles`.)

Migration 0050 creates the group role ``hj212_app`` and :func:`storage.migrate.migrate`
grants it, table by table, what the application needs: every table to read, most to
change, but the evidence (``frame``, ``measurement``, ``device_status``, ``audit_log``,
``mark_attachment``, ``command_reply``) only to insert into. A login role for the
application is that role itself (the embedded cluster: :func:`ensure_login`) or any role
made a member of it (production: ``CREATE ROLE gateway LOGIN PASSWORD '...' IN ROLE
hj212_app``).
"""

from __future__ import annotations

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow

APP_ROLE = "hj212_app"
# Attributes the application's login never has, whatever it had before.
_LIMITS = "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"


def ensure_login(conn: psycopg.Connection[TupleRow], password: str) -> None:
    """Make ``hj212_app`` a login role with ``password`` (as a role that may create roles).

    Cluster-wide and idempotent: every database of the cluster migrated to 0050 grants
    this role its privileges.
    """
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone()
    verb = "ALTER" if exists else "CREATE"
    conn.execute(
        sql.SQL("{} ROLE {} LOGIN " + _LIMITS + " PASSWORD {}").format(
            sql.SQL(verb), sql.Identifier(APP_ROLE), sql.Literal(password)
        )
    )
    # CREATE EXTENSION puts TimescaleDB in the first schema of the migrator's path: for
    # the embedded cluster's owner "hj212" that is "$user" = schema hj212, where the
    # application (another user) would not look for time_bucket() and the rest.
    conn.execute(
        sql.SQL('ALTER ROLE {} SET search_path = "$user", public, hj212').format(
            sql.Identifier(APP_ROLE)
        )
    )
