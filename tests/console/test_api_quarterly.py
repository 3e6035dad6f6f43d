"""The quarterly report and the enterprise register over HTTP (docs/quarterly.md §6): the
whole chain through the API with a voucher, the province's view, the refusals (a
wrong credit code, a bad form, another's submission, a step out of turn) and the
audit entries; the console on a clock of its own (2026-10-05)."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import psycopg
import pytest
from httpx import Client

from console.app import create_app
from console.auth import hash_password
from protocol import BEIJING
from rules.model import Reading, Record
from storage import console_store
from tests.console.conftest import SHARED, serving
from tests.console.support import PASSWORD
from tests.rules.support import gas_station
from tests.rules_db import fresh_database, register, store

pytestmark = pytest.mark.db

NOW = datetime(2026, 10, 5, 10, tzinfo=BEIJING)
START = datetime(2026, 7, 1, tzinfo=BEIJING)
H = timedelta(hours=1)
PDF = b"%PDF-1.4\n% voucher\n%%EOF\n"


@pytest.fixture(scope="module")
def api_dsn(server_dsn: str) -> Iterator[str]:
    with fresh_database(server_dsn) as dsn:
        register(dsn, [gas_station("GQ1", name="甲 1号烟囱", enterprise="甲电厂", region_code="420102")],
                 START - timedelta(days=3))  # fmt: skip
        values = {"a21026": 20.0, "a21002": 30.0, "a34013": 4.0, "a00000": 100.0}
        readings = {c: Reading(avg=v, min=v, max=v, flag="N") for c, v in values.items()}
        records = [
            Record("GQ1", "2061", START + h * H + H, START + h * H, readings) for h in range(48)
        ]
        with ThreadPoolExecutor(1) as pool:
            assert set(pool.submit(store, dsn, records).result()) == {"ok"}
        secret = hash_password(PASSWORD)
        with psycopg.connect(dsn) as conn:
            for name, role, prefix, firm in (("firm", "enterprise", "", "甲电厂"),
                                             ("other", "enterprise", "", "丙公司"),
                                             ("wuhan", "operator", "4201", ""),
                                             ("hubei", "operator", "42", ""),
                                             ("admin", "administrator", "", "")):  # fmt: skip
                console_store.add_user(conn, name, secret, role, prefix, firm, by="test")
        yield dsn


@pytest.fixture(scope="module")
def url(api_dsn: str) -> Iterator[str]:
    with serving(create_app(api_dsn, SHARED, clock=lambda: NOW)) as found:
        yield found


def _as(url: str, name: str) -> Client:
    client = Client(base_url=url)
    answer = client.post("/api/login", json={"name": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return client


@pytest.fixture
def clients(url: str) -> Iterator[list[Client]]:
    with contextlib.ExitStack() as stack:
        names = ("firm", "wuhan", "hubei", "other", "admin")
        found = []
        for name in names:
            found.append(_as(url, name))
            stack.callback(found[-1].close)
        yield found


def test_the_chain_through_the_api(clients: list[Client], api_dsn: str) -> None:
    firm, wuhan, hubei, other, admin = clients
    paths = admin.get("/openapi.json").json()["paths"]
    assert {"/api/quarterly/{ident}/review", "/api/enterprises/{ident}/rename"} <= set(paths)

    wrong = admin.post("/api/enterprises", json={"name": "丁", "credit_code": "91350100M000100Y44"})
    assert wrong.status_code == 422
    assert "GB 32100-2015 gives '3'" in wrong.text
    made = admin.post("/api/enterprises", json={"name": "丁", "credit_code": "91350100M000100Y43"})
    assert made.status_code == 200, made.text
    assert firm.post("/api/enterprises", json={"name": "戊"}).status_code == 403

    mine = firm.get("/api/enterprises").json()
    assert [e["name"] for e in mine] == ["甲电厂"]
    status = firm.get("/api/quarterly").json()
    assert status["quarter"] == "2026Q3"
    assert status["enterprises"][0]["days"]["enterprise"] == "2026-10-08"
    sub = firm.post(
        "/api/quarterly/prefill", json={"enterprise_id": mine[0]["id"], "quarter": "2026Q3"}
    ).json()
    ident = sub["id"]
    assert other.get(f"/api/quarterly/{ident}").status_code == 404
    assert (
        other.post(
            "/api/quarterly/prefill", json={"enterprise_id": mine[0]["id"], "quarter": "2026Q3"}
        ).status_code
        == 403
    )

    change = {"mn": "GQ1", "month": "2026-07", "item": "a21026", "amount": 1.0}
    bad = firm.post(f"/api/quarterly/{ident}/correct", json={"changes": [change]})
    assert bad.status_code == 422
    assert "needs a reason" in bad.text
    voucher = {"name": "校准.pdf", "content_type": "application/pdf",
               "content_base64": base64.b64encode(PDF).decode()}  # fmt: skip
    good = {**change, "reason": "SO2 分析仪校准", "attachment": "upload:1"}
    fixed = firm.post(
        f"/api/quarterly/{ident}/correct", json={"changes": [good], "attachments": [voucher]}
    )
    assert fixed.status_code == 200, fixed.text
    line = next(
        x for x in fixed.json()["lines"] if x["item"] == "a21026" and x["month"] == "2026-07"
    )
    assert line["corrected"]
    assert firm.get(f"/api/quarterly/{ident}/attachments/{line['attachment']}").content == PDF

    assert (
        wuhan.post(f"/api/quarterly/{ident}/review", json={"outcome": "forwarded"}).status_code
        == 409
    )
    assert firm.post(f"/api/quarterly/{ident}/submit", json={}).json()["version"] == 1
    assert firm.post(f"/api/quarterly/{ident}/submit", json={}).status_code == 409
    assert hubei.get(f"/api/quarterly/{ident}").status_code == 404  # not forwarded yet
    assert (
        firm.post(f"/api/quarterly/{ident}/review", json={"outcome": "forwarded"}).status_code
        == 403
    )
    assert (
        wuhan.post(f"/api/quarterly/{ident}/review", json={"outcome": "approved"}).status_code
        == 422
    )
    assert (
        wuhan.post(
            f"/api/quarterly/{ident}/review", json={"outcome": "forwarded", "comment": "ok"}
        ).status_code
        == 200
    )
    shown = hubei.get(f"/api/quarterly/{ident}").json()
    assert shown["reviewable"] == ["approved", "returned"]
    assert (
        hubei.post(f"/api/quarterly/{ident}/review", json={"outcome": "approved"}).json()["state"]
        == "approved"
    )
    assert hubei.get(f"/api/quarterly/{ident}/verify").json() == [{"version": 1, "ok": True}]
    for fmt, head in (("csv", b"\xef\xbb\xbf"), ("pdf", b"%PDF"), ("xlsx", b"PK")):
        got = hubei.get(f"/api/quarterly/{ident}/export?format={fmt}")
        assert got.status_code == 200
        assert got.content.startswith(head)
    assert firm.get("/api/quarterly/overdue").status_code == 403
    assert hubei.get("/api/quarterly/overdue").json() == []
    with psycopg.connect(api_dsn) as conn:
        actions = {
            r[0]
            for r in conn.execute(
                "SELECT action FROM hj212.audit_log WHERE object LIKE 'quarterly:%%'"
            )
        }
    assert actions == {
        "quarterly-prefill",
        "quarterly-correct",
        "quarterly-submit",
        "quarterly-review",
    }
