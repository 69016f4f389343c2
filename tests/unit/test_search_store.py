"""A replica's store (DuckDB, one database per company) that followed the change journal answers every condition,
page and download exactly as a store loaded afresh from the index; on disk it is opened again where it stopped."""
import contextlib
import copy
import json
import random

import duckdb
import pytest
from sqlalchemy import create_engine, func, select, update
from sqlalchemy.orm import sessionmaker

from bench.generate import generate
from services.common.errors import ValidationFailed
from services.common.scope import OPERATOR, SHOP, Scope
from services.search import exports, indexer, rebuild, searching
from services.search import store as store_module
from services.search import store_derived as derived
from services.search import store_ranges
from services.search import store_tables as T
from services.search.models import Base, IndexChange, IndexedCustomer, IndexIdentity
from services.search.store import IndexStore
from services.common.migrations import upgrade
from tests.support import Databases
from tests.support import test_database_server as database_server

SHOPS = [1, 2]
OPERATOR_SCOPE = Scope(1, OPERATOR, permissions={"may_export_customers": True})
SHOP_SCOPE = Scope(1, SHOP, shop_id=2, permissions={"may_export_customers": True})

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
    {"latest": {"order_code": "O15"}}, {"latest": {"order_attributes": {"ギフト": "あり"}}},
    {"latest": {"shop_ids": SHOPS, "product_rows": [{"product_codes": ["P0000", "P0001"], "count": {"min": 2}},
                                                   {"product_codes": ["P0003"], "count": {"min": 1, "max": 2}}]}},
    {"latest": {"shop_ids": [1], "product_rows": [{"product_codes": ["P0002"], "count": {"min": 0, "max": 0}}]}},
    {"period": {"purchased": {"from": "2024-01-01", "to": "2024-06-30"}}},
    {"period": {"purchased": {"from": "2024-01-01", "to": "2024-12-31"}, "purchase_count": {"min": 2}}},
    {"period": {"shop_ids": [1], "purchase_count": {"min": 0, "max": 1}}},
    {"period": {"shipped": {"from": "2025-01-01"}, "purchase_total": {"min": 5000}}},
    {"period": {"purchased": {"to": "2024-12-31"}, "media": "google"}},
    {"period": {"order_code": "O20"}}, {"period": {"order_attributes": {"ギフト": "あり"}}},
    {"period": {"shop_ids": [1], "purchased": {"from": "2025-01-01"}, "bought_products": ["P0000", "P0005"],
                "bought": False}},
    {"mails": {"manual": {"opened": "include"}}}, {"mails": {"manual": {"sent": "include", "opened": "exclude"}}},
    {"mails": {"automatic": {"sent": "include", "clicked": "exclude", "period": {"from": "2024-01-01"}}}},
    {"mails": {"manual": {"mail_ids": [1, 2], "clicked": "include"}, "automatic": {"kinds": ["automatic"],
                                                                                   "sent": "exclude"}}},
    {"attributes": {"genders": ["male"]}, "latest": {"purchase_count": {"min": 2}},
     "mails": {"manual": {"opened": "include"}}},
]
SORTS = ("member_number", "registered_at", "latest_purchase_at", "purchase_count", "purchase_total", "name")


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


@contextlib.contextmanager
def _store(factory, directory=None):
    store = IndexStore.open(directory)
    try:
        with factory() as session:
            if not store.ready and store.needs_loading(session):
                store.load(session)
            else:
                store.follow(session)
        yield store
    finally:
        store.close()


def _ids(factory, store, scope, conditions):
    with factory() as session:
        listed = [c["id"] for c in searching.page(session, scope, conditions, {"per_page": 500}, store)["customers"]]
        assert searching.count(session, scope, conditions, True, store)["total"] == len(listed), conditions
    return listed


def _download(factory, store, scope, conditions):
    rows, after = [], 0
    with factory() as session:
        while after is not None:
            page = exports.export_rows(session, scope, conditions, None, after, 17, store)
            rows += page["rows"]
            after = page["last_id"]
    return rows


