"""What an operator sees when something is refused, at 1366×768: a wrong password, a form posted without its token, a
customer that is not there, a form with bad values. Each is a Japanese page or message with the way back, never a
traceback; screenshots under var/screenshots/ for review."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot

pytestmark = pytest.mark.browser


def test_a_wrong_password_reads_the_same_as_an_unknown_login(screen, gateway_url, tenant):
    page = screen
    for login_id, name in ((tenant.operator_login, "refused-login-wrong-password"),
                           ("nobody-" + tenant.operator_login, "refused-login-unknown-id")):
        page.goto(gateway_url + "/login")
        page.fill("#login_id", login_id)
        page.fill("#password", "not-the-password")
        page.click("button:has-text('ログイン')")
        expect(page.locator("body")).to_contain_text("ログインIDまたはパスワードが正しくありません")
        screenshot(page, name)


def test_refused_pages_are_japanese_with_the_way_back(screen, gateway_url, tenant):
    page = screen
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    response = page.goto(gateway_url + "/customers/999999999")
    assert response.status == 404
    expect(page.locator("h1, h2").first).to_contain_text("見つかりません")
    screenshot(page, "refused-not-found")

    page.goto(gateway_url + "/customers/new")
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(i => { i.value = 'forged'; })")
    page.fill("input[name=family_name]", "偽造")
    page.click("button:has-text('確認')")
    expect(page.locator("body")).to_contain_text("不正な送信")
    screenshot(page, "refused-csrf")

    page.goto(gateway_url + "/customers/new")
    page.fill("input[name=family_name]", "拒否")
    page.fill("input[name=pc_email]", "not-an-address@")
    page.click("button:has-text('確認')")
    expect(page).to_have_url(re.compile(r"/customers/new"))
    expect(page.locator("body")).to_contain_text("メールアドレスの形式が正しくありません")
    screenshot(page, "refused-customer-form")
