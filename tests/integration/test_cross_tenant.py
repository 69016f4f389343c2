"""No RPC reaches another tenant: every method that takes an id or a shop, called with another company's scope and
with another shop's shop scope on a victim's ids, is refused and changes nothing in any database.

The methods are found by introspection of each service's ``SERVICE``: a method with an ``*_id`` / ``*_ids``
argument, or one of those whose payload names a shop or a customer (``PAYLOAD_NAMES_IDS``), must have an entry in
``ATTACKS`` (or be public by design, ``PUBLIC``), so a new method cannot slip by untested.
"""
import base64
import hashlib
import importlib
import inspect

import pytest
from nameko.rpc import Rpc
from sqlalchemy import MetaData, select, text

from services.common.config import SERVICE_NAMES
from services.common.errors import Forbidden, NotFound, ValidationFailed
from services.customers.fields import DEFAULT_FORM
from services.shops.permissions import NAMES as PERMISSION_NAMES
from tests.support import make_tenant, session_for, wait_for

# Methods without a scope that take ids on purpose: the public pages (company + shop number are in their URL) and
# the login, and the gateway's per-request check and logout of its own signed session.
PUBLIC = {("shops", "authenticate"), ("shops", "public_shop"), ("shops", "session_context"),
          ("shops", "end_sessions"), ("customers", "registration_form"), ("customers", "register_member")}
# Methods whose payload (not an argument name) carries a shop id, a customer id or a member number.
PAYLOAD_NAMES_IDS = {("customers", "create_customer"), ("customers", "upsert_customers"),
                     ("customers", "get_customer_by_member_number"), ("customers", "resolve_member_numbers"),
                     ("customers", "resolve_emails"),
                     ("purchases", "create_purchase"), ("purchases", "record_orders"),
                     ("mailhistory", "upsert_mails"), ("mailhistory", "record_activities"),
                     ("mailhistory", "tracking_links"), ("search", "rfm_grid"), ("search", "rfm_movement")}
CURSORS = {"after_id", "request_id"}  # paging cursors and caller-chosen request ids, not ids of things


def rpc_methods():
    for service in SERVICE_NAMES:
        cls = importlib.import_module(f"services.{service}.service").SERVICE
        for name, function in inspect.getmembers(cls, inspect.isfunction):
            if any(isinstance(e, Rpc) for e in getattr(function, "nameko_entrypoints", ())):
                yield service, name, list(inspect.signature(function).parameters)[1:]


def methods_taking_ids():
    found = set()
    for service, name, parameters in rpc_methods():
        takes_id = any(p.endswith(("_id", "_ids")) and p not in CURSORS for p in parameters)
        if takes_id or (service, name) in PAYLOAD_NAMES_IDS:
            found.add((service, name))
    return found - PUBLIC


# --- the refusals expected ---------------------------------------------------------------------------------------

def refused(call):
    """NotFound or Forbidden, nothing else."""
    with pytest.raises((NotFound, Forbidden)):
        call()


def _names(fields, paths):
    """Whether some field path of the failure is one of ``paths`` or lies under one (``answers.12``)."""
    return any(field == path or field.startswith(path + ".") for field in fields for path in paths)


def refused_or_unknown(*paths):
    """Refused, or (for an id inside a payload) a ValidationFailed naming that id's field."""
    def check(call):
        try:
            result = call()
        except (NotFound, Forbidden):
            return
        except ValidationFailed as failure:
            assert _names(failure.fields, paths), failure.fields
            return
        raise AssertionError(f"accepted: {result!r}")
    return check


def batch_refused(*paths):
    """A batch call: every record refused by its index, naming the foreign field (or the whole call refused)."""
    def check(call):
        try:
            result = call()
        except (NotFound, Forbidden):
            return
        assert result["errors"], result
        assert all(_names(e["fields"], paths) for e in result["errors"]), result["errors"]
        assert result.get("created", 0) == result.get("updated", 0) == result.get("saved", 0) == 0, result
    return check