def _agree(factory, followed):
    """The followed store answers like one loaded afresh: every condition, in both scopes, every sort, downloads, and
    the customer columns the store computes itself."""
    with _store(factory) as afresh:
        computed = select(T.customers.c.id, *[T.customers.c[name] for name in derived.COLUMNS]).order_by("id")
        assert followed.execute(1, computed) == afresh.execute(1, computed)
        for scope in (OPERATOR_SCOPE, SHOP_SCOPE):
            for conditions in CONDITIONS:
                assert _ids(factory, followed, scope, conditions) == _ids(factory, afresh, scope, conditions), \
                    conditions
        for sort in SORTS:
            for descending in (False, True):
                paging = {"sort": sort, "descending": descending, "per_page": 20, "page": 13}
                with factory() as session:
                    pages = [searching.page(session, OPERATOR_SCOPE, {}, paging, store)["customers"]
                             for store in (followed, afresh)]
                assert pages[0] == pages[1] and len(pages[0]) == 20, (sort, descending)
        for conditions in ({}, {"latest": {"purchase_count": {"min": 1}}}):
            assert _download(factory, followed, OPERATOR_SCOPE, conditions) == \
                _download(factory, afresh, OPERATOR_SCOPE, conditions)


def _changes(events, rng):
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
    more = _enrich(list(generate(company_id=1, shop_ids=SHOPS, customers=320, seed=12, products=8, mails=6)))
    return changes + more[-400:]


def test_the_conditions_are_not_trivial(index):
    factory, _events = index
    with _store(factory) as store:
        sizes = [len(_ids(factory, store, OPERATOR_SCOPE, c)) for c in CONDITIONS]
    assert sum(1 for size in sizes if 0 < size < 300) >= len(CONDITIONS) * 2 // 3, sizes


def test_following_the_journal_answers_as_a_store_loaded_afresh(index):
    factory, events = index
    with _store(factory) as store:
        with factory() as session:
            for event in _changes(events, random.Random(9)):
                indexer.apply(session, event)
            session.commit()
        with factory() as session:
            assert store.follow(session) > 0
        _agree(factory, store)


def test_a_store_on_disk_opens_where_it_stopped_and_follows_what_changed_meanwhile(index, tmp_path):
    factory, events = index
    with _store(factory, tmp_path) as store:
        assert store.directory == tmp_path / "slot-1"
        with _store(factory, tmp_path) as second:  # a second replica takes a slot of its own
            assert second.directory == tmp_path / "slot-2"
    with factory() as session:  # changed while no replica ran
        for event in _changes(events, random.Random(4)):
            indexer.apply(session, event)
        session.commit()
    reopened = IndexStore.open(tmp_path)
    try:
        with factory() as session:
            assert not reopened.needs_loading(session), "a store of this index, followed a moment ago"
            reopened.follow(session)
        _agree(factory, reopened)
    finally:
        reopened.close()


def test_a_store_of_another_index_is_loaded_afresh(index, tmp_path):
    factory, _events = index
    with _store(factory, tmp_path):
        pass
    with factory() as session:  # the index made anew: another identity, a journal starting again
        session.execute(update(IndexIdentity).values(token="another"))
        session.commit()
    reopened = IndexStore.open(tmp_path)
    try:
        with factory() as session:
            assert reopened.needs_loading(session)
    finally:
        reopened.close()


