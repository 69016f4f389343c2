"""Every public RPC method, called with malformed arguments, answers or refuses with one of the project's errors.

The methods are found by introspection of each service class (``services.<name>.service.SERVICE``), so a new
method is fuzzed as soon as it exists. Each call gets, mostly, a valid scope of the tenant and fuzzed other
arguments: wrong types, missing and unknown fields, huge strings and numbers, NUL bytes, lone surrogates, deep
nesting, empty and negative ids, 2**63. A call must either succeed or raise an error of EXPECTED_ERRORS, and a
refused call must leave every service database as it was (row counts, highest ids and versions of every table).
"""
import importlib
import inspect
import os
import time

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from marshmallow import Schema
from nameko.exceptions import IncorrectSignature
from nameko.rpc import Rpc
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import text

from services.common.config import SERVICE_NAMES
from services.common.db import make_engine
from services.common.errors import EXPECTED_ERRORS
from services.customers.fields import DEFAULT_FORM
from services.shops.permissions import DEFAULTS as PERMISSION_DEFAULTS
from tests.support import make_tenant

EXAMPLES = int(os.environ.get("TSUHAN_FUZZ_EXAMPLES", "14"))
"""Examples per method: 14 calls for each of the 93 methods keep the whole test around a minute on a quiet 2-core
machine. Set TSUHAN_FUZZ_EXAMPLES higher to search longer."""

REFUSAL_RECORDS = {"shops.authenticate"}
"""Methods whose refusal legitimately writes (a wrong password is counted towards the lock-out)."""


def rpc_methods():
    """``[(service, method name, parameter names)]`` of every RPC entrypoint of every service."""
    found = []
    for service in SERVICE_NAMES:
        cls = importlib.import_module(f"services.{service}.service").SERVICE
        for name, member in inspect.getmembers(cls, inspect.isfunction):
            # Nameko's rpc entrypoint or the project's own (named so), never an event handler
            if any(isinstance(e, Rpc) or "rpc" in type(e).__name__.lower()
                   for e in getattr(member, "nameko_entrypoints", ())):
                parameters = list(inspect.signature(member).parameters)[1:]
                found.append((service, name, parameters))
    # Removals last, so that the rows the others reach still exist when they are fuzzed.
    return sorted(found, key=lambda m: m[1].startswith(("delete_", "retire_")))


METHODS = rpc_methods()


def test_every_service_exposes_its_methods_to_the_fuzzer():
    assert len(METHODS) >= 88
    assert {m[0] for m in METHODS} == set(SERVICE_NAMES)


def contract_fields():
    """Every field name any contract schema declares: fuzzed payloads use them so that values reach validators."""
    names = set()
    for service in SERVICE_NAMES:
        for module in ("schemas",):
            loaded = importlib.import_module(f"services.{service}.{module}")
            for value in vars(loaded).values():
                if isinstance(value, type) and issubclass(value, Schema):
                    names.update(f.data_key or n for n, f in value._declared_fields.items())
    return sorted(names)


def nested(depth):
    value = "x"
    for i in range(depth):
        value = [value] if i % 2 else {"a": value}
    return value


BAD_INTS = st.sampled_from([0, -1, 1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, -2**63, 10**20, 99999999999999999999999])
BAD_TEXT = st.sampled_from(["", " ", "\x00", "a\x00b", "\ud800", "x\udfffy", "０", "-1", "2147483648", "1e9",
                            "9" * 40, "S1-2", "2026-02-30", "0001-01-01T00:00:00", "9999-12-31T23:59:59-12:00",
                            "1-99999999999999999999", ",".join(map(str, range(2000))), "9999-12-31",
                            "{shop_name.__class__}", "{shop_name:>999999999}", "%_\\",
                            "true", "null", "x" * 70_000, "あ" * 5_000])
SCALARS = st.one_of(st.none(), st.booleans(), BAD_INTS, st.integers(), st.floats(), BAD_TEXT,
                    st.text(max_size=20))
