"""The upstreams page in a real headless Chromium (issue 19): an administrator sees an
upstream that is behind, in Chinese and in English; a city operator has no such page."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from playwright.sync_api import Page, expect

from tests.console.support import screenshots, sign_in

pytestmark = pytest.mark.db


@pytest.fixture
def behind(dsn: str, world: dict[str, str]) -> Iterator[str]:
    name = f"prov-{uuid.uuid4().hex[:6]}"
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO hj212.upstream (name, host, port, version, cns, behind_since,"
            " last_error, last_error_at, failures) VALUES (%s, '10.0.0.9', 9212, '2025',"
            " '{2011}', now(), 'unreachable: [Errno 111] Connection refused', now(), 4)",
            (name,),
        )
        conn.execute(
            "INSERT INTO hj212.upstream_queue (upstream, frame_id, mn, received_at)"
            " VALUES (%s, -7, %s, %s)",
            (name, world["wuhan"], datetime.now(UTC) - timedelta(hours=3)),
        )
    yield name
    with psycopg.connect(dsn) as conn:
        conn.execute("DELETE FROM hj212.upstream WHERE name = %s", (name,))


def test_an_administrator_sees_an_upstream_behind(
    page: Page, world: dict[str, str], behind: str
) -> None:
    sign_in(page, f"admin{world['tag']}")
    page.click("a[href='#/upstreams']")
    row = page.locator(f"tr[data-upstream='{behind}']")
    expect(row).to_contain_text("10.0.0.9:9212")
    expect(row.locator("td.backlog")).to_have_text("1")
    expect(row).to_contain_text("滞后报警")
    expect(row).to_contain_text("Connection refused")
    expect(row).to_contain_text("3.0 h")
    page.screenshot(path=str(screenshots() / "upstreams.png"), full_page=True)
    page.click("#lang")
    expect(page.locator(f"tr[data-upstream='{behind}']")).to_contain_text("Behind")
    expect(page.locator("main h2")).to_have_text("Upstreams")


def test_a_city_operator_has_no_upstreams_page(page: Page, world: dict[str, str]) -> None:
    sign_in(page, f"wuhan{world['tag']}")
    expect(page.locator("#nav-upstreams")).to_be_hidden()
