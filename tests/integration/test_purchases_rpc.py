"""The purchases service over RPC on the real broker and database."""
import concurrent.futures

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.common.errors import Conflict, Forbidden, ValidationFailed
from tests.support import RPC_HUNG_SECONDS, make_tenant, published_events


@pytest.fixture
def customer(rpc, tenant):
    return rpc.customers.create_customer(tenant.operator_scope(), {
        "shop_id": tenant.shops[0]["id"], "family_name": "購入", "given_name": "太郎", "member_number": "P-1"})


def order(tenant, code, lines=None, **fields):
    record = {"shop_id": tenant.shops[0]["id"], "order_code": code, "member_number": "P-1",
              "purchased_at": "2026-10-01T10:00:00", "lines": lines or [
                  {"product_code": "R-1", "product_name": "ローズ赤", "quantity": 2, "unit_price": 400}]}
    record.update(fields)
    return record


def test_recording_the_same_order_again_updates_it_and_publishes_a_new_version(rpc, tenant, customer, amqp_uri):
    with published_events(amqp_uri, "purchases", routing_key="purchases_recorded") as take:
        scope = {"company_id": tenant.company_id, "role": "system"}
        first = rpc.purchases.record_orders(scope, [order(tenant, "ORD-1")])
        again = rpc.purchases.record_orders(scope, [order(tenant, "ORD-1", billed_amount=700)])
        assert (first["created"], again["created"], again["updated"]) == (1, 0, 1)
        assert first["purchases"][0]["id"] == again["purchases"][0]["id"]
        history = rpc.purchases.customer_purchases(tenant.operator_scope(), customer["id"])["purchases"]
        assert len(history) == 1 and history[0]["version"] == 2
        assert history[0]["sales"] == 800 and history[0]["billed_amount"] == 700 and history[0]["discount"] == 100
        seen = take(lambda e: e["company_id"] == tenant.company_id, 2, "a purchases_recorded event for each call")
    assert [[(p["id"], p["version"], p["billed_amount"]) for p in e["data"]["purchases"]] for e in seen] == [
        [(history[0]["id"], 1, 800)], [(history[0]["id"], 2, 700)]]


def test_unknown_product_codes_create_products_in_default_with_the_code_as_name(rpc, tenant, customer):
    shop_id = tenant.shops[0]["id"]
    rpc.purchases.record_orders(tenant.operator_scope(), [order(tenant, "ORD-2", lines=[
        {"product_code": "NEW-1", "quantity": 1, "unit_price": 1200},
        {"product_code": "ＮＥＷ－２", "product_name": "新商品", "quantity": 3, "unit_price": 100}])])
    products = {p["code"]: p for p in rpc.purchases.list_products(tenant.operator_scope(), shop_id)}
    assert products["NEW-1"]["name"] == "NEW-1" and products["NEW-1"]["category_name"] == "default"
    assert products["NEW-2"]["name"] == "新商品" and products["NEW-2"]["price"] == 100
    categories = rpc.purchases.list_categories(tenant.operator_scope(), shop_id)
    assert categories[0]["name"] == "default" and categories[0]["product_count"] == 2


def test_concurrent_first_orders_share_one_default_category_product_and_purchase(stack, rpc, tenant, customer):
    """Orders arriving at once for a shop that has no category yet, naming the same new product, some of them the
    same order (each time with another quantity, so each is a change): every call succeeds, and each row exists once."""
    def record(i):
        code = "SAME-1" if i % 2 else f"ORD-C{i}"
        with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=RPC_HUNG_SECONDS) as client:
            return client.purchases.record_orders(tenant.operator_scope(), [order(tenant, code, lines=[
                {"product_code": "RACE-1", "quantity": i + 1, "unit_price": 500}])])

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(record, range(16)))
    assert [r["errors"] for r in results] == [[]] * 16
    assert (sum(r["created"] for r in results), sum(r["updated"] for r in results)) == (9, 7)
    shop_id = tenant.shops[0]["id"]
    categories = rpc.purchases.list_categories(tenant.operator_scope(), shop_id)
    assert [(c["name"], c["product_count"]) for c in categories] == [("default", 1)]
    assert [p["code"] for p in rpc.purchases.list_products(tenant.operator_scope(), shop_id)] == ["RACE-1"]
    purchases = rpc.purchases.customer_purchases(tenant.operator_scope(), customer["id"])["purchases"]
    same = [p for p in purchases if p["order_code"] == "SAME-1"]
    assert len(purchases) == 9 and len(same) == 1 and same[0]["version"] == 8


