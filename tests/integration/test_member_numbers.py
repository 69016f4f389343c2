"""Auto-issued member numbers in a company whose numbers were given by hand, on the real services."""
import concurrent.futures

from nameko.standalone.rpc import ClusterRpcProxy

TAKEN = 2000
HUNG = 120  # seconds: an answer later than this means the service is stuck, not slow


def test_fifty_registrations_at_once_past_two_thousand_numbers_given_by_hand_all_get_distinct_numbers(stack, rpc,
                                                                                                     tenant):
    shop_id = tenant.shops[0]["id"]
    system = {"company_id": tenant.company_id, "role": "system"}
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=HUNG) as client:
        for start in range(1, TAKEN + 1, 500):
            done = client.customers.upsert_customers(system, [
                {"shop_id": shop_id, "member_number": str(n), "family_name": "手入力"}
                for n in range(start, start + 500)])
            assert done["created"] == 500 and not done["errors"]

    def register(i):
        with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=HUNG) as client:
            return client.customers.create_customer(tenant.operator_scope(), {
                "shop_id": shop_id, "family_name": f"自動{i}"})["member_number"]

    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        numbers = list(pool.map(register, range(50)))
    assert sorted(numbers, key=int) == [str(n) for n in range(TAKEN + 1, TAKEN + 51)]
    assert rpc.customers.list_customers(tenant.operator_scope())["total"] == TAKEN + 50


def test_a_member_number_typed_full_width_names_the_same_customer_at_every_entrance(rpc, tenant):
    scope, shop = tenant.operator_scope(), tenant.shops[0]["id"]
    system = {"company_id": tenant.company_id, "role": "system"}
    stored = rpc.customers.upsert_customers(scope, [{"member_number": "ＡＢ－１２３", "shop_id": shop,
                                                     "family_name": "全角", "pc_email": "zen@example.jp",
                                                     "mail_permission": "pc"}])
    assert stored["errors"] == [] and stored["customers"][0]["member_number"] == "AB-123"
    customer = rpc.customers.get_customer_by_member_number(scope, "ＡＢ－１２３")
    assert customer["member_number"] == "AB-123"
    assert rpc.customers.resolve_member_numbers(scope, ["ＡＢ－１２３", "AB-123", "AB-999"]) == {
        "ＡＢ－１２３": {"id": customer["id"], "member_number": "AB-123", "shop_id": shop},
        "AB-123": {"id": customer["id"], "member_number": "AB-123", "shop_id": shop}}

    recorded = rpc.purchases.record_orders(system, [{
        "shop_id": shop, "order_code": "FW-1", "member_number": "ＡＢ－１２３", "purchased_at": "2026-11-01T10:00:00",
        "lines": [{"product_code": "R-1", "quantity": 1, "unit_price": 500}]}])
    assert recorded["errors"] == [] and recorded["created"] == 1
    purchase = rpc.purchases.get_purchase(scope, recorded["purchases"][0]["id"])
    assert (purchase["customer_id"], purchase["member_number"]) == (customer["id"], "AB-123")

    rpc.mailhistory.upsert_mails(system, [{"mail_number": 7, "kind": "manual", "name": "冬のご案内"}])
    reports = rpc.mailhistory.record_activities(system, [
        {"activity": "delivery", "mail_number": 7, "member_number": "ＡＢ－１２３", "result": "delivered",
         "address": "zen@example.jp", "occurred_at": "2026-11-02T09:00:00"},
        {"activity": "delivery", "mail_number": 7, "member_number": "AB-123", "result": "delivered",
         "address": "zen@example.jp", "occurred_at": "2026-11-02T09:00:00"}])
    assert (reports["recorded"], reports["duplicates"], reports["errors"]) == (1, 1, [])
