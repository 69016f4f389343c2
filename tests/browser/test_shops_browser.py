"""店舗管理 in a real browser, following the operator manual (ログイン, 店舗管理 ①店舗情報 ②権限設定)."""
import pytest

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
    page.wait_for_url(lambda url: "/login" not in url)
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="各種設定").click()
    page.get_by_role("link", name="店舗管理", exact=True).click()
    assert page.locator("h1").inner_text() == "店舗管理"
    headers = page.locator("table.grid thead th").all_inner_texts()
    assert headers == ["店舗番号", "店舗名", "企業", "店長名", "登録日", "ステータス", "店舗情報", "QRコード", "権限設定"]
    rows = page.locator("table.grid tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).locator("td").first.inner_text() == "103"
    assert rows.nth(1).locator("td").first.inner_text() == "5019"
    assert "テスト本店" in rows.nth(0).inner_text() and "有効" in rows.nth(0).inner_text()
    for button in ("全店PW出力", "全店PW再生成", "IP設定", "企業情報"):
        assert page.get_by_role("link", name=button, exact=True).is_visible()


def test_shop_information_is_saved_and_a_bad_input_changes_nothing(page, gateway_url, tenant):
    """①店舗情報: 店長名 and 電話番号 typed in full-width digits are saved (half-width); an empty 店舗名 is refused."""
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    page.goto(gateway_url + "/settings/shops/")
    page.locator("table.grid tbody tr", has_text="5019").get_by_role("link", name="店舗情報").click()
    assert page.locator("h1").inner_text() == "店舗情報"
    page.get_by_label("店長名").fill("山田 太郎")
    page.fill("#phone1", "０３")
    page.get_by_label("電話番号（中）").fill("９８７６")
    page.get_by_label("電話番号（下）").fill("５４３２")
    page.get_by_role("button", name="登録", exact=True).click()
    assert page.get_by_role("status").inner_text() == "店舗情報を登録しました。"
    assert page.input_value("#manager_name") == "山田 太郎"
    assert [page.input_value(f"input[name=phone{n}]") for n in (1, 2, 3)] == ["03", "9876", "5432"]

    page.fill("#name", "")
    page.fill("#manager_name", "保存されない店長")
    page.get_by_role("button", name="登録", exact=True).click()
    error = page.locator("#name ~ .field-error")
    assert error.inner_text() == "必須項目です。"
    name_box, error_box = page.locator("#name").bounding_box(), error.bounding_box()
    assert abs(error_box["x"] - name_box["x"]) < 4 and 0 <= error_box["y"] - (name_box["y"] + name_box["height"]) < 20
    assert "入力内容に誤りがあります" in page.get_by_role("alert").first.inner_text()

    page.goto(shop_url(gateway_url, tenant, 1))
    assert page.input_value("#name") == "テスト支店"
    assert page.input_value("#manager_name") == "山田 太郎"
    page.goto(gateway_url + "/settings/shops/")
    assert "山田 太郎" in page.locator("table.grid tbody tr", has_text="5019").inner_text()


def test_permission_set_on_the_permissions_page_shows_on_the_shop_page(page, gateway_url, tenant):
    """②権限設定: 顧客情報 出力許可 → 許可, then 店舗情報 shows it."""
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    page.goto(gateway_url + "/settings/shops/")
    page.locator("table.grid tbody tr", has_text="5019").get_by_role("link", name="権限設定").click()
    assert "権限設定" in page.locator("h1").inner_text() and "5019" in page.locator("h1").inner_text()
    page.get_by_role("radiogroup", name="顧客情報 出力許可").get_by_label("許可", exact=True).check()
    page.get_by_role("button", name="登録", exact=True).click()
    assert page.get_by_role("status").inner_text() == "権限設定を登録しました。"
    assert page.is_checked("input[name=may_export_customers][value='1']")
    page.goto(shop_url(gateway_url, tenant, 1))
    flag = page.locator(".flags li", has_text="顧客情報 出力許可")
    assert flag.inner_text() == "顧客情報 出力許可: 許可"
    page.goto(shop_url(gateway_url, tenant, 0))
    assert page.locator(".flags li", has_text="顧客情報 出力許可").inner_text() == "顧客情報 出力許可: 不可"


def test_shop_account_sees_only_its_own_shop_and_is_refused_the_rest(page, gateway_url, tenant):
    log_in(page, gateway_url, tenant.shops[0]["login_id"], tenant.password)
    page.goto(gateway_url + "/settings/shops/")
    rows = page.locator("table.grid tbody tr")
    assert rows.count() == 1 and rows.first.locator("td").first.inner_text() == "103"
    assert "権限設定" not in page.locator("table.grid thead").inner_text()
    for button in ("全店PW出力", "全店PW再生成", "IP設定", "企業情報"):
        assert page.get_by_role("link", name=button, exact=True).count() == 0

    rows.first.get_by_role("link", name="店舗情報").click()
    assert page.locator("#name").get_attribute("readonly") is not None
    assert page.get_by_role("button", name="登録", exact=True).count() == 0
    assert page.get_by_role("button", name="再生成").count() == 0

    for url in (shop_url(gateway_url, tenant, 0) + "/permissions", shop_url(gateway_url, tenant, 1),
                gateway_url + "/settings/shops/passwords/export"):
        response = page.goto(url)
        assert response.status == 403, url
        assert page.locator("h1").inner_text() == "権限がありません"
        assert "テスト支店" not in page.locator("main").inner_text()


def test_regenerate_shows_the_new_password_once_and_the_shop_logs_in_with_it(page, gateway_url, tenant, browser):
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    page.goto(shop_url(gateway_url, tenant, 0))
    with page.expect_event("dialog") as dialog:
        page.get_by_role("button", name="再生成").click()
    assert dialog.value.message == "この店舗のパスワードを再生成します。よろしいですか？"
    password = page.get_by_test_id("new-password").inner_text()
    assert len(password) >= 12
    assert tenant.shops[0]["login_id"] in page.get_by_role("status").inner_text()
    page.reload()  # the browser sends the same form again: nothing more is issued
    assert "実行済み" in page.get_by_role("alert").inner_text()
    assert page.get_by_test_id("new-password").count() == 0
    screenshot(page, "shops-regenerate-reloaded")
    page.goto(shop_url(gateway_url, tenant, 0))
    assert page.get_by_test_id("new-password").count() == 0 and password not in page.content()

    shop = browser.new_context(locale="ja-JP").new_page()
    try:
        shop.goto(gateway_url + "/login")
        shop.fill("#login_id", tenant.shops[0]["login_id"])
        shop.fill("#password", tenant.password)
        shop.get_by_role("button", name="ログイン").click()
        assert shop.get_by_role("alert").inner_text() == LOGIN_ERROR
        log_in(shop, gateway_url, tenant.shops[0]["login_id"], password)
        assert "テスト本店" in shop.locator(".who").inner_text()
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
    assert page.get_by_role("alert").inner_text() == LOGIN_ERROR
    assert "/login" in page.url and page.input_value("#login_id") == tenant.operator_login
    assert page.input_value("#password") == ""