def test_a_51_character_product_code_is_refused_with_a_clear_message(rpc, tenant):
    shop_id = tenant.shops[0]["id"]
    with pytest.raises(ValidationFailed) as refused:
        rpc.purchases.add_product(tenant.operator_scope(), shop_id, {"code": "A" * 51, "name": "長い"})
    assert refused.value.fields == {"code": ["max_length:50"]}
    with pytest.raises(ValidationFailed) as refused:
        rpc.purchases.add_product(tenant.operator_scope(), shop_id, {"code": "バラ", "name": "全角"})
    assert refused.value.fields == {"code": ["half_width_printable"]}
    made = rpc.purchases.add_product(tenant.operator_scope(), shop_id, {"code": "A" * 50, "name": "", "price": 400})
    assert made["name"] == "A" * 50


def test_categories_add_rename_and_delete_only_when_empty(rpc, tenant):
    shop_id = tenant.shops[0]["id"]
    flower = rpc.purchases.add_category(tenant.operator_scope(), shop_id, {"name": "花"})
    with pytest.raises(ValidationFailed) as refused:
        rpc.purchases.add_category(tenant.operator_scope(), shop_id, {"name": "花"})
    assert refused.value.fields == {"name": ["taken"]}
    rpc.purchases.add_product(tenant.operator_scope(), shop_id, {"code": "R-1", "name": "ローズ赤",
                                                                 "category_id": flower["id"], "price": 400})
    with pytest.raises(Conflict):
        rpc.purchases.delete_category(tenant.operator_scope(), flower["id"])
    default = rpc.purchases.list_categories(tenant.operator_scope(), shop_id)[0]
    with pytest.raises(Conflict):
        rpc.purchases.delete_category(tenant.operator_scope(), default["id"])
    empty = rpc.purchases.add_category(tenant.operator_scope(), shop_id, {"name": "空"})
    rpc.purchases.rename_category(tenant.operator_scope(), empty["id"], {"name": "化粧品"})
    rpc.purchases.delete_category(tenant.operator_scope(), empty["id"])
    names = [c["name"] for c in rpc.purchases.list_categories(tenant.operator_scope(), shop_id)]
    assert names == ["default", "花"]


def test_a_batch_with_one_bad_order_applies_the_others(rpc, tenant, customer):
    result = rpc.purchases.record_orders(tenant.operator_scope(), [
        order(tenant, "B-1"),
        order(tenant, "B-2", member_number="NOBODY"),
        order(tenant, "B-3", lines=[{"product_code": "X" * 51, "quantity": 0}]),
        order(tenant, "B-4", purchased_at="not a date"),
        order(tenant, "B-5"),
    ])
    assert result["created"] == 2
    assert result["errors"] == [
        {"index": 1, "fields": {"member_number": ["unknown_customer"]}},
        {"index": 2, "fields": {"lines.0.product_code": ["max_length:50"], "lines.0.quantity": ["range"]}},
        {"index": 3, "fields": {"purchased_at": ["invalid"]}},
    ]
    codes = [p["order_code"] for p in rpc.purchases.customer_purchases(tenant.operator_scope(), customer["id"])["purchases"]]
    assert sorted(codes) == ["B-1", "B-5"]


def test_a_batch_of_thousands_in_one_call(rpc, tenant, customer):
    orders = [order(tenant, f"T-{i:05d}", lines=[{"product_code": f"SKU-{i % 40}", "quantity": 1 + i % 3,
                                                  "unit_price": 500}]) for i in range(1500)]
    result = rpc.purchases.record_orders(tenant.operator_scope(), orders)
    assert result["created"] == 1500 and not result["errors"]