ANY = st.one_of(
    SCALARS,
    st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                 | st.dictionaries(st.text(max_size=4) | BAD_TEXT, inner, max_size=3), max_leaves=8),
    st.integers(20, 60).map(nested),
)


def payload(keys, base=None):
    """Dicts made of known field names with fuzzed values, and (given a valid ``base``) the base with one field
    replaced or removed."""
    made = st.dictionaries(st.sampled_from(keys), ANY, max_size=6)
    if base is None:
        return made
    altered = st.tuples(st.sampled_from(sorted(base) + keys), ANY, st.booleans()).map(
        lambda t: {k: v for k, v in {**base, t[0]: t[1]}.items() if not (t[2] and k == t[0] and k in base)})
    return st.one_of(made, altered)


def nested_payload(base):
    """``base`` with one value one level down replaced (a range's bound, a line's price, a setting's mode)."""
    inner = sorted(k for k, v in base.items() if isinstance(v, dict) and v)
    if not inner:
        return st.just(base)

    def replace(choice):
        key, value = choice
        section = dict(base[key])
        section[sorted(section)[value[0] % len(section)]] = value[1]
        return {**base, key: section}

    return st.tuples(st.sampled_from(inner), st.tuples(st.integers(0, 20), ANY)).map(replace)


class World:
    """The tenant and a few of each thing it owns, so that fuzzed calls also reach rows that exist."""

    def __init__(self, rpc, tenant):
        self.tenant = tenant
        op = tenant.operator_scope()
        shop_id = tenant.shops[0]["id"]
        customer = rpc.customers.create_customer(op, {"shop_id": shop_id, "family_name": "乱数", "given_name": "太郎",
                                                      "member_number": "FZ-1"})
        entry = rpc.customers.add_support_entry(op, customer["id"], {
            "staff": "担当", "entered_at": "2026-11-01T10:00:00", "content": "問い合わせ"})
        group = rpc.customers.add_choice(op, rpc.customers.add_group(op, {"name": "会員ランク", "in_use": True})["id"],
                                         {"label": "ゴールド"})
        history = rpc.purchases.add_history_group(op, {"name": "発送", "in_use": True, "required": False})
        history = rpc.purchases.add_history_choice(op, history["id"], {"label": "発送済"})
        category = rpc.purchases.add_category(op, shop_id, {"name": "花"})
        product = rpc.purchases.add_product(op, shop_id, {"code": "FZ-P", "name": "ばら", "category_id": category["id"],
                                                          "price": 400})
        purchase = rpc.purchases.create_purchase(op, {
            "customer_id": customer["id"], "shop_id": shop_id, "purchased_at": "2026-11-01T12:00",
            "lines": [{"product_code": "FZ-P", "quantity": 1, "unit_price": 400}]})
        rpc.mailhistory.upsert_mails(op, [{"mail_number": 10, "kind": "manual", "name": "冬のご案内"}])
        saved = rpc.search.save_search(op, "保存", {})
        self.ids = {
            "customer_id": customer["id"], "entry_id": entry["id"], "category_id": category["id"],
            "product_id": product["id"], "purchase_id": purchase["id"], "saved_search_id": saved["id"],
            "shop_id": shop_id, "company_id": tenant.company_id, "shop_number": 103, "member_number": "FZ-1",
            "mail_number": 10,
            ("customers", "group_id"): group["id"], ("customers", "choice_id"): group["choices"][0]["id"],
            ("purchases", "group_id"): history["id"], ("purchases", "choice_id"): history["choices"][0]["id"],
        }
        self.bases = {
            "customer": {"shop_id": shop_id, "family_name": "山田", "given_name": "花子", "points_held": 10},
            "purchase": {"customer_id": customer["id"], "shop_id": shop_id, "purchased_at": "2026-11-02T12:00",
                         "lines": [{"product_code": "FZ-P", "quantity": 1, "unit_price": 400}]},
            "product": {"code": "FZ-Q", "name": "ゆり", "price": 100},
            "shop": {"shop_number": 7001, "name": "乱数店", "phone": "03-0000-0000"},
            "company": {"name": "乱数企業", "phone": "03-1234-5678"},
            "group": {"name": "乱数グループ", "in_use": True},
            "choice": {"label": "乱数"}, "category": {"name": "乱数カテゴリ"},
            "entry": {"staff": "担当", "entered_at": "2026-11-01T10:00:00", "content": "内容"},
            "form": {"family_name": "登録", "given_name": "花子", "agree": True},
            "orders": {"shop_id": shop_id, "order_code": "FZ-O", "member_number": "FZ-1",
                       "purchased_at": "2026-10-01T10:00:00",
                       "lines": [{"product_code": "FZ-P", "quantity": 2, "unit_price": 400}]},
            "mails": {"mail_number": 11, "kind": "manual", "name": "乱数メール"},
            "reports": {"mail_number": 10, "member_number": "FZ-1", "kind": "delivery",
                        "occurred_at": "2026-11-01T10:00:00", "address": "fz@example.jp"},
            "customers_": {"shop_id": shop_id, "member_number": "FZ-2", "family_name": "一括"},
            "registration_settings": {"fields": dict(DEFAULT_FORM), "notification_subject": "【{shop_name}】",
                                      "notification_body": "{family_name} 様"},
            "permissions": dict(PERMISSION_DEFAULTS),
            "conditions": {"attributes": {"name": "乱数", "age": {"min": 20, "max": 30}, "choices": {}},
                           "latest": {"purchase_count": {"min": 1}, "shop_ids": [shop_id]},
                           "period": {"purchased": {"from": "2026-01-01", "to": "2026-12-31"}},
                           "mails": {"manual": {"mail_ids": [10], "sent": "include"}},
                           "rfm": {"day": "2026-11-30", "recency_days": {"max": 30}, "ranks": ["A", "C"]}},
            "settings": {"rank_names": {"A": "優良顧客", "G": "離反顧客"}, "recency_days": [0, 31, 61, 91, 181, 366],
                         "purchase_total": [0, 5000, 10000, 30000, 50000, 100000],
                         "cells": [["C", "B", "B", "A", "A", "A"]] * 2 + [["E", "D", "D", "D", "D", "D"]] * 2
                         + [["G", "F", "F", "F", "F", "F"], ["G"] * 6]},
            ("search", "rfm_grid", "options"): {"day": "2026-11-30", "shop_ids": [shop_id], "axes": "rm"},
            ("search", "rfm_movement", "options"): {"day_from": "2026-06-30", "day_to": "2026-11-30",
                                                    "shop_ids": [shop_id]},
            "paging": {"page": 1, "per_page": 50, "sort": "member_number", "descending": False},
        }
        self.lists = {
            "remarks": [{"position": i, "name": f"備考{i}", "shown": True} for i in range(1, 11)],
            "networks": ["192.168.0.0/24"],
            "group_ids": [group["id"]], "choice_ids": [group["choices"][0]["id"]],
            "columns": ["member_number", "family_name"], "member_numbers": ["FZ-1"],
        }


