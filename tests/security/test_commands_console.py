"""Attacks through commands and the console (issue 14: F-02, F-19, F-03), against a real
``hj212 serve`` with its console, then the good station."""

from __future__ import annotations

import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

import anyio
import httpx
import psycopg
import pytest

from console.auth import hash_password
from protocol import encode
from storage import console_store
from tests.security.support import ROOT, GoodStation, Serve, rows, serve

pytestmark = [pytest.mark.db, pytest.mark.anyio]
PASSWORD = "a long operator password"


def _operator(dsn: str) -> str:
    name = f"op{os.urandom(4).hex()}"
    with psycopg.connect(dsn) as conn:
        console_store.add_user(conn, name, hash_password(PASSWORD), "operator", "42", "")
        conn.commit()
    return name


async def _signed_in(client: httpx.AsyncClient, user: str) -> None:
    signed = await client.post("/api/login", json={"name": user, "password": PASSWORD})
    assert signed.status_code == 200, signed.text


def _insert(dsn: str, mn: str, cn: str, cp: str) -> int:
    """What anyone with the database can do: queue a command around the API."""
    qn = encode.new_qn(datetime.now(UTC))
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO hj212.command (mn, qn, st, cn, cp, requested_by)"
            " VALUES (%s, %s, '32', %s, %s, 'intruder') RETURNING id",
            (mn, qn, cn, cp),
        ).fetchone()
        conn.execute("NOTIFY hj212_command")
    assert row is not None
    return int(row[0])


async def _settled(dsn: str, command_id: int) -> tuple[str, str | None]:
    with anyio.move_on_after(20):  # a bound on waiting for the gateway
        while True:
            [(state,)] = rows(dsn, "SELECT state FROM hj212.command WHERE id = %s", command_id)
            if state != "queued":
                break
            await anyio.sleep(0.2)
    [(state, error)] = rows(dsn, "SELECT state, error FROM hj212.command WHERE id = %s", command_id)
    return state, error


BAD_VALUES = {
    "SystemTime": ["20261123101500;X=1", "2026112310150&&", "20261123101500\r\n##", "<b>1</b>"],
    "PolId": ["w01018,Rtd=1", "<script>", "w0\r\n"],
}


async def test_f02_f19_commands_with_forbidden_values_fail_alone(dsn: str, tmp_path: Path) -> None:
    good = GoodStation(dsn)
    operator = _operator(dsn)
    with serve(dsn, tmp_path, console=True, HJ212_GATEWAY_COMMAND_POLL="0.5") as gw:
        await good.connect(gw.port)
        await good.send(1)
        url = f"http://127.0.0.1:{gw.console_port}"
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            await _signed_in(client, operator)
            for key, values in BAD_VALUES.items():
                cn = "1012" if key == "SystemTime" else "3011"
                for value in values:  # the API refuses them
                    sent = await client.post(
                        f"/api/stations/{good.mn}/commands",
                        json={"cn": cn, "params": {key: value}},
                    )
                    assert sent.status_code == 422, (value, sent.text)
                    assert value not in sent.text
        forbidden = ["--cn", "1012", "--param", "SystemTime=20261123101500;X=1"]
        cli = await anyio.run_process(
            [
                sys.executable,
                "-m",
                "cli",
                "command",
                "send",
                "--dsn",
                dsn,
                "--mn",
                good.mn,
                *forbidden,
            ],
            cwd=ROOT,
            check=False,
        )
        assert cli.returncode == 2  # and so does the command line
        queued = [_insert(dsn, good.mn, "1012", "SystemTime=20261123101500;X=1")]
        queued += [_insert(dsn, good.mn, "3011", f"PolId={v}") for v in BAD_VALUES["PolId"]]
        for command_id in queued:
            state, error = await _settled(dsn, command_id)
            assert state == "failed"
            assert "is not allowed" in str(error) or "does not take" in str(error)
        await good.send(2)
        assert gw.alive()  # the gateway, its console and its task group go on
        good.check()
        assert b"CN=1012" not in good.inbox  # nothing of it reached the device
        assert b"CN=3011" not in good.inbox
        await good.close()


def _console_pid(gw: Serve) -> int:
    """The console's own process: the child of ``hj212 serve`` (Linux /proc)."""
    pid = gw.process.pid
    children = [
        int(c)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for c in (task / "children").read_text().split()
    ]
    assert children, "hj212 serve runs no child process: the console shares its loop"
    return children[0]


async def test_f03_nothing_the_console_gets_holds_up_acknowledgements(
    dsn: str, tmp_path: Path
) -> None:
    good = GoodStation(dsn)
    with serve(dsn, tmp_path, console=True) as gw:
        await good.connect(gw.port)
        await good.send(1)
        url = f"http://127.0.0.1:{gw.console_port}"
        huge = b'{"name": "' + b"A" * (20 << 20) + b'", "password": "x"}'
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            big = await client.post(
                "/api/login", content=huge, headers={"content-type": "application/json"}
            )
            assert big.status_code == 413  # refused unread
            assert len(big.content) < 200
            await good.send(1)
            odd = await client.post("/api/login", json={"name": "<b>x</b>", "password": "s3cr3t!"})
            assert odd.status_code == 422
            assert "<b>" not in odd.text
            assert "s3cr3t!" not in odd.text  # the body is never echoed
            answers = [(await client.get("/api/me")).status_code for _ in range(650)]
        assert answers[0] == 401
        assert 429 in answers  # 600 requests a minute per client, then refused
        console = _console_pid(gw)
        os.kill(console, signal.SIGSTOP)  # a console that hangs completely ...
        try:
            await good.send(3)  # ... and the gateway still answers every frame
        finally:
            os.kill(console, signal.SIGCONT)
        good.check()
        await good.close()
