"""A station that reconnects after an outage while reporting F: the case page says what
is still expected of whom (services/case_view.py, rules/outage.py; docs/console.md §6)."""

from __future__ import annotations

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


def outage_then(dsn: str, flow: float) -> int:
    """A water station whose outage case opened 3 h ago; since 1 h its backlog and live
    data come in, every factor flagged F, with this flow."""
    mn = f"F{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO hj212.station (mn, name, enterprise, medium, region_code)"
            " VALUES (%s, '停产水厂', 'EF', 'water', '420102')",
            (mn,),
        )
        opened = now - timedelta(hours=3)
        row = conn.execute(
            "INSERT INTO hj212.case (key, mn, kind, opened_at, report_due, restore_due)"
            " VALUES (%s, %s, 'outage', %s, %s, %s) RETURNING id",
            (f"{mn}:outage", mn, opened, opened + timedelta(hours=24),
             opened + timedelta(hours=48)),
        ).fetchone()  # fmt: skip
        assert row is not None
        case_id = row[0]
        with conn.cursor().copy(
            "COPY hj212.measurement (data_time, mn, cn, pollutant, rtd, flag, frame_id,"
            " received_at) FROM STDIN"
        ) as copy:
            for minute in range(60):
                at = now - timedelta(minutes=minute)
                for code, value in (("w01018", 8.0), ("w21003", 0.4), ("w00000", flow)):
                    copy.write_row((at, mn, "2011", code, value, "F", 0, at))
    return int(case_id)


def filings(client: Client, world: dict[str, str], case_id: int) -> dict[str, object]:
    answer = client.post("/api/login", json={"name": f"admin{world['tag']}", "password": PASSWORD})
    assert answer.status_code == 200
    found = client.get(f"/api/cases/{case_id}/filings")
    assert found.status_code == 200, found.text
    return dict(found.json())


def test_a_stopped_plant_owes_a_report_and_a_stop_notice_not_samples(
    client: Client, dsn: str, world: dict[str, str]
) -> None:
    found = filings(client, world, outage_then(dsn, flow=0.0))
    assert found["phase"] == "stopped"
    due = {d["what"]: d["state"] for d in found["due"]}  # type: ignore[attr-defined]
    assert due == {"report": "due", "stop-notice": "due", "restoration": "done"}
    assert {(e["who"], e["what"]) for e in found["expected"]} == {  # type: ignore[attr-defined]
        ("enterprise", "report"), ("enterprise", "stop-notice"), ("regulator", "review-stop")
    }  # fmt: skip


def test_f_with_flow_is_invalid_data_and_every_deadline_runs_on(
    client: Client, dsn: str, world: dict[str, str]
) -> None:
    found = filings(client, world, outage_then(dsn, flow=0.3))
    assert found["phase"] == "flag-without-stop"
    due = {d["what"]: d["state"] for d in found["due"]}  # type: ignore[attr-defined]
    assert due == {"report": "due", "restoration": "due", "manual-sample": "due"}