def test_a_rebuilt_company_is_read_again_whole(index):
    factory, events = index
    with _store(factory) as store:
        with factory() as session:
            rebuild.clear_company(session, 1)
            for event in [e for e in events if e["entity"] == "customer"][:5]:  # read again from their owner
                assert indexer.apply(session, dict(event, version=event["version"] + 1))
            session.commit()
        with factory() as session:
            store.follow(session)
            listed = searching.page(session, OPERATOR_SCOPE, {}, {"per_page": 500}, store)["customers"]
        assert sorted(c["id"] for c in listed) == [1, 2, 3, 4, 5]


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
    with _store(factory) as store:
        for needle, owner in (("%", 0), ("_", 1), ("'", 2), ("\\", 3), ("O'B", 2), ("0%引", 0)):
            conditions = {"attributes": {"remarks": {"1": needle}}}
            assert _ids(factory, store, OPERATOR_SCOPE, conditions) == [int(customers[owner]["entity_id"])], needle


@pytest.mark.parametrize("conditions, path", [
    ({"attributes": {"choices": {"x": [1]}}}, "attributes.choices"),
    ({"attributes": {"choices": {"7": ["gold"]}}}, "attributes.choices"),
    ({"mails": {"manual": {"kinds": ["weekly"], "sent": "include"}}}, "mails.manual.kinds.0"),
    ({"period": {"bought_products": ["R-1"]}}, "period.shop_ids"),
])
def test_bad_conditions_are_reported_by_path(conditions, path):
    with pytest.raises(ValidationFailed) as refused:
        searching.count(None, OPERATOR_SCOPE, conditions, True, None)
    assert any(key.startswith(path) for key in refused.value.fields), refused.value.fields


def test_an_order_recorded_again_for_another_customer_leaves_the_first_one_summarised_without_it(index):
    factory, events = index
    purchase = next(e for e in events if e["entity"] == "purchase" and e["data"]["counted"])
    first = purchase["data"]["customer_id"]
    other = next(e["data"]["id"] for e in events if e["entity"] == "customer" and e["data"]["id"] != first)
    counts = select(T.customers.c.id, T.customers.c.purchase_count).where(T.customers.c.id.in_([first, other]))
    with _store(factory) as store:
        before = dict(store.execute(1, counts))
        moved = copy.deepcopy(purchase)
        moved["version"] += 1
        moved["data"]["customer_id"] = other
        with factory() as session:
            assert indexer.apply(session, moved)
            session.commit()
        with factory() as session:
            store.follow(session)
        assert dict(store.execute(1, counts)) == {first: before[first] - 1, other: before[other] + 1}
        conditions = {"attributes": {"member_numbers": str(first)},
                      "latest": {"purchase_count": {"min": before[first] - 1, "max": before[first] - 1}}}
        assert _ids(factory, store, OPERATOR_SCOPE, conditions) == [first]


def test_a_rebuild_keeps_an_event_newer_than_the_page_it_read(index):
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


def _stored_order(store, table, column):
    cursor = store._cursor(store.catalogs[1])
    try:
        return [row[0] for row in cursor.execute(f"SELECT {column} FROM {table} ORDER BY rowid").fetchall()]
    finally:
        cursor.close()


def test_a_loaded_store_keeps_lines_by_product_activities_by_kind_and_purchases_by_day(index, monkeypatch):
    factory, _events = index
    monkeypatch.setattr(store_module, "ORDERED_FROM", 0)  # this company is small: see the test below
    with _store(factory) as store:
        assert store.made[1] == 2  # loaded, then written again in order
        for table, column in (("lines", "product_code"), ("mail_activities", "activity"),
                              ("purchases", "purchased_at")):
            stored = _stored_order(store, table, column)
            assert len(stored) > 100 and stored == sorted(stored), table


def test_tables_written_again_a_range_at_a_time_keep_the_order_and_every_row(index, monkeypatch):
    factory, _events = index
    monkeypatch.setattr(store_module, "ORDERED_FROM", 0)
    monkeypatch.setattr(store_ranges, "ROWS_AT_A_TIME", 150)  # every ordered table in several ranges
    with _store(factory) as store:
        assert store.made[1] == 2
        for table, columns in store_module.ORDERED_BY.items():
            stored = _stored_order(store, table, ", ".join(columns))
            assert len(stored) > 300 and stored == sorted(stored), table
        counts = store.counts()
        monkeypatch.setattr(store_ranges, "ROWS_AT_A_TIME", 10 ** 9)
        _agree(factory, store)  # against a store loaded afresh and written again in one statement a table
        assert store.counts() == counts


