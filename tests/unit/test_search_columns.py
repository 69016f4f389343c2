"""The in-memory columns answer every condition with the same customers as the index's SQL, also after following
the change journal through updates and deletions."""
import copy
import datetime as dt
import random

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from bench.generate import generate
from services.common.contracts import load
from services.common.scope import OPERATOR, SHOP, Scope
from services.search import conditions as contract
from services.search import indexer, searching
from services.search.columns import ColumnStore
from services.search.models import Base, IndexedCustomer
from services.search.query import scope_clauses, section_clauses

TODAY = dt.date(2026, 11, 22)
SHOPS = [1, 2]

CONDITIONS = [
    {},
    {"attributes": {"name": "やま"}}, {"attributes": {"name": "ｻﾄｳ ﾊﾅｺ"}},
    {"attributes": {"member_numbers": "1-40, 77,A-9"}},
    {"attributes": {"genders": ["female"], "age": {"min": 30, "max": 49}}},
    {"attributes": {"birth_date": {"from": "1970-01-01", "to": "1979-12-31"}}},
    {"attributes": {"mail_permissions": ["pc", "mobile"], "dm_permission": False}},
    {"attributes": {"line_permission": False}}, {"attributes": {"dm_permission": True, "line_permission": True}},
    {"attributes": {"address_error": True}}, {"attributes": {"address_error": False}},
    {"attributes": {"email": "EXAMPLE.NE"}}, {"attributes": {"phone": "090-12"}}, {"attributes": {"fax": "03-55"}},
    {"attributes": {"choices": {"7": ["71", "unselected"]}}}, {"attributes": {"choices": {"7": ["72"], "8": ["81"]}}},
    {"attributes": {"remarks": {"1": "東京"}, "extras": {"2": "ゴールド"}}},
    {"attributes": {"points_held": {"min": 1000, "max": 2000}, "valid_points": {"min": 1}}},
    {"attributes": {"points_expiry": {"from": "2026-12-01"}, "earliest_expiry": {"to": "2027-03-31"}}},
    {"attributes": {"last_login": {"from": "2026-06-01", "to": "2026-09-30"}}},
    {"attributes": {"shop_ids": [2], "registered": {"from": "2024-01-01", "to": "2024-12-31"}}},
    {"latest": {"purchase_count": {"min": 0, "max": 0}}}, {"latest": {"purchase_count": {"min": 1, "max": 1}}},
    {"latest": {"purchase_count": {"max": 3}}}, {"latest": {"purchase_total": {"min": 10000, "max": 30000}}},
    {"latest": {"first_purchase": {"from": "2023-06-01"}, "latest_purchase": {"to": "2025-06-30"}}},
    {"latest": {"latest_shipped": {"from": "2025-01-01", "to": "2025-12-31"}}},
    {"latest": {"shop_ids": [1], "latest_purchase": {"from": "2025-01-01"}, "first_purchase": {"to": "2024-12-31"}}},
    {"latest": {"shop_ids": [2], "latest_shipped": {"to": "2024-06-30"}}},
    {"latest": {"order_code": "O15"}}, {"latest": {"order_attributes": {"ギフト": "あり"}}},
    {"latest": {"shop_ids": SHOPS, "product_rows": [{"product_codes": ["P0000", "P0001"], "count": {"min": 2}},
                                                   {"product_codes": ["P0003"], "count": {"min": 1, "max": 2}}]}},
    {"latest": {"shop_ids": [1], "product_rows": [{"product_codes": ["P0002"], "count": {"min": 0, "max": 0}}]}},
    {"latest": {"shop_ids": [2], "product_rows": [{"product_codes": ["P0004"], "count": {"max": 1}}]}},
    {"latest": {"shop_ids": [2], "product_rows": [{"product_codes": ["P0004", "P0005"]}]}},
    {"period": {"purchased": {"from": "2024-01-01", "to": "2024-06-30"}}},
    {"period": {"purchased": {"from": "2024-01-01", "to": "2024-12-31"}, "count": {"min": 2}}},
    {"period": {"shop_ids": [1], "count": {"min": 0, "max": 1}}},
    {"period": {"shipped": {"from": "2025-01-01"}, "total": {"min": 5000}}},
    {"period": {"count": {"min": 0}, "total": {"max": 4000}}},
    {"period": {"purchased": {"to": "2024-12-31"}, "media": "google"}},
    {"period": {"order_code": "O20"}}, {"period": {"order_attributes": {"ギフト": "あり"}}},
    {"period": {"shop_ids": SHOPS, "purchased": {"from": "2025-01-01"}, "bought_products": ["P0000"], "bought": True}},
    {"period": {"shop_ids": [1], "purchased": {"from": "2025-01-01"}, "bought_products": ["P0000", "P0005"],
                "bought": False}},
    {"period": {"shop_ids": SHOPS, "purchased": {"from": "2024-01-01"},
                "product_rows": [{"product_codes": ["P0000"], "count": {"min": 1}},
                                 {"product_codes": ["P0001", "P0002"], "count": {"min": 1}}]}},
    {"mails": {"manual": {"opened": "include"}}}, {"mails": {"manual": {"sent": "include", "opened": "exclude"}}},
    {"mails": {"automatic": {"sent": "include", "clicked": "exclude", "period": {"from": "2024-01-01"}}}},
    {"mails": {"manual": {"mail_ids": [1, 2], "clicked": "include"}, "automatic": {"kinds": ["automatic"],
                                                                                   "sent": "exclude"}}},
    {"mails": {"manual": {"qr_read": "exclude"}}},
    {"attributes": {"genders": ["male"]}, "latest": {"purchase_count": {"min": 2}},
     "mails": {"manual": {"opened": "include"}}},
]


