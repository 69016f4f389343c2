"""購入履歴 in a real browser: register a purchase by hand with two products and a discount, then 集計対象 off."""
import pytest

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
    screenshot(page, "products_category")
    page.goto(gateway_url + "/settings/products/")
    assert "2" in page.locator("table.categories tbody tr").first.inner_text()
    screenshot(page, "products")

    page.goto(gateway_url + "/customers/new")
    page.fill("#family_name", "購入")
    page.fill("input[name=given_name]", "花子")
    page.check("input[name=mail_permission][value=refused]")
    page.click("button:has-text('購入履歴登録')")
    page.click("button:has-text('登録して購入履歴登録へ')")
    assert "購入履歴登録" in page.inner_text("h2")
    page.fill("#purchased_at", "2026-11-01T12:00")
    page.select_option("select[name=line_0_product_code]", "R-1")
    page.fill("input[name=line_0_quantity]", "2")
    page.fill("input[name=line_0_line_remark]", "ギフト")
    page.select_option("select[name=line_1_product_code]", "W-1")
    assert page.input_value("input[name=line_1_unit_price]") == "500"
    assert page.inner_text("#sales") == "1,300"
    page.fill("#billed_amount", "1000")
    assert page.inner_text("#discount") == "300"
    screenshot(page, "purchase_form")
    page.click("button:has-text('登録')")
    assert "購入履歴を登録しました。" in page.inner_text("main")
    purchase = page.locator("article.purchase").first
    assert "ローズ赤" in purchase.inner_text() and "ホワイト" in purchase.inner_text()
    assert "割引: 300円" in purchase.inner_text() and "請求金額: 1,000円" in purchase.inner_text()
    assert page.get_by_test_id("uncounted").count() == 0
    with page.expect_navigation():
        purchase.locator("input[name=counted]").uncheck()
    assert "集計対象を変更しました。" in page.inner_text("main")
    assert page.get_by_test_id("uncounted").inner_text() == "集計対象外"
    assert not page.locator("article.purchase input[name=counted]").first.is_checked()
    screenshot(page, "purchases_tab")