def test_ranges_of_a_column_cover_every_row_once_in_its_order(monkeypatch):
    monkeypatch.setattr(store_ranges, "ROWS_AT_A_TIME", 100)
    db = duckdb.connect()
    try:
        db.execute("CREATE TABLE lines (product_code VARCHAR, purchase_id INTEGER)")
        codes = ["A-1", "A-1", "B 2", "ｶﾅ", "Z", None, "A-10", ""] * 50 + [f"P{n:03}" for n in range(400)]
        db.executemany("INSERT INTO lines VALUES (?, ?)", [(code, n) for n, code in enumerate(codes)])
        table = T.metadata.tables["lines"]
        parts = store_ranges.ranges(db, "memory", table, ("product_code", "purchase_id"), len(codes))
        assert len(parts) > 3
        in_parts = [row for condition, parameters in parts for row in db.execute(
            f"SELECT product_code, purchase_id FROM memory.main.lines{condition} ORDER BY product_code, purchase_id",
            parameters).fetchall()]
        assert in_parts == db.execute("SELECT product_code, purchase_id FROM lines "
                                      "ORDER BY product_code, purchase_id").fetchall()
        assert store_ranges.ranges(db, "memory", table, ("product_code",), store_ranges.ROWS_AT_A_TIME) == [("", [])]
    finally:
        db.close()


def test_a_small_company_is_loaded_once_in_the_order_read_and_answers_as_one_written_in_order(index, monkeypatch):
    factory, _events = index
    with _store(factory) as store:  # a few thousand rows: every table in one row group, read whole in any order
        assert store.made[1] == 1 and store.generations[1] == 1
        monkeypatch.setattr(store_module, "ORDERED_FROM", 0)
        _agree(factory, store)  # against a store loaded afresh and written again in order


def _change_and_follow_busy(factory, events, store):
    """About a twentieth of the index changed, then followed by the store in one busy step."""
    with factory() as session:
        for event in _changes(events, random.Random(7)):
            indexer.apply(session, event)
        session.commit()
    with factory() as session:
        assert store.follow(session) >= store_module.BUSY_ENTRIES


def _change_and_follow(factory, events, store):
    """The same changes followed, and the journal quiet."""
    _change_and_follow_busy(factory, events, store)
    with factory() as session:
        assert store.follow(session) == 0


def test_a_stream_of_changes_has_the_store_written_again_once_the_journal_is_quiet(index, monkeypatch):
    factory, events = index
    with _store(factory) as store:
        monkeypatch.setattr(store_module, "REWRITTEN_AFTER", (0.04, 10))  # the changes below add about a twentieth
        first = store.generations[1]
        _change_and_follow_busy(factory, events, store)
        assert store.generations[1] == first and store.added[1] > 0, "not while the stream goes on"
        _agree(factory, store)  # in the order the stream left, the same answers
        with factory() as session:
            assert store.follow(session) == 0
        assert store.generations[1] > first and store.added[1] == 0, "written again once quiet"
        _agree(factory, store)


def test_a_stream_that_adds_enough_has_the_store_written_again_while_it_goes_on(index, monkeypatch):
    factory, events = index
    with _store(factory) as store:
        monkeypatch.setattr(store_module, "REWRITTEN_AFTER", (0.04, 10))
        monkeypatch.setattr(store_module, "REWRITTEN_WHILE_BUSY", 0.04)
        first = store.generations[1]
        _change_and_follow_busy(factory, events, store)
        assert store.generations[1] > first and store.added[1] == 0


