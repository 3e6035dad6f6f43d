"""``hj212 users add/list/token``: the first login is made from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import psycopg
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


def test_users_add_refuses_a_taken_name_and_set_password_deactivate_change_it(
    dsn: str, console_url: str
) -> None:
    name = f"cli{uuid.uuid4().hex[:6]}"
    first, second = "the first password", "the second password"
    assert hj212(dsn, "users", "add", name, "--role", "inspector", password=first).returncode == 0
    again = hj212(dsn, "users", "add", name, "--role", "administrator", password=second)
    assert again.returncode == 1
    assert "exists" in again.stderr
    assert _signs_in(console_url, name, first)  # nothing was replaced
    changed = hj212(dsn, "users", "set", name, "--region", "4205", "--full-name", "李四")
    assert changed.returncode == 0, changed.stderr
    shown = json.loads(changed.stdout)
    assert (shown["role"], shown["region_prefix"], shown["full_name"]) == (
        "inspector",
        "4205",
        "李四",
    )
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT actor, detail FROM hj212.audit_log WHERE object = 'console_user'"
            " AND action = 'update' AND detail ->> 'name' = %s ORDER BY seq DESC LIMIT 1",
            (name,),
        ).fetchone()
    assert row is not None
    assert row[1]["before"] == {"region_prefix": "", "full_name": ""}
    assert row[1]["client"].startswith("local:")
    session = httpx.post(console_url + "/api/login", json={"name": name, "password": first})
    reset = hj212(dsn, "users", "password", name, password=second)
    assert reset.returncode == 0, reset.stderr
    assert httpx.get(console_url + "/api/me", cookies=session.cookies).status_code == 401
    assert _signs_in(console_url, name, second)
    assert hj212(dsn, "users", "deactivate", name, "--reason", "离职").returncode == 0
    assert not _signs_in(console_url, name, second)
    assert hj212(dsn, "users", "reactivate", name).returncode == 0
    assert _signs_in(console_url, name, second)
    assert hj212(dsn, "users", "set", "nobody-" + name, "--role", "operator").returncode == 1


def test_tokens_listed_with_expiry_and_revoked(dsn: str, console_url: str) -> None:
    name = f"cli{uuid.uuid4().hex[:6]}"
    assert (
        hj212(dsn, "users", "add", name, "--role", "inspector", password="x" * 12).returncode == 0
    )
    token = hj212(dsn, "users", "token", name, "--label", "dash", "--days", "7").stdout.strip()
    listed = [json.loads(line) for line in hj212(dsn, "users", "tokens", name).stdout.splitlines()]
    assert [t["label"] for t in listed] == ["dash"]
    assert listed[0]["expires_at"]
    assert listed[0]["revoked_at"] is None
    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(console_url + "/api/me", headers=bearer).status_code == 200
    assert hj212(dsn, "users", "revoke", str(listed[0]["id"])).returncode == 0
    assert httpx.get(console_url + "/api/me", headers=bearer).status_code == 401
    too_long = hj212(dsn, "users", "token", name, "--days", "1000")
    assert too_long.returncode == 2


def test_cli_reads_and_report_downloads_are_audited(dsn: str, tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    report = hj212(dsn, "report", "transmission", "--period", "2026-10", "--output", str(out))
    assert report.returncode == 0, report.stderr
    assert hj212(dsn, "alarms", "list", "--format", "json").returncode == 0
    assert hj212(dsn, "stations", "list").returncode == 0
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT action, object, detail FROM hj212.audit_log"
            " WHERE at > now() - interval '5 minutes' AND detail ->> 'client' LIKE 'local:%%'"
        ).fetchall()
    seen = {(action, target) for action, target, _ in rows}
    assert {("download", "report:transmission"), ("read", "alarms"), ("read", "stations")} <= seen
    download = next(d for a, _, d in rows if a == "download")
    assert (download["period"], download["output"]) == ("2026-10", str(out))


def _signs_in(console_url: str, name: str, password: str) -> bool:
    answer = httpx.post(console_url + "/api/login", json={"name": name, "password": password})
    return answer.status_code == 200
