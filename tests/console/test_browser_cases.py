"""The case desk in a real headless Chromium (console/static/cases.js): the enterprise
sees its open case with what is due and by when, files the written report with an
attachment, gets every error of a bad manual sample at once and then enters it,
announces a planned stop and proposes a mark with an attachment; the regulator returns
the report with a note and accepts the sample; the enterprise then sees the report as
returned; the English switch. Screenshots go to ``tests.console.support.screenshots()``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from playwright.sync_api import FilePayload, Page, expect

from protocol import BEIJING
from tests.console.support import shot, sign_in

pytestmark = pytest.mark.db
PDF = b"%PDF-1.4\n% lab report\n%%EOF\n"


@pytest.fixture
def case_id(dsn: str, world: dict[str, str]) -> int:
    """An open facility case of the enterprise's station, opened 5 h ago."""
    now = datetime.now(UTC)
    opened, started = now - timedelta(hours=5), now - timedelta(hours=6)
    due = (opened + timedelta(hours=24), opened + timedelta(hours=12))
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "INSERT INTO hj212.case (key, mn, kind, pollutant, opened_at, started_at,"
            " report_due, restore_due) VALUES (%s, %s, 'facility', 'a21026', %s, %s, %s, %s)"
            " RETURNING id",
            (f"{world['yichang']}:browser", world["yichang"], opened, started, *due),
        ).fetchone()
    assert row is not None
    return int(row[0])


def local(moment: datetime) -> str:
    """A datetime-local value: Beijing time, to the minute."""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M")


def _pdf(name: str) -> FilePayload:
    return {"name": name, "mimeType": "application/pdf", "buffer": PDF}


def test_the_enterprise_files_and_the_regulator_reviews(
    page: Page, world: dict[str, str], case_id: int, dsn: str
) -> None:
    tag, now = world["tag"], datetime.now(UTC)
    sign_in(page, f"firm{tag}")
    page.click("a[href='#/cases']")
    card = page.locator(f"div[data-case='{case_id}']")
    expect(card.locator("tr[data-due='report']")).to_contain_text("书面报告")
    expect(card.locator("tr[data-due='manual-sample']")).to_contain_text("剩余")
    shot(page, "cases-01-enterprise")
    page.click(f"#file-report-{case_id}")
    form = page.locator(f"#report-form-{case_id}")
    form.locator("#r-cause").fill("SO2 分析仪采样泵故障")
    form.locator("#r-started").fill(local(now - timedelta(hours=6)))
    form.locator("#r-restore").fill(local(now + timedelta(hours=6)))
    form.locator("#r-measures").fill("更换采样泵，每 5 小时人工采样")
    form.locator("#r-files").set_input_files([_pdf("维修单.pdf")])
    shot(page, "cases-02-report-form")
    form.locator("#r-submit").click()
    expect(form.locator("#r-msg")).to_have_text("已提交")
    page.click(f"#enter-sample-{case_id}")
    sample = page.locator(f"#sample-form-{case_id}")
    sample.locator("#s-pollutant").fill("a21026")
    sample.locator("#s-at").fill(local(now - timedelta(days=3)))  # before the case
    sample.locator("#s-value").fill("21.4")
    sample.locator("#s-unit").fill("g/m3")
    sample.locator("#s-method").fill("HJ 57-2017")
    sample.locator("#s-lab").fill("武汉市环境监测中心站")
    sample.locator("#s-files").set_input_files([_pdf("检测报告.pdf")])
    sample.locator("#s-submit").click()
    errors = sample.locator("#s-msg div")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("sampled_at")
    expect(errors.nth(1)).to_contain_text("unit")
    shot(page, "cases-03-sample-errors")
    sample.locator("#s-at").fill(local(now - timedelta(hours=1)))
    sample.locator("#s-unit").fill("mg/m3")
    sample.locator("#s-submit").click()
    expect(sample.locator("#s-msg")).to_have_text("已提交")
    notice = page.locator("#notice-form")
    notice.locator("#notice-form-mn").select_option(world["yichang"])
    notice.locator("#n-start").fill(local(now + timedelta(days=2)))
    notice.locator("#n-end").fill(local(now + timedelta(days=3)))
    notice.locator("#n-cause").fill("锅炉年度检修")
    notice.locator("#n-plan").fill("检修期间每 6 小时人工采样")
    notice.locator("#notice-form-submit").click()
    expect(notice.locator("#notice-form-msg")).to_have_text("已提交")
    mark = page.locator("#mark-form")
    mark.locator("#mark-form-mn").select_option(world["yichang"])
    mark.locator("#m-kind").select_option("maintenance")
    mark.locator("#m-start").fill(local(now - timedelta(hours=6)))
    mark.locator("#m-end").fill(local(now - timedelta(hours=5)))
    mark.locator("#m-reason").fill("更换采样泵")
    mark.locator("#mark-form-files").set_input_files([_pdf("维护记录.pdf")])
    mark.locator("#mark-form-submit").click()
    expect(mark.locator("#mark-form-msg")).to_have_text("已提交")
    shot(page, "cases-04-enterprise-filed")
    with psycopg.connect(dsn) as conn:
        (report_id,) = conn.execute(
            "SELECT id FROM hj212.case_report WHERE case_id = %s", (case_id,)
        ).fetchone() or (None,)
        names = conn.execute(
            "SELECT a.name FROM hj212.mark_attachment a JOIN hj212.mark_request r"
            " ON r.id = a.request_id WHERE r.mn = %s",
            (world["yichang"],),
        ).fetchall()
    assert ("维护记录.pdf",) in names
    page.click("#logout")

    sign_in(page, f"admin{tag}")
    page.click("a[href='#/cases']")
    waiting = page.locator(f"#review-desk tr[data-report='{report_id}']").first
    expect(waiting).to_contain_text("书面报告")
    shot(page, "cases-05-regulator")
    waiting.locator("button.return").click()
    page.fill("#confirm-note", "请补充故障原因与维修记录")
    page.click("#confirm-ok")
    desk = page.locator("#review-desk")
    expect(desk).to_contain_text("已退回未更正 (")
    returned = desk.locator(f"tr[data-report='{report_id}']")
    expect(returned).to_contain_text("请补充故障原因与维修记录")
    sample_row = desk.locator("tr[data-sample]").filter(has_text=world["yichang"]).first
    sample_row.locator("button.accept").click()
    page.click("#confirm-ok")
    expect(desk.locator("tr[data-sample]").filter(has_text=world["yichang"])).to_have_count(0)
    shot(page, "cases-06-regulator-reviewed")
    page.click("#lang")
    expect(page.locator("#nav a[href='#/cases']")).to_have_text("Cases")
    expect(page.locator("main h2").first).to_have_text("My open cases")
    page.click("#lang")
    page.click("#logout")

    sign_in(page, f"firm{tag}")
    page.click("a[href='#/cases']")
    card = page.locator(f"div[data-case='{case_id}']")
    expect(card.locator("tr[data-due='report']")).to_contain_text("已退回，待更正")
    expect(card.locator(".report-state")).to_contain_text("请补充故障原因与维修记录")
    shot(page, "cases-07-enterprise-returned")
    # the accepted sample: its own series in the station's chart and list
    page.goto(page.url.split("#")[0] + f"#/station/{world['yichang']}")
    expect(page.locator("svg.chart rect.manual")).to_have_count(1)
    expect(page.locator("#manual-samples")).to_contain_text("已采纳")
    shot(page, "cases-08-station-manual-series")
