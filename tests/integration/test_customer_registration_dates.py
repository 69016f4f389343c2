"""A customer's 登録日 and 顧客区分 come from the cart or the file when it has them (an imported customer registered
years ago does not show the import day), and searches by 登録日 find it by that day."""
from tests.support import wait_for


def test_a_connector_gives_the_registration_date_and_class(rpc, tenant):
    scope, shop = tenant.operator_scope(), tenant.shops[0]["id"]
    system = {"company_id": tenant.company_id, "role": "system"}
    answer = rpc.customers.upsert_customers(system, [
        {"member_number": "RD-1", "shop_id": shop, "family_name": "古参", "registered_at": "2015-04-01T10:00:00",
         "customer_class": "existing"},
        {"member_number": "RD-2", "shop_id": shop, "family_name": "新参"},
        {"member_number": "RD-3", "shop_id": shop, "family_name": "不正", "registered_at": "2015-13-01"}])
    assert answer["created"] == 2 and [e["index"] for e in answer["errors"]] == [2]
    assert answer["errors"][0]["fields"] == {"registered_at": ["invalid"]}
    old = rpc.customers.get_customer_by_member_number(scope, "RD-1")
    assert (old["registered_at"], old["customer_class"]) == ("2015-04-01T10:00:00+09:00", "existing")

    rpc.customers.upsert_customers(system, [{"member_number": "RD-1", "shop_id": shop, "family_name": "古参"}])
    assert rpc.customers.get_customer_by_member_number(scope, "RD-1")["registered_at"] == "2015-04-01T10:00:00+09:00"

    in_2015 = {"attributes": {"registered": {"from": "2015-04-01", "to": "2015-04-01"}}}
    wait_for(lambda: rpc.search.count(scope, in_2015)["total"] == 1, timeout=60, message="the 2015 registration")
    page = rpc.search.search(scope, in_2015)
    assert [c["member_number"] for c in page["customers"]] == ["RD-1"]