def reports_nothing(call):
    """A report over the caller's own company: a shop of another company names purchases it does not hold (nobody is
    counted), another shop of the caller's company is refused."""
    try:
        result = call()
    except (NotFound, Forbidden):
        return
    counted = result["total"] if "total" in result else result["totals"]["to"]
    assert counted == {"customers": 0, "sales": 0}, result


def resolves_nothing(call):
    try:
        assert call() == {}
    except (NotFound, Forbidden):
        pass


# --- what the attacker sends: builders of the arguments after the scope, from the victim's ids --------------------

VICTIM_FILE = base64.b64encode("会員ID,お名前(姓)\r\nV-1,被害\r\n".encode("cp932")).decode()


def _import_attacks(service):
    """Every インポート機能 method of a service, on the victim's import (or, to create one, its shop)."""
    job = lambda v: getattr(v, f"{service}_import_id")  # noqa: E731
    return {
        (service, "create_import"): (lambda v: (v.shop_id, "乗っ取り.csv"), refused),
        (service, "append_import_chunk"): (lambda v: (job(v), 0, VICTIM_FILE), refused),
        (service, "inspect_import"): (lambda v: (job(v),), refused),
        (service, "preview_import"): (lambda v: (job(v), {}), refused),
        (service, "start_import"): (lambda v: (job(v),), refused),
        (service, "get_import"): (lambda v: (job(v),), refused),
        (service, "import_failed_rows"): (lambda v: (job(v),), refused),
    }


def _order(v):
    return {"shop_id": v.shop_id, "order_code": "X-1", "member_number": v.member_number,
            "purchased_at": "2026-10-01T10:00:00", "lines": [{"product_code": v.product_code, "quantity": 1,
                                                              "unit_price": 1}]}


