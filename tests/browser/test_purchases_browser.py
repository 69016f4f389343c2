"""購入履歴 in a real browser: register a purchase by hand with two products and a discount, then 集計対象 off."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot

pytestmark = pytest.mark.browser


def test_register_a_purchase_by_hand_and_uncheck_counted(page, gateway_url, tenant):
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    for code, name, price in (("R-1", "ローズ赤", "400"), ("W-1", "ホワイト", "500")):
        page.goto(gateway_url + "/settings/products/new")
        page.fill("#code", code)
        page.fill("#name", name)
        page.fill("#price", price)
        page.click("button:has-text('登録')")
        expect(page.locator("main")).to_contain_text("商品を登録しました。")
    screenshot(page, "products_category")
    page.goto(gateway_url + "/settings/products/")
    default = page.locator("table.categories tbody tr").first.locator("td")
    expect(default.nth(1)).to_have_text("default")
    expect(default.nth(2)).to_have_text("2")
    screenshot(page, "products")

    page.goto(gateway_url + "/customers/new")
    page.fill("#family_name", "購入")
    page.fill("input[name=given_name]", "花子")
    page.check("input[name=mail_permission][value=refused]")
    page.click("button:has-text('購入履歴登録')")
    expect(page.locator("h1")).to_contain_text("確認")
    page.click("button:has-text('登録して購入履歴登録へ')")
    expect(page.locator("h2")).to_contain_text("購入履歴登録")
    page.fill("#purchased_at", "2026-11-01T12:00")
    page.select_option("select[name=line_0_product_code]", "R-1")
    page.fill("input[name=line_0_quantity]", "2")
    page.fill("input[name=line_0_line_remark]", "ギフト")
    page.select_option("select[name=line_1_product_code]", "W-1")
    expect(page.locator("input[name=line_1_unit_price]")).to_have_value("500")
    expect(page.locator("#sales")).to_have_text("1,300")
    page.fill("#billed_amount", "1000")
    expect(page.locator("#discount")).to_have_text("300")
    screenshot(page, "purchase_form")
    page.click("button:has-text('登録')")
    expect(page.locator("main")).to_contain_text("購入履歴を登録しました。")
    purchase = page.locator("article.purchase").first
    for text in ("ローズ赤", "ホワイト", "割引: 300円", "請求金額: 1,000円"):
        expect(purchase).to_contain_text(text)
    expect(page.get_by_test_id("uncounted")).to_have_count(0)
    purchase.locator("input[name=counted]").uncheck()
    expect(page.locator("main")).to_contain_text("集計対象を変更しました。")
    expect(page.get_by_test_id("uncounted")).to_have_text("集計対象外")
    expect(page.locator("article.purchase input[name=counted]").first).not_to_be_checked()
    screenshot(page, "purchases_tab")
