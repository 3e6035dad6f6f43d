"""The duty board, the grouped alarm inbox and bulk acknowledgement through the API, on
the real database (docs/console.md §3-§4)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Flood:
    mn: str
    ids: list[int]
    other: int


def _id(conn: psycopg.Connection, sql: str, params: tuple[object, ...]) -> int:
    row = conn.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture(scope="module")
def flood(dsn: str, world: dict[str, str]) -> Flood:
    """A silent Xiangyang station of its own (county 420602) with a flood: 9 warnings of
    one kind, 2 of another, 1 critical; and one more alarm on the seed's Yichang one."""
    mn = f"X{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO hj212.station (mn, name, enterprise, medium, region_code)"
            " VALUES (%s, '襄阳水厂', 'EX', 'water', '420602')",
            (mn,),
        )
        alarms: list[tuple[str, str, str | None]]
        alarms = [("hour-incomplete", "warning", f"w0{i}") for i in range(9)]
        alarms += [("flow-zero", "warning", None)] * 2 + [("exceedance", "critical", "w01018")]
        ids = []
        for i, (kind, severity, pollutant) in enumerate(alarms):
            sql = (
                "INSERT INTO hj212.alarm (key, mn, pollutant, kind, severity, raised_at)"
                " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id"
            )
            at = now - timedelta(minutes=i)
            ids.append(_id(conn, sql, (f"{mn}:{i}", mn, pollutant, kind, severity, at)))
        other = _id(
            conn,
            "INSERT INTO hj212.alarm (key, mn, kind, severity, raised_at)"
            " VALUES (%s, %s, 'flow-zero', 'warning', %s) RETURNING id",
            (f"{world['yichang']}:bulk", world["yichang"], now),
        )
    return Flood(mn, ids, other)


def test_the_flood_is_one_row_per_station_and_kind_critical_first(
    client: Client, world: dict[str, str], flood: Flood
) -> None:
    login(client, f"admin{world['tag']}")
    found = client.get("/api/alarm-groups", params={"mn": flood.mn}).json()
    rows = [(g["kind"], g["count"], g["critical"]) for g in found["groups"]]
    assert rows == [("exceedance", 1, True), ("hour-incomplete", 9, False), ("flow-zero", 2, False)]
    assert found["totals"]["groups"] == 3
    assert found["totals"]["alarms"] == 12
    assert found["totals"]["kind:hour-incomplete"] == 9
    incomplete = found["groups"][1]
    assert len(incomplete["ids"]) == 9
    assert len(incomplete["pollutants"]) == 9
    assert incomplete["station"] == "襄阳水厂"
    page = client.get("/api/alarm-groups", params={"mn": flood.mn, "offset": 1, "limit": 1}).json()
    assert [g["kind"] for g in page["groups"]] == ["hour-incomplete"]
    critical = client.get(
        "/api/alarm-groups", params={"mn": flood.mn, "severity": "critical"}
    ).json()
    assert [g["kind"] for g in critical["groups"]] == ["exceedance"]
    by_region = client.get("/api/alarm-groups", params={"region": "4206"}).json()
    assert {g["mn"] for g in by_region["groups"]} >= {flood.mn}
    assert all(g["region_code"].startswith("4206") for g in by_region["groups"])


def test_bulk_acknowledge_needs_a_note_and_stays_in_the_jurisdiction(
    client: Client, dsn: str, world: dict[str, str], flood: Flood
) -> None:
    ids = flood.ids[:9]
    login(client, f"yichang{world['tag']}")  # an inspector may only read
    assert client.post("/api/alarms/ack", json={"ids": ids, "note": "看过"}).status_code == 403
    login(client, f"admin{world['tag']}")
    empty = client.post("/api/alarms/ack", json={"ids": ids, "note": "  "})
    assert empty.status_code == 422
    login(client, f"wuhan{world['tag']}")  # Wuhan's operator: neither alarm is its
    out = client.post("/api/alarms/ack", json={"ids": [*ids, flood.other], "note": "x"})
    assert out.json() == {"acknowledged": [], "skipped": sorted([*ids, flood.other])}
    login(client, f"admin{world['tag']}")
    done = client.post("/api/alarms/ack", json={"ids": ids, "note": "首小时不完整，已知"})
    assert done.json() == {"acknowledged": sorted(ids), "skipped": []}
    again = client.post("/api/alarms/ack", json={"ids": ids, "note": "again"})
    assert again.json()["acknowledged"] == []  # acknowledged already: skipped
    with psycopg.connect(dsn) as conn:
        steps = conn.execute(
            "SELECT count(*) FROM hj212.alarm_action WHERE alarm_id = ANY(%s)"
            " AND action = 'acknowledged' AND note = '首小时不完整，已知'",
            (ids,),
        ).fetchone()
        audited = conn.execute(
            "SELECT count(*) FROM hj212.audit_log WHERE object = ANY(%s)",
            ([f"alarm:{i}" for i in ids],),
        ).fetchone()
    assert steps == (9,)
    assert audited is not None
    assert audited[0] >= 9
    acked = client.get("/api/alarm-groups", params={"mn": flood.mn, "state": "acknowledged"}).json()
    assert [(g["kind"], g["count"]) for g in acked["groups"]] == [("hour-incomplete", 9)]


def test_the_board_names_cities_lists_offline_stations_and_deadlines(
    client: Client, world: dict[str, str], flood: Flood
) -> None:
    login(client, f"admin{world['tag']}")
    board = client.get("/api/board").json()
    cities = {c["code"]: c for c in board["tree"]}
    assert cities["420100"]["name"] == "湖北省武汉市"
    assert cities["420600"]["name"] == "湖北省襄阳市"
    counties = {c["code"]: c["name"] for c in cities["420600"]["children"]}
    assert counties["420602"] == "湖北省襄阳市襄城区"
    offline = {s["mn"]: s for s in board["offline"]}
    assert flood.mn in offline
    assert offline[flood.mn]["last_frame"] is None
    cases = {c["mn"]: c for c in board["cases"]}
    assert cases[world["wuhan"]]["next_due"] is not None
    assert board["alarms"]["open:critical"] >= 1
    assert board["threshold"] == pytest.approx(0.95)
    month = board["etr_month"]
    assert month["passes"] is (month["etr"] is None or month["etr"] > 0.95)  # 大于 95 %
    login(client, f"wuhan{world['tag']}")
    mine = client.get("/api/board").json()
    assert {c["code"] for c in mine["tree"]} == {"420100"}
    assert client.get("/api/board", params={"region": "4205"}).status_code == 404


def test_names_give_chinese_kinds_states_and_factor_units(
    client: Client, world: dict[str, str]
) -> None:
    login(client, f"admin{world['tag']}")
    found = client.get("/api/names").json()
    assert found["kinds"]["exceedance"] == ["超标", "exceedance"]
    assert found["states"]["open"][0] == "未处理"
    assert found["severities"]["critical"][0] == "严重"
    assert found["factors"]["a21026"] == {"zh": "二氧化硫", "en": "sulfur dioxide", "unit": "mg/m³"}
    assert found["regions"]["420500"]["full"] == "湖北省宜昌市"
