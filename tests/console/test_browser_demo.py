"""The console on the demo's own data (cli/console_commands.py ``demo_setup`` with its
14 days of history) in Debian's Chromium, at 1440x900: the duty board names the cities
and lists offline stations and near deadlines; the alarm inbox has one row per station
and kind; SO2 is 二氧化硫 with its unit on the station page and in the evidence PDF; an
inspector's evidence bundle from the station page verifies; the reports page downloads
an xlsx; the station back after an outage reporting F says what is still expected of
whom; no page loads anything from outside the console. Every page is photographed
(``tests.console.support.screenshots()``); with ``HJ212_README_SCREENSHOTS=<dir>`` the
two the README shows are written there too (docs/screenshots/, reproducibly).
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, ViewportSize, expect

from cli.console_commands import EXTRA_PREFIX, demo_setup
from console.app import create_app
from console.auth import hash_password
from evidence.verify import verify_bundle
from storage import console_store
from tests.console.conftest import SHARED, serving
from tests.console.support import PASSWORD, screenshots, sign_in
from tests.rules_db import fresh_database

pytestmark = pytest.mark.db
FLEET = 6
SIZE: ViewportSize = {"width": 1440, "height": 900}


@pytest.fixture(scope="module")
def demo_dsn(server_dsn: str) -> Iterator[str]:
    """A database of its own with the demo's stations, history and users of each role."""
    with fresh_database(server_dsn) as dsn:
        demo_setup(dsn, FLEET, history_days=14)
        with psycopg.connect(dsn) as conn:
            for name, role, prefix in (
                ("duty", "administrator", ""),
                ("wuhan", "operator", "4201"),
                ("inspector", "inspector", ""),
            ):
                console_store.add_user(conn, name, hash_password(PASSWORD), role, prefix)
        yield dsn


@pytest.fixture(scope="module")
def demo_url(demo_dsn: str) -> Iterator[str]:
    with serving(create_app(demo_dsn, SHARED)) as url:
        yield url


@pytest.fixture
def outside() -> list[str]:
    return []


@pytest.fixture
def demo_page(browser: Browser, demo_url: str, outside: list[str]) -> Iterator[Page]:
    context = browser.new_context(viewport=SIZE, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20000)

    def seen(request: object) -> None:
        url = str(getattr(request, "url", ""))
        if not url.startswith((demo_url, "data:", "blob:", "about:")):
            outside.append(url)

    page.on("request", seen)
    page.goto(demo_url + "/")
    yield page
    context.close()
    assert outside == []  # the CDN check: every request went to the console itself


def photo(page: Page, name: str, readme: str | None = None) -> None:
    path = screenshots() / f"demo-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    target = os.environ.get("HJ212_README_SCREENSHOTS")
    if readme and target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / f"{readme}.png"))  # the first 1440x900


def go(page: Page, route: str) -> None:
    page.goto(page.url.split("#")[0] + "#" + route)


def _mn(dsn: str, name_part: str) -> str:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT mn FROM hj212.station WHERE name LIKE %s ORDER BY mn LIMIT 1",
            (f"%{name_part}%",),
        ).fetchone()
    assert row is not None
    return str(row[0])


def test_the_duty_board_names_cities_offline_stations_and_deadlines(demo_page: Page) -> None:
    sign_in(demo_page, "duty")
    for city in ("420100", "420500", "420600"):
        expect(demo_page.locator(f"tr[data-region='{city}']")).to_be_visible()
    expect(demo_page.locator("tr[data-region='420100']")).to_contain_text("湖北省武汉市")
    expect(demo_page.locator("tr[data-region='420500']")).to_contain_text("湖北省宜昌市")
    expect(demo_page.locator("tr[data-region='420600']")).to_contain_text("湖北省襄阳市")
    offline = demo_page.locator("#todo-offline tr[data-offline]")
    expect(offline.filter(has_text="锅炉烟气")).not_to_have_count(0)  # the silent CEMS
    cases = demo_page.locator("#todo-cases tr[data-case]")
    expect(cases.first).to_contain_text("联网中断")
    expect(cases.first.locator("td").nth(3)).to_contain_text("剩余")  # counting down
    rate = demo_page.locator("#etr-month b")
    expect(rate).not_to_have_text("0.0 %")
    expect(rate).not_to_have_text("—")
    photo(demo_page, "01-overview", readme="overview")
    demo_page.select_option("#board-region", "4205")
    expect(demo_page.locator("tr[data-region='420100']")).to_have_count(0)
    photo(demo_page, "02-overview-yichang")
    demo_page.click("#lang")  # the English switch: chrome and kinds in English
    expect(demo_page.locator("main h2")).to_contain_text("Duty board")
    expect(demo_page.locator("#todo-cases")).to_contain_text("outage")
    photo(demo_page, "02b-overview-english")


