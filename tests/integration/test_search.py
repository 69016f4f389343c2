"""Search over the index the owners' events build: each condition checked by exactly which customers match."""
import json

import pytest

from services.common.errors import ValidationFailed
from tests.support import HUNG_SECONDS, wait_for


@pytest.fixture
def world(rpc, tenant):
    """Customers A–E of one company, their purchases and mails, built through the owner services."""
    scope = tenant.operator_scope()
    shop1, shop2 = tenant.shops[0]["id"], tenant.shops[1]["id"]
    group = rpc.customers.add_group(scope, {"name": "会員ステータス"})
    group = rpc.customers.add_choice(scope, group["id"], {"label": "プラチナ"})
    platinum = group["choices"][0]["id"]
    people = {
        "A": {"family_name": "山田", "family_kana": "やまだ", "gender": "female", "birth_date": "1990-05-01",
              "mail_permission": "pc", "pc_email": "a@example.jp", "choices": {str(group["id"]): platinum}},
        "B": {"family_name": "佐藤", "family_kana": "サトウ", "gender": "male", "birth_date": "1960-01-01",
              "mail_permission": "mobile", "mobile_email": "b@example.jp", "remark1": "VIP客"},
        "C": {"family_name": "ﾔﾏﾓﾄ", "gender": "female", "mail_permission": "refused", "points_held": 500},
        "D": {"family_name": "鈴木", "mail_permission": "refused"},
        "E": {"family_name": "田中", "mail_permission": "pc", "pc_email": "e@example.jp", "shop_id": shop2},
    }
    ids = {}
    for number, (key, fields) in enumerate(people.items(), start=1):
        record = {"shop_id": shop1, "member_number": str(number), **fields}
        ids[key] = rpc.customers.create_customer(scope, record)["id"]
    orders = [
        ("A", "O-1", shop1, "2026-01-10T10:00:00", [("R-1", 1)], True),
        ("A", "O-2", shop1, "2026-03-10T10:00:00", [("W-1", 2)], True),
        ("B", "O-3", shop1, "2026-02-01T10:00:00", [("R-1", 1)], True),
        ("C", "O-4", shop2, "2026-02-15T10:00:00", [("X-1", 1)], True),
        ("C", "O-5", shop2, "2026-02-20T10:00:00", [("X-1", 1)], False),
    ]
    for member, code, shop, at, lines, counted in orders:
        number = str(list(people).index(member) + 1)
        rpc.purchases.record_orders(scope, [{"shop_id": shop, "order_code": code, "member_number": number,
                                             "purchased_at": at, "counted": counted,
                                             "lines": [{"product_code": c, "quantity": q, "unit_price": 1000}
                                                       for c, q in lines]}])
    rpc.mailhistory.upsert_mails(scope, [{"mail_number": 1, "kind": "manual", "name": "案内"},
                                         {"mail_number": 2, "kind": "automatic", "name": "自動"}])
    rpc.mailhistory.record_activities(scope, [
        {"activity": "delivery", "mail_number": 1, "member_number": "1", "result": "delivered",
         "address": "a@example.jp", "occurred_at": "2026-04-01T10:00:00"},
        {"activity": "open", "mail_number": 1, "member_number": "1", "occurred_at": "2026-04-01T12:00:00"},
        {"activity": "delivery", "mail_number": 1, "member_number": "2", "result": "delivered",
         "address": "b@example.jp", "occurred_at": "2026-04-01T10:00:00"},
        {"activity": "delivery", "mail_number": 2, "member_number": "5", "result": "delivered",
         "address": "e@example.jp", "occurred_at": "2026-04-02T10:00:00"},
    ] + [{"activity": "delivery", "mail_number": 1, "member_number": "4", "result": "failed",
          "address": "d@example.jp", "occurred_at": f"2026-04-0{day}T10:00:00"} for day in (1, 2, 3)])

    def indexed():
        found = rpc.search.search(scope, {}, {"per_page": 100})["customers"]
        opened = rpc.search.count(scope, {"mails": {"manual": {"opened": "include"}}})["total"]
        errors = rpc.search.count(scope, {"attributes": {"address_error": True}})["total"]
        counts = {c["member_number"]: c["purchase_count"] for c in found}
        return len(found) == 5 and counts.get("1") == 2 and counts.get("3") == 1 and opened == 1 and errors == 1

    wait_for(indexed, interval=0.3, message="the index to catch up")
    return {"scope": scope, "ids": ids, "group": group["id"], "platinum": platinum, "shop1": shop1, "shop2": shop2}


