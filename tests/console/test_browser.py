"""The console in a real headless Chromium (Debian's, driven by Playwright): sign in,
see the overview, open a station and its chart, acknowledge an alarm, switch language.
Screenshots go to ``tests.console.support.screenshots()`` (a temporary directory, never
the checkout) for a human to look at."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.console.support import shot, sign_in

pytestmark = pytest.mark.db


def test_operator_opens_a_station_and_sees_its_chart(page: Page, world: dict[str, str]) -> None:
    shot(page, "01-login")
    sign_in(page, f"wuhan{world['tag']}")
    # other test modules add Wuhan stations of their own to this database
    expect(page.locator("#count-online")).not_to_have_text("0")
    # the duty board names the city (config/regions.py), shows only the operator's own
    expect(page.locator("tr[data-region='420100']")).to_contain_text("湖北省武汉市")
    expect(page.locator("main")).not_to_contain_text("宜昌")
    shot(page, "02-overview")
    page.click("a[href='#/stations']")
    row = page.locator(f"tr[data-mn='{world['wuhan']}']")
    expect(row).to_contain_text("在线")
    expect(page.locator(f"tr[data-mn='{world['yichang']}']")).to_have_count(0)
    shot(page, "03-stations")
    row.locator("a").first.click()
    chart = page.locator("svg.chart")
    expect(chart).to_have_attribute("data-points", "120")
    assert page.locator("svg.chart circle.pt").count() == 120
    assert page.locator("svg.chart circle.flagged").count() == 5
    expect(page.locator("svg.chart line.limit")).to_have_count(1)
    expect(page.locator("main")).to_contain_text("已逾期")  # the overdue case's countdown
    shot(page, "04-station")


def test_operator_acknowledges_an_alarm(page: Page, world: dict[str, str]) -> None:
    sign_in(page, f"wuhan{world['tag']}")
    page.click("a[href='#/alarms']")
    group = page.locator(f"tr[data-group='{world['wuhan']}|exceedance']")
    expect(group.locator("td.kind")).to_have_text("超标")
    group.locator("button.toggle").click()  # the group opens to its alarms
    row = page.locator("tr[data-alarm]").filter(has_text="未处理").first
    row.locator("button.ack").click()
    page.fill("#confirm-note", "值班员已通知企业")
    shot(page, "05-confirm")
    page.click("#confirm-ok")
    expect(page.locator("tr[data-alarm] td.state").filter(has_text="已确认")).not_to_have_count(0)
    shot(page, "06-acknowledged")


def test_english_switch_and_city_scope(page: Page, world: dict[str, str]) -> None:
    sign_in(page, f"yichang{world['tag']}")
    page.click("#lang")
    expect(page.locator("#nav a[href='#/stations']")).to_have_text("Stations")
    page.click("a[href='#/stations']")
    expect(page.locator(f"tr[data-mn='{world['yichang']}']")).to_have_count(1)
    expect(page.locator(f"tr[data-mn='{world['wuhan']}']")).to_have_count(0)
    page.goto(page.url.split("#")[0] + "#/station/" + world["wuhan"])
    expect(page.locator("main .error")).to_contain_text("no such station")
    shot(page, "07-english-scope")


def test_alarm_inbox_updates_without_reloading(page: Page, world: dict[str, str], dsn: str) -> None:
    sign_in(page, f"wuhan{world['tag']}")
    page.click("a[href='#/alarms']")
    expect(page.locator("tr[data-group]").first).to_be_visible()
    key = f"{world['wuhan']}:live:{uuid.uuid4().hex[:6]}"
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "INSERT INTO hj212.alarm (key, mn, pollutant, kind, severity, raised_at)"
            " VALUES (%s, %s, 'a21026', 'outage', 'warning', now()) RETURNING id",
            (key, world["wuhan"]),
        ).fetchone()
    assert row is not None
    # no reload: the page's own polling brings the new alarm in
    group = page.locator(f"tr[data-group='{world['wuhan']}|outage']")
    expect(group).to_contain_text("联网中断", timeout=30000)
    shot(page, "08-live-alarm")


def test_command_sent_after_confirmation_and_rates_page(page: Page, world: dict[str, str]) -> None:
    sign_in(page, f"wuhan{world['tag']}")
    page.goto(page.url.split("#")[0] + "#/station/" + world["wuhan"])
    page.fill("#cmd-cn", "1011")
    page.click("#cmd-send")
    expect(page.locator("#confirm-text")).to_contain_text("CN=1011")
    shot(page, "09-command-confirm")
    page.click("#confirm-ok")
    commands = page.locator("h3:has-text('反控命令') ~ table")
    expect(commands).to_contain_text("queued")
    page.click("a[href='#/rates']")
    expect(page.locator("svg.chart line.target")).to_have_count(1)  # the 95 % line
    assert page.locator("svg.chart rect.bar").count() >= 2  # days of the trend
    expect(page.locator("main table")).to_contain_text(world["wuhan"])
    shot(page, "10-rates")


def test_a_browser_in_utc_shows_beijing_times_labelled_as_such(
    browser: Browser, console_url: str, world: dict[str, str], dsn: str
) -> None:
    """An alarm raised at 20:37 UTC is shown at 04:37 the next day, Beijing time, and
    the columns say 北京时间 (English: Beijing time)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, timezone_id="UTC")
    page = context.new_page()
    page.set_default_timeout(20000)
    page.goto(console_url + "/")
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "UTC"
    raised = datetime(2026, 12, 6, 20, 37, 5, tzinfo=UTC)
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "INSERT INTO hj212.alarm (key, mn, pollutant, kind, severity, raised_at)"
            " VALUES (%s, %s, 'a21026', 'exceedance', 'critical', %s) RETURNING id",
            (f"{world['wuhan']}:utc:{uuid.uuid4().hex[:6]}", world["wuhan"], raised),
        ).fetchone()
    assert row is not None
    sign_in(page, f"wuhan{world['tag']}")
    page.goto(page.url.split("#")[0] + "#/station/" + world["wuhan"])  # its alarm history
    alarm = page.locator(f"tr[data-alarm='{row[0]}']")
    expect(alarm).to_contain_text("2026-12-07 04:37:05")
    expect(alarm).not_to_contain_text("20:37")
    expect(page.locator("#station-alarms thead")).to_contain_text("报警时间（北京时间）")
    expect(page.locator("#updated")).to_contain_text("北京时间")
    shot(page, "10-utc-browser-beijing-times")
    page.click("#lang")
    expect(page.locator("#station-alarms thead")).to_contain_text("Raised (Beijing time)")
    expect(alarm).to_contain_text("2026-12-07 04:37:05")
    expect(page.locator("svg.chart text.tz")).to_have_text("Beijing time")
    context.close()
