"""Test databases: where the test cluster lives, and the two roles every database has.

The embedded test cluster lives outside the checkout (never in its ``var/``, which
belongs to ``./dev run``: its cluster, spool and keys), under the system's temporary
directory, one per checkout, shared by every test session of that checkout. Each
database is migrated by the owner and handed to tests as the application's DSN
(``hj212_app``, the role the gateway and the console run as in production): the suite
proves the application works without the owner's rights. Tests that play the superuser
(tampering with the archive) ask :func:`owner_of` for the owner's DSN.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg

from ops import roles
from storage import server
from storage.migrate import migrate
from storage.roles import APP_ROLE

ROOT = Path(__file__).resolve().parent.parent
# one cluster per checkout, outside it; shared by that checkout's test sessions
TEST_HOME = (
    Path(tempfile.gettempdir())
    / f"hj212-test-{os.getuid()}"
    / hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
)

_APP_PASSWORD: list[str] = []  # the test server's hj212_app password, set by the fixture
_OWNERS: dict[str, str] = {}  # application DSN -> owner DSN of the same database


def use_app_password(password: str) -> None:
    _APP_PASSWORD[:] = [password]


def app_dsn(owner_dsn: str) -> str:
    """The application's DSN for the database ``owner_dsn`` names."""
    dsn = roles.with_login(owner_dsn, APP_ROLE, _APP_PASSWORD[0])
    _OWNERS[dsn] = owner_dsn
    return dsn


def owner_of(dsn: str) -> str:
    """The owner's DSN of the database behind an application DSN (or ``dsn`` itself)."""
    return _OWNERS.get(dsn, dsn)


def admin_of(server_dsn: str) -> str:
    return roles.with_database(server_dsn, "postgres")


@contextlib.contextmanager
def created(server_dsn: str, prefix: str = "hj212_test") -> Iterator[str]:
    """An empty database of its own (the owner's DSN), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_of(server_dsn), autocommit=True) as conn:
        server.create_database(conn, name)
    try:
        yield roles.with_database(server_dsn, name)
    finally:
        with psycopg.connect(admin_of(server_dsn), autocommit=True) as conn:
            server.drop_database(conn, name)


@contextlib.contextmanager
def migrated(server_dsn: str, prefix: str = "hj212_test") -> Iterator[str]:
    """A new database, migrated by its owner; yields the application's DSN."""
    with created(server_dsn, prefix) as owner:
        migrate(owner)
        yield app_dsn(owner)