def matching(rpc, world, conditions):
    hits = rpc.search.search(world["scope"], conditions, {"per_page": 100})["customers"]
    by_id = {v: k for k, v in world["ids"].items()}
    names = sorted(by_id[h["id"]] for h in hits)
    assert rpc.search.count(world["scope"], conditions)["total"] == len(names)
    return names


def test_empty_conditions_return_every_customer_in_scope(rpc, world, tenant):
    assert matching(rpc, world, {}) == ["A", "B", "C", "D", "E"]
    shop_scope = tenant.shop_scope(1)
    assert [h["member_number"] for h in rpc.search.search(shop_scope, {})["customers"]] == ["5"]


def test_attribute_conditions(rpc, world):
    assert matching(rpc, world, {"attributes": {"name": "ヤマ"}}) == ["A", "C"], "kana and width folded"
    assert matching(rpc, world, {"attributes": {"member_numbers": "1-2, 5"}}) == ["A", "B", "E"]
    assert matching(rpc, world, {"attributes": {"genders": ["female"]}}) == ["A", "C"]
    assert matching(rpc, world, {"attributes": {"age": {"min": 60}}}) == ["B"]
    assert matching(rpc, world, {"attributes": {"mail_permissions": ["refused"]}}) == ["C", "D"]
    assert matching(rpc, world, {"attributes": {"address_error": True}}) == ["D"]
    assert matching(rpc, world, {"attributes": {"email": "B@EXAMPLE"}}) == ["B"]
    assert matching(rpc, world, {"attributes": {"remarks": {"1": "VIP"}}}) == ["B"]
    assert matching(rpc, world, {"attributes": {"points_held": {"min": 100}}}) == ["C"]
    assert matching(rpc, world, {"attributes": {"shop_ids": [world["shop2"]]}}) == ["E"]


def test_unselected_means_no_choice_in_the_group(rpc, world):
    group = str(world["group"])
    assert matching(rpc, world, {"attributes": {"choices": {group: [world["platinum"]]}}}) == ["A"]
    assert matching(rpc, world, {"attributes": {"choices": {group: ["unselected"]}}}) == ["B", "C", "D", "E"]


def test_purchase_count_0_to_0_is_never_bought_and_1_to_1_bought_once(rpc, world):
    assert matching(rpc, world, {"latest": {"purchase_count": {"min": 0, "max": 0}}}) == ["D", "E"]
    assert matching(rpc, world, {"latest": {"purchase_count": {"min": 1, "max": 1}}}) == ["B", "C"]
    assert matching(rpc, world, {"latest": {"purchase_total": {"min": 2500}}}) == ["A"]


def test_uncounted_purchases_never_count(rpc, world):
    # C bought twice, but the second purchase is not 集計対象: C counts as bought once, latest in February 15.
    assert matching(rpc, world, {"latest": {"latest_purchase": {"from": "2026-02-16", "to": "2026-02-28"}}}) == []
    assert matching(rpc, world, {"latest": {"latest_purchase": {"from": "2026-02-15", "to": "2026-02-15"}}}) == ["C"]


def test_product_rows_or_within_a_row_and_across_rows(rpc, world):
    shops = [world["shop1"], world["shop2"]]
    either = {"latest": {"shop_ids": shops, "product_rows": [{"product_codes": ["R-1", "X-1"],
                                                              "count": {"min": 1}}]}}
    assert matching(rpc, world, either) == ["A", "B", "C"]
    both = {"latest": {"shop_ids": shops, "product_rows": [{"product_codes": ["R-1"], "count": {"min": 1}},
                                                           {"product_codes": ["W-1"], "count": {"min": 1}}]}}
    assert matching(rpc, world, both) == ["A"]
    with pytest.raises(ValidationFailed) as refused:
        rpc.search.count(world["scope"], {"latest": {"product_rows": [{"product_codes": ["R-1"]}]}})
    assert refused.value.fields == {"latest.shop_ids": ["required_with_products"]}


def test_period_conditions(rpc, world):
    february = {"from": "2026-02-01", "to": "2026-02-28"}
    assert matching(rpc, world, {"period": {"purchased": february}}) == ["B", "C"]
    assert matching(rpc, world, {"period": {"purchased": february, "count": {"min": 0, "max": 0}}}) == ["A", "D", "E"]
    assert matching(rpc, world, {"period": {"shop_ids": [world["shop1"]], "purchased": february}}) == ["B"]


