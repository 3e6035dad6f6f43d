"""``hj212 demo`` honours its settings and prints hints that work for the options given.

It runs as a real process on a database of its own (``HJ212_DSN``, with ``--home`` in
a scratch folder so that nothing of the checkout is touched) and every port from the
environment; while it runs, /metrics must answer on the configured port, and the psql
line it printed must reach the database it used.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.rules_db import rules_dsn

__all__ = ["rules_dsn"]
pytestmark = [pytest.mark.db, pytest.mark.e2e]
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _metrics_answer(url: str, process: subprocess.Popen[str], within: float) -> str:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and process.poll() is None:
        try:
            answer = httpx.get(url, timeout=2)
            if answer.status_code == 200:
                return answer.text
        except httpx.TransportError:
            pass
        time.sleep(0.2)  # polls the demo's endpoint: there is no event to wait on
    raise AssertionError(f"no /metrics at {url}")


def test_the_demo_honours_every_setting_and_its_psql_hint_works(
    rules_dsn: str, tmp_path: Path
) -> None:
    ports = {name: _free_port() for name in ("gateway", "metrics", "console")}
    env = {
        **os.environ,
        "HJ212_DSN": rules_dsn,
        "HJ212_GATEWAY_PORT": str(ports["gateway"]),
        "HJ212_GATEWAY_METRICS_PORT": str(ports["metrics"]),
        "HJ212_CONSOLE_PORT": str(ports["console"]),
        "HJ212_GATEWAY_SPOOL_DIR": str(tmp_path / "spool"),
    }
    args = ["--home", str(tmp_path / "pg"), "--stations", "2", "--interval", "1"]
    command = [sys.executable, "-m", "cli", "demo", *args, "--duration", "8"]
    with subprocess.Popen(
        command, cwd=ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    ) as demo:
        metrics = _metrics_answer(f"http://127.0.0.1:{ports['metrics']}/metrics", demo, 60)
        _, stderr = demo.communicate(timeout=120)
    assert demo.returncode == 0, stderr
    assert "hj212_" in metrics  # the gateway's own metrics, on the port it was given
    assert f"127.0.0.1:{ports['gateway']}" in stderr
    assert f"http://127.0.0.1:{ports['console']}/" in stderr
    assert f":{ports['metrics']}/metrics" in stderr
    assert (tmp_path / "spool").is_dir()  # the spool where it was told, not var/spool
    # the hint names this database: run it as printed (the part before its comment)
    (hint,) = [line for line in stderr.splitlines() if line.strip().startswith("psql ")]
    command = [*shlex.split(hint.split("(")[0]), "-c", "SELECT count(*) FROM hj212.measurement"]
    counted = subprocess.run(command, capture_output=True, text=True, check=False)
    assert counted.returncode == 0, counted.stderr
    assert int(counted.stdout.split()[2]) > 0  # " count \n-------\n    123"
    assert f"export HJ212_DSN={shlex.quote(rules_dsn)}" in stderr
