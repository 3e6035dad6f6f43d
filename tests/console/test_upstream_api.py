"""GET /api/upstreams and the station's key age, on the real database (issue 19)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from httpx import Client

from tests.console.support import PASSWORD

pytestmark = pytest.mark.db


@pytest.fixture
def client(console_url: str) -> Iterator[Client]:
    with Client(base_url=console_url) as c:
        yield c


def login(client: Client, name: str) -> None:
    answer = client.post("/api/login", json={"name": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text


@pytest.fixture
def upstream(dsn: str, world: dict[str, str]) -> Iterator[str]:
    """An upstream with two frames of the Wuhan station queued, the oldest 2 h old."""
    name = f"prov-{uuid.uuid4().hex[:6]}"
    old = datetime.now(UTC) - timedelta(hours=2)
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO hj212.upstream (name, host, port, version, cns, behind_alarm_s,"
            " behind_since) VALUES (%s, '10.0.0.1', 9212, '2017', '{2011}', 3600, now())",
            (name,),
        )
        for frame_id, at in ((-1, old), (-2, old + timedelta(minutes=1))):
            conn.execute(
                "INSERT INTO hj212.upstream_queue (upstream, frame_id, mn, received_at)"
                " VALUES (%s, %s, %s, %s)",
                (name, frame_id, world["wuhan"], at),
            )
    yield name
    with psycopg.connect(dsn) as conn:
        conn.execute("DELETE FROM hj212.upstream WHERE name = %s", (name,))


def test_the_platform_regulators_see_the_upstreams(
    client: Client, world: dict[str, str], upstream: str
) -> None:
    login(client, f"admin{world['tag']}")
    shown = {u["name"]: u for u in client.get("/api/upstreams").json()}
    u = shown[upstream]
    assert (u["backlog"], u["stations"], u["behind"]) == (2, 1, True)
    assert 7100 < u["lag_s"] < 7400
    assert u["delivered"] == 0


@pytest.mark.parametrize("who", ["firm", "wuhan"])
def test_enterprises_and_city_users_do_not(
    client: Client, world: dict[str, str], upstream: str, who: str
) -> None:
    login(client, f"{who}{world['tag']}")
    assert client.get("/api/upstreams").status_code == 403


def test_the_cli_says_the_same_and_fails_when_behind(dsn: str, upstream: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cli", "upstream", "status", "--dsn", dsn],
        capture_output=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr.decode()
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    (mine,) = [u for u in lines if u["name"] == upstream]
    assert (mine["backlog"], mine["behind"]) == (2, True)
    assert mine["oldest"].endswith("+08:00")


def test_a_station_shows_its_key_age(client: Client, world: dict[str, str], dsn: str) -> None:
    login(client, f"admin{world['tag']}")
    mn = world["wuhan"]
    assert client.get(f"/api/stations/{mn}").json()["key"] == {"encrypted": False}
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE hj212.station SET sm4_key = %s WHERE mn = %s", ("A" * 32, mn))
    try:
        key = client.get(f"/api/stations/{mn}").json()["key"]
        assert (key["encrypted"], key["due"], key["age_days"]) == (True, False, 0.0)
    finally:
        with psycopg.connect(dsn) as conn:
            conn.execute("UPDATE hj212.station SET sm4_key = NULL WHERE mn = %s", (mn,))