def test_mail_conditions_include_and_exclude(rpc, world):
    assert matching(rpc, world, {"mails": {"manual": {"sent": "include"}}}) == ["A", "B", "D"]
    assert matching(rpc, world, {"mails": {"manual": {"opened": "include"}}}) == ["A"]
    assert matching(rpc, world, {"mails": {"manual": {"sent": "include", "opened": "exclude"}}}) == ["B", "D"]
    assert matching(rpc, world, {"mails": {"automatic": {"sent": "include"}}}) == ["E"]


def test_sections_combine_with_and_and_each_is_counted_alone(rpc, world):
    conditions = {"attributes": {"genders": ["female"]}, "latest": {"purchase_count": {"min": 1}}}
    assert matching(rpc, world, conditions) == ["A", "C"]
    counts = rpc.search.count(world["scope"], dict(conditions, mails={"manual": {"opened": "include"}}))
    assert counts == {"total": 1, "sections": {"attributes": 2, "latest": 3, "mails": 1}}


def test_bad_conditions_are_reported_by_path(rpc, world):
    with pytest.raises(ValidationFailed) as refused:
        rpc.search.count(world["scope"], {"attributes": {"genders": ["x"], "age": {"min": 50, "max": 20}},
                                          "latest": {"latest_purchase": {"from": "yesterday"}}})
    assert refused.value.fields == {"attributes.genders.0": ["one_of"], "attributes.age.max": ["min_above_max"],
                                    "latest.latest_purchase.from": ["invalid"]}