@pytest.fixture(scope="module")
def world(stack, rpc):
    return World(rpc, make_tenant(stack.urls["shops"]))


class Fingerprints:
    """Row counts and highest ids and versions of every table of every service database, in one query each."""

    def __init__(self, urls):
        self.engines, self.queries = {}, {}
        for service, url in urls.items():
            engine = make_engine(url)
            inspector = sa_inspect(engine)
            parts = []
            for table in inspector.get_table_names():
                if table == "alembic_version":
                    continue
                columns = {c["name"] for c in inspector.get_columns(table)}
                parts.append(f'(SELECT count(*) FROM "{table}")')
                parts += [f'(SELECT max("{c}") FROM "{table}")' for c in ("id", "version") if c in columns]
            self.engines[service], self.queries[service] = engine, text("SELECT " + ", ".join(parts))

    def take(self):
        taken = {}
        for service, engine in self.engines.items():
            with engine.connect() as connection:
                taken[service] = tuple(connection.execute(self.queries[service]).one())
        return taken

    def settled(self):
        """A fingerprint once events of earlier changes have been consumed (the search index, notification mail)."""
        last, deadline = self.take(), time.time() + 20
        while time.time() < deadline:
            time.sleep(0.4)
            now = self.take()
            if now == last:
                return now
            last = now
        raise AssertionError("the databases never settled")

    def close(self):
        for engine in self.engines.values():
            engine.dispose()


