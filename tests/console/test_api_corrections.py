"""``/api/corrections`` on a real server and database: who may propose and review what
(roles and jurisdiction), every error of a bad proposal at once with nothing stored,
return with a note and propose again, one approved value per hour, the OpenAPI
document, the audit entries."""

from __future__ import annotations

import base64
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


def _as(client: Client, name: str) -> Client:
    client.cookies.clear()
    answer = client.post("/api/login", json={"name": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return client


def _count(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM hj212.correction").fetchone()
    assert row is not None
    return int(row[0])


def test_roles_jurisdiction_errors_and_review(
    client: Client, world: dict[str, str], dsn: str
) -> None:
    tag, mn = world["tag"], world["yichang"]
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=5)
    body = {"mn": mn, "pollutant": "a21026", "data_time": hour.isoformat(),
            "kind": "correction", "new_value": 18.5, "reason": "零点漂移, 校准记录"}  # fmt: skip
    _as(client, f"yichang{tag}")  # an inspector: reads only
    assert client.post("/api/corrections", json=body).status_code == 403
    _as(client, f"firm{tag}")
    other = {**body, "mn": world["wuhan"]}
    assert client.post("/api/corrections", json=other).status_code == 404
    before = _count(dsn)
    bad = {**body, "data_time": (hour + timedelta(minutes=30)).isoformat(), "pollutant": "a21002",
           "attachments": [{"name": "x.pdf", "content_type": "application/pdf",
                            "content_base64": base64.b64encode(b"not a pdf").decode()}]}  # fmt: skip
    refused = client.post("/api/corrections", json=bad)
    assert refused.status_code == 422
    errors = refused.json()["detail"]
    assert [e.split(":")[0] for e in errors] == ["attachment 1 (x.pdf)", "pollutant", "data_time"]
    assert _count(dsn) == before
    made = client.post("/api/corrections", json=body)
    assert made.status_code == 200, made.text
    ident = made.json()["id"]
    assert made.json()["original"] == 31.0
    again = client.post("/api/corrections", json=body)
    assert again.status_code == 422
    assert "pending or in force" in again.text
    review = f"/api/corrections/{ident}/review"
    assert client.post(review, json={"outcome": "approved"}).status_code == 403
    _as(client, f"wuhan{tag}")  # an operator of another city
    assert client.post(review, json={"outcome": "approved"}).status_code == 404
    assert client.get(f"/api/corrections/{ident}").status_code == 404
    assert all(c["id"] != ident for c in client.get("/api/corrections").json()["corrections"])
    _as(client, f"admin{tag}")
    no_note = client.post(review, json={"outcome": "returned"})
    assert no_note.status_code == 409
    returned = client.post(review, json={"outcome": "returned", "note": "请附校准记录"})
    assert returned.json()["state"] == "returned"
    assert client.post(review, json={"outcome": "approved"}).status_code == 409  # done

    _as(client, f"firm{tag}")  # proposes again, with the voucher asked for
    pdf = base64.b64encode(b"%PDF-1.4\n% calibration\n%%EOF\n").decode()
    second = client.post("/api/corrections", json={**body, "attachments": [
        {"name": "校准记录.pdf", "content_type": "application/pdf", "content_base64": pdf}]})  # fmt: skip
    assert second.status_code == 200, second.text
    second_id = second.json()["id"]
    (voucher,) = second.json()["attachments"]
    _as(client, f"admin{tag}")
    approved = client.post(f"/api/corrections/{second_id}/review", json={"outcome": "approved"})
    assert approved.json()["state"] == "approved"
    got = client.get(f"/api/corrections/{second_id}/attachments/{voucher['id']}")
    assert got.content == base64.b64decode(pdf)
    listed = client.get(f"/api/corrections?mn={mn}").json()
    assert {c["id"]: c["state"] for c in listed["corrections"]}[second_id] == "approved"
    assert "hj75-mean-adjacent" in listed["rules"]
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/corrections", "/api/corrections/{ident}/review"} <= set(paths)
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT action, actor FROM hj212.audit_log WHERE object = ANY(%s) ORDER BY id",
            ([f"correction:{ident}", f"correction:{second_id}"],),
        ).fetchall()
    assert rows == [
        ("correction", f"firm{tag}"),
        ("review", f"admin{tag}"),
        ("correction", f"firm{tag}"),
        ("review", f"admin{tag}"),
    ]