def test_reconciliation_agrees_and_a_rebuild_restores_a_damaged_index(rpc, world, stack):
    report = rpc.search.reconcile(world["scope"])
    assert report["in_agreement"], report
    assert report["entities"]["customer"] == {"owner": 5, "index": 5, "stale": [], "extra": []}
    from sqlalchemy import text

    from tests.support import session_for

    engine, factory = session_for(stack.urls["search"])
    with factory() as session:  # lose a customer and a purchase from the index
        session.execute(text("DELETE FROM ix_customers WHERE id = :id"), {"id": world["ids"]["B"]})
        session.execute(text("DELETE FROM applied_versions WHERE entity = 'customer' AND entity_id = :id"),
                        {"id": str(world["ids"]["B"])})
        session.commit()
    engine.dispose()
    damaged = rpc.search.reconcile(world["scope"])
    assert not damaged["in_agreement"]
    assert damaged["entities"]["customer"]["stale"] == [str(world["ids"]["B"])]

    def command(*args):  # what an operator of the system runs: python -m services reconcile / rebuild <company>
        import os
        import subprocess
        import sys

        from tests.support import ROOT

        return subprocess.run([sys.executable, "-m", "services", *args, str(world["scope"]["company_id"])], cwd=ROOT,
                              env=dict(os.environ, AMQP_URI=stack.amqp_uri), capture_output=True, text=True,
                              timeout=HUNG_SECONDS)

    reported = command("reconcile")
    assert reported.returncode == 1 and '"in_agreement": false' in reported.stdout
    rebuilt = command("rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    counts = json.loads(rebuilt.stdout)
    assert counts["customer"] == 5 and counts["purchase"] == 5 and counts["mail_activity"] == 7
    assert rpc.search.reconcile(world["scope"])["in_agreement"]
    assert command("reconcile").returncode == 0
    assert matching(rpc, world, {"latest": {"purchase_count": {"min": 1, "max": 1}}}) == ["B", "C"]


def test_line_permission_false_finds_exactly_the_customers_who_refused_line(rpc, tenant):
    scope = tenant.operator_scope()
    shop = tenant.shops[0]["id"]
    people = {"91": {"line_permission": False}, "92": {"line_permission": False, "dm_permission": False},
              "93": {"line_permission": True, "dm_permission": False}, "94": {}}
    ids = {number: rpc.customers.create_customer(scope, {"shop_id": shop, "member_number": number,
                                                         "family_name": "線", **fields})["id"]
           for number, fields in people.items()}
    wait_for(lambda: rpc.search.count(scope, {})["total"] == 4, interval=0.3,
             message="the index to catch up")

    def found(attributes):
        hits = rpc.search.search(scope, {"attributes": attributes}, {"per_page": 100})["customers"]
        assert rpc.search.count(scope, {"attributes": attributes})["total"] == len(hits)
        return sorted(h["member_number"] for h in hits)

    assert found({"line_permission": False}) == ["91", "92"]
    assert found({"line_permission": True}) == ["93", "94"], "allowed unless refused"
    assert found({"line_permission": False, "dm_permission": False}) == ["92"]
    assert found({"line_permission": None}) == ["91", "92", "93", "94"]
    rpc.customers.update_customer(scope, ids["94"], {"line_permission": False})
    wait_for(lambda: found({"line_permission": False}) == ["91", "92", "94"], interval=0.3,
             message="the change to reach the index")


NEVER_BOUGHT_SORTS = {  # member numbers in the order of each sort; 4 never bought, 5 only outside 集計対象
    ("purchase_total", True): ["1", "2", "3", "4", "5"], ("purchase_total", False): ["3", "2", "1", "4", "5"],
    ("purchase_count", True): ["1", "3", "2", "4", "5"], ("purchase_count", False): ["2", "3", "1", "4", "5"],
    ("latest_purchase_at", True): ["2", "1", "3", "4", "5"], ("latest_purchase_at", False): ["3", "1", "2", "4", "5"],
}


def test_customers_who_never_bought_sort_last_in_both_directions_on_both_engines(rpc, tenant):
    """累計購入金額・累計購入回数・最新購入日, descending or ascending: 0円 never sorts above the 655,145円 buyer."""
    scope = tenant.operator_scope()
    shop = tenant.shops[0]["id"]
    for number in "12345":
        rpc.customers.create_customer(scope, {"shop_id": shop, "member_number": number, "family_name": f"並び{number}"})
    orders = [("1", "2026-01-05T10:00:00", 200_000, True), ("1", "2026-02-10T10:00:00", 255_145, True),
              ("1", "2026-03-01T10:00:00", 200_000, True), ("2", "2026-05-01T10:00:00", 100_000, True),
              ("3", "2026-01-15T10:00:00", 10_000, True), ("3", "2026-01-20T10:00:00", 20_000, True),
              ("5", "2026-06-01T10:00:00", 500_000, False)]
    answer = rpc.purchases.record_orders(scope, [
        {"shop_id": shop, "order_code": f"SORT-{i}", "member_number": number, "purchased_at": at, "counted": counted,
         "lines": [{"product_code": "P-1", "quantity": 1, "unit_price": price}]}
        for i, (number, at, price, counted) in enumerate(orders)])
    assert answer["created"] == 7 and not answer["errors"]
    saved = rpc.search.save_search(scope, "全員", {})  # the same answers within a saved search of everyone
    engines = {"everyone": {}, "within a saved search": {"saved_search_id": saved["id"]}}
    figures = {"1": 655_145, "2": 100_000, "3": 30_000, "4": 0, "5": 0}

    def caught_up():
        if not rpc.search.reconcile(scope)["in_agreement"] or rpc.search.health()["store"]["state"] != "ready":
            return False
        # the store's figures (which sort) are asked by a condition only each buyer's current 累計購入金額 matches
        columns_current = all(rpc.search.count(scope, {"attributes": {"member_numbers": number},
                                                       "latest": {"purchase_total": {"min": total, "max": total}}}
                                               )["total"] == 1
                              for number, total in figures.items() if total)
        return columns_current and all(
            {c["member_number"]: c["purchase_total"] for c in rpc.search.search(scope, conditions)["customers"]}
            == figures for conditions in engines.values())

    wait_for(caught_up, interval=0.3, message="the index and the replica's store to catch up")
    for engine, conditions in engines.items():
        for (sort, descending), expected in NEVER_BOUGHT_SORTS.items():
            paging = {"sort": sort, "descending": descending, "per_page": 50}
            hits = rpc.search.search(scope, conditions, paging)["customers"]
            assert [c["member_number"] for c in hits] == expected, (engine, sort, descending)
        # a page boundary inside the buyers: the second page of two starts where the first ended
        pages = [rpc.search.search(scope, conditions, {"sort": "purchase_total", "descending": True, "per_page": 2,
                                                       "page": n})["customers"] for n in (1, 2, 3)]
        assert [c["member_number"] for page in pages for c in page] == ["1", "2", "3", "4", "5"], engine
