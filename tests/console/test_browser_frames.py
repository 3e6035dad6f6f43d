"""The deviations and device-events pages in Debian's Chromium (issue 20)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Page, expect

from tests.console.support import PASSWORD, screenshots
from tests.console.test_frames_api import _send

pytestmark = pytest.mark.db


def test_an_operator_finds_the_stations_that_bend_the_standard(
    page: Page, world: dict[str, str], dsn: str
) -> None:
    wuhan, yichang = world["wuhan"], world["yichang"]
    with ThreadPoolExecutor(1) as pool:  # Playwright's loop runs in this thread
        for mn in (wuhan, yichang):
            pool.submit(_send, dsn, mn).result()
    page.fill("#login-name", f"wuhan{world['tag']}")
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#who")).to_contain_text("wuhan")
    page.click("a[href='#/deviations']")
    expect(page.locator("main h2")).to_have_text("报文偏差")
    row = page.locator(f"tr[data-mn='{wuhan}']").filter(has_text="bad-flag:a21026-Flag")
    expect(row).to_contain_text("武汉热电")
    expect(page.locator(f"tr[data-mn='{yichang}']")).to_have_count(0)  # another city
    expect(page.locator("main th").nth(4)).to_contain_text("北京时间")
    page.click("a[href='#/deviations/bad-flag']")
    expect(page.locator("main h2")).to_have_text("报文偏差: bad-flag")
    page.screenshot(path=str(screenshots() / "20-deviations.png"), full_page=True)
    row = page.locator(f"tr[data-mn='{wuhan}']").first
    row.locator("a").click()
    expect(page.locator("main h2")).to_contain_text(wuhan)
    expect(page.locator("tr[data-kind='restart']")).to_contain_text("2081")
    page.click("#lang")
    expect(page.locator("main h2")).to_contain_text("Device events of")