def test_a_store_grown_by_half_is_written_again_in_order_and_answers_the_same(index, monkeypatch):

    factory, events = index
    with _store(factory) as store:
        monkeypatch.setattr(store_module, "REWRITTEN_AFTER", (0.04, 10))  # the changes below add about a twentieth
        first = store.generations[1]
        _change_and_follow(factory, events, store)
        assert store.generations[1] > first, "written again"
        assert store.added[1] == 0 and store.written[1] > 0
        stored = _stored_order(store, "lines", "product_code")
        assert stored == sorted(stored)
        _agree(factory, store)


def test_a_replaced_database_stays_while_a_read_uses_it_and_goes_when_it_ends(index, tmp_path, monkeypatch):
    factory, events = index
    with _store(factory, tmp_path) as store:
        monkeypatch.setattr(store_module, "REWRITTEN_AFTER", (0.04, 10))
        with store.reading(1) as cursor:
            old = store.catalogs[1]
            _change_and_follow(factory, events, store)  # written again: a new database, the old one retired
            assert store.catalogs[1] != old and store.retired == [old]
            assert (tmp_path / "slot-1" / f"{old}.duckdb").exists()
            still = cursor.execute("SELECT count(*) FROM purchases").fetchall()[0][0]  # the read goes on
            assert still == store.counts()["purchases"]
        with factory() as session:
            store.follow(session)  # nothing new: what no read uses goes
        assert store.retired == []
        assert not (tmp_path / "slot-1" / f"{old}.duckdb").exists()
        attached = {row[0] for row in store.db.execute("SELECT database_name FROM duckdb_databases()").fetchall()}
        assert old not in attached and store.catalogs[1] in attached
        _agree(factory, store)


def test_a_store_closed_after_a_quiet_while_opens_its_files_again(index, tmp_path):
    factory, _events = index
    with _store(factory, tmp_path) as store:
        loaded = _ids(factory, store, OPERATOR_SCOPE, {})
        assert len(loaded) == 300
    reopened = IndexStore.open(tmp_path)
    try:
        with factory() as session:
            assert not reopened.needs_loading(session)
            reopened.follow(session)  # reads again the last entries it had followed, which changes nothing
        assert sorted(reopened.catalogs) == [1]
        assert _ids(factory, reopened, OPERATOR_SCOPE, {}) == loaded
    finally:
        reopened.close()


def test_a_result_larger_than_the_memory_limit_spills_into_the_slot_and_the_allocator_hands_memory_back(tmp_path):
    store = IndexStore.open(tmp_path / "stores", threads=1, memory_limit="100MB")
    try:
        settings = dict(store.db.execute("SELECT name, value FROM duckdb_settings() "
                                         "WHERE name = 'allocator_background_threads'").fetchall())
        assert settings == {"allocator_background_threads": "true"}
        # 3,000,000 rows of 32-character text sorted: about 150 MB, more than DuckDB may hold
        assert store.db.execute("SELECT count(*), max(m) FROM (SELECT md5(i::varchar) AS m FROM range(3000000) t(i) "
                                "ORDER BY m)").fetchone() == (3000000, "fffffe98d0963d27015c198262d97221")
        spilled = tmp_path / "stores" / "slot-1" / "spill"
        assert spilled.is_dir() and any(spilled.iterdir())
    finally:
        store.close()


