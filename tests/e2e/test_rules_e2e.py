"""The rules engine end to end: frames over TCP into the real gateway, stored in a real
TimescaleDB, judged by the rules loop running beside the gateway (as the gateway will
start it), alarms and cases in the database, a webhook POSTed to a real local HTTP
server, and ``hj212 rules replay`` agreeing with what was raised live.

The rules loop reads time through a clock we can move forward, so an hour's judgement
(at H + 1 h + 10 min) and an outage (10 min of silence) happen without waiting.
"""

from __future__ import annotations

import json
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import anyio
import psycopg
import pytest
from anyio.abc import SocketStream

from config.rules import RulesSettings, Webhook
from config.settings import GatewaySettings
from gateway.app import Gateway
from protocol import BEIJING, encode, format_time
from services.rules_runner import run_rules
from tests.rules.support import gas_station
from tests.rules_db import register, rules_dsn

__all__ = ["rules_dsn"]
pytestmark = [pytest.mark.db, pytest.mark.e2e, pytest.mark.anyio]


@dataclass
class Clock:
    """Real time plus an offset that the test moves forward."""

    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


class _Hook(BaseHTTPRequestHandler):
    bodies: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        type(self).bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[bytes]]]:
    class Hook(_Hook):
        bodies: ClassVar[list[bytes]] = []

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hj212", Hook.bodies
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class Stack:
    port: int
    clock: Clock
    dsn: str


@pytest.fixture
async def stack(
    rules_dsn: str, tmp_path: Path, webhook: tuple[str, list[bytes]]
) -> AsyncIterator[Stack]:
    settings = RulesSettings(
        webhooks=(Webhook(webhook[0], "critical"),),
        interval_s=0.05,
        settle_s=1.0,  # a frame is committed well within this (production: 5 s)
        notify_backoff_s=0.0,
    )
    clock = Clock()
    gateway = Gateway(
        # stations are registered while it runs: their frames are data from the first
        # one, as they were before quarantine became the default (chosen knowingly here)
        GatewaySettings(
            host="127.0.0.1",
            port=0,
            metrics_port=0,
            spool_dir=tmp_path / "spool",
            unknown_station="accept",
        ),
        rules_dsn,
    )
    async with anyio.create_task_group() as tg:
        port = await tg.start(gateway.run)
        tg.start_soon(partial(run_rules, rules_dsn, settings, clock=clock))
        yield Stack(port, clock, rules_dsn)
        tg.cancel_scope.cancel()


