"""商品 settings and 購入履歴 through the gateway (Flask's client, real services)."""
import re

from services.shops.permissions import DEFAULTS
from tests.gateway.conftest import csrf_token, log_in
from tests.support import RPC_HUNG_SECONDS, add_products as add_many_products


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
    assert 'name="line_0_product_code" value="CART-P"' in page and 'value="CART-P: カート商品"' in page
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


def cards(page):
    """The order codes of the 購入履歴 cards on a page, in order."""
    return re.findall(r'<article class="purchase[^"]*" data-order-code="([^"]+)"', page)


def pager_links(page):
    """{label: href} of the page's first pager."""
    nav = re.search(r'<nav class="pager".*?</nav>', page, re.S).group(0)
    return {re.sub(r"<[^>]+>", "", label).strip(): href.replace("&amp;", "&")
            for href, label in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', nav)}


def test_the_purchases_tab_shows_20_a_page_with_page_numbers_and_first_and_last(operator, tenant, rpc):
    customer_id = new_customer(operator, tenant, name="常連")
    number = rpc.customers.get_customer(tenant.operator_scope(), customer_id)["member_number"]
    rpc.purchases.record_orders(tenant.operator_scope(), [{
        "shop_id": tenant.shops[0]["id"], "order_code": f"TAB-{n:02d}", "member_number": number,
        "purchased_at": f"2026-02-{n:02d}T10:00:00", "lines": [{"product_code": "T-1", "quantity": 1, "unit_price": 100}]}
        for n in range(1, 26)] + [{
        "shop_id": tenant.shops[0]["id"], "order_code": f"TAB-{n:02d}", "member_number": number,
        "purchased_at": f"2026-03-{n - 25:02d}T10:00:00", "lines": [{"product_code": "T-1", "quantity": 1,
                                                                      "unit_price": 100}]} for n in range(26, 46)])
    tab = f"/customers/{customer_id}/purchases/"
    first = operator.get(tab).get_data(as_text=True)
    assert cards(first) == [f"TAB-{n:02d}" for n in range(45, 25, -1)]
    assert 'data-testid="purchase-total">45<' in first and "45件中 1〜20件" in first
    assert '<span class="current" aria-current="page">1</span>' in first
    assert pager_links(first) == {"2": f"{tab}?page=2", "3": f"{tab}?page=3", "次へ ›": f"{tab}?page=2",
                                  "最後 »": f"{tab}?page=3"}
    last = operator.get(f"{tab}?page=3").get_data(as_text=True)
    assert cards(last) == ["TAB-05", "TAB-04", "TAB-03", "TAB-02", "TAB-01"] and "45件中 41〜45件" in last
    assert pager_links(last) == {"« 最初": f"{tab}?page=1", "‹ 前へ": f"{tab}?page=2", "1": f"{tab}?page=1",
                                 "2": f"{tab}?page=2"}
    # 集計対象 changed on page 2 brings the operator back to page 2
    second = operator.get(f"{tab}?page=2").get_data(as_text=True)
    purchase_id = re.search(r"/purchases/(\d+)/counted", second).group(1)
    back = post(operator, f"{tab}{purchase_id}/counted", {"page": "2"}, token_from=f"{tab}?page=2")
    assert back.status_code == 302 and back.headers["Location"].endswith("/purchases/?page=2")
    assert operator.get(f"{tab}?page=abc").status_code == 200  # read as the first page
    beyond = operator.get(f"{tab}?page=999999")
    assert beyond.status_code == 400 and "入力内容が正しくありません" in beyond.get_data(as_text=True)


def test_the_purchase_card_shows_its_history_group_answers(operator, tenant, rpc):
    scope = tenant.operator_scope()
    status = rpc.purchases.add_history_group(scope, {"name": "管理ステイタス"})
    status = rpc.purchases.add_history_choice(scope, status["id"], {"label": "発送済"})
    wrapping = rpc.purchases.add_history_group(scope, {"name": "ラッピング"})
    wrapping = rpc.purchases.add_history_choice(scope, wrapping["id"], {"label": "なし"})
    add_products(operator)
    customer_id = new_customer(operator, tenant)
    form = {"shop_id": str(tenant.shops[0]["id"]), "purchased_at": "2026-11-01T12:00", "line_count": "5",
            "line_0_product_code": "R-1", "line_0_quantity": "1", "counted": "1",
            f"answer_{status['id']}": str(status["choices"][0]["id"])}
    assert post(operator, f"/customers/{customer_id}/purchases/new", form).status_code == 302
    page = operator.get(f"/customers/{customer_id}/purchases/").get_data(as_text=True)
    answers = re.search(r'<dl class="answers".*?</dl>', page, re.S).group(0)
    assert re.sub(r"<[^>]+>", " ", answers).split() == ["管理ステイタス", "発送済"]  # ラッピング not answered
    # a retired group's answer stays readable on the card
    rpc.purchases.retire_history_group(scope, status["id"])
    assert "発送済" in operator.get(f"/customers/{customer_id}/purchases/").get_data(as_text=True)


def test_a_category_of_thousands_of_products_is_paged_and_filtered(operator, tenant, stack):
    shop = tenant.shops[0]["id"]
    add_many_products(stack.urls["purchases"], tenant, shop, [
        {"code": f"BIG-{i:04d}", "name": f"大量商品{i:04d}", "price": i} for i in range(1, 1201)])
    index = operator.get("/settings/products/").get_data(as_text=True)
    default_id = re.search(r'/settings/products/categories/(\d+)"', index).group(1)
    path = f"/settings/products/categories/{default_id}"
    page = operator.get(path).get_data(as_text=True)
    assert 'data-testid="product-total">1,200件<' in page and "1,200件中 1〜50件" in page
    assert re.findall(r"<td>(BIG-\d+)</td>", page) == [f"BIG-{i:04d}" for i in range(1, 51)]
    assert pager_links(page)["最後 »"] == f"{path}?page=24"
    last = operator.get(f"{path}?page=24").get_data(as_text=True)
    assert re.findall(r"<td>(BIG-\d+)</td>", last)[-1] == "BIG-1200"  # not cut at 1,000
    found = operator.get(f"{path}?q=1111").get_data(as_text=True)
    assert re.findall(r"<td>(BIG-\d+)</td>", found) == ["BIG-1111"]
    product_id = re.search(r'/settings/products/(\d+)"', last.split("BIG-1200")[1]).group(1)
    edit = operator.get(f"/settings/products/{product_id}").get_data(as_text=True)  # beyond the first 1,000 too
    assert 'value="BIG-1200"' in edit and 'value="大量商品1200"' in edit


def test_the_product_picker_answers_json_for_the_accounts_shops_only(operator, tenant, stack, app):
    shop1, shop2 = tenant.shops[0]["id"], tenant.shops[1]["id"]
    add_many_products(stack.urls["purchases"], tenant, shop1, [
        {"code": f"PK-{i:04d}", "name": f"ピッカー商品{i}", "price": 100 + i} for i in range(60)])
    found = operator.get(f"/settings/products/picker.json?q=pk-0042&shop_id={shop1}")
    assert found.status_code == 200 and found.is_json
    assert found.get_json() == {"total": 1, "products": [
        {"id": found.get_json()["products"][0]["id"], "shop_id": shop1, "code": "PK-0042", "name": "ピッカー商品42",
         "category_name": "default", "price": 142}]}
    many = operator.get("/settings/products/picker.json?q=ピッカー").get_json()  # no shop: every shop of the account
    assert many["total"] == 60 and len(many["products"]) == 20
    shop = app.test_client()
    log_in(shop, tenant.shops[1]["login_id"], tenant.password)
    refused = shop.get(f"/settings/products/picker.json?q=PK&shop_id={shop1}")
    assert refused.status_code == 403 and refused.is_json and refused.get_json()["message"]
    assert shop.get("/settings/products/picker.json?q=PK").get_json()["total"] == 0  # its own shop: none there
    bad = operator.get(f"/settings/products/picker.json?q={'あ' * 101}&shop_id={shop2}")
    assert bad.status_code == 400 and bad.is_json and bad.get_json()["message"]
    outside = app.test_client().get("/settings/products/picker.json?q=PK")
    assert outside.status_code == 302 and "/login" in outside.headers["Location"]


def test_a_cancelled_or_returned_order_is_marked_and_its_集計対象_cannot_be_turned_on(operator, tenant, rpc):
    scope = tenant.operator_scope()
    customer_id = new_customer(operator, tenant)
    number = rpc.customers.get_customer(scope, customer_id)["member_number"]
    line = [{"product_code": "R-1", "quantity": 1, "unit_price": 400}]
    answer = rpc.purchases.record_orders(scope, [
        {"shop_id": tenant.shops[0]["id"], "order_code": code, "member_number": number, "status": status,
         "purchased_at": f"2026-11-0{day}T12:00", "lines": line}
        for day, (code, status) in enumerate((("C-1", "cancelled"), ("R-1", "returned"), ("O-1", "ordered")), 1)])
    assert answer["created"] == 3
    page = operator.get(f"/customers/{customer_id}/purchases/").get_data(as_text=True)
    cards = dict(re.findall(r'data-order-code="([^"]+)">(.*?)</article>', page, re.S))
    assert [re.findall(r'data-testid="status">([^<]+)<', cards[code]) for code in ("C-1", "R-1", "O-1")] == [
        ["キャンセル"], ["返品"], []]
    assert [('name="counted"' in cards[code]) for code in ("C-1", "R-1", "O-1")] == [False, False, True]
