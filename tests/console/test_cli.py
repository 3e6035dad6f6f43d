"""``hj212 users add/list/token``: the first login is made from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parent.parent.parent


def hj212(dsn: str, *argv: str, password: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HJ212_PASSWORD": password}
    return subprocess.run(
        [sys.executable, "-m", "cli", *argv, "--dsn", dsn],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_users_add_list_and_token(dsn: str, console_url: str) -> None:
    name = f"cli{uuid.uuid4().hex[:6]}"
    short = hj212(dsn, "users", "add", name, "--role", "operator", password="short")
    assert short.returncode == 2
    added = hj212(
        dsn,
        "users",
        "add",
        name,
        "--role",
        "operator",
        "--region",
        "4201",
        password="a long enough password",
    )
    assert added.returncode == 0, added.stderr
    listed = [json.loads(line) for line in hj212(dsn, "users", "list").stdout.splitlines()]
    mine = next(u for u in listed if u["name"] == name)
    assert (mine["role"], mine["region_prefix"]) == ("operator", "4201")
    assert "password_hash" not in mine
    assert "scrypt" not in json.dumps(mine)
    token = hj212(dsn, "users", "token", name, "--label", "test").stdout.strip()
    me = httpx.get(console_url + "/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["name"] == name
    login = httpx.post(
        console_url + "/api/login", json={"name": name, "password": "a long enough password"}
    )
    assert login.status_code == 200
    assert "hj212_session" in login.cookies
    firm = hj212(dsn, "users", "add", "x" + name, "--role", "enterprise", password="x" * 12)
    assert firm.returncode == 2  # an enterprise user needs its enterprise
