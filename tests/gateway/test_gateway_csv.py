"""Every CSV the gateway sends: a name that a spreadsheet would run as a formula comes out as text."""
import csv
import io
import re

from tests.gateway.conftest import csrf_token
from tests.support import wait_for

FORMULA = '=HYPERLINK("http://evil.example/","開く")'
NEUTRALISED = "'" + FORMULA


def cells(data, codec):
    return list(csv.reader(io.StringIO(data.decode(codec))))


def test_the_customer_list_download_neutralises_a_formula_name(operator, tenant, rpc):
    scope = tenant.operator_scope()
    rpc.customers.create_customer(scope, {"shop_id": tenant.shops[0]["id"], "member_number": "F-1",
                                          "family_name": FORMULA})
    wait_for(lambda: rpc.search.count(scope, {})["total"] == 1, timeout=20, message="the index")
    download = operator.get("/customers/search/export.csv?search=1&columns=member_number&columns=family_name"
                            "&encoding=utf8bom")
    assert download.status_code == 200
    assert cells(download.get_data(), "utf-8-sig") == [["会員番号", "名前（姓）"], ["F-1", NEUTRALISED]]


def test_the_purchase_download_neutralises_a_formula_product_name(operator, tenant, rpc):
    scope = tenant.operator_scope()
    customer = rpc.customers.create_customer(scope, {"shop_id": tenant.shops[0]["id"], "member_number": "F-2",
                                                     "family_name": "購入"})
    rpc.purchases.record_orders(scope, [{"shop_id": tenant.shops[0]["id"], "order_code": "F-ORDER",
                                         "member_number": "F-2", "purchased_at": "2026-10-01T10:00:00",
                                         "lines": [{"product_code": "F-P", "product_name": FORMULA, "quantity": 1,
                                                    "unit_price": 100}]}])
    download = operator.get(f"/customers/{customer['id']}/purchases/export.csv?encoding=utf8bom")
    assert download.status_code == 200
    header, line = cells(download.get_data(), "utf-8-sig")
    assert line[header.index("商品名称")] == NEUTRALISED and line[header.index("受注コード")] == "F-ORDER"


def test_the_passwords_csv_neutralises_a_formula_shop_name(operator, tenant, rpc):
    shop = rpc.shops.get_shop(tenant.operator_scope(), tenant.shops[0]["id"])
    editable = {k: shop[k] for k in ("manager_name", "postal_code", "address", "phone", "sender_name",
                                     "sender_address", "felica", "status")}
    rpc.shops.update_shop(tenant.operator_scope(), shop["id"], dict(editable, name=FORMULA))
    page = operator.get("/settings/shops/passwords/export").get_data(as_text=True)
    token = re.search(r'name="issue_token" value="([^"]+)"', page).group(1)
    path = "/settings/shops/passwords/export"
    download = operator.post(path, data={"encoding": "utf8bom", "issue_token": token,
                                         "csrf_token": csrf_token(operator, path)})
    assert download.status_code == 200
    rows = cells(download.get_data(), "utf-8-sig")
    assert rows[1][:3] == ["103", NEUTRALISED, tenant.shops[0]["login_id"]]
