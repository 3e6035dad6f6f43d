"""The 季度直报 page in a real headless Chromium (issue 18; docs/quarterly.md §6): the
enterprise pre-fills its 2026Q3 submission, corrects a line with a reason and submits;
its city sees it and returns it; another city does not see it; the page switches to
English. The console runs on a clock of its own (5 October 2026), on a database with
a few days of stored hourly data."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from console.app import create_app
from console.auth import hash_password
from protocol import BEIJING
from rules.model import Reading, Record
from storage import console_store
from tests.console.conftest import SHARED, serving
from tests.console.support import PASSWORD, shot, sign_in
from tests.rules.support import water_station
from tests.rules_db import fresh_database, register, store

pytestmark = pytest.mark.db

NOW = datetime(2026, 10, 5, 10, tzinfo=BEIJING)
START = datetime(2026, 7, 1, tzinfo=BEIJING)
H = timedelta(hours=1)


@pytest.fixture(scope="module")
def quarterly_dsn(server_dsn: str) -> Iterator[str]:
    with fresh_database(server_dsn) as dsn:
        register(dsn, [water_station("WQ1", name="B 总排口", enterprise="乙化工", region_code="420202")],
                 START - timedelta(days=3))  # fmt: skip
        values = {"w01018": 30.0, "w21003": 2.0, "w00000": 10.0}
        readings = {c: Reading(avg=v, min=v, max=v, flag="N") for c, v in values.items()}
        records = [
            Record("WQ1", "2061", START + h * H + H, START + h * H, readings) for h in range(72)
        ]
        with ThreadPoolExecutor(1) as pool:  # outside the browser's own event loop
            assert set(pool.submit(store, dsn, records).result()) == {"ok"}
        secret = hash_password(PASSWORD)
        with psycopg.connect(dsn) as conn:
            for name, role, prefix, firm in (("ent_b", "enterprise", "", "乙化工"),
                                             ("city_hs", "operator", "4202", ""),
                                             ("city_wh", "operator", "4201", ""),
                                             ("admin", "administrator", "", "")):  # fmt: skip
                console_store.add_user(conn, name, secret, role, prefix, firm, by="test")
        yield dsn


@pytest.fixture(scope="module")
def console_url(quarterly_dsn: str) -> Iterator[str]:
    with serving(create_app(quarterly_dsn, SHARED, clock=lambda: NOW)) as url:
        yield url


def _as(browser: Browser, url: str, name: str) -> Page:
    page = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN").new_page()
    page.set_default_timeout(20000)
    page.goto(url + "/")
    sign_in(page, name)
    page.click("a[href='#/quarterly']")
    return page


def test_fill_submit_and_return_a_quarter(page: Page, browser: Browser, console_url: str) -> None:
    sign_in(page, "ent_b")
    page.click("a[href='#/quarterly']")
    row = page.locator("tr[data-enterprise='乙化工']")
    expect(row).to_contain_text("未填报")
    expect(row).to_contain_text("2026-10-08")  # 7 October is National Day: moved
    page.click("#q-prefill")
    line = page.locator("tr[data-line='WQ1/2026-07/w01018']")
    expect(line).to_contain_text("化学需氧量")
    line.locator("input.q-amount").fill("1.5")
    page.click("#q-save")
    expect(page.locator("#q-message")).to_contain_text("a corrected line needs a reason")
    line = page.locator("tr[data-line='WQ1/2026-07/w01018']")
    line.locator("input.q-amount").fill("1.5")
    line.locator("input.q-reason").fill("流量计校准后重算")
    page.click("#q-save")
    expect(page.locator("tr[data-line='WQ1/2026-07/w01018'].corrected")).to_be_visible()
    page.click("#q-submit")
    page.click("#confirm-ok")
    expect(page.locator("tr[data-enterprise='乙化工'] td.q-state")).to_have_text(
        "已提交，待市级审核"
    )
    shot(page, "quarterly-enterprise")

    other = _as(browser, console_url, "city_wh")
    expect(other.locator("main h2")).to_contain_text("季度直报")
    expect(other.locator("tr[data-enterprise='乙化工']")).to_have_count(0)

    city = _as(browser, console_url, "city_hs")
    city.click("tr[data-enterprise='乙化工'] button.q-open")
    expect(city.locator("#q-title")).to_contain_text("已提交，待市级审核")
    expect(city.locator("td", has_text="一致")).to_have_count(1)  # the version's hash verifies
    city.click("button.q-review[data-outcome='returned']")
    city.fill("#confirm-note", "请说明流量计校准记录")
    city.click("#confirm-ok")
    expect(city.locator("tr[data-enterprise='乙化工'] td.q-state")).to_have_text("市级退回")
    shot(city, "quarterly-city")
    city.click("#lang")
    expect(city.locator("main h2")).to_contain_text("Quarterly report")
    expect(city.locator("tr[data-enterprise='乙化工'] td.q-state")).to_have_text(
        "returned by the city"
    )


def test_the_register_refuses_a_wrong_code_and_a_rename_keeps_the_submission(page: Page) -> None:
    """Runs after the test above: 乙化工's returned submission follows it to its new name."""
    sign_in(page, "admin")
    page.click("a[href='#/quarterly']")
    page.fill("#e-name", "丁材料")
    page.fill("#e-code", "91350100M000100Y44")
    page.click("#e-add")
    expect(page.locator("#e-message")).to_contain_text("GB 32100-2015 gives '3'")
    page.fill("#e-code", "91350100M000100Y43")
    page.click("#e-add")
    expect(page.locator("#enterprise-register td.e-name", has_text="丁材料")).to_have_count(1)
    row = page.locator("#enterprise-register tr", has_text="乙化工")
    row.locator("input.e-new-name").fill("乙化工集团")
    row.locator("input.e-reason").fill("工商变更登记")
    row.locator("button.e-rename").click()
    expect(page.locator("tr[data-enterprise='乙化工集团'] td.q-state")).to_have_text("市级退回")
    shot(page, "quarterly-register")