def _rows(dsn: str, sql: str, *params: object) -> list[tuple[object, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql.encode(), params).fetchall()


async def _until(dsn: str, sql: str, *params: object) -> list[tuple[object, ...]]:
    """Poll until the query returns rows (the rules loop runs every 50 ms)."""
    with anyio.fail_after(30):
        while True:
            found = await anyio.to_thread.run_sync(partial(_rows, dsn, sql, *params))
            if found:
                return found
            await anyio.sleep(0.05)


async def _send(stream: SocketStream, frame: bytes) -> bytes:
    await stream.send(frame)
    data = b""
    with anyio.fail_after(10):
        while not data.endswith(b"\r\n"):
            data += await stream.receive()
    return data


def _frames(mn: str, hour: datetime, now: datetime) -> list[bytes]:
    """An hourly record over the SO2 limit, then real-time data, as a CEMS sends them."""
    hourly = {
        "a21026": {"Avg": 80.0, "Min": 78.0, "Max": 82.0, "Flag": "N"},  # 80 x 15/12 = 100
        "a21002": {"Avg": 30.0, "Min": 29.0, "Max": 31.0, "Flag": "N"},
        "a34013": {"Avg": 4.0, "Min": 3.9, "Max": 4.1, "Flag": "N"},
        "a19001": {"Avg": 9.0, "Min": 8.9, "Max": 9.1, "Flag": "N"},
        "a00000": {"Avg": 40.0, "Min": 39.0, "Max": 41.0, "Flag": "N"},
    }
    frames = encode.upload(
        "2061",
        data_time=hour,
        values=hourly,
        qn=format_time(now, millis=True),
        st="31",
        pw="123456",
        mn=mn,
    )
    for i in range(3):
        at = now + timedelta(seconds=i)
        realtime = {code: {"Rtd": v["Avg"], "Flag": "N"} for code, v in hourly.items()}
        qn = format_time(at + timedelta(milliseconds=500), millis=True)
        frames += encode.upload(
            "2011", data_time=at, values=realtime, qn=qn, st="31", pw="123456", mn=mn
        )
    return frames


async def test_frames_through_the_gateway_raise_alarms_cases_and_webhooks_that_replay_matches(
    stack: Stack, webhook: tuple[str, list[bytes]]
) -> None:
    mn = uuid.uuid4().hex[:24].upper()
    station = gas_station(mn, name="E2E stack")
    register(stack.dsn, [station], datetime.now(UTC) - timedelta(days=1))
    await _until(stack.dsn, "SELECT 1 FROM hj212.rules_cursor")
    now = datetime.now(UTC)
    hour = now.astimezone(BEIJING).replace(minute=0, second=0, microsecond=0)
    async with await anyio.connect_tcp("127.0.0.1", stack.port) as stream:
        for frame in _frames(mn, hour, now):
            reply = await _send(stream, frame)
            assert b"CN=9014" in reply  # stored, then answered
    (last,) = _rows(stack.dsn, "SELECT max(received_at) FROM hj212.frame WHERE mn = %s", mn)[0]
    await _until(stack.dsn, "SELECT 1 FROM hj212.rules_cursor WHERE watermark >= %s", last)
    # time passes: the hour is judged at H + 1 h + 10 min; the station has been silent
    stack.clock.offset = hour + timedelta(hours=1, minutes=12) - datetime.now(UTC)
    ((pollutant, value, threshold, basis),) = await _until(
        stack.dsn,
        "SELECT pollutant, value, threshold, detail->>'basis' FROM hj212.alarm"
        " WHERE mn = %s AND kind = 'exceedance'",
        mn,
    )
    assert (pollutant, threshold, basis) == ("a21026", 35.0, "converted")
    assert value == pytest.approx(100.0)
    ((state, restore_due, opened_at),) = await _until(
        stack.dsn, "SELECT state, restore_due, opened_at FROM hj212.case WHERE mn = %s", mn
    )
    assert state == "open"
    assert restore_due - opened_at == timedelta(hours=12)  # type: ignore[operator]
    # the exceedance and the outage are critical: both POSTed to the webhook
    with anyio.fail_after(30):
        while True:
            posted = {json.loads(body)["kind"] for body in webhook[1]}
            if len(posted) >= 2:
                break
            await anyio.sleep(0.05)
    posted = {json.loads(body)["kind"] for body in webhook[1]}
    assert {"exceedance", "outage"} <= posted
    ((origin, watermark),) = _rows(stack.dsn, "SELECT origin, watermark FROM hj212.rules_cursor")
    assert isinstance(origin, datetime)
    assert isinstance(watermark, datetime)
    result = await anyio.run_process(
        [
            sys.executable,
            "-m",
            "cli",
            "rules",
            "replay",
            "--from",
            origin.isoformat(),
            "--to",
            watermark.isoformat(),
            "--dsn",
            stack.dsn,
        ],
        check=False,
    )
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert result.stdout.decode().strip().endswith("MATCH")


async def test_alarm_commands_on_what_the_stack_raised(stack: Stack) -> None:
    mn = uuid.uuid4().hex[:24].upper()
    register(stack.dsn, [gas_station(mn)], datetime.now(UTC) - timedelta(days=1))
    await _until(stack.dsn, "SELECT 1 FROM hj212.rules_cursor")
    now = datetime.now(UTC)
    async with await anyio.connect_tcp("127.0.0.1", stack.port) as stream:
        frame = encode.upload(
            "2011",
            data_time=now,
            values={"a21026": {"Rtd": -5.0, "Flag": "N"}},
            qn=format_time(now, millis=True),
            st="31",
            pw="123456",
            mn=mn,
        )[0]
        assert b"CN=9014" in await _send(stream, frame)
    ((alarm_id,),) = await _until(
        stack.dsn, "SELECT id FROM hj212.alarm WHERE mn = %s AND kind = 'negative'", mn
    )
    base = [sys.executable, "-m", "cli", "alarms"]
    for action in ("ack", "resolve"):
        done = await anyio.run_process(
            [
                *base,
                action,
                str(alarm_id),
                "--by",
                "e2e",
                "--note",
                f"{action} it",
                "--dsn",
                stack.dsn,
            ],
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode()
    again = await anyio.run_process([*base, "ack", str(alarm_id), "--dsn", stack.dsn], check=False)
    assert again.returncode == 1  # resolved alarms cannot be acknowledged
    listed = await anyio.run_process(
        [*base, "list", "--mn", mn, "--format", "json", "--dsn", stack.dsn], check=False
    )
    assert b'"state": "resolved"' in listed.stdout
    steps = _rows(
        stack.dsn,
        "SELECT action, actor, note FROM hj212.alarm_action WHERE alarm_id = %s ORDER BY at",
        alarm_id,
    )
    assert steps == [("acknowledged", "e2e", "ack it"), ("resolved", "e2e", "resolve it")]
