"""Every 店舗管理 screen at 1280px: full-page screenshots under var/screenshots/ for review, and layout checks
(nothing wider than the window, no control overlapping another, every control labelled)."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot

pytestmark = pytest.mark.browser

LAYOUT_PROBLEMS = """() => {
  const problems = [];
  if (document.documentElement.scrollWidth > window.innerWidth) {
    problems.push(`page is ${document.documentElement.scrollWidth}px wide`);
  }
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const controls = [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button, a.button')]
    .filter(visible);
  const describe = (el) => `${el.tagName.toLowerCase()}[${el.name || el.id || el.textContent.trim()}]`;
  for (const el of controls) {
    if (['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName) && !(el.labels && el.labels.length)
        && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby') && !el.title) {
      problems.push(`${describe(el)} has no label`);
    }
  }
  for (let i = 0; i < controls.length; i++) {
    for (let j = i + 1; j < controls.length; j++) {
      const a = controls[i].getBoundingClientRect(), b = controls[j].getBoundingClientRect();
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 1 && h > 1) problems.push(`${describe(controls[i])} overlaps ${describe(controls[j])}`);
    }
  }
  return problems;
}"""


def shot(page, name):
    assert page.evaluate(LAYOUT_PROBLEMS) == [], name
    screenshot(page, name)


def same_row(page, first, second):
    a, b = page.locator(first).bounding_box(), page.locator(second).bounding_box()
    return abs((a["y"] + a["height"] / 2) - (b["y"] + b["height"] / 2)) < 6


def test_every_shop_screen_is_laid_out_cleanly(page, gateway_url, tenant):
    page.goto(gateway_url + "/login")
    shot(page, "shops-01-login")
    page.fill("#login_id", tenant.operator_login)
    page.fill("#password", "wrong-password")
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("alert")).to_be_visible()
    shot(page, "shops-03-login-error")
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    shop = f"{gateway_url}/settings/shops/{tenant.shops[0]['id']}"

    page.goto(shop)
    page.fill("#name", "LTV-Innovation Shop 東京本店（オンラインストア・カタログ通販部門）")
    page.fill("#manager_name", "山田 太郎")
    page.fill("#postal_code1", "105")
    page.fill("input[name=postal_code2]", "0001")
    page.fill("#address", "東京都港区虎ノ門一丁目1番1号 虎ノ門ビルディング 12階")
    page.fill("#sender_name", "LTV-Lab Shop")
    page.fill("#sender_address", "crm@example.jp")
    page.check("#felica")
    page.get_by_role("button", name="登録", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("店舗情報を登録しました。")

    page.goto(gateway_url + "/settings/shops/")
    shot(page, "shops-02-list")
    page.goto(shop)
    assert same_row(page, "[data-testid=password] .password-value", "button:has-text('再生成')")
    shot(page, "shops-04-shop")
    page.fill("#name", "")
    page.fill("#sender_address", "not-mail")
    page.fill("#phone1", "1")
    page.get_by_role("button", name="登録", exact=True).click()
    expect(page.locator(".field-error:not(:empty)")).to_have_count(3)
    shot(page, "shops-05-shop-errors")
    with page.expect_event("dialog"):
        page.get_by_role("button", name="再生成").click()
    expect(page.get_by_test_id("new-password")).to_be_visible()
    assert same_row(page, "[data-testid=password] .password-value", "button:has-text('再生成')")
    shot(page, "shops-06-shop-regenerated")

    page.goto(shop + "/permissions")
    shot(page, "shops-07-permissions")
    page.goto(shop + "/qr")
    shot(page, "shops-08-qr")

    page.goto(gateway_url + "/settings/shops/passwords/regenerate")
    shot(page, "shops-09-regenerate-all")
    with page.expect_event("dialog") as dialog:
        page.get_by_role("button", name="全店PW再生成").click()
    assert dialog.value.message == "全店舗のパスワードを再生成します。よろしいですか？"
    rows = page.locator("[data-testid=generated-passwords] tbody tr")
    expect(rows).to_have_count(2)
    shop_password = rows.nth(1).locator("td.password").inner_text()
    shot(page, "shops-10-regenerate-all-done")

    page.goto(gateway_url + "/settings/shops/passwords/export")
    shot(page, "shops-11-export")

    page.goto(gateway_url + "/settings/shops/ip")
    page.fill("textarea[name=networks]", "127.0.0.1\n192.168.0.0/33\n10.0.0.0/8")
    page.get_by_role("button", name="登録", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("2行目: IPアドレスまたはCIDR")
    shot(page, "shops-12-ip-error")

    page.goto(gateway_url + "/settings/shops/company")
    shot(page, "shops-13-company")

    page.get_by_role("button", name="ログアウト").click()
    expect(page.get_by_role("status")).to_have_text("ログアウトしました。")
    log_in(page, gateway_url, tenant.shops[1]["login_id"], shop_password)
    page.goto(gateway_url + "/settings/shops/")
    shot(page, "shops-14-list-as-shop")
    page.goto(f"{gateway_url}/settings/shops/{tenant.shops[1]['id']}")
    shot(page, "shops-15-shop-as-shop")
    assert page.goto(shop).status == 403
    shot(page, "shops-16-forbidden")


def test_adding_a_shop_on_the_operators_screen(screen, gateway_url, tenant):
    log_in(screen, gateway_url, tenant.operator_login, tenant.password)
    screen.goto(gateway_url + "/settings/shops/")
    screen.get_by_role("link", name="店舗追加").click()
    expect(screen.get_by_role("heading", name="店舗追加")).to_be_visible()
    shot(screen, "shops-20-new")
    screen.fill("#shop_number", "103")
    screen.fill("#name", "新宿店")
    screen.fill("#manager_name", "佐藤 花子")
    screen.fill("#phone1", "03")
    screen.fill("input[name=phone2]", "1234")
    screen.fill("input[name=phone3]", "5678")
    screen.get_by_role("button", name="登録", exact=True).click()
    expect(screen.locator(".field-error:not(:empty)")).to_have_text(["既に使われています。"])
    shot(screen, "shops-21-new-errors")
    screen.fill("#shop_number", "7001")
    screen.get_by_role("button", name="登録", exact=True).click()
    expect(screen.get_by_test_id("login-id")).to_have_text(f"{tenant.company_id}7001")
    expect(screen.get_by_test_id("new-password")).not_to_be_empty()
    shot(screen, "shops-22-new-done")
    screen.get_by_role("link", name="店舗管理へもどる").click()
    expect(screen.get_by_role("cell", name="新宿店")).to_be_visible()
    shot(screen, "shops-23-list-with-new")
