"""The case routes on the real database (console/api_cases.py): the enterprise files
on its own stations only, every error of a form comes back at once and nothing is
stored, the regulator acknowledges or returns, attachments come back byte for byte."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from httpx import Client

from tests.console.support import PASSWORD

pytestmark = pytest.mark.db
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n"


@pytest.fixture
def client(console_url: str) -> Iterator[Client]:
    with Client(base_url=console_url) as c:
        yield c


def login(client: Client, name: str) -> None:
    answer = client.post("/api/login", json={"name": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text


def _attachment(content: bytes = PDF, kind: str = "application/pdf") -> dict[str, str]:
    encoded = base64.b64encode(content).decode()
    return {"name": "lab.pdf", "content_type": kind, "content_base64": encoded}


def _open_case(dsn: str, mn: str, tag: str) -> int:
    now = datetime.now(UTC)
    opened, started = now - timedelta(hours=5), now - timedelta(hours=6)
    due = (now + timedelta(hours=19), now + timedelta(hours=7))
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "INSERT INTO hj212.case (key, mn, kind, opened_at, started_at, report_due,"
            " restore_due) VALUES (%s, %s, 'facility', %s, %s, %s, %s) RETURNING id",
            (f"{mn}:api:{tag}", mn, opened, started, *due),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_the_enterprise_files_on_its_own_case_and_the_regulator_answers(
    client: Client, dsn: str, world: dict[str, str]
) -> None:
    tag = world["tag"]
    mine = _open_case(dsn, world["yichang"], tag)
    theirs = _open_case(dsn, world["wuhan"], tag)
    login(client, f"firm{tag}")
    listed = client.get("/api/cases/open").json()
    assert mine in [c["case"]["id"] for c in listed]
    assert theirs not in [c["case"]["id"] for c in listed]
    due = next(c["due"] for c in listed if c["case"]["id"] == mine)
    assert [d["what"] for d in due] == ["manual-sample", "restoration", "report"]
    assert [d["state"] for d in due] == ["due", "due", "due"]  # a sample in 1 h, first
    now = datetime.now(UTC)
    report = {
        "cause": "分析仪泵故障",
        "started_at": (now - timedelta(hours=6)).isoformat(),
        "expected_restore": (now + timedelta(hours=6)).isoformat(),
        "measures": "更换泵，人工采样",
        "attachments": [_attachment()],
    }
    assert client.post(f"/api/cases/{theirs}/reports", json=report).status_code == 404
    filed = client.post(f"/api/cases/{mine}/reports", json=report)
    assert filed.status_code == 200, filed.text
    report_id = filed.json()["id"]
    bad = {
        "pollutant": "a21026",
        "sampled_at": (now - timedelta(days=2)).isoformat(),
        "value": float("1e3"),
        "unit": "g/m3",
        "method": "HJ 57-2017",
        "laboratory": "武汉检测",
        "attachments": [_attachment(b"not a pdf")],
    }
    refused = client.post(f"/api/cases/{mine}/samples", json=bad)
    assert refused.status_code == 422
    errors = refused.json()["detail"]
    assert [e.split(":")[0] for e in errors] == ["sampled_at", "unit", "attachment 1 (lab.pdf)"]
    good = {**bad, "sampled_at": (now - timedelta(hours=1)).isoformat(), "unit": "mg/m3"}
    good["attachments"] = [_attachment()]
    entered = client.post(f"/api/cases/{mine}/samples", json=good)
    assert entered.status_code == 200, entered.text
    overview = client.get(f"/api/cases/{mine}/filings").json()
    assert [s["value"] for s in overview["samples"]] == [1000.0]
    (attached,) = overview["samples"][0]["attachments"]
    assert attached["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert client.get(f"/api/attachments/{attached['id']}").content == PDF
    review = client.post(f"/api/reports/{report_id}/review", json={"decision": "acknowledge"})
    assert review.status_code == 403  # the enterprise may not review
    login(client, f"admin{tag}")
    assert (
        client.post(f"/api/reports/{report_id}/review", json={"decision": "return"}).status_code
        == 409
    )  # a return needs a note
    returned = client.post(
        f"/api/reports/{report_id}/review", json={"decision": "return", "note": "原因不清"}
    )
    assert returned.status_code == 200, returned.text
    queue = client.get("/api/reviews").json()
    assert report_id in [r["id"] for r in queue["returned"]]
    assert entered.json()["id"] in [s["id"] for s in queue["samples"]]
    with psycopg.connect(dsn) as conn:
        actions = conn.execute(
            "SELECT action, actor FROM hj212.audit_log WHERE object = %s ORDER BY id",
            (f"case_report:{report_id}",),
        ).fetchall()
    assert actions == [("case-report", f"firm{tag}"), ("case-review", f"admin{tag}")]


def test_the_case_routes_are_in_the_openapi_description(client: Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/cases/open",
        "/api/cases/{case_id}/reports",
        "/api/cases/{case_id}/samples",
        "/api/stations/{mn}/notices",
        "/api/reports/{report_id}/review",
        "/api/samples/{sample_id}/review",
        "/api/reviews",
        "/api/attachments/{attachment_id}",
    ):
        assert path in paths, path
