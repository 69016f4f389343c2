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