def test_manual_registration_enforces_required_surveys_and_computes_the_discount(rpc, tenant, customer):
    scope = tenant.operator_scope()
    group = rpc.purchases.add_history_group(scope, {"name": "管理ステイタス", "in_use": True, "required": True})
    group = rpc.purchases.add_history_choice(scope, group["id"], {"label": "発送済"})
    purchase = {"customer_id": customer["id"], "shop_id": tenant.shops[0]["id"], "purchased_at": "2026-11-01T12:00",
                "shipped_at": "2026-11-02T09:00", "billed_amount": 1000, "counted": True, "lines": [
                    {"product_code": "R-1", "product_name": "ローズ赤", "line_remark": "ギフト", "quantity": 2,
                     "unit_price": 400},
                    {"product_code": "W-1", "product_name": "ホワイト", "quantity": 1, "unit_price": 500}]}
    with pytest.raises(ValidationFailed) as refused:
        rpc.purchases.create_purchase(scope, purchase)
    assert refused.value.fields == {f"answers.{group['id']}": ["required"]}
    made = rpc.purchases.create_purchase(scope, dict(purchase, answers={str(group["id"]): group["choices"][0]["id"]}))
    assert made["sales"] == 1300 and made["billed_amount"] == 1000 and made["discount"] == 300
    assert made["order_code"].startswith("M-") and made["lines"][0]["line_remark"] == "ギフト"
    uncounted = rpc.purchases.set_counted(scope, made["id"], False)
    assert uncounted["counted"] is False and uncounted["version"] == 2


def test_a_shop_account_sees_and_records_only_at_its_shop(rpc, tenant, customer):
    rpc.purchases.record_orders(tenant.operator_scope(), [order(tenant, "S-1"),
                                                          order(tenant, "S-2", shop_id=tenant.shops[1]["id"])])
    mine = rpc.purchases.customer_purchases(tenant.shop_scope(0), customer["id"])["purchases"]
    assert [p["order_code"] for p in mine] == ["S-1"]
    other = rpc.purchases.customer_purchases(tenant.operator_scope(), customer["id"])["purchases"]
    other_id = next(p["id"] for p in other if p["order_code"] == "S-2")
    with pytest.raises(Forbidden):
        rpc.purchases.get_purchase(tenant.shop_scope(0), other_id)
    with pytest.raises(Forbidden):
        rpc.purchases.list_products(tenant.shop_scope(0), tenant.shops[1]["id"])


def test_delete_a_purchase(rpc, tenant, customer):
    rpc.purchases.record_orders(tenant.operator_scope(), [order(tenant, "D-1")])
    purchase = rpc.purchases.customer_purchases(tenant.operator_scope(), customer["id"])["purchases"][0]
    rpc.purchases.delete_purchase(tenant.operator_scope(), purchase["id"])
    assert rpc.purchases.customer_purchases(tenant.operator_scope(), customer["id"])["purchases"] == []


def test_every_kind_of_change_goes_out_with_a_rising_version(rpc, tenant, customer, amqp_uri):
    with published_events(amqp_uri, "purchases") as take:
        scope, shop_id = tenant.operator_scope(), tenant.shops[0]["id"]
        recorded = rpc.purchases.record_orders(scope, [order(tenant, "EV-1")])["purchases"][0]
        purchase = rpc.purchases.get_purchase(scope, recorded["id"])
        update = {"shop_id": shop_id, "purchased_at": "2026-10-02T10:00:00", "billed_amount": 500,
                  "lines": [{"product_code": "R-1", "quantity": 3, "unit_price": 400}]}
        updated = rpc.purchases.update_purchase(scope, purchase["id"], update)
        assert (updated["version"], updated["sales"], updated["billed_amount"]) == (2, 1200, 500)
        rpc.purchases.delete_purchase(scope, purchase["id"])
        product = rpc.purchases.list_products(scope, shop_id)[0]
        rpc.purchases.update_product(scope, product["id"], {"code": product["code"], "name": "改名", "price": 450})
        category = rpc.purchases.add_category(scope, shop_id, {"name": "花"})
        rpc.purchases.rename_category(scope, category["id"], {"name": "季節の花"})
        group = rpc.purchases.add_history_group(scope, {"name": "購入のきっかけ"})
        expected = {("purchase", str(purchase["id"])): [("purchase_recorded", 1), ("purchase_recorded", 2),
                                                        ("purchase_deleted", 3)],
                    ("product", str(product["id"])): [("product_updated", 1), ("product_updated", 2)],
                    ("category", str(category["id"])): [("category_updated", 1), ("category_updated", 2)],
                    ("history_group", str(group["id"])): [("history_group_updated", 1)]}
        # record_orders announces its batch in one purchases_recorded, standing for a purchase_recorded of each
        events = take(lambda e: e["company_id"] == tenant.company_id and (
            (e["entity"], e["entity_id"]) in expected or e["event_type"] == "purchases_recorded"),
            sum(map(len, expected.values())), "the purchases service's events")
    seen = {}
    for event in events:
        if event["event_type"] == "purchases_recorded":
            for p in event["data"]["purchases"]:
                seen.setdefault(("purchase", str(p["id"])), []).append(("purchase_recorded", p["version"]))
        else:
            seen.setdefault((event["entity"], event["entity_id"]), []).append((event["event_type"], event["version"]))
    assert seen == expected


