"""The account forms in a real headless Chromium (Debian's): an administrator creates,
changes and deactivates a user; a user changes its own password and makes and revokes
an API token; the English switch; a city administrator's refusal shown on the form.
Screenshots go to ``tests.console.support.screenshots()``, never into the checkout."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from console.auth import hash_password
from storage import console_store
from tests.console.support import PASSWORD, sign_in
from tests.console.support import shot as support_shot

pytestmark = pytest.mark.db
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    """Browser contexts (separate cookie jars: separate sessions), closed at the end."""
    made: list[BrowserContext] = []
    yield made
    for context in made:
        context.close()


def open_page(contexts: list[BrowserContext], browser: Browser, url: str) -> Page:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    contexts.append(context)
    page = context.new_page()
    page.set_default_timeout(20000)
    page.goto(url + "/")
    return page


def shot(page: Page, name: str) -> None:
    support_shot(page, f"accounts-{name}")


def a_user(dsn: str, role: str = "inspector", region: str = "4201") -> str:
    name = f"b{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn) as conn:
        console_store.add_user(conn, name, hash_password(PASSWORD), role, region)
    return name


def test_administrator_creates_changes_and_deactivates_a_user(
    browser: Browser,
    contexts: list[BrowserContext],
    console_url: str,
    world: dict[str, str],
    dsn: str,
) -> None:
    name = f"new{uuid.uuid4().hex[:6]}"
    admin = open_page(contexts, browser, console_url)
    sign_in(admin, f"admin{world['tag']}")
    admin.click("#nav-users")
    expect(admin.locator("#user-form h3")).to_have_text("新建用户")
    admin.fill("#user-name", name)
    admin.fill("#user-password", PASSWORD)
    admin.select_option("#user-role", "inspector")
    admin.fill("#user-region", "4201")
    admin.fill("#user-full-name", "王五")
    admin.fill("#user-unit", "武汉市生态环境局")
    shot(admin, "01-new-user")
    admin.click("#user-submit")
    row = admin.locator(f"tr[data-user='{name}']")
    expect(row).to_contain_text("检查员")
    expect(row).to_contain_text("王五")
    # the user signs in elsewhere
    user = open_page(contexts, browser, console_url)
    sign_in(user, name)
    # change its role
    row.locator("button.edit").click()
    expect(admin.locator("#user-form h3")).to_contain_text(name)
    admin.select_option("#user-role", "operator")
    admin.fill("#user-phone", "027-12345678")
    admin.click("#user-submit")
    expect(row).to_contain_text("值班员")
    expect(row).to_contain_text("027-12345678")
    shot(admin, "02-changed")
    admin.click("#nav-audit")  # the change, with the client it came from
    change = admin.locator("main table tbody tr").filter(has_text="console_user").first
    expect(change.locator("td.client")).to_have_text("127.0.0.1")
    admin.click("#nav-users")
    with psycopg.connect(dsn) as conn:
        before = conn.execute(
            "SELECT detail -> 'before' FROM hj212.audit_log WHERE object = 'console_user'"
            " AND action = 'update' AND detail ->> 'name' = %s ORDER BY seq DESC LIMIT 1",
            (name,),
        ).fetchone()
    assert before == ({"role": "inspector", "phone": ""},)
    # deactivate: the dialog asks for a reason, then its open session ends at once
    row.locator("button.deactivate").click()
    expect(admin.locator("#confirm-text")).to_contain_text(name)
    admin.fill("#confirm-note", "调离岗位")
    shot(admin, "03-deactivate-confirm")
    admin.click("#confirm-ok")
    expect(row.locator("td.state")).to_have_text("已停用")
    user.click("a[href='#/stations']")
    expect(user.locator("#login-submit")).to_be_visible()
    shot(user, "04-deactivated-user-signed-out")


def test_a_user_changes_its_password_and_its_other_session_ends(
    browser: Browser, contexts: list[BrowserContext], console_url: str, dsn: str
) -> None:
    name = a_user(dsn)
    laptop = open_page(contexts, browser, console_url)
    phone = open_page(contexts, browser, console_url)
    sign_in(laptop, name)
    sign_in(phone, name)
    laptop.click("a[href='#/account']")
    laptop.fill("#pw-current", PASSWORD)
    laptop.fill("#pw-new", NEW_PASSWORD)
    laptop.fill("#pw-repeat", NEW_PASSWORD + "x")
    laptop.click("#pw-submit")
    expect(laptop.locator("#pw-msg")).to_have_text("两次输入的新密码不一致")
    laptop.fill("#pw-repeat", NEW_PASSWORD)
    laptop.fill("#pw-current", "not the password")
    laptop.click("#pw-submit")
    expect(laptop.locator("#pw-msg")).to_contain_text("current password is wrong")
    laptop.fill("#pw-current", PASSWORD)
    laptop.click("#pw-submit")
    expect(laptop.locator("#pw-msg")).to_have_text("密码已修改，您的其他会话已退出")
    shot(laptop, "05-password-changed")
    laptop.click("a[href='#/stations']")
    expect(laptop.locator("main h2")).to_contain_text("站点")  # this session goes on
    phone.click("a[href='#/stations']")
    expect(phone.locator("#login-submit")).to_be_visible()  # the other one is over
    sign_in(phone, name, NEW_PASSWORD)


def test_a_user_makes_and_revokes_an_api_token(
    browser: Browser, contexts: list[BrowserContext], console_url: str, dsn: str
) -> None:
    name = a_user(dsn)
    page = open_page(contexts, browser, console_url)
    sign_in(page, name)
    page.click("a[href='#/account']")
    page.fill("#token-label", "大屏")
    page.fill("#token-days", "30")
    page.click("#token-make")
    shown = page.locator("#token-new")
    expect(shown).to_contain_text("hj212_")
    token = shown.inner_text().strip()
    row = page.locator("#my-tokens tr[data-token]").filter(has_text="大屏")
    expect(row.locator("td.state")).to_have_text("有效")
    shot(page, "06-token-made")
    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(console_url + "/api/me", headers=bearer).status_code == 200
    row.locator("button.revoke").click()
    expect(page.locator("#confirm-text")).to_contain_text("大屏")
    page.click("#confirm-ok")
    expect(row.locator("td.state")).to_contain_text("已撤销")
    shot(page, "07-token-revoked")
    assert httpx.get(console_url + "/api/me", headers=bearer).status_code == 401


def test_city_administrator_sees_its_refusal_and_the_english_switch(
    browser: Browser, contexts: list[BrowserContext], console_url: str, dsn: str
) -> None:
    city = a_user(dsn, "administrator", "4201")
    outside = a_user(dsn, "operator", "4205")
    page = open_page(contexts, browser, console_url)
    sign_in(page, city)
    page.click("#nav-users")
    expect(page.locator(f"tr[data-user='{outside}']")).to_have_count(0)
    page.fill("#user-name", f"p{uuid.uuid4().hex[:6]}")
    page.fill("#user-password", PASSWORD)
    page.select_option("#user-role", "administrator")
    page.fill("#user-region", "42")
    page.click("#user-submit")
    expect(page.locator("#user-msg")).to_contain_text("not inside your jurisdiction")
    shot(page, "08-city-refused")
    page.click("#lang")
    expect(page.locator("#nav-users")).to_have_text("Users")
    expect(page.locator("#user-form h3")).to_have_text("New user")
    expect(page.locator("#who")).to_contain_text("Administrator 4201")
    page.click("a[href='#/account']")
    expect(page.locator("#pw-form h3")).to_have_text("Change password")
    shot(page, "09-english-account")


def test_an_enterprise_reads_who_looked_at_its_station(
    browser: Browser, contexts: list[BrowserContext], console_url: str, world: dict[str, str]
) -> None:
    inspector = open_page(contexts, browser, console_url)
    sign_in(inspector, f"yichang{world['tag']}")
    inspector.goto(console_url + "/#/station/" + world["yichang"])
    expect(inspector.locator("main h2")).to_contain_text(world["yichang"])
    expect(inspector.locator("#nav-audit")).to_be_hidden()  # an inspector has no audit page
    firm = open_page(contexts, browser, console_url)
    sign_in(firm, f"firm{world['tag']}")
    firm.click("#nav-audit")
    rows = firm.locator("main table tbody tr")
    expect(rows.filter(has_text=f"yichang{world['tag']}").first).to_contain_text(world["yichang"])
    expect(firm.locator("main table")).not_to_contain_text(world["wuhan"])
    shot(firm, "10-enterprise-audit")


def test_administrator_unblocks_a_user_locked_from_its_own_source(
    browser: Browser,
    contexts: list[BrowserContext],
    console_url: str,
    world: dict[str, str],
    dsn: str,
) -> None:
    name = a_user(dsn)
    with httpx.Client(base_url=console_url) as c:
        answers = [
            c.post("/api/login", json={"name": name, "password": "wrong guess"}) for _ in range(6)
        ]
    assert answers[-1].status_code == 429
    admin = open_page(contexts, browser, console_url)
    sign_in(admin, f"admin{world['tag']}")
    admin.click("#nav-users")
    admin.locator(f"tr[data-user='{name}'] button.unblock").click()
    admin.click("#confirm-ok")
    expect(admin.locator("#users-note")).to_contain_text(name)
    user = open_page(contexts, browser, console_url)
    sign_in(user, name)  # from the same source again
