"""The HTTP API on the real database: sign-in, jurisdiction, alarms, audit."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from httpx import Client

from protocol import BEIJING
from storage import audit
from tests.console.support import PASSWORD

pytestmark = pytest.mark.db


@pytest.fixture
def client(console_url: str) -> Iterator[Client]:
    with Client(base_url=console_url) as c:
        yield c


def login(client: Client, name: str) -> None:
    answer = client.post("/api/login", json={"name": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text


def test_nothing_without_signing_in(client: Client, world: dict[str, str]) -> None:
    assert client.get("/api/stations").status_code == 401
    bad = client.post("/api/login", json={"name": f"admin{world['tag']}", "password": "nope"})
    assert bad.status_code == 401
    assert client.get("/api/stations").status_code == 401


def test_city_operator_sees_only_its_city(client: Client, world: dict[str, str]) -> None:
    login(client, f"wuhan{world['tag']}")
    mns = {s["mn"] for s in client.get("/api/stations").json()}
    assert world["wuhan"] in mns
    assert world["yichang"] not in mns
    for path in ("", "/latest", "/frames", "/marks", "/series?pollutant=a21026"):
        assert client.get(f"/api/stations/{world['yichang']}{path}").status_code == 404, path
    assert all(a["mn"] != world["yichang"] for a in client.get("/api/alarms").json())
    regions = client.get("/api/overview").json()["regions"]
    assert "4205" not in regions


def test_enterprise_sees_only_its_own_station(client: Client, world: dict[str, str]) -> None:
    login(client, f"firm{world['tag']}")
    assert {s["mn"] for s in client.get("/api/stations").json()} == {world["yichang"]}
    assert client.get(f"/api/stations/{world['wuhan']}").status_code == 404


def test_station_status_latest_and_series(client: Client, world: dict[str, str]) -> None:
    login(client, f"admin{world['tag']}")
    mn = world["wuhan"]
    station = client.get(f"/api/stations/{mn}").json()
    assert station["online"] is True
    assert station["open_alarms"] == 1
    assert station["overdue_cases"] == 1
    assert station["limits"][0]["emission_limit"] == 50
    latest = client.get(f"/api/stations/{mn}/latest").json()
    assert latest[0]["pollutant"] == "a21026"
    assert latest[0]["flag"] == "D"
    series = client.get(f"/api/stations/{mn}/series?pollutant=a21026&hours=3").json()
    assert len(series["points"]) == 120
    assert series["limit"] == 50
    assert sum(p["flag"] == "D" for p in series["points"]) == 5


def test_alarm_acknowledged_then_resolved_and_audited(
    client: Client, world: dict[str, str], dsn: str
) -> None:
    login(client, f"yichang{world['tag']}")  # an inspector may only read
    alarms = client.get("/api/alarms?state=active&mn=" + world["wuhan"]).json()
    assert alarms == []  # and does not see Wuhan at all
    client.post("/api/logout")
    client.cookies.clear()
    login(client, f"wuhan{world['tag']}")
    alarm = next(a for a in client.get("/api/alarms").json() if a["mn"] == world["wuhan"])
    acked = client.post(f"/api/alarms/{alarm['id']}/ack", json={"note": "on it"})
    assert acked.status_code == 200
    assert acked.json()["state"] == "acknowledged"
    again = client.post(f"/api/alarms/{alarm['id']}/ack", json={})
    assert again.status_code == 409
    assert client.post(f"/api/alarms/{alarm['id']}/resolve", json={}).json()["state"] == "resolved"
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT action, object FROM hj212.audit_log WHERE actor = %s",
            (f"wuhan{world['tag']}",),
        ).fetchall()
        chain = audit.verify(conn)
    assert chain.ok  # console entries join the hash-chained log like every other
    actions = {(a, o) for a, o in rows}
    assert ("read", "console:/api/alarms") in actions
    assert any(a == "acknowledged" and o.startswith("alarm") for a, o in actions)
    assert ("login", "console:session") in actions


def test_inspector_cannot_change_anything(client: Client, world: dict[str, str]) -> None:
    login(client, f"yichang{world['tag']}")
    case = client.get("/api/cases").json()
    # Yichang stations only (other modules open cases on Yichang stations of their own)
    assert all(c["mn"].startswith("Y") for c in case)
    answer = client.post(f"/api/stations/{world['yichang']}/commands", json={"cn": "1011"})
    assert answer.status_code == 403


def test_api_token_for_machine_clients(client: Client, world: dict[str, str], dsn: str) -> None:
    from storage import api_tokens

    token = "t_" + uuid.uuid4().hex
    with psycopg.connect(dsn) as conn:
        api_tokens.add(conn, f"yichang{world['tag']}", token)
    answer = client.get("/api/stations", headers={"Authorization": f"Bearer {token}"})
    mns = {s["mn"] for s in answer.json()}  # other modules add Yichang stations of their own
    assert world["yichang"] in mns
    assert world["wuhan"] not in mns
    wrong = client.get("/api/stations", headers={"Authorization": "Bearer t_wrong"})
    assert wrong.status_code == 401


def test_commands_are_queued_and_followed(client: Client, world: dict[str, str]) -> None:
    login(client, f"wuhan{world['tag']}")
    mn = world["wuhan"]
    sent = client.post(f"/api/stations/{mn}/commands", json={"cn": "1011"})
    assert sent.status_code == 200, sent.text
    state = client.get(f"/api/commands/{sent.json()['id']}").json()
    assert state["state"] == "queued"
    assert state["mn"] == mn
    listed = client.get(f"/api/stations/{mn}/commands").json()
    assert listed[0]["id"] == sent.json()["id"]


def test_rates_and_audit_for_administrators(client: Client, world: dict[str, str]) -> None:
    login(client, f"wuhan{world['tag']}")
    assert client.get("/api/audit").status_code == 403
    rates = client.get("/api/rates?days=1").json()
    rated = {s["mn"] for s in rates["stations"]}  # other modules add Wuhan stations too
    assert world["wuhan"] in rated
    assert world["yichang"] not in rated
    client.post("/api/logout")
    client.cookies.clear()
    login(client, f"admin{world['tag']}")
    audit = client.get(f"/api/audit?actor=wuhan{world['tag']}").json()
    assert any(a["object"] == "console:/api/rates" for a in audit)


def test_enterprise_proposes_a_mark_and_a_regulator_approves_it(
    client: Client, world: dict[str, str]
) -> None:
    firm, mn = f"firm{world['tag']}", world["yichang"]
    login(client, firm)
    # inside the correction window (docs/corrections.md §2): two days ago
    begin = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=2)
    period = {"start": begin.isoformat(), "end": (begin + timedelta(hours=6)).isoformat()}
    body = {**period, "kind": "maintenance", "reason": "更换探头"}
    late = {**body, "start": (begin - timedelta(days=9)).isoformat()}
    refused = client.post(f"/api/stations/{mn}/marks", json=late)
    assert refused.status_code == 422
    assert "outside the correction window" in refused.text
    assert client.post(f"/api/stations/{world['wuhan']}/marks", json=body).status_code == 404
    proposed = client.post(f"/api/stations/{mn}/marks", json=body)
    assert proposed.status_code == 200, proposed.text
    ident = proposed.json()["id"]
    approve = {"approve": True, "note": "核实"}
    assert client.post(f"/api/mark-requests/{ident}/review", json=approve).status_code == 403
    client.post("/api/logout")
    client.cookies.clear()
    login(client, f"wuhan{world['tag']}")  # a Wuhan operator cannot review Yichang's
    assert client.post(f"/api/mark-requests/{ident}/review", json=approve).status_code == 404
    client.cookies.clear()
    login(client, f"admin{world['tag']}")
    reviewed = client.post(f"/api/mark-requests/{ident}/review", json=approve)
    assert reviewed.status_code == 200, reviewed.text
    marks = client.get(f"/api/stations/{mn}/marks?days=366").json()
    assert [m["id"] for m in marks["marks"]] == [reviewed.json()["data_mark"]]
    assert marks["requests"][0]["state"] == "approved"


def test_sign_out_ends_the_session_on_the_server(client: Client, world: dict[str, str]) -> None:
    login(client, f"admin{world['tag']}")
    cookie = client.cookies["hj212_session"]
    assert client.get("/api/me").status_code == 200
    assert client.post("/api/logout").status_code == 200
    client.cookies.set("hj212_session", cookie)  # a copy kept from before
    assert client.get("/api/me").status_code == 401
    client.cookies.clear()
    login(client, f"admin{world['tag']}")  # a new sign-in works again
    assert client.get("/api/me").status_code == 200


def test_failed_sign_ins_are_throttled(client: Client, dsn: str) -> None:
    from console.auth import hash_password
    from storage import console_store

    name = f"guess{uuid.uuid4().hex[:6]}"
    with psycopg.connect(dsn) as conn:
        console_store.add_user(conn, name, hash_password(PASSWORD), "inspector")
    for _ in range(5):
        wrong = client.post("/api/login", json={"name": name, "password": "guess"})
        assert wrong.status_code == 401
    right = client.post("/api/login", json={"name": name, "password": PASSWORD})
    assert right.status_code == 429


def test_the_station_page_shows_the_converted_value_the_limit_applies_to(
    client: Client, world: dict[str, str], dsn: str
) -> None:
    """SO2 30 mg/m³ measured at 9 % O2 is 37.5 converted to 6 % (x 15/12): over the 35
    limit although the measured value is under it, as the exceedance rule judges."""
    mn = f"Z{world['tag']}"
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO hj212.station (mn, name, enterprise, medium, region_code, o2_ref)"
            " VALUES (%s, '折算锅炉', 'EZ', 'gas', '420102', 6)",
            (mn,),
        )
        conn.execute(
            "INSERT INTO hj212.station_pollutant (mn, pollutant, emission_limit, limit_period)"
            " VALUES (%s, 'a21026', 35, 'hour'), (%s, 'a19001', NULL, NULL)",
            (mn, mn),
        )
        for code, value in (("a21026", 30.0), ("a19001", 9.0)):
            conn.execute(
                "INSERT INTO hj212.measurement (data_time, mn, cn, pollutant, rtd, flag,"
                " frame_id, received_at) VALUES (%s, %s, '2011', %s, %s, 'N', 0, %s)",
                (at, mn, code, value, at),
            )
    login(client, f"admin{world['tag']}")
    latest = {x["pollutant"]: x for x in client.get(f"/api/stations/{mn}/latest").json()}
    so2 = latest["a21026"]
    assert so2["value"] == 30.0
    assert so2["basis"] == "converted"
    assert so2["judged"] == pytest.approx(37.5)
    assert so2["over"] is True
    assert latest["a19001"]["judged"] is None  # O2 has no limit: nothing is judged
    series = client.get(f"/api/stations/{mn}/series?pollutant=a21026&hours=1").json()
    assert [p["converted"] for p in series["points"]] == [pytest.approx(37.5)]
    # and in Beijing time (+08:00), as all the API's times
    assert so2["data_time"].endswith("+08:00")


def test_rates_over_a_window_count_only_the_hours_judged(
    client: Client, world: dict[str, str]
) -> None:
    login(client, f"admin{world['tag']}")
    now = datetime.now(UTC)
    start = (now - timedelta(days=2)).astimezone(BEIJING).replace(microsecond=0)
    end = start + timedelta(days=5)  # runs 3 days into the future
    rates = client.get("/api/rates", params={"start": start.isoformat(), "end": end.isoformat()})
    assert rates.status_code == 200, rates.text
    body = rates.json()
    counted_to = datetime.fromisoformat(body["counted_to"])
    assert counted_to <= now - timedelta(minutes=10)  # the hour is judged 10 min after it
    assert counted_to > now - timedelta(hours=1, minutes=11)
    wuhan = next(s for s in body["stations"] if s["mn"] == world["wuhan"])
    assert wuhan["expected"] <= 48 + 1  # hours registered and ended, none of the future
    # a time without an offset is Beijing time, as on the command line
    naive = client.get("/api/rates", params={"start": "2026-10-01T00:00:00", "days": 1})
    assert naive.json()["start"] == "2026-10-01T00:00:00+08:00"
    # a window that is empty, reversed or out of range counts nothing, and says so
    for bad in (
        {"end": "0001-01-02T00:00:00+00:00"},
        {"start": end.isoformat(), "end": start.isoformat()},
    ):
        answer = client.get("/api/rates", params=bad)
        assert answer.status_code == 200, answer.text
        assert all(s["expected"] == 0 for s in answer.json()["stations"]), bad
