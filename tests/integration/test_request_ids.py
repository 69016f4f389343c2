"""A create or batch sent twice with the same request id is applied once, on the real services."""
import concurrent.futures
import re
import uuid

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.common.errors import Conflict, ValidationFailed
from tests.gateway.conftest import log_in
from tests.support import make_tenant, published_events


def system(tenant):
    return {"company_id": tenant.company_id, "role": "system"}


def customer_of(rpc, tenant, member_number="R-0"):
    return rpc.customers.create_customer(tenant.operator_scope(), {
        "shop_id": tenant.shops[0]["id"], "member_number": member_number, "family_name": "山田"})


def mail_of(rpc, tenant):
    rpc.mailhistory.upsert_mails(system(tenant), [{"mail_number": 1, "kind": "manual", "name": "ご案内"}])
    return customer_of(rpc, tenant, "MAIL-1")


class Kind:
    """A kind of create: ``call(rpc, tenant, ready, n, request_id)`` makes the n-th one; ``rows`` counts what it makes
    (by reading RPC); ``event``: (service, event type) it publishes, or None; ``ready_events``: how many events of
    that type ``ready`` itself publishes (its group's creation, for a choice)."""

    def __init__(self, call, rows, event, ready=lambda rpc, tenant: None, ready_events=0):
        self.call, self.event, self.ready, self.ready_events = call, event, ready, ready_events
        self.rows = rows or (lambda rpc, tenant, ready: None)

    def rows_after(self, before, made):
        return None if before is None else before + made


def _group(rpc, tenant, service, method):
    return getattr(getattr(rpc, service), method)(tenant.operator_scope(), {"name": "既存", "in_use": True})


