"""Sessions end on the server: after logout, a new password, a lock or 待機, a copy of the session cookie is refused
at its next request (the shops service checks the account's session generation on every request)."""
import re

import pytest

from tests.gateway.conftest import csrf_token, log_in

COOKIE = "tsuhan_session"


def copy_of_session(app, client):
    """A second browser holding the same session cookie."""
    other = app.test_client()
    other.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    return other


def logged_in(client):
    response = client.get("/")
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and "/login" in response.headers["Location"], response.status_code
    return False


def issuing_form(client, page_path, data=None):
    page = client.get(page_path).get_data(as_text=True)
    token = re.search(r'name="issue_token" value="([^"]+)"', page).group(1)
    return dict(data or {}, csrf_token=csrf_token(client, page_path), issue_token=token)


@pytest.fixture
def shop_session(app, tenant):
    """Shop 103's account logged in, in a browser of its own."""
    browser = app.test_client()
    log_in(browser, tenant.shops[0]["login_id"], tenant.password)
    assert logged_in(browser)
    return browser


def test_after_logout_a_copy_of_the_cookie_and_another_browser_of_the_account_are_logged_out(app, client, tenant):
    log_in(client, tenant.operator_login, tenant.password)
    copy = copy_of_session(app, client)
    elsewhere = app.test_client()
    log_in(elsewhere, tenant.operator_login, tenant.password)
    assert logged_in(copy) and logged_in(elsewhere)
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert not logged_in(copy)
    assert not logged_in(elsewhere)
    log_in(client, tenant.operator_login, tenant.password)
    assert logged_in(client), "logging in again opens a new session"


def test_a_refused_session_says_so_in_japanese(app, client, tenant):
    log_in(client, tenant.operator_login, tenant.password)
    copy = copy_of_session(app, client)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    response = copy.get("/", follow_redirects=True)
    assert "セッションが終了しました。再度ログインしてください。" in response.get_data(as_text=True)


def test_a_regenerated_password_ends_the_shops_sessions(operator, shop_session, tenant):
    shop_id = tenant.shops[0]["id"]
    response = operator.post(f"/settings/shops/{shop_id}/password",
                             data=issuing_form(operator, f"/settings/shops/{shop_id}"))
    assert response.status_code == 200
    assert not logged_in(shop_session)
    assert logged_in(operator), "the operator who regenerated it stays logged in"


def test_regenerating_every_password_ends_every_shops_sessions(app, operator, shop_session, tenant):
    other_shop = app.test_client()
    log_in(other_shop, tenant.shops[1]["login_id"], tenant.password)
    response = operator.post("/settings/shops/passwords/regenerate",
                             data=issuing_form(operator, "/settings/shops/passwords/regenerate"))
    assert response.status_code == 200
    assert not logged_in(shop_session) and not logged_in(other_shop)
    assert logged_in(operator)


def test_exporting_every_password_ends_every_shops_sessions(operator, shop_session):
    response = operator.post("/settings/shops/passwords/export",
                             data=issuing_form(operator, "/settings/shops/passwords/export", {"encoding": "utf8bom"}))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert not logged_in(shop_session)
    assert logged_in(operator)


def test_a_lock_ends_the_accounts_sessions(app, shop_session, tenant):
    guesser = app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "198.51.100.41"
    for _ in range(5):  # LOGIN_MAX_FAILURES
        response = guesser.post("/login", data={"login_id": tenant.shops[0]["login_id"], "password": "guess",
                                                "csrf_token": csrf_token(guesser)})
        assert response.status_code == 401
    assert not logged_in(shop_session)


def test_standby_ends_the_shops_sessions_for_good(operator, shop_session, tenant):
    shop_id = tenant.shops[0]["id"]
    form = {"name": "テスト本店", "manager_name": "", "postal_code1": "", "postal_code2": "", "address": "",
            "phone1": "03", "phone2": "0000", "phone3": "0000", "sender_name": "", "sender_address": ""}
    path = f"/settings/shops/{shop_id}"

    def set_status(status):
        return operator.post(path, data=dict(form, status=status, csrf_token=csrf_token(operator, path))).status_code

    assert set_status("standby") == 302
    assert not logged_in(shop_session)
    assert set_status("active") == 302
    assert not logged_in(shop_session), "back to active, the old session stays ended"