ATTACKS = {
    # shops
    ("shops", "get_shop"): (lambda v: (v.shop_id,), refused),
    ("shops", "update_shop"): (lambda v: (v.shop_id, {"name": "乗っ取り", "phone": "03-0000-0000"}), refused),
    ("shops", "update_permissions"): (lambda v: (v.shop_id, {n: True for n in PERMISSION_NAMES}), refused),
    ("shops", "regenerate_password"): (lambda v: (v.shop_id,), refused),
    ("shops", "shop_qr_code"): (lambda v: (v.shop_id,), refused),
    # customers
    ("customers", "get_customer"): (lambda v: (v.customer_id,), refused),
    ("customers", "get_customer_view"): (lambda v: (v.customer_id,), refused),
    ("customers", "get_customer_by_member_number"): (lambda v: (v.member_number,), refused),
    ("customers", "resolve_member_numbers"): (lambda v: ([v.member_number],), resolves_nothing),
    ("customers", "validate_customer"): (lambda v: ({"family_name": "乗っ取り"}, v.customer_id), refused),
    ("customers", "create_customer"): (lambda v: ({"shop_id": v.shop_id, "family_name": "乗っ取り"},),
                                       refused_or_unknown("shop_id")),
    ("customers", "update_customer"): (lambda v: (v.customer_id, {"family_name": "乗っ取り"}), refused),
    ("customers", "delete_customer"): (lambda v: (v.customer_id,), refused),
    ("customers", "upsert_customers"): (lambda v: ([{"shop_id": v.shop_id, "member_number": v.member_number,
                                                     "family_name": "乗っ取り"}],),
                                     batch_refused("shop_id", "member_number")),
    ("customers", "shop_counts"): (lambda v: (v.shop_id,), refused),
    ("customers", "get_registration_settings"): (lambda v: (v.shop_id,), refused),
    ("customers", "update_registration_settings"): (lambda v: ({
        "fields": dict(DEFAULT_FORM, phone="required"), "notification_subject": "乗っ取り",
        "notification_body": "乗っ取り"}, v.shop_id), refused),
    ("customers", "update_group"): (lambda v: (v.group_id, {"name": "乗っ取り", "in_use": True}), refused),
    ("customers", "retire_group"): (lambda v: (v.group_id,), refused),
    ("customers", "reorder_groups"): (lambda v: ([v.group_id],), refused_or_unknown("group_ids")),
    ("customers", "add_choice"): (lambda v: (v.group_id, {"label": "乗っ取り"}), refused),
    ("customers", "update_choice"): (lambda v: (v.group_id, v.choice_id, {"label": "乗っ取り"}), refused),
    ("customers", "retire_choice"): (lambda v: (v.group_id, v.choice_id), refused),
    ("customers", "reorder_choices"): (lambda v: (v.group_id, [v.choice_id]), refused),
    ("customers", "list_support_entries"): (lambda v: (v.customer_id,), refused),
    ("customers", "add_support_entry"): (lambda v: (v.customer_id, {"staff": "x", "entered_at": "2026-11-01T10:00:00",
                                                                    "content": "乗っ取り"}), refused),
    ("customers", "update_support_entry"): (lambda v: (v.entry_id, {"staff": "x", "entered_at": "2026-11-01T10:00:00",
                                                                    "content": "乗っ取り"}), refused),
    ("customers", "delete_support_entry"): (lambda v: (v.entry_id,), refused),
    # purchases
    ("purchases", "create_purchase"): (lambda v: ({"customer_id": v.customer_id, "shop_id": v.shop_id,
                                                   "purchased_at": "2026-11-01T12:00", "lines": [
                                                       {"product_code": v.product_code, "quantity": 1}]},),
                                       refused_or_unknown("shop_id")),
    ("purchases", "record_orders"): (lambda v: ([_order(v)],), batch_refused("shop_id", "member_number")),
    ("purchases", "get_purchase"): (lambda v: (v.purchase_id,), refused),
    ("purchases", "update_purchase"): (lambda v: (v.purchase_id, {"shop_id": v.shop_id,
                                                                  "purchased_at": "2026-11-01T12:00", "lines": [
                                                                      {"product_code": "X", "quantity": 1}]}),
                                       refused),
    ("purchases", "set_counted"): (lambda v: (v.purchase_id, False), refused),
    ("purchases", "delete_purchase"): (lambda v: (v.purchase_id,), refused),
    ("purchases", "customer_purchases"): (lambda v: (v.customer_id,), refused),
    ("purchases", "export_purchases"): (lambda v: (v.customer_id,), refused),
    ("purchases", "list_categories"): (lambda v: (v.shop_id,), refused),
    ("purchases", "add_category"): (lambda v: (v.shop_id, {"name": "乗っ取り"}), refused),
    ("purchases", "rename_category"): (lambda v: (v.category_id, {"name": "乗っ取り"}), refused),
    ("purchases", "delete_category"): (lambda v: (v.category_id,), refused),
    ("purchases", "list_products"): (lambda v: (v.shop_id,), refused),
    ("purchases", "search_products"): (lambda v: ([v.shop_id], "", v.category_id), refused),
    ("purchases", "get_product"): (lambda v: (v.product_id,), refused),
    ("purchases", "add_product"): (lambda v: (v.shop_id, {"code": "NEW-X", "name": "乗っ取り"}), refused),
    ("purchases", "update_product"): (lambda v: (v.product_id, {"code": v.product_code, "name": "乗っ取り"}), refused),
    ("purchases", "update_history_group"): (lambda v: (v.history_group_id, {"name": "乗っ取り"}), refused),
    ("purchases", "retire_history_group"): (lambda v: (v.history_group_id,), refused),
    ("purchases", "reorder_history_groups"): (lambda v: ([v.history_group_id],),
                                              refused_or_unknown("group_ids")),
    ("purchases", "add_history_choice"): (lambda v: (v.history_group_id, {"label": "乗っ取り"}), refused),
    ("purchases", "update_history_choice"): (lambda v: (v.history_group_id, v.history_choice_id,
                                                        {"label": "乗っ取り"}), refused),
    ("purchases", "retire_history_choice"): (lambda v: (v.history_group_id, v.history_choice_id), refused),
    ("purchases", "reorder_history_choices"): (lambda v: (v.history_group_id, [v.history_choice_id]), refused),
    # mail history
    ("mailhistory", "customer_history"): (lambda v: (v.customer_id,), refused),
    ("mailhistory", "upsert_mails"): (lambda v: ([{"mail_number": 9, "kind": "manual", "name": "乗っ取り",
                                                   "shop_id": v.shop_id}],), batch_refused("shop_id")),
    ("mailhistory", "record_activities"): (lambda v: ([{"activity": "open", "mail_number": 1,
                                                        "member_number": v.member_number,
                                                        "occurred_at": "2026-04-01T12:00:00"}],),
                                           batch_refused("member_number", "mail_number")),
    ("mailhistory", "tracking_links"): (lambda v: (1, v.member_number, ["https://shop.example.jp/"]), refused),
    # search
    ("search", "delete_saved_search"): (lambda v: (v.saved_search_id,), refused),
    ("search", "rfm_grid"): (lambda v: ({"day": "2026-10-01", "shop_ids": [v.shop_id]},), reports_nothing),
    ("search", "rfm_movement"): (lambda v: ({"day_from": "2026-09-01", "day_to": "2026-10-01",
                                             "shop_ids": [v.shop_id]},), reports_nothing),
    # インポート機能
    ("customers", "resolve_emails"): (lambda v: ([v.email],), resolves_nothing),
    **_import_attacks("customers"),
    **_import_attacks("purchases"),
}


