"""The corrections page (数据修正, console/static/corrections.js) in a real headless
Chromium: the enterprise proposes a corrected value of one of its hours with a voucher
and sees a proposal outside the window, and a substitution of an hour that has its
value, refused with the reason; a regulator of another
region cannot review it (404); the administrator approves it, and the page shows it
approved; the English switch. Screenshots go to ``tests.console.support.screenshots()``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from playwright.sync_api import FilePayload, Page, expect

from protocol import BEIJING
from tests.console.support import shot, sign_in

pytestmark = pytest.mark.db
PDF = b"%PDF-1.4\n% maintenance record\n%%EOF\n"


def local(moment: datetime) -> str:
    """A datetime-local value: Beijing time, to the minute."""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M")


def test_the_enterprise_proposes_and_the_regulator_approves(
    page: Page, world: dict[str, str], dsn: str
) -> None:
    tag, mn = world["tag"], world["yichang"]
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    sign_in(page, f"firm{tag}")
    page.click("a[href='#/corrections']")
    form = page.locator("#correction-form")
    expect(form).to_contain_text("申请修正或修约")
    form.locator("#c-mn").select_option(mn)
    form.locator("#c-pollutant").fill("a21026")
    form.locator("#c-at").fill(local(hour - timedelta(days=15)))  # outside the window
    form.locator("#c-value").fill("20")
    form.locator("#c-reason").fill("量程设置错误")
    form.locator("#c-submit").click()
    expect(form.locator("#c-msg")).to_contain_text("outside the correction window")
    form.locator("#c-at").fill(local(hour))
    form.locator("#c-kind").select_option("substitution")  # of an hour that has its value
    expect(form.locator("#c-rule-field")).to_be_visible()
    expect(form.locator("#c-value")).to_be_hidden()
    form.locator("#c-submit").click()
    expect(form.locator("#c-msg")).to_contain_text("has a valid value")
    form.locator("#c-kind").select_option("correction")
    expect(form.locator("#c-rule-field")).to_be_hidden()
    voucher: FilePayload = {"name": "运维记录.pdf", "mimeType": "application/pdf", "buffer": PDF}
    form.locator("#c-files").set_input_files([voucher])
    shot(page, "corrections-01-enterprise-form")
    form.locator("#c-submit").click()
    expect(form.locator("#c-msg")).to_have_text("已提交")
    row = page.locator("#correction-list tr[data-correction]").filter(has_text="量程设置错误")
    expect(row).to_have_attribute("data-state", "pending")
    expect(row).to_contain_text("待审核")
    expect(row.locator("button.approve")).to_have_count(0)  # the enterprise does not review
    shot(page, "corrections-02-enterprise-proposed")
    with psycopg.connect(dsn) as conn:
        found = conn.execute(
            "SELECT c.id, c.original, c.new_value, a.name FROM hj212.correction c"
            " JOIN hj212.correction_attachment a ON a.correction_id = c.id WHERE c.mn = %s",
            (mn,),
        ).fetchone()
    assert found is not None
    ident, original, new_value, stored_name = found
    assert (original, new_value, stored_name) == (31.0, 20.0, "运维记录.pdf")
    page.click("#logout")

    sign_in(page, f"wuhan{tag}")  # an operator of Wuhan: Yichang is not his
    answer = page.request.post(
        f"{page.url.split('#')[0]}api/corrections/{ident}/review",
        data={"outcome": "approved", "note": ""},
    )
    assert answer.status == 404
    page.click("#logout")

    sign_in(page, f"admin{tag}")
    page.click("a[href='#/corrections']")
    row = page.locator(f"#correction-list tr[data-correction='{ident}']")
    shot(page, "corrections-03-regulator")
    row.locator("button.approve").click()
    page.click("#confirm-ok")
    expect(row).to_have_attribute("data-state", "approved")
    expect(row).to_contain_text("已通过")
    shot(page, "corrections-04-approved")
    page.click("#lang")
    expect(page.locator("#nav a[href='#/corrections']")).to_have_text("Corrections")
    expect(page.locator("main h2").first).to_have_text("Corrections")
    expect(row).to_contain_text("approved")
    page.click("#lang")
    with psycopg.connect(dsn) as conn:
        actions = conn.execute(
            "SELECT action, actor FROM hj212.audit_log WHERE object = %s ORDER BY id",
            (f"correction:{ident}",),
        ).fetchall()
    assert ("correction", f"firm{tag}") in actions
    assert ("review", f"admin{tag}") in actions