KINDS = {
    "create_customer": Kind(
        lambda rpc, t, _, n, rid: rpc.customers.create_customer(
            t.operator_scope(), {"shop_id": t.shops[0]["id"], "family_name": f"重複{n}"}, request_id=rid),
        lambda rpc, t, _: rpc.customers.list_customers(t.operator_scope())["total"],
        ("customers", "customer_created")),
    "upsert_customers": Kind(
        lambda rpc, t, _, n, rid: rpc.customers.upsert_customers(
            system(t), [{"shop_id": t.shops[0]["id"], "member_number": f"B-{n}", "family_name": "一括"}],
            request_id=rid),
        lambda rpc, t, _: rpc.customers.list_customers(t.operator_scope())["total"],
        ("customers", "customers_recorded")),
    "register_member": Kind(
        lambda rpc, t, _, n, rid: rpc.customers.register_member(
            t.company_id, 103, {"agreed_to_terms": True, "family_name": "鈴木", "given_name": f"花子{n}", "mail_permission": "refused"},
            request_id=rid),
        lambda rpc, t, _: rpc.customers.list_customers(t.operator_scope())["total"],
        ("customers", "customer_created")),
    "add_support_entry": Kind(
        lambda rpc, t, customer, n, rid: rpc.customers.add_support_entry(
            t.operator_scope(), customer["id"], {"staff": "佐藤", "entered_at": "2026-11-01T10:00:00",
                                                  "content": f"電話{n}"}, request_id=rid),
        lambda rpc, t, customer: len(rpc.customers.list_support_entries(t.operator_scope(), customer["id"])),
        ("customers", "support_entry_added"), ready=customer_of),
    "add_group": Kind(
        lambda rpc, t, _, n, rid: rpc.customers.add_group(t.operator_scope(), {"name": f"会員{n}", "in_use": True},
                                                          request_id=rid),
        lambda rpc, t, _: len(rpc.customers.list_groups(t.operator_scope())),
        ("customers", "attribute_group_updated")),
    "add_choice": Kind(
        lambda rpc, t, group, n, rid: rpc.customers.add_choice(t.operator_scope(), group["id"], {"label": f"金{n}"},
                                                               request_id=rid),
        lambda rpc, t, group: len(rpc.customers.list_groups(t.operator_scope())[0]["choices"]),
        ("customers", "attribute_group_updated"),
        ready=lambda rpc, t: _group(rpc, t, "customers", "add_group"), ready_events=1),
    "create_purchase": Kind(
        lambda rpc, t, customer, n, rid: rpc.purchases.create_purchase(t.operator_scope(), {
            "customer_id": customer["id"], "shop_id": t.shops[0]["id"], "purchased_at": f"2026-10-0{n}T10:00:00",
            "lines": [{"product_code": "R-1", "product_name": "ローズ", "quantity": 1, "unit_price": 400}]},
            request_id=rid),
        lambda rpc, t, customer: len(rpc.purchases.customer_purchases(t.operator_scope(), customer["id"])["purchases"]),
        ("purchases", "purchase_recorded"), ready=customer_of),
    "record_orders": Kind(
        lambda rpc, t, customer, n, rid: rpc.purchases.record_orders(system(t), [{
            "shop_id": t.shops[0]["id"], "order_code": f"ORD-{n}", "member_number": customer["member_number"],
            "purchased_at": "2026-10-01T10:00:00",
            "lines": [{"product_code": "R-1", "product_name": "ローズ", "quantity": 2, "unit_price": 400}]}],
            request_id=rid),
        lambda rpc, t, customer: len(rpc.purchases.customer_purchases(t.operator_scope(), customer["id"])["purchases"]),
        ("purchases", "purchases_recorded"), ready=customer_of),
    "add_category": Kind(
        lambda rpc, t, _, n, rid: rpc.purchases.add_category(t.operator_scope(), t.shops[0]["id"], {"name": f"花{n}"},
                                                             request_id=rid),
        lambda rpc, t, _: len(rpc.purchases.list_categories(t.operator_scope(), t.shops[0]["id"])),
        ("purchases", "category_updated")),
    "add_product": Kind(
        lambda rpc, t, _, n, rid: rpc.purchases.add_product(t.operator_scope(), t.shops[0]["id"],
                                                            {"code": f"P-{n}", "name": "薔薇", "price": 400},
                                                            request_id=rid),
        lambda rpc, t, _: len(rpc.purchases.list_products(t.operator_scope(), t.shops[0]["id"])),
        ("purchases", "product_updated")),
    "add_history_group": Kind(
        lambda rpc, t, _, n, rid: rpc.purchases.add_history_group(t.operator_scope(), {"name": f"用途{n}"},
                                                                  request_id=rid),
        lambda rpc, t, _: len(rpc.purchases.list_history_groups(t.operator_scope())),
        ("purchases", "history_group_updated")),
    "add_history_choice": Kind(
        lambda rpc, t, group, n, rid: rpc.purchases.add_history_choice(t.operator_scope(), group["id"],
                                                                       {"label": f"贈答{n}"}, request_id=rid),
        lambda rpc, t, group: len(rpc.purchases.list_history_groups(t.operator_scope())[0]["choices"]),
        ("purchases", "history_group_updated"),
        ready=lambda rpc, t: _group(rpc, t, "purchases", "add_history_group"), ready_events=1),
    "upsert_mails": Kind(
        lambda rpc, t, _, n, rid: rpc.mailhistory.upsert_mails(
            system(t), [{"mail_number": 100 + n, "kind": "manual", "name": f"冬のご案内{n}"}], request_id=rid),
        lambda rpc, t, _: len(rpc.mailhistory.find_mails(t.operator_scope())),
        ("mailhistory", "mail_updated")),
    "record_activities": Kind(
        lambda rpc, t, _, n, rid: rpc.mailhistory.record_activities(system(t), [{
            "activity": "delivery", "mail_number": 1, "member_number": "MAIL-1", "result": "failed",
            "address": "mail1@example.jp", "occurred_at": f"2026-11-0{n}T09:00:00"}], request_id=rid),
        None,  # the 履歴 counts customers, not activities: the events count them
        ("mailhistory", "mail_activity_recorded"), ready=mail_of),
    "save_search": Kind(
        lambda rpc, t, _, n, rid: rpc.search.save_search(t.operator_scope(), f"女性{n}",
                                                         {"attributes": {"genders": ["female"]}}, request_id=rid),
        lambda rpc, t, _: len(rpc.search.list_saved_searches(t.operator_scope())),
        None),
    "update_rfm_settings": Kind(
        lambda rpc, t, _, n, rid: rpc.search.update_rfm_settings(t.operator_scope(), {"rank_names": {"A": f"VIP{n}"}},
                                                                 request_id=rid),
        lambda rpc, t, _: rpc.search.rfm_settings(t.operator_scope())["version"],  # raised by each save
        None),
    "create_shop": Kind(
        lambda rpc, t, _, n, rid: rpc.shops.create_shop(
            t.operator_scope(), {"shop_number": 200 + n, "name": f"新店{n}", "phone": "03-0000-0000"},
            request_id=rid),
        lambda rpc, t, _: len(rpc.shops.list_shops(t.operator_scope())),
        ("shops", "shop_created")),
}


