"""Order status: a cancelled or returned order stays on record but never counts, in the service and in search."""
import pytest

from services.common.errors import ValidationFailed
from tests.support import wait_for


@pytest.fixture
def customer(rpc, tenant):
    return rpc.customers.create_customer(tenant.operator_scope(), {
        "shop_id": tenant.shops[0]["id"], "family_name": "取消", "given_name": "花子", "member_number": "S-1"})


def order(tenant, code, **fields):
    return {"shop_id": tenant.shops[0]["id"], "order_code": code, "member_number": "S-1",
            "purchased_at": "2026-10-01T10:00:00",
            "lines": [{"product_code": "R-1", "quantity": 1, "unit_price": 1000}], **fields}


def test_an_order_is_ordered_unless_told_and_a_cancelled_one_is_kept_but_not_counted(rpc, tenant, customer):
    scope = tenant.operator_scope()
    answer = rpc.purchases.record_orders(scope, [order(tenant, "ST-1"), order(tenant, "ST-2", status="cancelled"),
                                                 order(tenant, "ST-3", status="returned", counted=True)])
    assert answer["errors"] == [] and answer["created"] == 3
    history = rpc.purchases.customer_purchases(scope, customer["id"])["purchases"]
    assert sorted((p["order_code"], p["status"], p["counted"]) for p in history) == [
        ("ST-1", "ordered", True), ("ST-2", "cancelled", False), ("ST-3", "returned", False)]


def test_an_unknown_status_is_refused_by_field(rpc, tenant, customer):
    answer = rpc.purchases.record_orders(tenant.operator_scope(), [order(tenant, "ST-4", status="lost")])
    assert answer["errors"] == [{"index": 0, "fields": {"status": ["one_of"]}}]


def test_a_cancelled_purchase_cannot_be_counted_again_by_hand(rpc, tenant, customer):
    scope = tenant.operator_scope()
    purchase_id = rpc.purchases.record_orders(scope, [order(tenant, "ST-5", status="cancelled")])["purchases"][0]["id"]
    with pytest.raises(ValidationFailed) as refused:
        rpc.purchases.set_counted(scope, purchase_id, True)
    assert refused.value.fields == {"counted": ["not_counted_status"]}
    kept = rpc.purchases.set_counted(scope, purchase_id, False)
    assert (kept["status"], kept["counted"]) == ("cancelled", False)


def test_an_order_cancelled_after_its_import_stops_counting_in_search(rpc, tenant, customer):
    """累計購入回数: two orders count 2; the second cancelled in the cart and recorded again, the customer counts 1."""
    scope = tenant.operator_scope()
    rpc.purchases.record_orders(scope, [order(tenant, "ST-6"), order(tenant, "ST-7")])

    def purchase_count():
        found = rpc.search.search(scope, {"attributes": {"member_numbers": "S-1"}}, {"per_page": 10})["customers"]
        return found[0]["purchase_count"] if found else None

    wait_for(lambda: purchase_count() == 2, message="both orders in the index")
    again = rpc.purchases.record_orders(scope, [order(tenant, "ST-7", status="cancelled")])
    assert (again["created"], again["updated"]) == (0, 1)
    wait_for(lambda: purchase_count() == 1, message="the cancelled order to leave the customer's count")
    # The conditions read columns the index refreshes on its own beat, a moment after the customer's row.
    wait_for(lambda: rpc.search.count(scope, {"latest": {"purchase_count": {"min": 2}}})["total"] == 0,
             message="the cancelled order to leave the conditions")
    assert rpc.search.count(scope, {"latest": {"purchase_count": {"min": 1, "max": 1}}})["total"] == 1