def test_every_method_taking_an_id_or_a_shop_has_an_attack():
    missing = methods_taking_ids() - set(ATTACKS)
    stale = set(ATTACKS) - methods_taking_ids()
    assert not missing, f"methods taking an id or a shop without a cross-tenant attack: {sorted(missing)}"
    assert not stale, f"attacks on methods that no longer take an id: {sorted(stale)}"


# --- the victim and the fingerprint of every database -----------------------------------------------------------

class World:
    """Something of every kind in shop 103 of a company of its own."""


def build_world(stack, rpc):
    tenant = make_tenant(stack.urls["shops"])
    scope = tenant.operator_scope()
    shop_scope = dict(tenant.shop_scope(0, {n: True for n in PERMISSION_NAMES}))
    v = World()
    v.tenant = tenant
    v.shop_id = tenant.shops[0]["id"]
    v.member_number = f"V-{tenant.company_id}"
    v.email = f"v-{tenant.company_id}@example.jp"
    customer = rpc.customers.create_customer(scope, {"shop_id": v.shop_id, "family_name": "被害",
                                                     "member_number": v.member_number, "pc_email": v.email,
                                                     "mail_permission": "pc"})
    v.customer_id = customer["id"]
    v.entry_id = rpc.customers.add_support_entry(scope, v.customer_id, {
        "staff": "担当", "entered_at": "2026-11-01T10:00:00", "content": "対応"})["id"]
    group = rpc.customers.add_group(scope, {"name": "会員ステータス"})
    group = rpc.customers.add_choice(scope, group["id"], {"label": "プラチナ"})
    v.group_id, v.choice_id = group["id"], group["choices"][0]["id"]
    history_group = rpc.purchases.add_history_group(scope, {"name": "管理ステイタス"})
    history_group = rpc.purchases.add_history_choice(scope, history_group["id"], {"label": "発送済"})
    v.history_group_id, v.history_choice_id = history_group["id"], history_group["choices"][0]["id"]
    v.category_id = rpc.purchases.add_category(scope, v.shop_id, {"name": "花"})["id"]
    v.product_code = "V-ROSE"
    v.product_id = rpc.purchases.add_product(scope, v.shop_id, {"code": v.product_code, "name": "ローズ",
                                                                "category_id": v.category_id, "price": 400})["id"]
    recorded = rpc.purchases.record_orders(scope, [dict(_order(v), order_code="V-ORDER-1")])
    v.purchase_id = recorded["purchases"][0]["id"]
    rpc.mailhistory.upsert_mails(scope, [{"mail_number": 1, "kind": "manual", "name": "案内"}])
    rpc.mailhistory.record_activities(scope, [{"activity": "delivery", "mail_number": 1,
                                               "member_number": v.member_number, "result": "delivered",
                                               "address": v.email, "occurred_at": "2026-04-01T10:00:00"}])
    v.saved_search_id = rpc.search.save_search(shop_scope, "被害店の検索", {}, False)["id"]
    for service in ("customers", "purchases"):  # an import uploaded and read, waiting to be run
        job = getattr(rpc, service).create_import(scope, v.shop_id, "被害.csv")
        getattr(rpc, service).append_import_chunk(scope, job["id"], 0, VICTIM_FILE)
        assert getattr(rpc, service).inspect_import(scope, job["id"])["status"] == "ready"
        setattr(v, f"{service}_import_id", job["id"])
    return v