def test_mail_flags_follow_new_activities_a_mail_changing_family_and_an_activity_taken_out(index):
    """The customers' flags (any mail of a family) answer as the activities do after each kind of change."""
    factory, events = index
    mail = next(e for e in events if e["entity"] == "mail" and e["data"]["family"] == "manual")
    never_clicked = {"mails": {"manual": {"clicked": "exclude"}}}
    clicked = {"mails": {"manual": {"clicked": "include"}}}
    with _store(factory) as store:
        newcomer = next(i for i in _ids(factory, store, OPERATOR_SCOPE, never_clicked))
        click = {"event_type": "mail_activity_recorded", "entity": "mail_activity", "entity_id": "900001",
                 "version": 1, "company_id": 1,
                 "data": {"id": 900001, "mail_id": mail["data"]["id"], "customer_id": newcomer,
                          "member_number": str(newcomer), "activity": "click", "result": "",
                          "occurred_at": "2025-05-05T10:00:00+09:00"}}
        with factory() as session:
            assert indexer.apply(session, click)
            session.commit()
        with factory() as session:
            store.follow(session)
        assert newcomer in _ids(factory, store, OPERATOR_SCOPE, clicked)
        assert newcomer not in _ids(factory, store, OPERATOR_SCOPE, never_clicked)

        moved = copy.deepcopy(mail)  # the mail becomes an automatic one: its click is no manual mail's any more
        moved["version"] += 1
        moved["data"]["family"], moved["data"]["kind"] = "automatic", "automatic"
        with factory() as session:
            assert indexer.apply(session, moved)
            session.commit()
        with factory() as session:
            store.follow(session)
        assert newcomer in _ids(factory, store, OPERATOR_SCOPE, {"mails": {"automatic": {"clicked": "include"}}})
        _agree(factory, store)

        with factory() as session:  # the activity taken out (as a repair does when its owner has it no more)
            assert indexer.remove(session, "mail_activity", 900001, 1)
            session.commit()
        with factory() as session:
            store.follow(session)
        _agree(factory, store)


def test_a_step_looks_only_for_keys_the_table_may_hold():
    """Keys above the greatest a table holds are new: nothing of theirs is taken out or looked for."""
    connection = duckdb.connect()
    connection.execute("CREATE TABLE lines (purchase_id BIGINT)")
    assert store_module._held(connection, "lines", {5, 6}) == set()  # an empty table holds none
    connection.execute("INSERT INTO lines VALUES (3), (7), (7)")
    assert store_module._held(connection, "lines", {1, 7, 8, 100}) == {1, 7}
    assert store_module._held(connection, "lines", set()) == set()


@pytest.mark.skipif(database_server() is None, reason="PostgreSQL only: set TSUHAN_TEST_DATABASE")
def test_on_postgresql_a_followed_step_read_with_copy_holds_the_rows_a_load_reads(tmp_path):
    """A step's purchases, lines, mails, activities and choices come to the store through COPY and Arrow's CSV reader
    (a load reads Python rows): text with commas, quotes, newlines and backslashes, empty text against none, times with
    and without fractions, none shipped, another company's rows of the same keys left out."""
    databases = Databases(tmp_path)
    url = databases.create("store_copy")
    upgrade("search", url)
    engine = create_engine(url)
    factory = sessionmaker(engine)
    try:
        events = _enrich(list(generate(company_id=1, shop_ids=SHOPS, customers=60, seed=11, products=8, mails=3)))
        other = list(generate(company_id=2, shop_ids=[9], customers=5, seed=4, products=2, mails=1))
        with factory() as session:
            for event in events + other:
                indexer.apply(session, event)
            session.commit()
        with _store(factory) as store:
            changed = []
            for n, event in enumerate(e for e in events if e["entity"] == "purchase"):
                event = copy.deepcopy(event)
                event["version"] += 1
                data = event["data"]
                data["order_attributes"] = [{"メモ": 'カンマ,と"引用"\nと改行\\N'}, {"": ""}, {}][n % 3]
                data["media"] = ["", "google", "\\"][n % 3]
                data["shipped_at"] = [None, "2025-03-01T10:00:00.123456+09:00", "2025-03-02T00:00:00+09:00"][n % 3]
                data["lines"] = [{"product_code": 'P,"7"', "quantity": 2, "unit_price": 0},
                                 {"product_code": "", "quantity": 1, "unit_price": 1200}]
                changed.append(event)
            changed += [dict(copy.deepcopy(e), version=e["version"] + 1) for e in events
                        if e["entity"] in ("mail", "mail_activity", "customer")]
            with factory() as session:
                for event in changed:
                    indexer.apply(session, event)
                session.commit()
            with factory() as session:
                assert store.follow(session) > 0
            with _store(factory) as afresh:
                for table in ("purchases", "lines", "mails", "mail_activities", "choices", "customers"):
                    statement = select(T.metadata.tables[table]).order_by(*T.metadata.tables[table].columns)
                    assert store.execute(1, statement) == afresh.execute(1, statement), table
                shipped = store.execute(1, select(T.purchases.c.shipped_at, T.purchases.c.media,
                                                  T.purchases.c.order_attributes).order_by(T.purchases.c.id))
                assert {row[1] for row in shipped} == {"", "google", "\\"} and any(row[0] is None for row in shipped)
                assert any(row[0] is not None and row[0].microsecond == 123456 for row in shipped)
                assert {"メモ": 'カンマ,と"引用"\nと改行\\N'} in [json.loads(row[2]) for row in shipped]
                assert store.execute(2, select(func.count()).select_from(T.purchases)) == \
                    afresh.execute(2, select(func.count()).select_from(T.purchases))
    finally:
        engine.dispose()
        databases.drop_all()


