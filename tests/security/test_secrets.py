"""Device secrets (issue 14, F-14): shown to nobody who does not need them, kept only
where the registry needs them; against a real ``hj212 serve`` and its console."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import httpx
import psycopg
import pytest

from console.auth import hash_password
from storage import console_store
from tests.security.support import GoodStation, read_until, rows, serve
from tests.security.test_commands_console import PASSWORD, _operator, _signed_in
from tests.security.test_stations import answer_frame

pytestmark = [pytest.mark.db, pytest.mark.anyio]
NEW = "N3wPw1"


def _user(dsn: str, role: str) -> str:
    name = f"{role[:4]}{os.urandom(3).hex()}"
    with psycopg.connect(dsn) as conn:
        console_store.add_user(conn, name, hash_password(PASSWORD), role, "", "")
        conn.commit()
    return name


async def test_f14_passwords_are_masked_and_a_new_one_is_kept_only_in_the_registry(
    dsn: str, tmp_path: Path
) -> None:
    good = GoodStation(dsn)
    operator, inspector, admin = (
        _operator(dsn),
        _user(dsn, "inspector"),
        _user(dsn, "administrator"),
    )
    env = {"HJ212_GATEWAY_COMMAND_POLL": "0.5", "HJ212_GATEWAY_REGISTRY_REFRESH": "600"}
    with serve(dsn, tmp_path, console=True, **env) as gw:
        await good.connect(gw.port)
        await good.send(2)
        url = f"http://127.0.0.1:{gw.console_port}"
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            await _signed_in(client, inspector)
            seen = (await client.get(f"/api/stations/{good.mn}/frames")).text
            assert f"PW={good.password}" not in seen  # masked for an inspector
            assert "PW=******" in seen
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            await _signed_in(client, admin)
            assert (
                f"PW={good.password}" in (await client.get(f"/api/stations/{good.mn}/frames")).text
            )
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            await _signed_in(client, operator)
            sent = await client.post(
                f"/api/stations/{good.mn}/commands", json={"cn": "1072", "params": {"NewPW": NEW}}
            )
            assert sent.status_code == 200, sent.text
            command = sent.json()["id"]
            assert good.stream is not None
            wire = await read_until(good.stream, b"CN=1072")  # the device gets it, and only it
            assert f"NewPW={NEW}".encode() in wire
            qn = wire.split(b"QN=")[-1].split(b";")[0].decode()
            await good.stream.send(answer_frame("9011", good.mn, good.password, qn, "QnRtn=1"))
            await good.stream.send(answer_frame("9012", good.mn, good.password, qn, "ExeRtn=1"))
            for _ in range(100):  # until the registry took it (bounded wait)
                if rows(dsn, "SELECT password FROM hj212.station WHERE mn = %s", good.mn) == [
                    (NEW,)
                ]:
                    break
                await anyio.sleep(0.2)
            shown = (await client.get(f"/api/commands/{command}")).text
            shown += (await client.get(f"/api/stations/{good.mn}/commands")).text
            assert NEW not in shown
            assert good.password not in shown
        good.password = NEW  # the device now uses its new password: answered at once
        await good.send(2)
        good.check()
        await good.close()
    assert rows(
        dsn, "SELECT password, pending_password FROM hj212.station WHERE mn = %s", good.mn
    ) == [(NEW, None)]
    stored = rows(
        dsn,
        "SELECT cp || encode(coalesce(raw, ''), 'escape') FROM hj212.command WHERE id = %s",
        command,
    )
    assert NEW not in stored[0][0]
    logged = rows(
        dsn,
        "SELECT detail::text FROM hj212.audit_log WHERE mn = %s OR detail::text LIKE %s",
        good.mn,
        f"%{NEW}%",
    )
    assert logged  # the command and the registry change are audited ...
    assert not any(NEW in d or "G00d42" in d for (d,) in logged)  # ... without the secrets
    assert NEW not in gw.log
    assert "G00d42" not in gw.log