@pytest.fixture(scope="module")
def victim(stack, rpc):
    return build_world(stack, rpc)


@pytest.fixture(scope="module")
def attacker(stack, rpc):
    """Another company with the same kinds of things, to point its own at the victim's."""
    return build_world(stack, rpc)


class _Database:
    """One service database as the fingerprint reads it: its engine and its tables, reflected once (the schema is
    the migrations' and stays as it is during the run)."""

    def __init__(self, url):
        self.engine, _ = session_for(url)
        self.metadata = MetaData()
        self.metadata.reflect(self.engine)
        self.tables = sorted(self.metadata.tables.values(), key=lambda t: t.name)

    def digest_into(self, digest):
        with self.engine.connect() as connection:
            if self.engine.dialect.name == "postgresql":
                # the server digests each table's rows (every column's text, in a fixed order): the same rows give
                # the same digest and any change in any of them another, without sending the rows here
                for table in self.tables:
                    count, rows = connection.execute(text(
                        f'SELECT count(*), md5(string_agg(t::text, chr(10) ORDER BY t::text)) FROM "{table.name}" t'
                    )).one()
                    digest.update(f"{table.name}\0{count}\0{rows}\0".encode())
                return
            for table in self.tables:
                digest.update(table.name.encode())
                for row in connection.execute(select(table).order_by(*table.columns)):
                    digest.update(repr(tuple(row)).encode())


_databases = {}


@pytest.fixture(scope="module", autouse=True)
def _fingerprint_connections():
    yield
    for database in _databases.values():
        database.engine.dispose()
    _databases.clear()


def fingerprint(urls):
    """A digest of every row of every table of every service's database."""
    digest = hashlib.sha256()
    for service in SERVICE_NAMES:
        if urls[service] not in _databases:
            _databases[urls[service]] = _Database(urls[service])
        _databases[urls[service]].digest_into(digest)
    return digest.hexdigest()


_last_seen = {}


def settled(urls):
    """The fingerprint once the relays and the search index have finished with what came before (at once when
    nothing changed since the previous attack)."""
    last = _last_seen

    def same_twice():
        current = fingerprint(urls)
        stable = last.get("value") == current
        last["value"] = current
        return stable

    wait_for(same_twice, timeout=60, interval=1.0, message="the databases to settle")
    return last["value"]


def attacks():
    return [pytest.param(key, id=f"{key[0]}.{key[1]}") for key in sorted(ATTACKS)]


@pytest.mark.parametrize("method", attacks())
@pytest.mark.parametrize("who", ["other_company", "other_shop"])
def test_another_tenant_is_refused_and_nothing_changes(stack, rpc, victim, attacker, who, method):
    if who == "other_company":
        scope = attacker.tenant.operator_scope()
    else:
        scope = victim.tenant.shop_scope(1, {n: True for n in PERMISSION_NAMES})
    build, expect = ATTACKS[method]
    before = settled(stack.urls)
    expect(lambda: getattr(getattr(rpc, method[0]), method[1])(scope, *build(victim)))
    assert fingerprint(stack.urls) == before, f"{method[0]}.{method[1]} changed a database"


def test_listing_a_new_shops_categories_writes_nothing_and_shows_default_until_the_first_write(stack, rpc, tenant):
    scope, shop_id = tenant.operator_scope(), tenant.shops[1]["id"]
    before = settled(stack.urls)
    assert rpc.purchases.list_categories(scope, shop_id) == [
        {"id": None, "shop_id": shop_id, "name": "default", "product_count": 0, "version": 0}]
    assert fingerprint(stack.urls) == before
    flower = rpc.purchases.add_category(scope, shop_id, {"name": "花"})
    listed = rpc.purchases.list_categories(scope, shop_id)
    assert [(c["name"], c["product_count"], c["version"]) for c in listed] == [("default", 0, 1), ("花", 0, 1)]
    assert listed[0]["id"] is not None and listed[1]["id"] == flower["id"]


