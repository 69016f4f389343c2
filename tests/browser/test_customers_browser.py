"""顧客管理 in a real browser: register a customer, remark names on the form, public registration on a phone,
対応履歴."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot
from tests.support import wait_for

pytestmark = pytest.mark.browser


def test_register_a_customer_through_the_admin_form(page, gateway_url, tenant):
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    page.goto(gateway_url + "/customers/new")
    page.select_option("#shop_id", str(tenant.shops[0]["id"]))
    page.fill("#family_name", "山田")
    page.fill("input[name=given_name]", "太郎")
    page.fill("#family_kana", "やまだ")
    page.fill("input[name=given_kana]", "ﾀﾛｳ")
    page.check("input[name=gender][value=male]")
    page.fill("#birth_date", "1991-01-01")
    page.check("input[name=mail_permission][value=pc]")
    page.fill("#pc_email", "yttest@example.jp")
    page.fill("#postal_code1", "105")
    page.fill("#postal_code2", "0001")
    page.click("#address-lookup")
    expect(page.locator("#address")).to_have_value("東京都港区虎ノ門")
    screenshot(page, "customer_form")
    page.click("button:has-text('確認')")
    expect(page.locator("h1")).to_contain_text("顧客登録 確認")
    expect(page.locator("table.confirm")).to_contain_text("ヤマダ タロウ")
    screenshot(page, "customer_confirm")
    page.click("button:has-text('登録')")
    expect(page.locator("main")).to_contain_text("顧客を登録しました")
    expect(page.get_by_test_id("member-number")).to_have_text(re.compile(r"\S"))
    expect(page.locator("table.attributes")).to_contain_text("yttest@example.jp")
    screenshot(page, "customer_detail")
    page.click("a.tab:has-text('購入履歴')")
    expect(page.locator("main")).to_contain_text("購入履歴はありません。")
    page.click("a.tab:has-text('行動履歴')")
    expect(page.locator("main")).to_contain_text("連携機能が入ると表示されます")  # a tab without data says so


def test_remark_names_edited_in_settings_show_on_the_form(page, gateway_url, tenant):
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    page.goto(gateway_url + "/settings/remarks")
    page.fill("input[name=name1]", "好きな色")
    page.check("input[name=shown10][value='1']")
    screenshot(page, "remarks")
    page.click("button:has-text('登録')")
    expect(page.locator("main")).to_contain_text("備考を登録しました。")
    page.goto(gateway_url + "/customers/new")
    expect(page.locator("label[for=remark1]")).to_have_text("好きな色")
    expect(page.locator("label[for=remark10]")).to_have_text("備考10")
    expect(page.locator("label[for=remark9]")).to_have_count(0)


def test_register_through_the_public_page_on_a_phone_and_get_the_mail(phone, gateway_url, tenant, stack):
    phone.goto(f"{gateway_url}/register/{tenant.company_id}/103")
    expect(phone.locator("h1")).to_contain_text("テスト本店")
    phone.click("button:has-text('登録する')")
    expect(phone.locator("main")).to_contain_text("利用規約に同意してください。")
    address = f"phone{tenant.company_id}@example.jp"
    phone.check("input[name=agreed_to_terms]")
    phone.fill("input[name=family_name]", "鈴木")
    phone.fill("input[name=given_name]", "花子")
    phone.fill("input[name=family_kana]", "すずき")
    phone.fill("input[name=given_kana]", "はなこ")
    phone.check("input[name=gender][value=female]")
    phone.fill("input[name=birth_date]", "20080101")
    phone.fill("input[name=email]", address)
    phone.check("input[name=mail_permission][value=mobile]")
    screenshot(phone, "public_register")
    phone.click("button:has-text('登録する')")
    expect(phone.locator("main")).to_contain_text("会員登録が完了しました")
    member_number = phone.get_by_test_id("member-number")
    expect(member_number).to_have_text(re.compile(r"\S"))
    member_number = member_number.inner_text()
    screenshot(phone, "public_registered")
    mail = wait_for(lambda: stack.mail.messages_to(address), message="the notification mail")[0]
    assert "テスト本店" in mail["Subject"]
    assert member_number in mail.get_content() and "鈴木 花子 様" in mail.get_content()


def test_add_and_delete_a_support_history_entry(page, gateway_url, tenant):
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    page.goto(gateway_url + "/customers/new")
    page.fill("#family_name", "対応")
    page.fill("input[name=given_name]", "花子")
    page.check("input[name=mail_permission][value=refused]")
    page.click("button:has-text('確認')")
    expect(page.locator("h1")).to_contain_text("顧客登録 確認")
    page.click("button:has-text('登録')")
    expect(page.locator("main")).to_contain_text("顧客を登録しました")
    page.click("a.tab:has-text('対応履歴')")
    expect(page).to_have_url(re.compile(r"/customers/\d+/support"))
    page.click("a:has-text('新規追加')")
    page.fill("#staff", "LTV-X")
    page.fill("#entered_at", "2022-09-28T18:00")
    page.fill("#content", "対応済み。")
    page.click("button:has-text('登録')")
    expect(page.locator("main")).to_contain_text("対応履歴を登録しました。")
    row = page.locator("table.support tbody tr").first
    expect(row).to_contain_text("2022-09-28 18:00")
    expect(row).to_contain_text("対応済み。")
    screenshot(page, "support_history")
    row.locator("button:has-text('削除')").click()
    expect(page.locator("main")).to_contain_text("対応履歴を削除しました。")
    expect(page.locator("table.support")).to_contain_text("対応履歴はありません。")
    expect(page).to_have_url(re.compile(r"/customers/\d+/support"))