def _enrich(events, seed=3):
    """Give the generated customers and purchases the fields the generator leaves empty."""
    rng = random.Random(seed)
    for event in events:
        data = event["data"]
        if event["entity"] == "customer":
            n = data["id"]
            if n % 17 == 0:
                data["member_number"] = f"A-{n}"
            data["mobile_phone"] = rng.choice(["", "090-1234-5678", "080-9876-0000"])
            data["fax"] = rng.choice(["", "03-5555-1234"])
            data["extras"] = ["", rng.choice(["", "ゴールド会員"]), "", ""]
            data["valid_points"] = rng.choice([0, 0, 10, 500])
            data["points_expiry"] = rng.choice([None, "2026-12-31", "2027-06-30"])
            data["earliest_expiry"] = rng.choice([None, "2027-01-31", "2027-06-30"])
            data["last_login_at"] = rng.choice([None, "2026-07-01T12:00:00+09:00", "2026-10-01T00:30:00+09:00"])
            data["choices"] = {g: c for g, c in (("7", rng.choice([None, 71, 72])), ("8", rng.choice([None, 81])))
                               if c is not None}
        elif event["entity"] == "purchase":
            data["order_attributes"] = rng.choice([{}, {}, {"ギフト": "あり"}, {"ギフト": "なし"}])
            if rng.random() < 0.1:
                data["shipped_at"] = None
    return events