# The attacker's own things pointing at the victim's: each reference must be refused, not followed.
def _line(code):
    return [{"product_code": code, "quantity": 1, "unit_price": 1}]


MIXED = {
    "customers.update_customer moves its customer to the victim's shop": (
        "customers", "update_customer", lambda v, a: (a.customer_id, {"shop_id": v.shop_id}),
        refused_or_unknown("shop_id")),
    "customers.create_customer with the victim's choice": (
        "customers", "create_customer", lambda v, a: ({"shop_id": a.shop_id, "family_name": "混在",
                                                       "choices": {str(v.group_id): v.choice_id}},),
        refused_or_unknown("choices")),
    "customers.update_choice of its group, the victim's choice": (
        "customers", "update_choice", lambda v, a: (a.group_id, v.choice_id, {"label": "乗っ取り"}), refused),
    "customers.retire_choice of its group, the victim's choice": (
        "customers", "retire_choice", lambda v, a: (a.group_id, v.choice_id), refused),
    "customers.reorder_choices with the victim's choice": (
        "customers", "reorder_choices", lambda v, a: (a.group_id, [a.choice_id, v.choice_id]),
        refused_or_unknown("choice_ids")),
    "purchases.update_history_choice of its group, the victim's choice": (
        "purchases", "update_history_choice", lambda v, a: (a.history_group_id, v.history_choice_id,
                                                           {"label": "乗っ取り"}), refused),
    "purchases.retire_history_choice of its group, the victim's choice": (
        "purchases", "retire_history_choice", lambda v, a: (a.history_group_id, v.history_choice_id), refused),
    "purchases.add_product in its shop, the victim's category": (
        "purchases", "add_product", lambda v, a: (a.shop_id, {"code": "MIX-1", "category_id": v.category_id}),
        refused_or_unknown("category_id")),
    "purchases.update_product into the victim's category": (
        "purchases", "update_product", lambda v, a: (a.product_id, {"code": a.product_code,
                                                                   "category_id": v.category_id}),
        refused_or_unknown("category_id")),
    "purchases.create_purchase for its customer at the victim's shop": (
        "purchases", "create_purchase", lambda v, a: ({"customer_id": a.customer_id, "shop_id": v.shop_id,
                                                       "purchased_at": "2026-11-01T12:00", "lines": _line("MIX")},),
        refused_or_unknown("shop_id")),
    "purchases.create_purchase answering the victim's history group": (
        "purchases", "create_purchase", lambda v, a: ({"customer_id": a.customer_id, "shop_id": a.shop_id,
                                                       "purchased_at": "2026-11-01T12:00", "lines": _line("MIX"),
                                                       "answers": {str(v.history_group_id): v.history_choice_id}},),
        refused_or_unknown("answers")),
    "purchases.update_purchase moves its purchase to the victim's shop": (
        "purchases", "update_purchase", lambda v, a: (a.purchase_id, {"shop_id": v.shop_id,
                                                                      "purchased_at": "2026-11-01T12:00",
                                                                      "lines": _line("MIX")}),
        refused_or_unknown("shop_id")),
    "purchases.record_orders for the victim's member at its shop": (
        "purchases", "record_orders", lambda v, a: ([dict(_order(a), order_code="MIX-1",
                                                          member_number=v.member_number)],),
        batch_refused("member_number")),
    "mailhistory.tracking_links of its mail for the victim's member": (
        "mailhistory", "tracking_links", lambda v, a: (1, v.member_number, ["https://shop.example.jp/"]), refused),
}


@pytest.mark.parametrize("case", sorted(MIXED))
def test_its_own_things_pointing_at_another_companys_are_refused(stack, rpc, victim, attacker, case):
    service, method, build, expect = MIXED[case]
    before = settled(stack.urls)
    expect(lambda: getattr(getattr(rpc, service), method)(attacker.tenant.operator_scope(), *build(victim, attacker)))
    assert fingerprint(stack.urls) == before, f"{case} changed a database"
