"""Product codes as carts use them: printable half-width characters with spaces, folded from full width; other
characters refused with their own code, and an order with such a line changes nothing."""


def order(tenant, code, product_code):
    return {"shop_id": tenant.shops[0]["id"], "order_code": code, "member_number": "PC-1",
            "purchased_at": "2026-11-01T10:00:00",
            "lines": [{"product_code": product_code, "quantity": 1, "unit_price": 1200}]}


def test_a_code_with_spaces_is_kept_and_a_kanji_code_refused(rpc, tenant):
    scope, shop = tenant.operator_scope(), tenant.shops[0]["id"]
    rpc.customers.upsert_customers(scope, [{"member_number": "PC-1", "shop_id": shop, "family_name": "商品"}])
    recorded = rpc.purchases.record_orders(scope, [order(tenant, "SP-1", "TSHIRT WHITE M"),
                                                   order(tenant, "SP-2", "ＢＡＧ　　ＲＥＤ"),
                                                   order(tenant, "SP-3", "バッグ赤")])
    assert recorded["created"] == 2
    assert recorded["errors"] == [{"index": 2, "fields": {"lines.0.product_code": ["half_width_printable"]}}]
    codes = sorted(p["code"] for p in rpc.purchases.list_products(scope, shop))
    assert codes == ["BAG RED", "TSHIRT WHITE M"]
    product = rpc.purchases.add_product(scope, shop, {"code": "MUG  BLUE ", "name": "マグ", "price": 900})
    assert product["code"] == "MUG BLUE"


def test_a_product_made_by_a_refused_order_is_made_again_by_the_next_one_in_the_batch(rpc, tenant):
    scope, shop = tenant.operator_scope(), tenant.shops[0]["id"]
    rpc.customers.upsert_customers(scope, [{"member_number": "PC-1", "shop_id": shop, "family_name": "商品"}])
    too_large = dict(order(tenant, "RB-1", "NEW 1"))
    too_large["lines"] = [{"product_code": "NEW 1", "quantity": 9_999, "unit_price": 9_999_999},
                          {"product_code": "NEW 2", "quantity": 1, "unit_price": 100}]
    recorded = rpc.purchases.record_orders(scope, [too_large, order(tenant, "RB-2", "NEW 1"),
                                                   order(tenant, "RB-3", "NEW 1")])
    assert recorded["errors"] == [{"index": 0, "fields": {"lines": ["total_too_large"]}}]
    assert recorded["created"] == 2
    products = rpc.purchases.list_products(scope, shop)
    assert [(p["code"], p["price"]) for p in products] == [("NEW 1", 1200)]
    lines = [rpc.purchases.get_purchase(scope, p["id"])["lines"][0] for p in recorded["purchases"]]
    assert {line["product_id"] for line in lines} == {products[0]["id"]}
