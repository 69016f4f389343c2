"""Dates as operators type them, through the gateway: 2026/12/06 (the date fields' own format), 2026-12-06, full-width
digits; shown back as 2026/12/06 (2026/12/06 14:30 with a time); a date that is none keeps its field's message."""
import re

from gateway.formatting import day_input, jst_input
from gateway.forms import typed_day, typed_moment
from tests.gateway.conftest import csrf_token
from tests.support import wait_for


def post(client, path, data, token_from=None):
    return client.post(path, data=dict(data, csrf_token=csrf_token(client, token_from or path)))


def test_a_typed_day_goes_to_the_services_in_iso_and_anything_else_as_typed():
    for typed in ("2026/12/06", "2026-12-06", "2026/12/6", " 2026/12/06 ", "２０２６／１２／０６", "20261206"):
        assert typed_day(typed) == "2026-12-06", typed
    for typed in ("2026/02/30", "2026/13/01", "12/06/2026", "きのう", "2026/12/06 10:00"):
        assert typed_day(typed) == typed.strip(), typed
    assert typed_day("") == typed_day(None) == ""


def test_a_typed_moment_goes_to_the_services_in_iso_japan_time_and_anything_else_as_typed():
    for typed in ("2026/12/06 14:30", "2026-12-06T14:30", "2026/12/6 14:30", "２０２６／１２／０６　１４：３０"):
        assert typed_moment(typed) == "2026-12-06T14:30:00", typed
    assert typed_moment("2026/12/06") == "2026-12-06T00:00:00"
    for typed in ("2026/12/06 24:00", "2026/11/31 10:00", "12/06/2026 2:30 PM"):
        assert typed_moment(typed) == typed, typed


def test_dates_are_shown_in_the_fields_as_operators_type_them():
    assert day_input("2026-12-06") == "2026/12/06" and day_input("2026/02/30") == "2026/02/30"
    assert jst_input("2026-12-06T05:30:00+00:00") == "2026/12/06 14:30"  # a service's moment, in Japan time
    assert jst_input("2026-12-06T14:30:00") == "2026/12/06 14:30"  # posted back
    assert jst_input("2026/12/06 25:00") == "2026/12/06 25:00" and day_input(None) == jst_input(None) == ""


def test_the_search_form_reads_typed_days_and_shows_them_back_in_japanese(operator, tenant, rpc):
    scope, shop = tenant.operator_scope(), tenant.shops[0]["id"]
    rpc.customers.upsert_customers(scope, [
        {"member_number": number, "shop_id": shop, "family_name": "登録日", "registered_at": moment}
        for number, moment in (("R1", "2026-11-30T23:59:00+09:00"), ("R2", "2026-12-01T00:00:00+09:00"),
                               ("R3", "2026-12-06T23:59:00+09:00"), ("R4", "2026-12-07T00:00:00+09:00"))])
    wait_for(lambda: rpc.search.count(scope, {})["total"] == 4, message="the index")
    for since, until in (("2026/12/01", "2026/12/06"), ("2026-12-01", "２０２６／１２／０６"), ("2026/12/1", "20261206")):
        response = operator.get(f"/customers/search/?search=1&registered_from={since}&registered_to={until}")
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and re.search(r'data-testid="total">2<', page), (since, until)
        assert 'name="registered_from" value="2026/12/01"' in page and 'name="registered_to" value="2026/12/06"' in page

    refused = operator.get("/customers/search/?search=1&registered_from=2026/13/01&registered_to=2026/12/06")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "属性検索 登録日（開始日）:" in page
    assert 'name="registered_from" value="2026/13/01"' in page and 'name="registered_to" value="2026/12/06"' in page


