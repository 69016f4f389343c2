"""購入履歴 in a real browser: register a purchase by hand with two products and a discount, then 集計対象 off."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot

pytestmark = pytest.mark.browser


def pick(page, row, typed, code):
    """Type into a line's product picker and click the product with ``code`` among the candidates."""
    page.get_by_role("combobox", name=f"商品 {row}行目").fill(typed)
    page.get_by_role("listbox", name=f"商品 {row}行目の候補").get_by_role("option").filter(has_text=code).first.click()
    expect(page.locator(f"input[name=line_{row - 1}_product_code]")).to_have_value(code)


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
    pick(page, 1, "ローズ", "R-1")
    page.fill("input[name=line_0_quantity]", "2")
    page.fill("input[name=line_0_line_remark]", "ギフト")
    pick(page, 2, "w-1", "W-1")
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


def test_the_product_picker_finds_one_product_among_5000_in_the_purchase_form(screen, gateway_url, rpc, catalogue):
    page, tenant, shop = screen, catalogue["tenant"], catalogue["shop"]
    customer = rpc.customers.create_customer(tenant.operator_scope(), {"shop_id": shop, "family_name": "選択"})
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    page.goto(f"{gateway_url}/customers/{customer['id']}/purchases/new")
    page.fill("#purchased_at", "2026-11-20T15:30")

    first = page.get_by_role("combobox", name="商品 1行目")
    first.fill("紅ほっぺ")  # part of the name
    options = page.get_by_role("listbox", name="商品 1行目の候補").get_by_role("option")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("FR-0707")
    expect(options.first).to_contain_text("果物")
    screenshot(page, "purchase_form_picker_name")
    first.press("ArrowDown")
    first.press("Enter")  # picks; does not send the form
    expect(page.locator("input[name=line_0_product_code]")).to_have_value("FR-0707")
    expect(first).to_have_value("FR-0707: 北海道産 紅ほっぺ苺 ギフト箱")
    expect(page.locator("input[name=line_0_unit_price]")).to_have_value("4800")

    second = page.get_by_role("combobox", name="商品 2行目")
    second.fill("ガーベラ")  # 714 of the 5,000: the first 20, and how to narrow them
    options = page.get_by_role("listbox", name="商品 2行目の候補").get_by_role("option")
    expect(options).to_have_count(20)
    expect(page.locator(".picker-list:visible .picker-note")).to_contain_text("全714件中20件を表示")
    second.fill("ガーベラ 4321")  # and part of the code
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("SKU-04321")
    screenshot(page, "purchase_form_picker_code")
    options.first.click()
    expect(page.locator("input[name=line_1_product_code]")).to_have_value("SKU-04321")
    expect(page.locator("input[name=line_1_unit_price]")).to_have_value("5321")
    expect(page.locator("#sales")).to_have_text("10,121")

    third = page.get_by_role("combobox", name="商品 3行目")
    third.fill("存在しない商品")
    expect(page.locator(".picker-list:visible .picker-note")).to_have_text("該当する商品がありません。")
    page.click("button:has-text('登録')")  # typed but not picked: the form says so and is not sent
    expect(page.locator(".picker-status").nth(2)).to_have_text("一覧から商品を選択してください。")
    expect(page).to_have_url(re.compile(r"/purchases/new$"))
    third.fill("")
    page.click("button:has-text('登録')")
    expect(page.locator("main")).to_contain_text("購入履歴を登録しました。")
    card = page.locator("article.purchase").first
    for text in ("FR-0707", "北海道産 紅ほっぺ苺 ギフト箱", "SKU-04321", "ガーベラの花束", "売上: 10,121円"):
        expect(card).to_contain_text(text)
    screenshot(page, "purchases_tab_after_picker")
