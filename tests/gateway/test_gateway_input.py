"""Bad input through the gateway gets a Japanese message beside its field, never a 500, and changes nothing."""
import inspect
import re
from urllib.parse import quote

from flask import url_for

from tests.gateway.conftest import csrf_token


def post(client, path, data):
    return client.post(path, data=dict(data, csrf_token=csrf_token(client, path)))


def customer_count(rpc, tenant):
    return rpc.customers.list_customers(tenant.operator_scope())["total"]


def test_a_nul_in_the_public_registration_form_is_refused_beside_the_name(client, rpc, tenant):
    path = f"/register/{tenant.company_id}/103"
    refused = post(client, path, {"agreed_to_terms": "1", "family_name": "鈴\x00木", "given_name": "花子"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert re.search(r'name="family_name".*?使用できない文字（制御文字など）が含まれています。', page, re.S)
    assert customer_count(rpc, tenant) == 0


def test_a_nul_in_the_customer_filter_is_refused_beside_the_filter(operator, rpc, tenant):
    refused = operator.get("/customers/?q=%E5%B1%B1%00%E7%94%B0")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert re.search(r'name="q".*?使用できない文字（制御文字など）が含まれています。.*?絞り込み', page, re.S)
    assert operator.get("/customers/?q=%E5%B1%B1%E7%94%B0").status_code == 200


def test_points_beyond_the_limit_are_refused_beside_the_points(operator, rpc, tenant):
    refused = post(operator, "/customers/new", {"shop_id": str(tenant.shops[0]["id"]), "family_name": "山田",
                                                "mail_permission": "refused", "points_held": "99999999999999999999999",
                                                "action": "save"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert re.search(r'name="points_held".*?99,999,999以下の数値で入力してください。', page, re.S)
    assert customer_count(rpc, tenant) == 0


def test_a_price_beyond_the_limit_is_refused_and_leaves_no_purchase_nor_product(operator, rpc, tenant):
    shop_id = tenant.shops[0]["id"]
    customer = rpc.customers.create_customer(tenant.operator_scope(), {"shop_id": shop_id, "family_name": "購入"})
    path = f"/customers/{customer['id']}/purchases/new"
    refused = post(operator, path, {"shop_id": str(shop_id), "purchased_at": "2026-11-01T12:00", "line_count": "5",
                                    "line_0_product_code": "BIG-1", "line_0_quantity": "1",
                                    "line_0_unit_price": "99999999999999999999", "counted": "1"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert re.search(r'name="line_0_unit_price".*?9,999,999以下の数値で入力してください。', page, re.S)
    assert rpc.purchases.customer_purchases(tenant.operator_scope(), customer["id"])["purchases"] == []
    assert [p["code"] for p in rpc.purchases.list_products(tenant.operator_scope(), shop_id)] == []


def test_lines_whose_total_is_beyond_the_limit_leave_nothing(operator, rpc, tenant):
    # each line within its limits, their sum not: refused after the first line's product was looked up
    shop_id = tenant.shops[0]["id"]
    customer = rpc.customers.create_customer(tenant.operator_scope(), {"shop_id": shop_id, "family_name": "購入"})
    lines = {}
    for i in range(2):
        lines.update({f"line_{i}_product_code": f"SUM-{i}", f"line_{i}_quantity": "9999",
                      f"line_{i}_unit_price": "9999999"})
    refused = post(operator, f"/customers/{customer['id']}/purchases/new",
                   dict(lines, shop_id=str(shop_id), purchased_at="2026-11-01T12:00", line_count="5", counted="1"))
    assert refused.status_code == 400
    assert "合計金額が上限（999,999,999円）を超えています。" in refused.get_data(as_text=True)
    assert rpc.purchases.customer_purchases(tenant.operator_scope(), customer["id"])["purchases"] == []
    assert rpc.purchases.list_products(tenant.operator_scope(), shop_id) == []


def _query_names(app):
    """The query-string names the gateway's views read, from their source."""
    names = set()
    for function in app.view_functions.values():
        source = inspect.getsource(inspect.getmodule(function))
        names.update(re.findall(r"""args(?:\.get|\.getlist)?[(\[]\s*["']([a-z_0-9]+)["']""", source))
    return sorted(names)


def test_every_get_page_answers_a_nul_or_a_huge_number_in_its_query_without_a_500(app, operator, rpc, tenant):
    shop_id = tenant.shops[0]["id"]
    customer = rpc.customers.create_customer(tenant.operator_scope(), {"shop_id": shop_id, "family_name": "全頁"})
    known = {"customer_id": customer["id"], "shop_id": shop_id, "company_id": tenant.company_id,
             "shop_number": 103}
    names = _query_names(app)
    assert {"q", "page", "shop_id"} <= set(names)
    answered = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.endpoint.startswith("auth."):
            continue
        converters = dict(rule._converters)
        values = {arg: known.get(arg, 1) if _is_int(c) else sorted(getattr(c, "items", None) or ["x"])[0]
                  for arg, c in converters.items()}
        with app.test_request_context():
            path = url_for(rule.endpoint, **values)
            huge = url_for(rule.endpoint, **{a: 2**63 if _is_int(c) else values[a] for a, c in converters.items()})
        for bad in ("a\x00b", "99999999999999999999999", "-99999999999999999999", "\udcff"):
            query = "&".join(f"{name}={_quote(bad)}" for name in names)
            answered[(path, bad)] = operator.get(f"{path}?{query}").status_code
        if huge != path:
            answered[(huge, "")] = operator.get(huge).status_code
    assert {key: status for key, status in answered.items() if status >= 500} == {}
    assert len(answered) >= 4 * 40


def _is_int(converter):
    return type(converter).__name__ == "IntegerConverter"


def _quote(value):
    return quote(value.encode("utf-8", "surrogateescape"), safe="")
