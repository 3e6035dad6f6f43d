"""/api/deviations and /api/stations/{mn}/events on the real database, by jurisdiction."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from httpx import Client

from protocol import Connection, Role, format_time
from protocol.encode import frame
from services.writer import Writer
from storage.records import record_of
from tests.console.support import PASSWORD
from tests.storage.support import running

pytestmark = pytest.mark.db


@pytest.fixture
def client(console_url: str) -> Iterator[Client]:
    with Client(base_url=console_url) as c:
        yield c


def login(client: Client, name: str) -> None:
    answer = client.post("/api/login", json={"name": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text


def _send(dsn: str, mn: str) -> None:
    """A frame with a lower-case flag and a 2081 restart, received now."""
    stamp = format_time(datetime.now(UTC))
    segments = [
        (
            f"QN=20261123101500123;ST=31;CN=2011;PW=123456;MN={mn};Flag=4;"
            "CP=&&DataTime=20261123101500;a21026-Rtd=30,a21026-Flag=n&&"
        ),
        (
            f"QN=20261123101500124;ST=31;CN=2081;PW=123456;MN={mn};Flag=4;"
            f"CP=&&DataTime={stamp};RestartTime={stamp}&&"
        ),
    ]
    conn = Connection(Role.PLATFORM, auto_answer=False)
    now = datetime.now(UTC)
    records = [
        record_of(e, received_at=now, peer="127.0.0.1:1", transport="tcp")
        for s in segments
        for e in conn.receive_data(frame(s))
    ]

    async def write() -> None:
        async with running(Writer(dsn)) as writer:
            for r in records:
                await writer.submit(r)

    asyncio.run(write())


def test_deviations_and_events_by_jurisdiction(
    client: Client, world: dict[str, str], dsn: str
) -> None:
    wuhan, yichang = world["wuhan"], world["yichang"]
    _send(dsn, wuhan)
    _send(dsn, yichang)
    login(client, f"wuhan{world['tag']}")
    # other test modules add Wuhan stations of their own to this database
    seen = [
        d for d in client.get("/api/deviations?kind=bad-flag").json() if d["mn"] in (wuhan, yichang)
    ]
    assert [(d["mn"], d["deviation"], d["frames"]) for d in seen] == [
        (wuhan, "bad-flag:a21026-Flag", 1)
    ]
    assert seen[0]["name"] == "武汉热电"
    events = client.get(f"/api/stations/{wuhan}/events").json()
    assert [(e["cn"], e["kind"]) for e in events] == [("2081", "restart")]
    assert client.get(f"/api/stations/{yichang}/events").status_code == 404
    assert client.get("/api/deviations?kind=DROP TABLE").status_code == 422
    client.post("/api/logout")
    client.cookies.clear()
    login(client, f"admin{world['tag']}")
    everyone = {d["mn"] for d in client.get("/api/deviations?kind=bad-flag").json()}
    assert {wuhan, yichang} <= everyone