@pytest.fixture(scope="module")
def fingerprints(stack, world):
    made = Fingerprints(stack.urls)
    made.settled()
    yield made
    made.close()


def argument(world, service, name, method=None):
    """A strategy for one argument, by its name (or, where methods take differently shaped arguments of one name, by
    service, method and name): mostly fuzz, sometimes a value that exists."""
    tenant = world.tenant
    if name == "scope":
        scopes = [tenant.operator_scope(), tenant.operator_scope(), tenant.shop_scope(0),
                  {"company_id": tenant.company_id, "role": "system"}]
        fuzzed = st.dictionaries(st.sampled_from(["company_id", "role", "shop_id", "account_id", "permissions"]),
                                 ANY, max_size=5)
        return st.one_of(st.sampled_from(scopes), st.sampled_from(scopes), fuzzed, ANY)
    known = world.ids.get((service, name), world.ids.get(name))
    keys = contract_fields()
    if (service, method, name) in world.bases or name in world.bases:
        base = world.bases.get((service, method, name), world.bases.get(name))
        if name in ("orders", "mails", "reports", "customers_"):
            return st.one_of(ANY, st.lists(st.one_of(payload(keys, base), ANY), max_size=3))
        return st.one_of(ANY, payload(keys, base), nested_payload(base))
    if name in world.lists:
        valid = world.lists[name]
        return st.one_of(ANY, st.just(valid), st.tuples(st.integers(0, len(valid) - 1), ANY).map(
            lambda t: [t[1] if i == t[0] else v for i, v in enumerate(valid)]))
    options = [ANY]
    if known is not None:
        options.append(st.just(known))
    if name.endswith("_ids"):
        options.append(st.lists(st.one_of(BAD_INTS, st.just(known or 1)), max_size=4))
    return st.one_of(options)


FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None, print_blob=False,
                phases=(Phase.explicit, Phase.generate),  # no shrinking: a failure shows the example as drawn
                suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("service, method, parameters", METHODS, ids=[f"{s}.{m}" for s, m, _ in METHODS])
@FUZZ
@given(data=st.data())
def test_a_malformed_call_is_refused_with_a_project_error_and_changes_nothing(rpc, world, fingerprints, data,
                                                                              service, method, parameters):
    arguments = [data.draw(argument(world, service, name, method), label=name) for name in parameters]
    # Fewer arguments than the method takes is malformed too (a missing one).
    if parameters and data.draw(st.integers(0, 9), label="drop the last argument") == 0:
        arguments = arguments[:-1]
    before = fingerprints.take()
    try:
        getattr(getattr(rpc, service), method)(*arguments)
    except EXPECTED_ERRORS:
        if f"{service}.{method}" not in REFUSAL_RECORDS:
            assert fingerprints.take() == before, f"{service}.{method} refused the call but changed rows"
        return
    except IncorrectSignature:  # a missing argument is refused by Nameko itself, before the method runs
        assert len(arguments) < len(parameters) and fingerprints.take() == before
        return
    if fingerprints.take() != before:
        fingerprints.settled()