def test_the_inbox_has_one_row_per_station_and_kind_with_counts(
    demo_page: Page, demo_dsn: str
) -> None:
    sign_in(demo_page, "duty")
    go(demo_page, "/alarms")
    expect(demo_page.locator("#inbox-totals")).to_be_visible()
    groups = demo_page.locator("tr[data-group]")
    expect(groups.first).to_be_visible()
    keys = [groups.nth(i).get_attribute("data-group") for i in range(groups.count())]
    assert len(keys) == len(set(keys))  # at most one row per station and kind
    counts = [int(groups.nth(i).locator("td.count").inner_text()) for i in range(len(keys))]
    with psycopg.connect(demo_dsn) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT (mn, kind)) FROM hj212.alarm"
            " WHERE state IN ('open', 'acknowledged')"
        ).fetchone()
    assert row is not None
    total, distinct = row
    assert total > distinct  # the demo's alarms repeat: grouping matters
    if distinct <= 25:  # one page holds every group
        assert sum(counts) == total
        assert len(keys) == distinct
    expect(groups.filter(has_text="超标").first).to_contain_text("严重")
    photo(demo_page, "03-alarms", readme="alarms")
    groups.first.locator("button.toggle").click()
    expect(demo_page.locator("tr[data-alarm]").first).to_be_visible()
    photo(demo_page, "04-alarms-opened")
    demo_page.select_option("#f-kind", "exceedance")
    expect(demo_page.locator("tr[data-group]").first).to_contain_text("超标")
    photo(demo_page, "05-alarms-filtered")


def test_sulphur_dioxide_is_named_with_its_unit_and_the_evidence_verifies(
    demo_page: Page, demo_dsn: str, tmp_path: Path
) -> None:
    mn = _mn(demo_dsn, "锅炉烟气")
    sign_in(demo_page, "inspector")
    go(demo_page, "/station/" + mn)
    row = demo_page.locator("tr[data-factor='a21026']")
    expect(row).to_contain_text("二氧化硫 (mg/m³)")
    expect(demo_page.locator("#several-chart")).to_have_attribute("data-drawn", "1")
    photo(demo_page, "06-station")
    demo_page.fill("#evidence-hours", "48")
    with demo_page.expect_download(timeout=60000) as download:
        demo_page.click("#evidence-export")
    bundle = tmp_path / "bundle.zip"
    download.value.save_as(bundle)
    expect(demo_page.locator("#evidence-msg")).to_have_text("证据包已下载")
    assert verify_bundle(bundle) == []
    with zipfile.ZipFile(bundle) as z:
        pdf = z.read("report/report.pdf")
    assert "二氧化硫 (mg/m³)" in _pdf_text(pdf)


def _pdf_text(pdf: bytes) -> str:
    """The text shown by a reportlab PDF with its CID font (UniGB-UCS2-H): each content
    stream is ASCII85 then Flate encoded, each string a literal ``(...) Tj`` of UTF-16BE
    code units with PDF escapes (\\ddd octal, \\( \\) \\\\)."""
    out: list[str] = []
    for body in re.findall(rb"\bstream\r?\n(.*?)endstream", pdf, flags=re.DOTALL):
        body = body.strip()
        try:
            data = zlib.decompress(base64.a85decode(body.removesuffix(b"~>")))
        except (ValueError, zlib.error):
            continue
        for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\) Tj", data, flags=re.DOTALL):
            raw = re.sub(
                rb"\\([0-7]{1,3}|.)",
                lambda m: bytes([int(m[1], 8)]) if m[1][:1].isdigit() else m[1],
                literal,
                flags=re.DOTALL,
            )
            out.append(raw.decode("utf-16-be", "replace") if len(raw) % 2 == 0 else "")
    return "\n".join(out)


