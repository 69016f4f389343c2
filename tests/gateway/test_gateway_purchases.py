"""商品 settings and 購入履歴 through the gateway (Flask's client, real services)."""
import re

from services.shops.permissions import DEFAULTS
from tests.gateway.conftest import csrf_token, log_in
from tests.support import RPC_HUNG_SECONDS


def post(client, path, data, token_from=None):
    return client.post(path, data=dict(data, csrf_token=csrf_token(client, token_from or path)))


def new_customer(client, tenant, name="購入"):
    saved = post(client, "/customers/new", {"shop_id": str(tenant.shops[0]["id"]), "family_name": name,
                                            "mail_permission": "refused", "action": "save"})
    return int(saved.headers["Location"].rstrip("/").split("/")[-1])


def add_products(client):
    for code, name, price in (("R-1", "ローズ赤", "400"), ("W-1", "", "500")):
        assert post(client, "/settings/products/new", {"code": code, "name": name, "price": price}).status_code == 302


def test_products_and_categories_as_the_manual_shows(operator):
    assert post(operator, "/settings/products/categories/new", {"name": "花"}).status_code == 302
    page = operator.get("/settings/products/").get_data(as_text=True)
    assert "商品カテゴリ名" in page and ">default<" in page and ">花<" in page
    refused = post(operator, "/settings/products/new", {"code": "A" * 51, "name": "", "price": "400"})
    assert refused.status_code == 400 and "50文字以内で入力してください。" in refused.get_data(as_text=True)
    add_products(operator)
    default_id = re.search(r'/settings/products/categories/(\d+)"', page).group(1)
    listing = operator.get(f"/settings/products/categories/{default_id}").get_data(as_text=True)
    assert "<td>W-1</td><td>W-1</td>" in listing, "a blank name copies the product code"


def test_register_a_purchase_by_hand_with_two_products_and_a_discount(operator, tenant):
    add_products(operator)
    customer_id = new_customer(operator, tenant)
    form = {"shop_id": str(tenant.shops[0]["id"]), "purchased_at": "2026-11-01T12:00", "shipped_at": "",
            "line_count": "5", "line_0_product_code": "R-1", "line_0_quantity": "2", "line_0_unit_price": "400",
            "line_0_line_remark": "ギフト", "line_1_product_code": "W-1", "line_1_quantity": "1",
            "line_1_unit_price": "500", "billed_amount": "1000", "counted": "1"}
    path = f"/customers/{customer_id}/purchases/new"
    assert post(operator, path, form).status_code == 302
    page = operator.get(f"/customers/{customer_id}/purchases/").get_data(as_text=True)
    assert "ローズ赤" in page and "ギフト" in page and "売上: 1,300円" in page and "割引: 300円" in page
    purchase_id = re.search(r"/purchases/(\d+)/counted", page).group(1)
    toggled = post(operator, f"/customers/{customer_id}/purchases/{purchase_id}/counted", {},
                   token_from=f"/customers/{customer_id}/purchases/")
    assert toggled.status_code == 302
    assert "集計対象外" in operator.get(f"/customers/{customer_id}/purchases/").get_data(as_text=True)


def test_a_required_history_group_must_be_answered(operator, tenant):
    post(operator, "/settings/groups/history/new", {"name": "管理ステイタス", "in_use": "1", "required": "1"})
    add_products(operator)
    customer_id = new_customer(operator, tenant)
    path = f"/customers/{customer_id}/purchases/new"
    refused = post(operator, path, {"shop_id": str(tenant.shops[0]["id"]), "purchased_at": "2026-11-01T12:00",
                                    "line_count": "5", "line_0_product_code": "R-1", "line_0_quantity": "1"})
    assert refused.status_code == 400 and "必須項目です。" in refused.get_data(as_text=True)
    nothing = post(operator, path, {"shop_id": str(tenant.shops[0]["id"]), "purchased_at": "", "line_count": "5"})
    assert nothing.status_code == 400


def test_purchase_download_needs_the_export_permission_for_shop_accounts(operator, tenant, app, stack):
    customer_id = new_customer(operator, tenant)
    assert operator.get(f"/customers/{customer_id}/purchases/export.csv").status_code == 200
    shop = app.test_client()
    log_in(shop, tenant.shops[0]["login_id"], tenant.password)
    assert shop.get(f"/customers/{customer_id}/purchases/export.csv").status_code == 403
    assert "CSVダウンロード" not in shop.get(f"/customers/{customer_id}/purchases/").get_data(as_text=True)
    from nameko.standalone.rpc import ClusterRpcProxy

    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=RPC_HUNG_SECONDS) as rpc:
        rpc.shops.update_permissions(tenant.operator_scope(), tenant.shops[0]["id"],
                                     dict(DEFAULTS, may_export_purchases=True))
    download = shop.get(f"/customers/{customer_id}/purchases/export.csv?encoding=utf8bom")
    assert download.status_code == 200 and download.data.startswith(b"\xef\xbb\xbf")
    assert "会員番号,受注コード" in download.data.decode("utf-8-sig")


def test_editing_a_cart_order_by_hand_keeps_what_the_form_does_not_show_and_delete(operator, tenant, rpc):
    customer_id = new_customer(operator, tenant, name="カート")
    number = rpc.customers.get_customer(tenant.operator_scope(), customer_id)["member_number"]
    recorded = rpc.purchases.record_orders(tenant.operator_scope(), [{
        "shop_id": tenant.shops[0]["id"], "order_code": "CART-1", "member_number": number,
        "purchased_at": "2026-11-01T10:00:00", "media": "instagram", "order_attributes": {"支払方法": "代引き"},
        "lines": [{"product_code": "CART-P", "product_name": "カート商品", "quantity": 1, "unit_price": 800}]}])
    purchase_id = recorded["purchases"][0]["id"]
    edit = f"/customers/{customer_id}/purchases/{purchase_id}/edit"
    page = operator.get(edit).get_data(as_text=True)
    assert 'value="CART-P"' in page and "selected" in page.split('value="CART-P"')[1][:40]
    form = {"shop_id": str(tenant.shops[0]["id"]), "purchased_at": "2026-11-01T10:00", "shipped_at": "",
            "line_count": "5", "line_0_product_code": "CART-P", "line_0_quantity": "2", "line_0_unit_price": "800",
            "billed_amount": "", "counted": "1"}
    assert post(operator, edit, form).status_code == 302
    edited = rpc.purchases.get_purchase(tenant.operator_scope(), purchase_id)
    assert edited["lines"][0]["quantity"] == 2 and edited["version"] == 2
    assert edited["media"] == "instagram" and edited["order_attributes"] == {"支払方法": "代引き"}
    deleted = post(operator, f"/customers/{customer_id}/purchases/{purchase_id}/delete", {},
                   token_from=f"/customers/{customer_id}/purchases/")
    assert deleted.status_code == 302
    assert "CART-1" not in operator.get(f"/customers/{customer_id}/purchases/").get_data(as_text=True)
