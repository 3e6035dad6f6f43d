"""``hj212 serve`` runs the console beside the gateway, and both stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx
import pytest

from config.rules import RulesSettings
from config.settings import ConsoleSettings
from console.server import serve_beside
from tests.console.conftest import free_port

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parent.parent.parent


def test_serve_starts_the_console_beside_the_gateway(dsn: str, tmp_path: Path) -> None:
    gateway, console = free_port(), free_port()
    env = {
        **os.environ,
        "HJ212_DSN": dsn,
        "HJ212_GATEWAY_PORT": str(gateway),
        "HJ212_GATEWAY_METRICS_PORT": "0",
        "HJ212_GATEWAY_SPOOL_DIR": str(tmp_path / "spool"),
        "HJ212_CONSOLE_PORT": str(console),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        answer = None
        for _ in range(600):  # while it starts (a bound on waiting, not an assertion)
            try:
                answer = httpx.get(f"http://127.0.0.1:{console}/api/me")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert answer is not None
        assert answer.status_code == 401  # the console answers, and wants a login
        socket.create_connection(("127.0.0.1", gateway), timeout=10).close()  # gateway too
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0


def test_a_console_that_cannot_bind_gives_up_alone(dsn: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        settings = ConsoleSettings(port=int(taken.getsockname()[1]))
        # returns (logged) instead of raising: the gateway beside it would go on
        anyio.run(serve_beside, settings, dsn, RulesSettings())