def test_a_customers_purchases_come_a_page_at_a_time_newest_first(rpc, tenant, customer):
    shop1, shop2 = tenant.shops[0]["id"], tenant.shops[1]["id"]
    orders = [order(tenant, f"PG-{n:02d}", purchased_at=f"2026-01-01T10:{n:02d}:00", shop_id=shop1 if n <= 40 else shop2)
              for n in range(1, 46)]  # 40 at shop 103, then 5 at shop 5019
    assert rpc.purchases.record_orders(tenant.operator_scope(), orders)["created"] == 45
    scope = tenant.operator_scope()
    first = rpc.purchases.customer_purchases(scope, customer["id"])
    assert (first["total"], first["page"], first["per_page"]) == (45, 1, 20)
    assert [p["order_code"] for p in first["purchases"]] == [f"PG-{n:02d}" for n in range(45, 25, -1)]
    last = rpc.purchases.customer_purchases(scope, customer["id"], 3, 20)
    assert [p["order_code"] for p in last["purchases"]] == ["PG-05", "PG-04", "PG-03", "PG-02", "PG-01"]
    assert rpc.purchases.customer_purchases(scope, customer["id"], 4, 20)["purchases"] == []
    assert last["purchases"][0]["lines"][0]["product_name"] == "ローズ赤"
    # shop 103's account sees the purchases at its shop, paged the same way
    mine = rpc.purchases.customer_purchases(tenant.shop_scope(0), customer["id"], 1, 2)
    assert mine["total"] == 40 and [p["order_code"] for p in mine["purchases"]] == ["PG-40", "PG-39"]
    for page, per_page, field in ((0, 20, "page"), (1, 0, "per_page"), (1, 101, "per_page"), ("2", 20, "page"),
                                  (1, True, "per_page")):
        with pytest.raises(ValidationFailed) as refused:
            rpc.purchases.customer_purchases(scope, customer["id"], page, per_page)
        assert list(refused.value.fields) == [field], (page, per_page)


def _codes(answer):
    return [p["code"] for p in answer["products"]]


def test_the_product_search_finds_one_product_among_5000_by_part_of_its_code_or_name(rpc, catalogue):
    scope, shop = catalogue["tenant"].operator_scope(), catalogue["shop"]
    assert rpc.purchases.search_products(scope, [shop], "SKU")["total"] == 5000
    by_code = rpc.purchases.search_products(scope, [shop], "04321")
    assert by_code["total"] == 1 and _codes(by_code) == ["SKU-04321"]
    assert by_code["products"][0]["name"] == "ガーベラの花束" and by_code["products"][0]["category_name"] == "default"
    assert _codes(rpc.purchases.search_products(scope, [shop], "sku-04321")) == ["SKU-04321"]  # case folded
    assert _codes(rpc.purchases.search_products(scope, [shop], "ＳＫＵ－０４３２１")) == ["SKU-04321"]  # width folded
    by_name = rpc.purchases.search_products(scope, [shop], "紅ほっぺ")
    assert by_name["total"] == 1 and by_name["products"][0] == {
        **catalogue["wanted"], "category_name": "果物"}
    assert _codes(rpc.purchases.search_products(scope, [shop], "ギフト 0707")) == ["FR-0707"]  # every word
    assert _codes(rpc.purchases.search_products(scope, [shop], "果物")) == ["FR-0707"]  # by category name
    assert _codes(rpc.purchases.search_products(scope, [shop], "", catalogue["fruit"])) == ["FR-0707"]
    assert rpc.purchases.search_products(scope, [shop], "100%")["total"] == 0  # % is a character, not a wildcard
    # by code, a page at a time
    second = rpc.purchases.search_products(scope, [shop], "ガーベラ", None, 2, 20)
    assert (second["total"], second["page"], second["per_page"]) == (714, 2, 20)  # every 7th from SKU-00002
    assert _codes(second) == [f"SKU-{i:05d}" for i in range(2 + 7 * 20, 2 + 7 * 40, 7)]


