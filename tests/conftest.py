"""Shared fixtures. Database tests run against a real PostgreSQL with TimescaleDB.

``HJ212_TEST_DSN`` points the suite at an existing TimescaleDB (as a role that may
create databases and roles); otherwise the fixture starts the project's embedded cluster
(the same code as ``hj212 db up``) outside the checkout (:data:`tests.databases.TEST_HOME`),
creates a fresh database for this run, and drops it and stops the cluster at the end.
Tests get the application's DSN (role ``hj212_app``); see tests/databases.py.

Nothing here, and nothing a test starts, uses the checkout's ``var/``: the evidence key,
the anchors and every gateway's spool go to a temporary directory of this session.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from ops.cluster import Cluster
from storage import roles
from storage.migrate import migrate
from tests import databases

ROOT = Path(__file__).resolve().parent.parent
# Everything a test (or a process it starts) would otherwise keep under ./var
_SCRATCH = Path(tempfile.mkdtemp(prefix="hj212-test-session-"))
os.environ["HJ212_KEY_DIR"] = str(_SCRATCH / "keys")
os.environ["HJ212_ANCHOR_DIR"] = str(_SCRATCH / "anchors")
os.environ["HJ212_GATEWAY_SPOOL_DIR"] = str(_SCRATCH / "spool")


@pytest.fixture(scope="session")
def anyio_backend() -> tuple[str, dict[str, object]]:
    return ("asyncio", {"use_uvloop": True})


@pytest.fixture(scope="session")
def server_dsn() -> Iterator[str]:
    """The owner's DSN of a TimescaleDB server to create test databases on."""
    if dsn := os.environ.get("HJ212_TEST_DSN"):
        password = hashlib.sha256(b"hj212_app\0" + dsn.encode()).hexdigest()[:24]
        with psycopg.connect(databases.admin_of(dsn), autocommit=True) as conn:
            roles.ensure_login(conn, password)
        databases.use_app_password(password)
        yield dsn
        return
    home = databases.TEST_HOME
    home.parent.mkdir(parents=True, exist_ok=True)
    # Several test sessions may share the test cluster: each holds a shared lock while it
    # runs, and the last one out (the one that gets the lock exclusively) stops it.
    with home.with_name(home.name + ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        cluster = Cluster(home)
        dsn = cluster.up()
        databases.use_app_password(str(conninfo_to_dict(cluster.url() or "")["password"]))
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
    """An empty database of its own for this test session (the owner's DSN; no schema)."""
    with databases.created(server_dsn) as owner:
        yield owner


@pytest.fixture(scope="session")
def owner_dsn(fresh_database: str) -> str:
    """The session's database with every migration applied, as its owner."""
    migrate(fresh_database)
    return fresh_database


@pytest.fixture(scope="session")
def dsn(owner_dsn: str) -> str:
    """The session's database as the application sees it (role ``hj212_app``)."""
    return databases.app_dsn(owner_dsn)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The session's scratch goes with a green run; a red one keeps it to look into."""
    if exitstatus == 0:
        shutil.rmtree(_SCRATCH, ignore_errors=True)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int) -> None:
    """The fault tests' counts, printed whether they passed or not."""
    from tests.faults.support import FAULT_COUNTS

    if exitstatus != 0:
        terminalreporter.write_line(f"this session's scratch (keys, spools) kept: {_SCRATCH}")

    if FAULT_COUNTS:
        terminalreporter.section("fault test counts")
        for line in FAULT_COUNTS:
            terminalreporter.write_line(line)