def _ours(tenant):
    """Events of the test's company, leaving out those of the shops the tenant was made with."""
    made_with = {str(shop["id"]) for shop in tenant.shops}
    return lambda event: event["company_id"] == tenant.company_id and not (
        event["entity"] == "shop" and event["entity_id"] in made_with) and not (
        # the shop's ``default`` category comes into being with the first write to its catalogue
        event["entity"] == "category" and event["data"].get("name") == "default")


@pytest.mark.parametrize("name", list(KINDS))
def test_the_same_request_id_twice_is_applied_once_and_another_id_again(rpc, tenant, amqp_uri, name):
    kind = KINDS[name]
    same, other = str(uuid.uuid4()), str(uuid.uuid4())
    service, event_type = kind.event or ("customers", "#")
    with published_events(amqp_uri, service, routing_key=event_type) as take:
        ready = kind.ready(rpc, tenant)
        if kind.ready_events:
            # The outbox publishes after the call returns: the ready step's own events are taken out first.
            take(_ours(tenant), kind.ready_events, message=f"the {event_type} events of the ready step")
        before = kind.rows(rpc, tenant, ready)
        first = kind.call(rpc, tenant, ready, 1, same)
        repeat = kind.call(rpc, tenant, ready, 1, same)
        assert kind.rows(rpc, tenant, ready) == kind.rows_after(before, 1)
        kind.call(rpc, tenant, ready, 2, other)
        assert kind.rows(rpc, tenant, ready) == kind.rows_after(before, 2)
        if kind.event:
            # The outbox publishes in order: once the other id's event is here, a second one of the repeat would be.
            events = take(_ours(tenant), 2, message=f"{event_type} events")
            assert len(events) == 2
    if name == "create_shop":  # passwords are not kept: a repeat returns the shop without it
        assert first["password"] and repeat == dict(first, password=None)
    else:
        assert repeat == first


def test_a_repeat_while_the_first_is_still_running_is_applied_once(stack, rpc, tenant):
    request_id = str(uuid.uuid4())

    def create(i):
        with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=60) as client:
            return client.customers.create_customer(tenant.operator_scope(), {
                "shop_id": tenant.shops[0]["id"], "family_name": "並行"}, request_id=request_id)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(create, range(8)))
    assert len({r["id"] for r in results}) == 1 and all(r == results[0] for r in results)
    assert rpc.customers.list_customers(tenant.operator_scope())["total"] == 1


def test_without_a_request_id_every_call_creates(rpc, tenant):
    for _ in range(2):
        rpc.customers.create_customer(tenant.operator_scope(), {"shop_id": tenant.shops[0]["id"], "family_name": "無印"})
    assert rpc.customers.list_customers(tenant.operator_scope())["total"] == 2


def test_a_request_id_belongs_to_one_method_and_one_caller(rpc, tenant, stack):
    request_id = str(uuid.uuid4())
    rpc.customers.add_group(tenant.operator_scope(), {"name": "会員"}, request_id=request_id)
    with pytest.raises(Conflict) as refused:
        rpc.customers.create_customer(tenant.operator_scope(), {"shop_id": tenant.shops[0]["id"],
                                                                "family_name": "別"}, request_id=request_id)
    assert refused.value.fields == {"request_id": ["reused"]}
    with pytest.raises(Conflict):
        rpc.customers.add_group(tenant.shop_scope(0), {"name": "会員"}, request_id=request_id)
    other = make_tenant(stack.urls["shops"])
    with pytest.raises(Conflict):
        rpc.customers.add_group(other.operator_scope(), {"name": "会員"}, request_id=request_id)
    assert rpc.customers.list_groups(other.operator_scope()) == []
    assert rpc.customers.list_customers(tenant.operator_scope())["total"] == 0