def test_the_product_search_stays_in_the_callers_shops_and_company(stack, rpc, catalogue):
    tenant = catalogue["tenant"]
    shop1, shop2 = catalogue["shop"], tenant.shops[1]["id"]
    assert rpc.purchases.search_products(tenant.operator_scope(), [shop2], "SKU")["total"] == 0
    assert rpc.purchases.search_products(tenant.operator_scope(), [shop1, shop2], "04321")["total"] == 1
    assert _codes(rpc.purchases.search_products(tenant.shop_scope(0), [shop1], "04321")) == ["SKU-04321"]
    with pytest.raises(Forbidden):  # shop 5019's account, asking for shop 103's products
        rpc.purchases.search_products(tenant.shop_scope(1), [shop1], "04321")
    with pytest.raises(Forbidden):
        rpc.purchases.search_products(tenant.shop_scope(1), [shop2, shop1], "")
    other = make_tenant(stack.urls["shops"])
    with pytest.raises(Forbidden):  # another company
        rpc.purchases.search_products(other.operator_scope(), [shop1], "SKU")
    # another shop's category names nothing in this one
    assert rpc.purchases.search_products(tenant.operator_scope(), [shop2], "", catalogue["fruit"])["total"] == 0


SHOP = "the tenant's shop 103"


@pytest.mark.parametrize("arguments, field", [
    (([],), "shop_ids"), (("1",), "shop_ids"), ((["x"],), "shop_ids.0"), (([0],), "shop_ids.0"),
    (([SHOP], 5), "text"), (([SHOP], "あ" * 101), "text"), (([SHOP], "", "3"), "category_id"),
    (([SHOP], "", None, 0), "page"), (([SHOP], "", None, 1, 101), "per_page"), (([SHOP], "", None, 1, 0), "per_page"),
])
def test_the_product_search_refuses_malformed_arguments_by_field(rpc, tenant, arguments, field):
    shop_ids = [tenant.shops[0]["id"] if s == SHOP else s for s in arguments[0]] \
        if isinstance(arguments[0], list) else arguments[0]
    with pytest.raises(ValidationFailed) as refused:
        rpc.purchases.search_products(tenant.operator_scope(), shop_ids, *arguments[1:])
    assert list(refused.value.fields) == [field]


def test_an_order_sent_again_unchanged_keeps_its_version_and_publishes_nothing(rpc, tenant, customer, amqp_uri):
    scope = tenant.operator_scope()
    with published_events(amqp_uri, "purchases", routing_key="purchases_recorded") as take:
        first = rpc.purchases.record_orders(scope, [order(tenant, "U-1"), order(tenant, "U-2")])
        again = rpc.purchases.record_orders(scope, [order(tenant, "U-1"), order(tenant, "U-2", billed_amount=700)])
        third = rpc.purchases.record_orders(scope, [order(tenant, "U-3")])
        ids = {p["index"]: p["id"] for p in first["purchases"]}
        seen = take(lambda e: e["company_id"] == tenant.company_id, 3, "a purchases_recorded event for each batch")
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 1, 1)
    assert again["purchases"] == [{"index": 0, "id": ids[0], "version": 1}, {"index": 1, "id": ids[1], "version": 2}]
    assert [[(p["id"], p["version"]) for p in e["data"]["purchases"]] for e in seen] == [
        [(ids[0], 1), (ids[1], 1)], [(ids[1], 2)], [(third["purchases"][0]["id"], 1)]]
    changed = seen[1]["data"]["purchases"][0]
    assert (changed["order_code"], changed["billed_amount"], changed["counted"], changed["status"]) == (
        "U-2", 700, True, "ordered")


def test_update_only_and_create_only_skip_by_index_with_a_reason(rpc, tenant, customer):
    scope = tenant.operator_scope()
    rpc.purchases.record_orders(scope, [order(tenant, "M-1")])
    only_updates = rpc.purchases.record_orders(scope, [order(tenant, "M-1", billed_amount=500), order(tenant, "M-2")],
                                               options={"mode": "update_only"})
    assert (only_updates["created"], only_updates["updated"]) == (0, 1)
    assert only_updates["skipped"] == [{"index": 1, "reason": "not_stored"}]
    only_new = rpc.purchases.record_orders(scope, [order(tenant, "M-1", billed_amount=600), order(tenant, "M-3")],
                                           options={"mode": "create_only"})
    assert (only_new["created"], only_new["updated"], only_new["unchanged"]) == (1, 0, 0)
    assert only_new["skipped"] == [{"index": 0, "reason": "already_stored"}]
    assert [p["index"] for p in only_new["purchases"]] == [1]
    stored = {p["order_code"]: p["billed_amount"]
              for p in rpc.purchases.customer_purchases(scope, customer["id"])["purchases"]}
    assert stored == {"M-1": 500, "M-3": 800}