def test_the_reports_page_downloads_an_xlsx(demo_page: Page, tmp_path: Path) -> None:
    sign_in(demo_page, "duty")
    go(demo_page, "/reports")
    demo_page.click("#report-view")
    frame = demo_page.frame_locator("#report-frame")
    expect(frame.locator("h1")).to_contain_text("传输率", timeout=60000)
    photo(demo_page, "07-reports")
    with demo_page.expect_download(timeout=60000) as download:
        demo_page.click("#report-xlsx")
    path = tmp_path / "report.xlsx"
    download.value.save_as(path)
    book = load_workbook(path)
    assert "transmission" in book.sheetnames
    assert book["transmission"].max_row > 1


def test_a_station_back_reporting_f_says_what_is_expected_of_whom(
    demo_page: Page, demo_dsn: str
) -> None:
    with psycopg.connect(demo_dsn) as conn:
        rows = conn.execute(
            "SELECT mn FROM hj212.station WHERE mn LIKE %s AND medium = 'water'",
            (EXTRA_PREFIX + "%",),
        ).fetchall()
    (mn,) = [str(r[0]) for r in rows]
    sign_in(demo_page, "duty")
    go(demo_page, "/station/" + mn)
    case = demo_page.locator("tr[data-case]").first
    expect(case.locator("td.phase")).to_contain_text("企业报告停产")
    expected = case.locator("td.expected")
    expect(expected).to_contain_text("书面报告")
    expect(expected).to_contain_text("提交停产说明/停运标记申请（企业）")
    expect(expected).to_contain_text("审核停产说明（监管部门）")
    expect(expected).not_to_contain_text("人工采样")
    photo(demo_page, "08-station-stopped")
    case.locator("button.timeline").click()  # the case's timeline, and a note added to it
    events = demo_page.locator("tr[data-timeline] ol.timeline li")
    expect(events.first).to_contain_text("立案")
    demo_page.locator("tr[data-timeline] button.add-note").click()
    demo_page.fill("#confirm-note", "企业电话确认：停产检修")
    demo_page.click("#confirm-ok")
    expect(events.filter(has_text="企业电话确认：停产检修")).to_have_count(1)
    expect(events.last).to_contain_text("duty")
    photo(demo_page, "08b-case-timeline")


@pytest.mark.parametrize(
    "route", ["/stations", "/rates", "/cases", "/marks", "/deviations", "/audit", "/users",
              "/upstreams", "/account"],
)  # fmt: skip
def test_every_other_page_renders_and_is_photographed(demo_page: Page, route: str) -> None:
    sign_in(demo_page, "duty")
    expect(demo_page.locator("main")).to_contain_text("值班总览")  # signed in: the board
    go(demo_page, route)
    expect(demo_page.locator("#nav a.on")).to_have_attribute("href", "#" + route)
    expect(demo_page.locator("main")).not_to_contain_text("值班总览")  # the page replaced it
    expect(demo_page.locator("main > *").first).to_be_visible()
    expect(demo_page.locator("main .error")).to_have_count(0)
    photo(demo_page, "09" + route.replace("/", "-"))


def test_a_table_exports_to_xlsx(demo_page: Page, tmp_path: Path) -> None:
    sign_in(demo_page, "duty")
    go(demo_page, "/stations")
    expect(demo_page.locator("tr[data-mn]").first).to_be_visible()
    with demo_page.expect_download() as download:
        demo_page.locator("button.to-xlsx").first.click()
    path = tmp_path / "stations.xlsx"
    download.value.save_as(path)
    sheet = load_workbook(path).worksheets[0]
    header = [c.value for c in sheet[1]]
    assert "站点" in header
    assert sheet.max_row == FLEET + 2 + 1  # every station of the demo, and the header


def test_the_readme_screenshots_are_reproducible() -> None:
    """Only with HJ212_README_SCREENSHOTS: the README's two files were written."""
    target = os.environ.get("HJ212_README_SCREENSHOTS")
    if not target:
        pytest.skip("set HJ212_README_SCREENSHOTS=docs/screenshots to write them")
    for name in ("overview", "alarms"):
        assert (Path(target) / f"{name}.png").stat().st_size > 10_000
    shutil.copy(Path(target) / "overview.png", screenshots() / "readme-overview.png")