def test_a_refused_create_keeps_nothing_so_the_corrected_retry_is_applied(rpc, tenant):
    request_id = str(uuid.uuid4())
    with pytest.raises(ValidationFailed):
        rpc.customers.create_customer(tenant.operator_scope(), {"shop_id": tenant.shops[0]["id"], "family_name": ""},
                                      request_id=request_id)
    created = rpc.customers.create_customer(tenant.operator_scope(), {"shop_id": tenant.shops[0]["id"],
                                                                      "family_name": "訂正"}, request_id=request_id)
    assert created["family_name"] == "訂正"


@pytest.mark.parametrize("request_id", ["", "x" * 65, "スペース id", 42])
def test_a_malformed_request_id_is_refused(rpc, tenant, request_id):
    with pytest.raises(ValidationFailed) as refused:
        rpc.customers.create_customer(tenant.operator_scope(), {"shop_id": tenant.shops[0]["id"],
                                                                "family_name": "山田"}, request_id=request_id)
    assert refused.value.fields == {"request_id": ["invalid"]}
    assert rpc.customers.list_customers(tenant.operator_scope())["total"] == 0


# --- the gateway: a form posted again is applied once --------------------------------------------------------------

def _hidden(page, name):
    match = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert match, f"no {name} on the page"
    return match.group(1)


def _customer_form(tenant, **fields):
    form = {"shop_id": str(tenant.shops[0]["id"]), "family_name": "二度押", "given_name": "太郎",
            "gender": "male", "mail_permission": "refused", "customer_class": "new"}
    form.update(fields)
    return form


def test_the_customer_form_posted_twice_registers_one_customer(app, rpc, tenant):
    client = app.test_client()
    log_in(client, tenant.operator_login, tenant.password)
    page = client.get("/customers/new").get_data(as_text=True)
    form = dict(_customer_form(tenant), csrf_token=_hidden(page, "csrf_token"),
                request_id=_hidden(page, "request_id"))
    confirm = client.post("/customers/new", data=dict(form, action="confirm")).get_data(as_text=True)
    assert _hidden(confirm, "request_id") == form["request_id"]  # carried to the 登録 button
    first = client.post("/customers/new", data=dict(form, action="save"))
    again = client.post("/customers/new", data=dict(form, action="save"))
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert rpc.customers.list_customers(tenant.operator_scope())["total"] == 1


def test_a_form_post_without_a_request_id_is_a_new_request_each_time(app, rpc, tenant):
    client = app.test_client()
    log_in(client, tenant.operator_login, tenant.password)
    token = _hidden(client.get("/customers/new").get_data(as_text=True), "csrf_token")
    for _ in range(2):
        posted = client.post("/customers/new", data=dict(_customer_form(tenant), csrf_token=token, action="save"))
        assert posted.status_code == 302
    assert rpc.customers.list_customers(tenant.operator_scope())["total"] == 2


def test_the_public_registration_posted_twice_registers_one_member(app, rpc, tenant):
    client = app.test_client()
    path = f"/register/{tenant.company_id}/103"
    page = client.get(path).get_data(as_text=True)
    form = {"csrf_token": _hidden(page, "csrf_token"), "request_id": _hidden(page, "request_id"),
            "agreed_to_terms": "1", "family_name": "鈴木", "given_name": "花子", "mail_permission": "refused"}
    first = client.post(path, data=form)
    again = client.post(path, data=form)
    assert first.status_code == again.status_code == 200
    assert "登録" in again.get_data(as_text=True)
    customers = rpc.customers.list_customers(tenant.operator_scope())["customers"]
    assert [c["family_name"] for c in customers] == ["鈴木"]
    assert customers[0]["member_number"] in again.get_data(as_text=True)
