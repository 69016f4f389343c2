"""店舗管理 in a real browser, following the operator manual (ログイン, 店舗管理 ①店舗情報 ②権限設定)."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot

pytestmark = pytest.mark.browser

LOGIN_ERROR = "ログインIDまたはパスワードが正しくありません。"


def shop_url(gateway_url, tenant, index=0):
    return f"{gateway_url}/settings/shops/{tenant.shops[index]['id']}"


def test_operator_logs_in_and_sees_the_shop_list_with_its_buttons(page, gateway_url, tenant):
    page.goto(gateway_url + "/login")
    page.fill("#login_id", tenant.operator_login)
    page.fill("#password", tenant.password)
    page.get_by_role("button", name="ログイン").click()
    expect(page).not_to_have_url(re.compile(r"/login"))
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="各種設定").click()
    page.get_by_role("link", name="店舗管理", exact=True).click()
    expect(page.locator("h1")).to_have_text("店舗管理")
    expect(page.locator("table.grid thead th")).to_have_text(
        ["店舗番号", "店舗名", "企業", "店長名", "登録日", "ステータス", "店舗情報", "QRコード", "権限設定"])
    rows = page.locator("table.grid tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("td").first).to_have_text("103")
    expect(rows.nth(1).locator("td").first).to_have_text("5019")
    expect(rows.nth(0)).to_contain_text("テスト本店")
    expect(rows.nth(0)).to_contain_text("有効")
    for button in ("全店PW出力", "全店PW再生成", "IP設定", "企業情報"):
        expect(page.get_by_role("link", name=button, exact=True)).to_be_visible()


def test_shop_information_is_saved_and_a_bad_input_changes_nothing(page, gateway_url, tenant):
    """①店舗情報: 店長名 and 電話番号 typed in full-width digits are saved (half-width); an empty 店舗名 is refused."""
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    page.goto(gateway_url + "/settings/shops/")
    page.locator("table.grid tbody tr", has_text="5019").get_by_role("link", name="店舗情報").click()
    expect(page.locator("h1")).to_have_text("店舗情報")
    page.get_by_label("店長名").fill("山田 太郎")
    page.fill("#phone1", "０３")
    page.get_by_label("電話番号（中）").fill("９８７６")
    page.get_by_label("電話番号（下）").fill("５４３２")
    page.get_by_role("button", name="登録", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("店舗情報を登録しました。")
    expect(page.locator("#manager_name")).to_have_value("山田 太郎")
    for n, digits in ((1, "03"), (2, "9876"), (3, "5432")):
        expect(page.locator(f"input[name=phone{n}]")).to_have_value(digits)

    page.fill("#name", "")
    page.fill("#manager_name", "保存されない店長")
    page.get_by_role("button", name="登録", exact=True).click()
    error = page.locator("#name ~ .field-error")
    expect(error).to_have_text("必須項目です。")
    name_box, error_box = page.locator("#name").bounding_box(), error.bounding_box()
    assert abs(error_box["x"] - name_box["x"]) < 4 and 0 <= error_box["y"] - (name_box["y"] + name_box["height"]) < 20
    expect(page.get_by_role("alert").first).to_contain_text("入力内容に誤りがあります")

    page.goto(shop_url(gateway_url, tenant, 1))
    expect(page.locator("#name")).to_have_value("テスト支店")
    expect(page.locator("#manager_name")).to_have_value("山田 太郎")
    page.goto(gateway_url + "/settings/shops/")
    expect(page.locator("table.grid tbody tr", has_text="5019")).to_contain_text("山田 太郎")


def test_permission_set_on_the_permissions_page_shows_on_the_shop_page(page, gateway_url, tenant):
    """②権限設定: 顧客情報 出力許可 → 許可, then 店舗情報 shows it."""
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    page.goto(gateway_url + "/settings/shops/")
    page.locator("table.grid tbody tr", has_text="5019").get_by_role("link", name="権限設定").click()
    expect(page.locator("h1")).to_contain_text("権限設定")
    expect(page.locator("h1")).to_contain_text("5019")
    page.get_by_role("radiogroup", name="顧客情報 出力許可").get_by_label("許可", exact=True).check()
    page.get_by_role("button", name="登録", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("権限設定を登録しました。")
    expect(page.locator("input[name=may_export_customers][value='1']")).to_be_checked()
    page.goto(shop_url(gateway_url, tenant, 1))
    expect(page.locator(".flags li", has_text="顧客情報 出力許可")).to_have_text("顧客情報 出力許可: 許可")
    page.goto(shop_url(gateway_url, tenant, 0))
    expect(page.locator(".flags li", has_text="顧客情報 出力許可")).to_have_text("顧客情報 出力許可: 不可")


def test_shop_account_sees_only_its_own_shop_and_is_refused_the_rest(page, gateway_url, tenant):
    log_in(page, gateway_url, tenant.shops[0]["login_id"], tenant.password)
    page.goto(gateway_url + "/settings/shops/")
    rows = page.locator("table.grid tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td").first).to_have_text("103")
    expect(page.locator("table.grid thead")).not_to_contain_text("権限設定")
    for button in ("全店PW出力", "全店PW再生成", "IP設定", "企業情報"):
        expect(page.get_by_role("link", name=button, exact=True)).to_have_count(0)

    rows.first.get_by_role("link", name="店舗情報").click()
    expect(page.locator("h1")).to_have_text("店舗情報")
    expect(page.locator("#name")).not_to_be_editable()
    expect(page.get_by_role("button", name="登録", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="再生成")).to_have_count(0)

    for url in (shop_url(gateway_url, tenant, 0) + "/permissions", shop_url(gateway_url, tenant, 1),
                gateway_url + "/settings/shops/passwords/export"):
        response = page.goto(url)
        assert response.status == 403, url
        expect(page.locator("h1")).to_have_text("権限がありません")
        expect(page.locator("main")).not_to_contain_text("テスト支店")


def test_regenerate_shows_the_new_password_once_and_the_shop_logs_in_with_it(page, gateway_url, tenant, browser):
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    page.goto(shop_url(gateway_url, tenant, 0))
    with page.expect_event("dialog") as dialog:
        page.get_by_role("button", name="再生成").click()
    assert dialog.value.message == "この店舗のパスワードを再生成します。よろしいですか？"
    expect(page.get_by_test_id("new-password")).to_have_text(re.compile(r"^\S{12,}$"))
    password = page.get_by_test_id("new-password").inner_text()
    expect(page.get_by_role("status")).to_contain_text(tenant.shops[0]["login_id"])
    page.reload()  # the browser sends the same form again: nothing more is issued
    expect(page.get_by_role("alert")).to_contain_text("実行済み")
    expect(page.get_by_test_id("new-password")).to_have_count(0)
    screenshot(page, "shops-regenerate-reloaded")
    page.goto(shop_url(gateway_url, tenant, 0))
    expect(page.locator("h1")).to_have_text("店舗情報")
    expect(page.get_by_test_id("new-password")).to_have_count(0)
    assert password not in page.content()

    shop = browser.new_context(locale="ja-JP").new_page()
    try:
        shop.goto(gateway_url + "/login")
        shop.fill("#login_id", tenant.shops[0]["login_id"])
        shop.fill("#password", tenant.password)
        shop.get_by_role("button", name="ログイン").click()
        expect(shop.get_by_role("alert")).to_have_text(LOGIN_ERROR)
        log_in(shop, gateway_url, tenant.shops[0]["login_id"], password)
        expect(shop.locator(".who")).to_contain_text("テスト本店")
    finally:
        shop.context.close()


def test_export_all_passwords_downloads_a_cp932_csv(page, gateway_url, tenant):
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    page.goto(gateway_url + "/settings/shops/")
    page.get_by_role("link", name="全店PW出力").click()
    page.get_by_label("Shift_JIS (Excel)").check()
    with page.expect_download() as download, page.expect_event("dialog") as dialog:
        page.get_by_role("button", name="再生成してダウンロード").click()
    assert dialog.value.message == "全店舗のパスワードを再生成してダウンロードします。よろしいですか？"
    assert download.value.suggested_filename.endswith(".csv")
    data = open(download.value.path(), "rb").read()
    assert "店舗番号".encode("cp932") in data
    lines = data.decode("cp932").splitlines()
    assert lines[0] == "店舗番号,店舗名,ログインID,パスワード"
    assert [line.split(",")[:3] for line in lines[1:]] == [
        ["103", "テスト本店", tenant.shops[0]["login_id"]], ["5019", "テスト支店", tenant.shops[1]["login_id"]]]


def test_wrong_password_shows_the_japanese_login_error(page, gateway_url, tenant):
    page.goto(gateway_url + "/login")
    page.fill("#login_id", tenant.operator_login)
    page.fill("#password", "wrong-password")
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("alert")).to_have_text(LOGIN_ERROR)
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.locator("#login_id")).to_have_value(tenant.operator_login)
    expect(page.locator("#password")).to_have_value("")