def test_a_run_of_new_purchases_is_one_journal_entry_and_is_followed_in_steps_of_bounded_size(index, monkeypatch):
    factory, events = index
    purchases = [e for e in events if e["entity"] == "purchase"]
    first = max(int(e["entity_id"]) for e in purchases) + 1
    batches = [[], []]
    for n, template in enumerate(purchases[:12]):  # two batches of six new purchases, each one's ids following
        purchase_id = first + n + (20 if n >= 6 else 0)
        event = copy.deepcopy(template)
        event["entity_id"], event["data"]["id"] = str(purchase_id), purchase_id
        event["data"]["order_code"] = f"RUN{n}"
        batches[n // 6].append(event)
    with _store(factory) as store:
        with factory() as session:
            newest = session.scalar(select(func.max(IndexChange.seq)))
        for batch in batches:
            with factory() as session:
                indexer.apply_batch(session, batch)
                session.commit()
        with factory() as session:
            runs = session.execute(select(IndexChange.kind, IndexChange.key, IndexChange.last_key)
                                   .where(IndexChange.seq > newest).order_by(IndexChange.seq)).all()
        assert [tuple(run) for run in runs] == [("purchase", first, first + 5), ("purchase", first + 26, first + 31)]
        monkeypatch.setattr(store_module, "MAX_ENTRIES", 5)  # a run longer than a step is followed whole, alone
        with factory() as session:
            assert store.follow(session) == 6  # as many as a step takes: the keeper goes on at once
            assert store.follow(session) == 6
            assert store.follow(session) == 0
        _agree(factory, store)


def test_journal_runs_are_the_consecutive_keys_of_each_kind():
    changes = [("purchase", 7), ("customer", 3), ("purchase", 5), ("purchase", 6), ("customer", 2),
               ("purchase", 9), ("purchase", 6), ("reset", 1)]
    assert indexer.key_runs(changes) == [("customer", 2, 3), ("purchase", 5, 7), ("purchase", 9, 9),
                                         ("reset", 1, 1)]


def test_a_store_reopened_with_rows_waiting_to_be_written_in_order_writes_them_once_quiet(index, tmp_path,
                                                                                           monkeypatch):
    factory, events = index
    monkeypatch.setattr(store_module, "REWRITTEN_AFTER", (0.04, 10))
    with _store(factory, tmp_path) as store:
        _change_and_follow_busy(factory, events, store)  # a stream: the writing again waits for a quiet journal
        first, waiting = store.generations[1], store.added[1]
        assert waiting > 0
    reopened = IndexStore.open(tmp_path)
    try:
        assert reopened.generations[1] == first and reopened.added[1] == waiting
        with factory() as session:
            reopened.follow(session)  # the journal's last entries read again (FOLLOW_MARGIN), as a stream
            assert reopened.follow(session) == 0
        assert reopened.generations[1] > first and reopened.added[1] == 0
        _agree(factory, reopened)
    finally:
        reopened.close()
