"""Every 各種設定 screen at 1366×768 as an operator meets it first: full-page screenshots for review and layout checks
(nothing wider than the window, no control over another, every control labelled); per-shop 基本設定 reaching the
public page of that shop and not the other; the public page's errors all at once."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot
from tests.browser.test_shops_screens import LAYOUT_PROBLEMS

pytestmark = pytest.mark.browser

# The longest remark name the service takes, in half-width letters a browser will not break by itself.
LONG_REMARK = "W" * 50

LABELS_ON_ONE_LINE = """(selector) => [...document.querySelectorAll(selector)].filter(label => {
  const lines = new Set();
  for (const node of label.childNodes) {
    if (node.nodeType !== Node.TEXT_NODE || !node.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const rect of range.getClientRects()) if (rect.width > 0) lines.add(Math.round(rect.top));
  }
  return lines.size > 1;
}).map(label => label.textContent.trim())"""

INSIDE_ITS_PANEL = """(selector) => [...document.querySelectorAll(selector)].filter(el => {
  const panel = el.closest('.panel') || document.body;
  return el.getBoundingClientRect().right > panel.getBoundingClientRect().right + 1;
}).map(el => el.textContent.trim().slice(0, 20))"""


def shot(page, name):
    assert page.evaluate(LAYOUT_PROBLEMS) == [], name
    screenshot(page, name)


def test_every_settings_screen_at_1366(screen, gateway_url, tenant):
    page = screen
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    page.goto(gateway_url + "/settings/remarks")
    page.fill("input[name=name1]", LONG_REMARK)
    page.get_by_role("button", name="登録", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("備考を登録しました。")
    assert page.evaluate(LABELS_ON_ONE_LINE, ".remark-columns label.radio") == []
    shot(page, "settings-02-remarks")

    page.goto(gateway_url + "/settings/basic")
    expect(page.get_by_test_id("settings-scope")).to_contain_text("店舗ごとの設定です（店舗: 103: テスト本店）")
    assert page.evaluate(LABELS_ON_ONE_LINE, ".basic-settings label.radio") == []
    shot(page, "settings-01-basic-shop")
    page.get_by_role("link", name="企業の初期値を設定する").click()
    expect(page.get_by_test_id("settings-scope")).to_contain_text("企業の初期値です。")
    shot(page, "settings-01-basic-defaults")
    for path, name in (("/settings/groups", "settings-03-groups"), ("/settings/groups/history", "settings-04-history"),
                       ("/settings/products/", "settings-05-products"), ("/settings/shops/", "settings-06-shops"),
                       ("/settings/shops/company", "settings-07-company"), ("/settings/shops/ip", "settings-08-ip"),
                       (f"/settings/shops/{tenant.shops[0]['id']}", "settings-09-shop"),
                       (f"/settings/shops/{tenant.shops[0]['id']}/permissions", "settings-10-permissions")):
        page.goto(gateway_url + path)
        expect(page.get_by_test_id("settings-scope")).to_be_visible()
        shot(page, name)

    # the long remark name on the 検索 page's form stays inside it
    page.goto(gateway_url + "/customers/search/")
    expect(page.locator("label[for=remark1]")).to_have_text(LONG_REMARK)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate(INSIDE_ITS_PANEL, "label, th") == []
    screenshot(page, "settings-11-search-with-long-remark")
    page.goto(gateway_url + "/customers/new")
    assert page.evaluate(INSIDE_ITS_PANEL, "label") == []
    screenshot(page, "settings-12-customer-form-with-long-remark")


def test_per_shop_basic_settings_reach_that_shops_public_page_only(screen, gateway_url, tenant):
    page = screen
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    page.goto(gateway_url + "/settings/basic")
    page.get_by_label("電話番号入力 必須").check()
    page.get_by_role("button", name="登録", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("基本設定（店舗 103: テスト本店）を登録しました。")
    page.locator("#basic-shop-picker select").select_option(label="5019: テスト支店")
    expect(page.get_by_test_id("basic-source")).to_contain_text("この店舗の設定はまだ登録されていません。")
    expect(page.get_by_label("電話番号入力 非表示")).to_be_checked()

    page.goto(f"{gateway_url}/register/{tenant.company_id}/103")
    expect(page.get_by_role("heading", name="■電話番号:※")).to_be_visible()
    page.goto(f"{gateway_url}/register/{tenant.company_id}/5019")
    expect(page.get_by_text("■電話番号")).to_have_count(0)


def test_the_public_page_reports_every_error_at_once(screen, gateway_url, tenant):
    page = screen
    page.goto(f"{gateway_url}/register/{tenant.company_id}/103")
    page.fill("input[name=given_name]", "花子")
    page.fill("input[name=family_kana]", "suzuki")
    page.fill("input[name=birth_date]", "20081345")
    page.fill("input[name=email]", "hanako@")
    page.check("input[name=mail_permission][value=pc]")
    page.get_by_role("button", name="登録する").click()
    for message in ("利用規約に同意してください。", "必須項目です。", "フリガナはカタカナまたはひらがなで入力してください。",
                    "日付が正しくありません。", "メールアドレスの形式が正しくありません。"):
        expect(page.get_by_text(message)).to_be_visible()
    screenshot(page, "public-01-every-error-at-once")


def test_a_shop_and_a_name_register_a_customer_and_the_header_shows_the_latest(screen, gateway_url, tenant):
    page = screen
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    page.goto(gateway_url + "/customers/new")
    expect(page.locator("input[name=mail_permission][value=refused]")).to_be_checked()
    page.fill("#pc_email", "yamada@example.jp")
    expect(page.locator("input[name=mail_permission][value=pc]")).to_be_checked()
    page.fill("#pc_email", "")
    expect(page.locator("input[name=mail_permission][value=refused]")).to_be_checked()
    page.fill("#family_name", "山田")
    page.get_by_role("button", name="確認").click()
    expect(page.get_by_role("heading", name="顧客登録 確認")).to_be_visible()
    page.get_by_role("button", name="登録", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("顧客を登録しました")
    expect(page.get_by_test_id("latest-shop")).to_have_text("―")
    expect(page.get_by_test_id("latest-mail-sent")).to_have_text("―")
    screenshot(page, "customers-01-header")