def test_the_answer_counts_the_cancelled_and_returned_orders_applied(rpc, tenant, customer):
    scope = tenant.operator_scope()
    answer = rpc.purchases.record_orders(scope, [order(tenant, "K-1", status="cancelled"), order(tenant, "K-2"),
                                                 order(tenant, "K-3", status="returned")])
    assert (answer["created"], answer["cancelled"], answer["skipped"], answer["errors"]) == (3, 2, [], [])


@pytest.mark.parametrize("options, fields", [
    ({"mode": "sometimes"}, {"options.mode": ["one_of"]}),
    ({"mood": "create_only"}, {"options.mood": ["unknown_field"]}),
    ("update_only", {"options": ["invalid"]}),
])
def test_bad_options_are_refused_by_field_and_nothing_is_recorded(rpc, tenant, customer, options, fields):
    scope = tenant.operator_scope()
    with pytest.raises(ValidationFailed) as refused:
        rpc.purchases.record_orders(scope, [order(tenant, "Q-1")], options=options)
    assert refused.value.fields == fields
    assert rpc.purchases.customer_purchases(scope, customer["id"])["total"] == 0


def test_an_order_named_twice_in_one_batch_is_applied_in_turn(rpc, tenant, customer):
    scope = tenant.operator_scope()
    answer = rpc.purchases.record_orders(scope, [order(tenant, "T-1"), order(tenant, "T-1", billed_amount=100),
                                                 order(tenant, "T-1", billed_amount=100)])
    assert (answer["created"], answer["updated"], answer["unchanged"]) == (1, 1, 1)
    assert [(p["index"], p["version"]) for p in answer["purchases"]] == [(0, 1), (1, 2), (2, 2)]
    stored = rpc.purchases.customer_purchases(scope, customer["id"])["purchases"]
    assert [(p["billed_amount"], p["version"]) for p in stored] == [(100, 2)]


def test_a_batch_sent_after_another_whose_answer_has_not_come_is_written_after_it(rpc, tenant, customer):
    """The connector's two batches in flight: the second names the first (``after``) and is written once the first is
    applied, though it is far smaller and checked long before: the order in both ends as the second has it, and the
    product both name new keeps the name of the first mention."""
    scope = tenant.operator_scope()
    group = rpc.purchases.add_history_group(scope, {"name": "管理ステイタス", "in_use": True})
    group = rpc.purchases.add_history_choice(scope, group["id"], {"label": "発送済"})
    answered = {str(group["id"]): group["choices"][0]["id"]}  # each order's answers are read: its checks take a while
    large = [order(tenant, f"AF-{i}", answers=answered,
                   lines=[{"product_code": f"AF-P{i % 50}", "quantity": 1, "unit_price": 100}]) for i in range(1500)]
    large.append(order(tenant, "AF-LAST", billed_amount=700, lines=[
        {"product_code": "AF-NEW", "product_name": "最初の名前", "quantity": 1, "unit_price": 900}]))
    small = [order(tenant, "AF-LAST", billed_amount=500, lines=[
        {"product_code": "AF-NEW", "product_name": "後の名前", "quantity": 1, "unit_price": 900}])]
    first = rpc.purchases.record_orders.call_async(scope, large, request_id="af-batch-1")
    second = rpc.purchases.record_orders.call_async(scope, small, request_id="af-batch-2", after="af-batch-1")
    answers = first.result(), second.result()
    assert (answers[0]["created"], answers[1]["updated"]) == (1501, 1)
    last = rpc.purchases.get_purchase(scope, answers[1]["purchases"][0]["id"])
    assert (last["order_code"], last["billed_amount"], last["version"]) == ("AF-LAST", 500, 2)
    products = {p["code"]: p for p in rpc.purchases.list_products(scope, tenant.shops[0]["id"])}
    assert products["AF-NEW"]["name"] == "最初の名前"


def test_a_malformed_after_is_refused_at_its_field_and_writes_nothing(rpc, tenant, customer):
    with pytest.raises(ValidationFailed) as refused:
        rpc.purchases.record_orders(tenant.operator_scope(), [order(tenant, "AF-BAD")], after="has space")
    assert refused.value.fields == {"after": ["invalid"]}
    assert rpc.purchases.customer_purchases(tenant.operator_scope(), customer["id"])["total"] == 0
