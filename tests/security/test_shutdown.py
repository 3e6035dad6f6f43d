"""Stopping and crashing (issue 14, Deliver 8): a normal stop under load writes every
received frame to the database; a spool is never drained into another database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests import databases
from tests.security.support import ROOT, free_port, rows

pytestmark = pytest.mark.db


@pytest.fixture
def own_database(server_dsn: str) -> Iterator[str]:
    with databases.migrated(server_dsn, "hj212_stop") as dsn:
        yield dsn


def _demo(dsn: str, tmp: Path, stations: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HJ212_DSN": dsn,
        "HJ212_DATABASE_OWNER_DSN": databases.owner_of(dsn),
        "HJ212_GATEWAY_SPOOL_DIR": str(tmp / "spool"),
        "HJ212_GATEWAY_METRICS_PORT": str(free_port()),
        "HJ212_CONSOLE_PORT": str(free_port()),
    }
    argv = [sys.executable, "-m", "cli", "demo", "--port", str(free_port())]
    argv += ["--stations", str(stations), "--interval", "0.2", "--history-days", "0"]
    with (tmp / "demo.log").open("wb") as log:
        return subprocess.Popen(  # its own process group: a terminal's Ctrl-C reaches all
            argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def _spool(tmp: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "cli", "spool", "status", "--spool-dir", str(tmp / "spool")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    found: list[dict[str, object]] = json.loads(done.stdout)["spools"]
    return found[0]


def _frames(dsn: str) -> int:
    return int(rows(dsn, "SELECT count(*) FROM hj212.frame WHERE status = 'ok'")[0][0])


def _wait_frames(dsn: str, at_least: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(600):  # a bound on waiting for the load to start
        if process.poll() is not None or _frames(dsn) >= at_least:
            return
        time.sleep(0.1)


def test_ctrl_c_under_load_leaves_an_empty_spool_and_no_error(
    own_database: str, tmp_path: Path
) -> None:
    demo = _demo(own_database, tmp_path, stations=300)
    try:
        _wait_frames(own_database, 3000, demo)  # 300 stations at 5 frames/s each
        assert demo.poll() is None, (tmp_path / "demo.log").read_text()
        time.sleep(2)
    finally:
        os.killpg(demo.pid, signal.SIGINT)  # what Ctrl-C in `./dev run` sends
        assert demo.wait(120) == 0
    log = (tmp_path / "demo.log").read_text()
    assert " ERROR " not in log, log
    spool = _spool(tmp_path)
    assert spool["pending_frames"] == 0
    assert spool["bytes"] == 0


def test_a_spool_left_by_a_crash_goes_only_to_its_own_database(
    own_database: str, dsn: str, tmp_path: Path
) -> None:
    demo = _demo(own_database, tmp_path, stations=20)
    name = own_database.rsplit("/", 1)[-1]
    admin = databases.admin_of(databases.owner_of(own_database))
    try:
        _wait_frames(own_database, 200, demo)
        with psycopg.connect(admin, autocommit=True) as conn:  # the database goes away
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
        for _ in range(300):  # until the gateway answers from its spool
            if (tmp_path / "spool" / "spool-1.log").exists():
                break
            time.sleep(0.1)
        time.sleep(2)
    finally:
        os.killpg(demo.pid, signal.SIGKILL)  # and then the gateway dies
        demo.wait(30)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    left = _spool(tmp_path)
    assert int(str(left["pending_frames"])) > 0
    assert str(left["oldest"]).endswith("+08:00")  # JSON times carry Beijing's offset
    [(owner,)] = rows(own_database, "SELECT id::text FROM hj212.instance")
    assert left["database"] == owner
    # a gateway on another database (this session's) refuses that spool, and keeps it
    env = {**os.environ, "HJ212_DSN": dsn, "HJ212_GATEWAY_SPOOL_DIR": str(tmp_path / "spool")}
    env |= {"HJ212_GATEWAY_PORT": str(free_port()), "HJ212_GATEWAY_METRICS_PORT": "0"}
    env |= {"HJ212_CONSOLE_ENABLED": "false", "HJ212_GATEWAY_RUN_RULES": "false"}
    other = subprocess.run(
        [sys.executable, "-m", "cli", "serve"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert other.returncode != 0
    assert "never drained into another database" in other.stderr
    assert _spool(tmp_path)["pending_frames"] == left["pending_frames"]
    before = _frames(own_database)
    # its own database takes it: a gateway on it drains the spool, and stops cleanly
    env["HJ212_DSN"] = own_database
    mine = subprocess.Popen([sys.executable, "-m", "cli", "serve"], env=env, cwd=ROOT)
    try:
        for _ in range(300):  # until drained
            if _spool(tmp_path)["pending_frames"] == 0:
                break
            time.sleep(0.2)
    finally:
        mine.send_signal(signal.SIGTERM)
        assert mine.wait(60) == 0
    assert _spool(tmp_path)["pending_frames"] == 0
    drained = rows(own_database, "SELECT count(*) FROM hj212.frame WHERE spool_id IS NOT NULL")
    assert drained == [(left["pending_frames"],)]  # every spooled frame, once
    assert _frames(own_database) > before
