"""Shared fixtures. Database tests run against a real PostgreSQL with TimescaleDB.

``HJ212_TEST_DSN`` points the suite at an existing TimescaleDB; otherwise the fixture
starts the project's embedded cluster in ``var/test-pg`` (the same code as
``hj212 db up``), creates a fresh database for this run, and drops it and stops the
cluster at the end.
"""

from __future__ import annotations

import fcntl
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from storage.cluster import Cluster
from storage.migrate import migrate

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def anyio_backend() -> tuple[str, dict[str, object]]:
    return ("asyncio", {"use_uvloop": True})


@pytest.fixture(scope="session")
def server_dsn() -> Iterator[str]:
    """DSN of a TimescaleDB server to create test databases on."""
    if dsn := os.environ.get("HJ212_TEST_DSN"):
        yield dsn
        return
    home = ROOT / "var" / "test-pg"
    home.parent.mkdir(parents=True, exist_ok=True)
    # Several test sessions may share the test cluster: each holds a shared lock while it
    # runs, and the last one out (the one that gets the lock exclusively) stops it.
    with (ROOT / "var" / "test-pg.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        cluster = Cluster(home)
        dsn = cluster.up()
        try:
            yield dsn
        finally:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass  # another session still uses it
            else:
                cluster.down()


@pytest.fixture(scope="session")
def fresh_database(server_dsn: str) -> Iterator[str]:
    """An empty database of its own for this test session (schema not applied)."""
    name = f"hj212_test_{uuid.uuid4().hex[:10]}"
    admin = server_dsn.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server_dsn.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def dsn(fresh_database: str) -> str:
    """The session's database with every migration applied."""
    migrate(fresh_database)
    return fresh_database


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The fault tests' counts, printed whether they passed or not."""
    from tests.faults.support import FAULT_COUNTS

    if FAULT_COUNTS:
        terminalreporter.section("fault test counts")
        for line in FAULT_COUNTS:
            terminalreporter.write_line(line)
