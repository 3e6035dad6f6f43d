"""Serial ports (through a pseudo-terminal pair), platform commands end to end, metrics."""

from __future__ import annotations

import json
import os
import socket
import sys
import tty
from pathlib import Path

import anyio
import pytest

from protocol import Connection, Message, Role, encode
from tests.gateway.support import answer, new_mn, read_frame, register, rows, running, upload

pytestmark = [pytest.mark.db, pytest.mark.anyio]


async def test_a_data_logger_on_a_serial_port(dsn: str, tmp_path: Path) -> None:
    mn = new_mn()
    register(dsn, mn)
    master, slave = os.openpty()
    tty.setraw(master)
    device = os.ttyname(slave)
    try:
        async with running(dsn, tmp_path, serial_ports=(f"{device}:9600",)) as gw:
            await anyio.to_thread.run_sync(os.write, master, upload(mn))
            data = b""
            with anyio.fail_after(10):
                while not data.endswith(b"\r\n"):
                    data += await anyio.to_thread.run_sync(os.read, master, 4096)
            assert data == answer(mn)
            assert gw.sessions[mn].transport_name == "serial"
    finally:
        os.close(master)
        os.close(slave)
    assert rows(dsn, "SELECT transport, peer FROM hj212.frame WHERE mn = %s", mn) == [
        ("serial", f"serial:{device}")
    ]


async def station_answering(stream: anyio.abc.SocketStream, mn: str) -> None:
    """A data logger that answers a 1011 (get time) as HJ 212-2017 C.2 shows."""
    conn = Connection(Role.STATION)
    while True:
        for event in conn.receive_data(await stream.receive()):
            if isinstance(event, Message) and event.cn == "1011" and event.qn:
                qn = event.qn
                await stream.send(
                    encode.answer("9011", qn=qn, pw="123456", mn=mn, version="2017", qn_rtn=1)
                )
                await stream.send(
                    encode.station(
                        "1011",
                        {"PolId": "w01018", "SystemTime": "20261123101500"},
                        qn=qn,
                        st="32",
                        pw="123456",
                        mn=mn,
                    )
                )
                await stream.send(
                    encode.answer("9012", qn=qn, pw="123456", mn=mn, version="2017", exe_rtn=1)
                )


async def test_command_send_waits_for_the_outcome(dsn: str, tmp_path: Path) -> None:
    mn = new_mn()
    register(dsn, mn)
    async with running(dsn, tmp_path, command_poll=0.5) as gw:
        async with await anyio.connect_tcp("127.0.0.1", gw.port or 0) as stream:
            await stream.send(upload(mn))
            assert await read_frame(stream) == answer(mn)
            async with anyio.create_task_group() as tg:
                tg.start_soon(station_answering, stream, mn)
                result = await anyio.run_process(
                    [
                        sys.executable,
                        "-m",
                        "cli",
                        "command",
                        "send",
                        "--mn",
                        mn,
                        "--cn",
                        "1011",
                        "--param",
                        "PolId=w01018",
                        "--wait",
                        "--timeout",
                        "30",
                        "--dsn",
                        dsn,
                    ],
                    check=False,
                )
                tg.cancel_scope.cancel()
    assert result.returncode == 0, result.stderr.decode()
    state = json.loads(result.stdout)
    assert state["state"] == "done"
    assert (state["qn_rtn"], state["exe_rtn"]) == ("1", "1")
    assert [r["cn"] for r in state["replies"]] == ["9011", "1011", "9012"]
    assert "SystemTime=20261123101500" in state["replies"][1]["frame"]


async def test_command_send_rejects_bad_parameters(dsn: str) -> None:
    result = await anyio.run_process(
        [sys.executable, "-m", "cli", "command", "send", "--mn", "X", "--cn", "1062", "--dsn", dsn],
        check=False,
    )
    assert result.returncode == 2
    assert b"needs RtdInterval" in result.stderr


async def test_metrics_and_health(dsn: str, tmp_path: Path) -> None:
    mn = new_mn()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with running(dsn, tmp_path, metrics_port=port) as gw:
        assert gw.metrics_port == port
        async with await anyio.connect_tcp("127.0.0.1", gw.port or 0) as stream:
            await stream.send(upload(mn) + b"\x00noise")
            assert await read_frame(stream) == answer(mn)

        async def get(path: str) -> bytes:
            async with await anyio.connect_tcp("127.0.0.1", port) as http:
                await http.send(f"GET {path} HTTP/1.0\r\n\r\n".encode())
                data = b""
                try:
                    while True:
                        data += await http.receive()
                except anyio.EndOfStream:
                    return data

        metrics = await get("/metrics")
        assert b'hj212_frames_total{cn="2011",status="ok"} 1.0' in metrics
        assert b"hj212_ack_latency_seconds_count 1.0" in metrics
        health = await get("/healthz")
        assert health.startswith(b"HTTP/1.0 200")
        assert json.loads(health.split(b"\r\n\r\n", 1)[1])["database"] == "up"
