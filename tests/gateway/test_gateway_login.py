"""The login page: its answers never tell which login IDs exist, and one address's failures pause its logins."""
import re

import pytest

from tests.gateway.conftest import csrf_token

WRONG = "ログインIDまたはパスワードが正しくありません。"
THROTTLED = "この接続元からのログインの失敗が続いたため、しばらくログインできません。時間をおいて再度お試しください。"


def browser_at(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def attempt(client, login_id, password):
    response = client.post("/login", data={"login_id": login_id, "password": password,
                                           "csrf_token": csrf_token(client)})
    alert = re.search(r'<p class="flash error" role="alert">([^<]*)</p>', response.get_data(as_text=True))
    return response.status_code, alert.group(1) if alert else None


def test_a_locked_account_reads_like_an_unknown_login_id(app, tenant):
    client = browser_at(app, "198.51.100.61")
    login_id = tenant.shops[1]["login_id"]
    for _ in range(5):  # LOGIN_MAX_FAILURES
        assert attempt(client, login_id, "guess") == (401, WRONG)
    locked = attempt(client, login_id, tenant.password)
    unknown = attempt(client, f"{tenant.company_id}999999", tenant.password)
    assert locked == unknown == (401, WRONG)


def test_failures_from_one_address_across_login_ids_pause_its_logins(app, tenant):
    client = browser_at(app, "198.51.100.62")
    for number in range(20):  # LOGIN_ADDRESS_MAX_FAILURES
        assert attempt(client, f"nobody-{tenant.company_id}-{number}", "guess") == (401, WRONG)
    assert attempt(client, tenant.operator_login, tenant.password) == (401, THROTTLED)
    elsewhere = browser_at(app, "198.51.100.63")
    response = elsewhere.post("/login", data={"login_id": tenant.operator_login, "password": tenant.password,
                                              "csrf_token": csrf_token(elsewhere)})
    assert response.status_code == 302, "another address logs in"


def login_then(client, tenant, next_value):
    response = client.post("/login", query_string={"next": next_value},
                           data={"login_id": tenant.operator_login, "password": tenant.password,
                                 "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    return response.headers["Location"]


@pytest.mark.parametrize("next_value", ["/\t/evil.example/", "//evil.example/", "/\\evil.example/",
                                        "https://evil.example/", "\n//evil.example", "javascript:alert(1)"])
def test_after_login_a_next_outside_this_site_goes_to_the_top_page(client, tenant, next_value):
    assert login_then(client, tenant, next_value) == "/"


def test_after_login_a_next_on_this_site_is_followed(client, tenant):
    assert login_then(client, tenant, "/customers/?page=2") == "/customers/?page=2"


def test_the_encoded_tab_of_the_report_ends_on_this_site(client, tenant):
    client.get("/login")
    response = client.post("/login?next=/%09/evil.example/", data={
        "login_id": tenant.operator_login, "password": tenant.password, "csrf_token": csrf_token(client)})
    assert response.headers["Location"] == "/"
