"""The worked example of docs/connectors.md, run as written against the real services: what it says it refuses and
what it applies holds, and running the same sync again changes nothing."""
import re

from tests.support import ROOT


def example_blocks():
    text = (ROOT / "docs" / "connectors.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_the_connector_example_syncs_a_shop_once(stack, rpc, tenant):
    definitions, call = example_blocks()
    scope = tenant.operator_scope()
    namespace = {"amqp_uri": stack.amqp_uri, "company_id": tenant.company_id, "shop_id": tenant.shops[0]["id"]}
    exec(compile(definitions, "docs/connectors.md", "exec"), namespace)
    exec(compile(call, "docs/connectors.md", "exec"), namespace)
    assert namespace["refused"] == {"customers": [{"index": 1, "fields": {"family_name": ["required"]}}], "orders": []}

    customer = rpc.customers.get_customer_by_member_number(scope, "C-1001")
    assert (customer["family_name"], customer["given_name"], customer["pc_email"]) == ("山田", "花子",
                                                                                       "hanako@example.jp")
    purchases = rpc.purchases.customer_purchases(scope, customer["id"])["purchases"]
    assert sorted((p["order_code"], p["sales"], p["counted"]) for p in purchases) == [
        ("O-5001", 800, True), ("O-5002", 400, False)]
    versions = sorted(p["version"] for p in purchases)

    exec(compile(call, "docs/connectors.md", "exec"), namespace)  # the same batches, the same request ids
    again = rpc.purchases.customer_purchases(scope, customer["id"])["purchases"]
    assert sorted(p["version"] for p in again) == versions
    assert rpc.customers.list_customers(scope)["total"] == 1
