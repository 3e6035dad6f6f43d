"""A real ``hj212 serve`` on loopback ports, and a good data logger that must keep
being answered while someone attacks the gateway beside it.

Every test in this folder plays one finding of the security review (issue 14) against
the process the operators run, then checks the good station: each of its frames
answered (9014 after the commit) and stored, its connection never taken from it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import psycopg
from anyio.abc import SocketStream

from protocol import BEIJING, encode

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def new_mn() -> str:
    return uuid.uuid4().hex[:24].upper()


def rows(dsn: str, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql.encode(), params).fetchall()


def register(dsn: str, mn: str, password: str, **columns: object) -> None:
    names = ["mn", "password", "name", "medium", "region_code", *columns]
    values = [mn, password, f"station {mn[:6]}", "water", "420100", *columns.values()]
    with psycopg.connect(dsn) as conn:
        conn.execute(
            f"INSERT INTO hj212.station ({', '.join(names)})"
            f" VALUES ({', '.join(['%s'] * len(values))})".encode(),
            values,
        )


@dataclass
class Serve:
    """``hj212 serve`` in a process of its own, its ports, spool and logs."""

    port: int
    console_port: int
    metrics_port: int
    home: Path
    process: subprocess.Popen[bytes]

    @property
    def log(self) -> str:
        return (self.home / "serve.log").read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None


@contextlib.contextmanager
def serve(dsn: str, tmp: Path, *, console: bool = False, **env: str) -> Iterator[Serve]:
    """Start ``hj212 serve`` with the default settings (plus ``env``) and stop it."""
    port, console_port, metrics = free_port(), free_port(), free_port()
    environment = {
        **os.environ,
        "HJ212_DSN": dsn,
        "HJ212_GATEWAY_PORT": str(port),
        "HJ212_GATEWAY_METRICS_PORT": str(metrics),
        "HJ212_GATEWAY_SPOOL_DIR": str(tmp / "spool"),
        "HJ212_GATEWAY_RUN_RULES": "false",
        "HJ212_CONSOLE_ENABLED": "true" if console else "false",
        "HJ212_CONSOLE_PORT": str(console_port),
        "HJ212_KEY_DIR": str(tmp / "keys"),
        "HJ212_ANCHOR_DIR": str(tmp / "anchors"),
        **env,
    }
    with (tmp / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cli",
                *(["-v"] if os.environ.get("HJ212_TEST_VERBOSE") else []),
                "serve",
            ],
            env=environment,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    running = Serve(port, console_port, metrics, tmp, process)
    try:
        _wait_listening(running, port)
        if console:
            _wait_listening(running, console_port)
        yield running
    finally:
        if running.alive():
            process.send_signal(signal.SIGTERM)
            process.wait(60)


def _wait_listening(running: Serve, port: int) -> None:
    for _ in range(300):  # a bound on waiting for the start, not a timed assertion
        if not running.alive():
            raise AssertionError(f"hj212 serve exited at start:\n{running.log}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"hj212 serve never listened on {port}:\n{running.log}")


START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def upload(
    mn: str, pw: str, n: int, *, at: datetime | None = None, values: str | None = None
) -> tuple[bytes, str]:
    """A 2011 upload asking for 9014 (record ``n``: one minute apart); (frame, QN)."""
    moment = (at or START + timedelta(minutes=n)).astimezone(BEIJING)
    qn = encode.new_qn(moment + timedelta(milliseconds=n % 1000))
    stamp = moment.strftime("%Y%m%d%H%M%S")
    cp = values or f"w01018-Rtd={20 + n % 7},w01018-Flag=N;w00000-Rtd=1.5,w00000-Flag=N"
    segment = f"QN={qn};ST=32;CN=2011;PW={pw};MN={mn};Flag=5;CP=&&DataTime={stamp};{cp}&&"
    return encode.frame(segment), qn


async def read_until(stream: SocketStream, needle: bytes, limit: float = 15) -> bytes:
    data = b""
    with anyio.fail_after(limit):
        while needle not in data:
            data += await stream.receive()
    return data


async def gets_nothing(stream: SocketStream, seconds: float) -> bool:
    """True when nothing at all comes within ``seconds`` (or the connection just ends)."""
    with anyio.move_on_after(seconds):
        try:
            data = await stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionResetError):
            return True
        return not data
    return True


async def closed_by_peer(stream: SocketStream, limit: float = 15) -> bool:
    with anyio.move_on_after(limit):
        try:
            while True:
                await stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionResetError):
            return True
    return False


@dataclass
class GoodStation:
    """A registered data logger on one connection it must never lose (registered when
    made: make it before the gateway starts, which reads the registry then)."""

    dsn: str
    mn: str = field(default_factory=new_mn)
    password: str = "G00d42"
    stream: SocketStream | None = None
    answered: list[str] = field(default_factory=list)  # QNs answered with 9014
    sent: int = 0
    inbox: bytes = b""  # anything else the platform sent (commands)

    def __post_init__(self) -> None:
        register(self.dsn, self.mn, self.password)

    async def connect(self, port: int) -> None:
        self.stream = await anyio.connect_tcp("127.0.0.1", port)

    async def send(self, count: int = 1) -> None:
        """Send ``count`` records, each answered before the next (stop and wait)."""
        assert self.stream is not None, "connect first"
        for _ in range(count):
            wire, qn = upload(self.mn, self.password, self.sent)
            self.sent += 1
            await self.stream.send(wire)
            self.inbox += await read_until(self.stream, f"QN={qn};ST=91;CN=9014".encode())
            self.answered.append(qn)

    def check(self) -> None:
        """Every record answered, archived 'ok' once, its values stored."""
        assert len(self.answered) == self.sent > 0
        stored = rows(
            self.dsn,
            "SELECT qn FROM hj212.frame WHERE mn = %s AND status = 'ok' AND cn = '2011'",
            self.mn,
        )
        assert sorted(q for (q,) in stored) == sorted(self.answered)
        values = rows(
            self.dsn,
            "SELECT count(*) FROM hj212.measurement WHERE mn = %s AND cn = '2011'",
            self.mn,
        )
        assert values == [(2 * self.sent,)]

    async def close(self) -> None:
        if self.stream is not None:
            await self.stream.aclose()
