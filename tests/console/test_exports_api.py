"""Downloads through the API: any table as xlsx, the reports in four formats, the
evidence bundle (inspectors and administrators only); bad input is a 422, never a 500."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from httpx import Client
from openpyxl import load_workbook

from tests.console.support import PASSWORD

pytestmark = pytest.mark.db


@pytest.fixture
def client(console_url: str) -> Iterator[Client]:
    with Client(base_url=console_url, timeout=60) as c:
        yield c


def login(client: Client, name: str) -> None:
    answer = client.post("/api/login", json={"name": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text


def test_a_table_as_shown_becomes_a_workbook(client: Client, world: dict[str, str]) -> None:
    login(client, f"wuhan{world['tag']}")
    body = {
        "title": "站点 [武汉]: 2026/12?",  # not a valid sheet name as it stands
        "columns": ["站点", "数值\x01"],
        "rows": [["武汉热电", 1.5], ["控制\x02字符", None]],
    }
    answer = client.post("/api/export.xlsx", json=body)
    assert answer.status_code == 200, answer.text
    assert "attachment" in answer.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(answer.content)).worksheets[0]
    assert [c.value for c in sheet[1]] == ["站点", "数值"]
    assert [c.value for c in sheet[2]] == ["武汉热电", 1.5]
    assert sheet[3][0].value == "控制字符"
    # a row spanning the table (one cell) is padded, one too long cut: never refused
    ragged = client.post("/api/export.xlsx", json={**body, "rows": [["only one"], [1, 2, 3]]})
    assert ragged.status_code == 200
    cut = load_workbook(io.BytesIO(ragged.content)).worksheets[0]
    assert [[c.value for c in row] for row in cut.iter_rows(min_row=2)] == [
        ["only one", None],
        [1, 2],
    ]


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "html", "pdf"])
def test_the_reports_in_every_format(client: Client, world: dict[str, str], fmt: str) -> None:
    login(client, f"admin{world['tag']}")
    month = datetime.now(UTC).strftime("%Y-%m")
    answer = client.get(
        "/api/reports/transmission", params={"period": month, "region": "4201", "format": fmt}
    )
    assert answer.status_code == 200, answer.text
    start = {"xlsx": b"PK", "csv": "\ufefflevel".encode(), "html": b"<!DOCTYPE", "pdf": b"%PDF"}
    assert answer.content.startswith(start[fmt])
    if fmt == "html":
        assert "湖北省武汉市" in answer.text  # region names, not codes, for a reader


def test_reports_refuse_bad_periods_other_regions_and_enterprises(
    client: Client, world: dict[str, str]
) -> None:
    login(client, f"wuhan{world['tag']}")
    for period in ("2026-13", "0000", "9999", "soon"):
        got = client.get("/api/reports/emissions", params={"period": period})
        assert got.status_code == 422, period
    assert (
        client.get(
            "/api/reports/emissions", params={"period": "2026", "region": "4205"}
        ).status_code
        == 404
    )
    login(client, f"firm{world['tag']}")
    assert client.get("/api/reports/emissions", params={"period": "2026"}).status_code == 403


def test_evidence_for_inspectors_only_and_within_a_sane_window(
    client: Client, world: dict[str, str]
) -> None:
    end = datetime.now(UTC)
    window = {"start": (end - timedelta(hours=3)).isoformat(), "end": end.isoformat()}
    path = f"/api/stations/{world['yichang']}/evidence"
    login(client, f"firm{world['tag']}")  # an enterprise: its own station, yet no export
    assert client.post(path, json=window).status_code == 403
    login(client, f"yichang{world['tag']}")  # the Yichang inspector
    for bad in (
        {"start": window["end"], "end": window["start"]},
        {"start": "0001-01-01T00:00:00Z", "end": window["end"]},
        {"start": (end - timedelta(days=40)).isoformat(), "end": window["end"]},
    ):
        assert client.post(path, json=bad).status_code == 422, bad
    answer = client.post(path, json=window)
    assert answer.status_code == 200, answer.text
    with zipfile.ZipFile(io.BytesIO(answer.content)) as z:
        assert "report/report.pdf" in z.namelist()
    other = f"/api/stations/{world['wuhan']}/evidence"  # outside the inspector's 4205
    assert client.post(other, json=window).status_code == 404