def test_the_customer_form_takes_japanese_dates_and_shows_them_back(operator, tenant, rpc):
    form = {"shop_id": str(tenant.shops[0]["id"]), "family_name": "日付", "mail_permission": "refused",
            "birth_date": "1991/01/02", "points_expiry": "２０２７／０３／３１", "earliest_expiry": "2027-01-31",
            "last_login_at": "2026/12/01 09:15", "action": "save"}
    confirm = post(operator, "/customers/new", dict(form, action="confirm")).get_data(as_text=True)
    assert "<td>1991/01/02</td>" in confirm and "<td>2027/03/31 / 2027/01/31</td>" in confirm
    assert "<td>2026/12/01 09:15</td>" in confirm
    saved = post(operator, "/customers/new", form, token_from="/customers/new")
    assert saved.status_code == 302, saved.get_data(as_text=True)
    customer_id = int(re.search(r"/customers/(\d+)", saved.headers["Location"]).group(1))
    customer = rpc.customers.get_customer(tenant.operator_scope(), customer_id)
    assert (customer["birth_date"], customer["points_expiry"], customer["earliest_expiry"]) == (
        "1991-01-02", "2027-03-31", "2027-01-31")
    assert customer["last_login_at"] == "2026-12-01T09:15:00+09:00"
    page = operator.get(f"/customers/{customer_id}/edit").get_data(as_text=True)
    for name, shown in (("birth_date", "1991/01/02"), ("points_expiry", "2027/03/31"),
                        ("earliest_expiry", "2027/01/31"), ("last_login_at", "2026/12/01 09:15")):
        assert re.search(rf'name="{name}"[^>]* value="{re.escape(shown)}"', page), name

    refused = post(operator, "/customers/new", dict(form, birth_date="1991/02/30", last_login_at="2026/12/01 25:00",
                                                    action="confirm"))
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    for name, shown in (("birth_date", "1991/02/30"), ("last_login_at", "2026/12/01 25:00")):
        field = re.search(rf'<div><input name="{name}"[^>]* value="([^"]*)".*?</div>', page, re.S)
        assert field.group(1) == shown and "入力内容が正しくありません。" in field.group(0), name
    assert re.search(r'name="points_expiry"[^>]* value="2027/03/31"', page)  # the good ones, read and shown


def test_purchase_and_support_moments_are_typed_in_japanese(operator, tenant, rpc):
    scope = tenant.operator_scope()
    customer = rpc.customers.create_customer(scope, {"shop_id": tenant.shops[0]["id"], "family_name": "日時"})
    path = f"/customers/{customer['id']}/purchases/new"
    lines = {"shop_id": str(tenant.shops[0]["id"]), "line_count": "5", "line_0_product_code": "D-1",
             "line_0_quantity": "1", "line_0_unit_price": "100", "counted": "1"}
    refused = post(operator, path, dict(lines, purchased_at="2026/11/31 12:00", shipped_at="2026/12/02 08:00"))
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "入力内容が正しくありません。" in page
    assert re.search(r'name="purchased_at"[^>]* value="2026/11/31 12:00"', page)
    assert re.search(r'name="shipped_at"[^>]* value="2026/12/02 08:00"', page)
    assert post(operator, path, dict(lines, purchased_at="2026/12/01 12:00", shipped_at="２０２６／１２／０２ ０８：００"),
                token_from=path).status_code == 302
    [purchase] = rpc.purchases.customer_purchases(scope, customer["id"], 1, 10)["purchases"]
    assert (purchase["purchased_at"], purchase["shipped_at"]) == ("2026-12-01T12:00:00+09:00",
                                                                  "2026-12-02T08:00:00+09:00")
    edit = operator.get(f"/customers/{customer['id']}/purchases/{purchase['id']}/edit").get_data(as_text=True)
    assert re.search(r'name="purchased_at"[^>]* value="2026/12/01 12:00"', edit)

    support_url = f"/customers/{customer['id']}/support"
    added = post(operator, support_url, {"staff": "LTV-X", "entered_at": "2026/12/05 18:00", "content": "電話あり。"},
                 token_from=support_url + "?new=1")
    assert added.status_code == 302
    for since, until, found in (("2026/12/05", "2026/12/05", True), ("２０２６／１２／０６", "", False),
                                ("", "2026/12/04", False)):
        page = operator.get(f"{support_url}?from={since}&to={until}").get_data(as_text=True)
        assert ("電話あり。" in page) is found, (since, until)
    page = operator.get(f"{support_url}?from=2026-12-05").get_data(as_text=True)
    assert 'name="from" value="2026/12/05"' in page and "2026-12-05 18:00" in page
    wrong = operator.get(f"{support_url}?from=2026/12/32").get_data(as_text=True)
    assert "記入日の形式が正しくありません（例: 2022/09/01）。" in wrong and 'name="from" value="2026/12/32"' in wrong


def test_the_calendar_is_served_by_the_gateway_itself_and_no_page_needs_the_outside_network(operator):
    page = operator.get("/customers/search/").get_data(as_text=True)
    assets = re.findall(r'<(?:script|link)[^>]* (?:src|href)="([^"]+)"', page)
    assert "/static/vendor/flatpickr/flatpickr.min.js" in assets and "/static/vendor/flatpickr/l10n/ja.js" in assets
    assert "/static/dates.js" in assets and "/static/vendor/flatpickr/flatpickr.min.css" in assets
    for asset in assets:
        assert asset.startswith("/static/"), asset  # no CDN: the admin works on a network of its own
        served = operator.get(asset)
        assert served.status_code == 200 and served.data, asset
        served.close()