def _address_states(customers, seed=5):
    rng = random.Random(seed)
    for number, cid in enumerate(rng.sample(range(1, customers + 1), customers // 10), start=1):
        yield {"event_type": "address_error_changed", "entity": "address_state", "entity_id": f"{cid}:a",
               "version": 1, "company_id": 1,
               "data": {"customer_id": cid, "address": f"c{cid}@example.jp", "address_error": number % 2 == 0}}


@pytest.fixture(scope="module")
def _built_index():
    """The index of 300 customers with their purchases and mails, applied event by event once for the module."""
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    events = _enrich(list(generate(company_id=1, shop_ids=SHOPS, customers=300, seed=11, products=8, mails=5)))
    events += list(_address_states(300))
    with sessionmaker(engine)() as session:
        for event in events:
            indexer.apply(session, event)
        session.commit()
    yield engine, events
    engine.dispose()


@pytest.fixture
def index(_built_index):
    """A copy of its own of that index (SQLite's backup of the database) and of its events, for each test."""
    built, events = _built_index
    engine = create_engine("sqlite://")
    with built.connect() as source, engine.connect() as target:
        source.connection.driver_connection.backup(target.connection.driver_connection)
    yield sessionmaker(engine), copy.deepcopy(events)
    engine.dispose()


def _sql_ids(session, scope, conditions):
    parsed = load(contract.Conditions(), conditions)
    clauses = scope_clauses(scope) + [c for group in section_clauses(parsed, scope.company_id, TODAY).values()
                                      for c in group]
    return set(session.scalars(select(IndexedCustomer.id).where(*clauses)))


def _memory_ids(store, scope, conditions):
    parsed = load(contract.Conditions(), conditions)
    mask = store.matching(scope, parsed, TODAY)
    return {int(i) for i in store.customers["id"][mask]}


def _agree(factory, store):
    for scope in (Scope(1, OPERATOR), Scope(1, SHOP, shop_id=2)):
        with factory() as session:
            for conditions in CONDITIONS:
                expected = _sql_ids(session, scope, conditions)
                assert _memory_ids(store, scope, conditions) == expected, conditions


def test_every_condition_matches_the_same_customers_as_the_sql(index):
    factory, _events = index
    store = ColumnStore()
    with factory() as session:
        store.load(session)
    with factory() as session:  # the test's conditions are not all trivial
        sizes = [len(_sql_ids(session, Scope(1, OPERATOR), c)) for c in CONDITIONS]
    assert sum(1 for size in sizes if 0 < size < 300) >= len(CONDITIONS) * 2 // 3
    _agree(factory, store)


def test_following_the_journal_keeps_the_columns_equal_to_the_index(index):
    factory, events = index
    store = ColumnStore()
    with factory() as session:
        store.load(session)
    rng = random.Random(9)
    changes = []
    for event in rng.sample([e for e in events if e["entity"] in ("customer", "purchase")], 80):
        changed = copy.deepcopy(event)
        changed["version"] += 1
        data = changed["data"]
        if changed["entity"] == "customer":
            data["gender"] = "male" if data["gender"] == "female" else "female"
            data["choices"] = {"7": 72}
            data["remarks"][0] = "東京都"
            data["line_permission"] = not data["line_permission"]
        else:
            data["counted"] = not data["counted"]
            data["lines"] = [{"product_code": "P0007", "quantity": 1}]
        if rng.random() < 0.2:
            changed["event_type"] = f"{changed['entity']}_deleted"
        changes.append(changed)
    changes += _enrich(list(generate(company_id=1, shop_ids=SHOPS, customers=320, seed=12, products=8, mails=6)))[-400:]
    with factory() as session:
        for event in changes:
            indexer.apply(session, event)
        session.commit()
    with factory() as session:
        assert store.follow(session) > 0
    _agree(factory, store)


def test_pages_come_in_the_same_order_as_the_sql(index):
    factory, _events = index
    store = ColumnStore()
    with factory() as session:
        store.load(session)
    scope = Scope(1, OPERATOR)
    for sort in ("member_number", "registered_at", "latest_purchase_at", "purchase_count", "purchase_total"):
        # everyone (customers who never bought among them), and buyers only
        for conditions in ({}, {"latest": {"purchase_count": {"min": 1}}}):
            for descending in (False, True):
                for number in (1, 12, 14):  # 66 of the 300 never bought: pages 12 to 15 hold them
                    paging = {"sort": sort, "descending": descending, "per_page": 20, "page": number}
                    parsed = load(contract.Conditions(), conditions)
                    with factory() as session:
                        expected = [c["id"] for c in searching.page(session, scope, conditions, paging)["customers"]]
                    mask = store.matching(scope, parsed, TODAY)
                    assert store.ordered_page(mask, sort, descending, (number - 1) * 20, 20) == expected, \
                        (sort, conditions, descending, number)


def test_ids_added_one_by_one_are_folded_into_the_sorted_map():
    from services.search.columns import IdMap

    ids = IdMap()
    ids.set_loaded([5, 1, 9], [0, 1, 2])
    for n in range(100_000):
        ids.add(1000 + n, 3 + n)
    assert len(ids.extra) == 0
    ids.add(7, 200_000)
    assert list(ids.lookup([1, 5, 9, 1000, 100_999, 7, 8])) == [1, 0, 2, 3, 100_002, 200_000, -1]


def test_a_fixed_width_text_column_widens_for_a_longer_value_and_keeps_the_others():
    import numpy as np

    from services.search.columns import Columns

    table = Columns({"name_key": (np.dtype("<U4"), "")})
    start = table.extend(3)
    table.put("name_key", [start, start + 1], ["ヤマダ", "サトウ"])
    table.put("name_key", [start + 2], ["ヤマモト タロウ 山本 太郎"])
    table.put("name_key", start + 1, None)
    assert list(table["name_key"]) == ["ヤマダ", "", "ヤマモト タロウ 山本 太郎"]
    table.extend(2)  # grown with the wider type
    table.put("name_key", [4], ["スズキ イチロウ 鈴木 一郎"])
    assert list(np.strings.find(table["name_key"], "ヤマ") >= 0) == [True, False, True, False, False]


def test_the_name_pairs_index_finds_what_a_scan_finds_before_and_after_changes():
    import numpy as np

    from services.search.columns import BigramIndex, Columns

    rng = random.Random(3)
    syllables = ["ヤマ", "ダ", "サト", "ウ", "タ", "ナカ", "山", "田", "佐", "藤", "中", " ", "ｱ"]
    table = Columns({"name_key": (np.dtype("<U8"), "")})
    table.extend(3000)
    table.put("name_key", list(range(3000)),
              ["".join(rng.choice(syllables) for _ in range(rng.randint(0, 6))) for _ in range(3000)])
    index = BigramIndex(table["name_key"])
    needles = ["ヤマ", "ヤマダ", "山田", "サトウ タ", "ダヤ", "マダ", "藤中ナ", "ｱｱ", "ヤマダサトウナカヤマ"]

    def same_as_a_scan():
        for needle in needles:
            scan = np.array([needle in text for text in table["name_key"]])
            assert np.array_equal(index.contains(table["name_key"], needle), scan), needle

    same_as_a_scan()
    assert index.contains(table["name_key"], "ヤ") is None  # one character: the caller scans
    changed = rng.sample(range(3000), 200)
    table.put("name_key", changed, ["ヤマダサトウナカヤマ山田" if i % 2 else "" for i in range(200)])  # widens
    index.touched(np.array(changed))
    start = table.extend(50)
    table.put("name_key", list(range(start, start + 50)), ["山田ヤマダ"] * 50)
    same_as_a_scan()
    assert not index.stale(table.size) and index.stale(table.size + 60_000)


def test_download_slices_from_memory_are_those_of_the_sql(index):
    from services.search import exports

    factory, _events = index
    store = ColumnStore()
    with factory() as session:
        store.load(session)
    scope = Scope(1, OPERATOR, permissions={"may_export_customers": True})
    for conditions in ({}, {"latest": {"purchase_count": {"min": 1}}}, {"attributes": {"genders": ["female"]}}):
        sliced = {}
        for source in (None, store):
            rows, after = [], 0
            with factory() as session:
                while after is not None:
                    page = exports.export_rows(session, scope, conditions, None, after, 17, store=source)
                    rows += page["rows"]
                    after = page["last_id"]
            sliced[source is None] = rows
        assert sliced[True] == sliced[False] and len(sliced[True]) > 17, conditions


def test_quotes_percent_underscore_and_backslash_in_conditions_are_plain_text(index):
    """The query takes condition values as bound parameters, LIKE's own characters escaped."""
    factory, events = index
    customers = [e for e in events if e["entity"] == "customer"][:4]
    texts = ["50%引き", "a_b", "O'Brien", "c:\\temp"]
    with factory() as session:
        for event, text in zip(customers, texts):
            changed = copy.deepcopy(event)
            changed["version"] += 1
            changed["data"]["remarks"][0] = text
            indexer.apply(session, changed)
        session.commit()
    store = ColumnStore()
    with factory() as session:
        store.load(session)
        scope = Scope(1, OPERATOR)
        for needle, owner in (("%", 0), ("_", 1), ("'", 2), ("\\", 3), ("O'B", 2), ("0%引", 0)):
            conditions = {"attributes": {"remarks": {"1": needle}}}
            expected = {int(customers[owner]["entity_id"])}
            assert _sql_ids(session, scope, conditions) == expected, needle
            assert _memory_ids(store, scope, conditions) == expected, needle


@pytest.mark.parametrize("conditions, path", [
    ({"attributes": {"choices": {"x": [1]}}}, "attributes.choices"),
    ({"attributes": {"choices": {"7": ["gold"]}}}, "attributes.choices"),
    ({"mails": {"manual": {"kinds": ["weekly"], "sent": "include"}}}, "mails.manual.kinds.0"),
    ({"period": {"bought_products": ["R-1"]}}, "period.shop_ids"),
])
def test_bad_conditions_are_reported_by_path(conditions, path):
    from services.common.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        load(contract.Conditions(), conditions)
    assert any(key.startswith(path) for key in refused.value.fields), refused.value.fields


def test_an_order_recorded_again_for_another_customer_leaves_the_first_one_summarised_without_it(index):
    from services.search.models import CustomerSummary

    factory, events = index
    store = ColumnStore()
    with factory() as session:
        store.load(session)
    purchase = next(e for e in events if e["entity"] == "purchase" and e["data"]["counted"])
    first = purchase["data"]["customer_id"]
    other = next(e["data"]["id"] for e in events if e["entity"] == "customer" and e["data"]["id"] != first)
    with factory() as session:
        before = session.get(CustomerSummary, first).purchase_count
        moved = copy.deepcopy(purchase)
        moved["version"] += 1
        moved["data"]["customer_id"] = other
        assert indexer.apply(session, moved)
        session.commit()
        assert session.get(CustomerSummary, first).purchase_count == before - 1
    with factory() as session:
        store.follow(session)
    _agree(factory, store)


def test_a_rebuild_keeps_an_event_newer_than_the_page_it_read(index):
    import contextlib

    from services.search import rebuild

    factory, events = index
    customer = next(e for e in events if e["entity"] == "customer")
    newer = copy.deepcopy(customer)
    newer["version"] += 1
    newer["data"]["gender"] = "male" if customer["data"]["gender"] == "female" else "female"

    class Customers:
        def export_for_index(self, scope, after, limit):
            if after:
                return []
            with factory() as session:  # the event arrives between the page's reading and its applying
                indexer.apply(session, newer)
                session.commit()
            return [customer]

    class Nothing:
        def export_for_index(self, *args):
            return []

    @contextlib.contextmanager
    def unit_of_work():
        with factory() as session:
            yield session
            session.commit()

    owners = {"customers": Customers(), "purchases": Nothing(), "mailhistory": Nothing()}
    rebuild.rebuild(unit_of_work, owners, {"company_id": 1, "role": "system"})
    with factory() as session:
        assert session.get(IndexedCustomer, int(customer["entity_id"])).gender == newer["data"]["gender"]
