"""Gateway tests: the Flask app (Flask's test client) talking to the real services on the real broker."""
import re

import pytest



@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token(client, path="/login"):
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def log_in(client, login_id, password):
    response = client.post("/login", data={"login_id": login_id, "password": password,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


@pytest.fixture
def operator(client, tenant):
    log_in(client, tenant.operator_login, tenant.password)
    return client


@pytest.fixture
def shop_account(client, tenant):
    log_in(client, tenant.shops[0]["login_id"], tenant.password)
    return client
