"""Events applied in batches (one transaction, set-wise writes) leave the index exactly as the same events applied one
by one: duplicates, versions already applied, several versions of one entity in a batch, versions skipped."""
import copy
import random

from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

from bench.generate import generate
from services.search import indexer
from services.search.models import Base
from tests.support import database_at

TABLES = {  # table: the columns its rows are compared by (lines: their ids are the database's own)
    "ix_customers": "*", "ix_customer_choices": "customer_id, group_id, choice_id", "ix_purchases": "*",
    "ix_purchase_lines": "purchase_id, customer_id, product_code, quantity", "ix_mails": "*",
    "ix_mail_activities": "*", "ix_address_errors": "*", "applied_versions": "*",
}


def _index():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    return engine


def _rows(engine):
    with engine.connect() as connection:
        return {table: sorted(tuple(row) for row in connection.execute(text(f"SELECT {columns} FROM {table}")))
                for table, columns in TABLES.items()}


def _assert_same_rows(got_index, expected_index):
    expected, got = _rows(expected_index), _rows(got_index)
    for table in TABLES:
        assert got[table] == expected[table], table


def _renamed(event, version, name):
    later = copy.deepcopy(event)
    later["version"], later["event_type"] = version, "customer_updated"
    later["data"]["family_name"] = name
    return later


def _moved(event, version, customer_id):
    later = copy.deepcopy(event)
    later["version"] = version
    later["data"]["customer_id"] = customer_id
    return later


def _history():
    """A generated company's events, then later versions of some of them, duplicates and stale repeats."""
    events = list(generate(company_id=1, shop_ids=[1, 2], customers=60, seed=11, products=10, mails=3))
    customers = [e for e in events if e["entity"] == "customer"]
    purchases = [e for e in events if e["entity"] == "purchase"]
    later = [_renamed(customers[0], 2, "改名二"), _renamed(customers[0], 3, "改名三"),  # two versions in a batch
             copy.deepcopy(customers[1]),  # a duplicate
             _renamed(customers[2], 2, "改名"), copy.deepcopy(customers[2]),  # a stale repeat after its update
             _moved(purchases[0], 2, int(customers[5]["entity_id"])),  # recorded again under another customer
             {**copy.deepcopy(purchases[1]), "version": 2, "event_type": "purchase_deleted"}]
    return events, later


def _one_by_one(engine, batches):
    with sessionmaker(engine)() as session:
        for batch in batches:
            for event in batch:
                indexer.apply(session, event)
        session.commit()


def _batched(engine, batches):
    for batch in batches:
        with sessionmaker(engine)() as session:
            indexer.apply_batch(session, batch)
            session.commit()


def _batch_event(event_type, entity, key, event_id, carried):
    """A batch event (``purchases_recorded``, ``customers_recorded``) carrying these single events' entities."""
    return {"event_id": event_id, "event_type": event_type, "entity": entity, "entity_id": event_id, "version": 1,
            "company_id": 1, "occurred_at": "2026-11-01T10:00:00+09:00",
            "data": {key: [{**e["data"], "id": int(e["entity_id"]), "version": e["version"]} for e in carried]}}


def _delivered(engine, deliveries):
    """Each delivery (a list of batch events) applied in a transaction of its own, as the search service does."""
    for events_of_batch in deliveries:
        with sessionmaker(engine)() as session:
            indexer.apply_batch(session, indexer.unbatched(events_of_batch))
            session.commit()


def test_batches_leave_the_index_as_events_applied_one_by_one():
    events, later = _history()
    shuffled = events[:]
    random.Random(3).shuffle(shuffled)  # batches in no order of entities (queues are one per event type)
    batches = [shuffled[i:i + 37] for i in range(0, len(shuffled), 37)] + [later, later[2:5]]
    one, many = _index(), _index()
    _one_by_one(one, batches)
    _batched(many, batches)
    _assert_same_rows(many, one)
    with many.connect() as connection:
        assert connection.execute(text("SELECT family_name FROM ix_customers WHERE id = :id"),
                                  {"id": int(later[0]["entity_id"])}).scalar() == "改名三"
        assert connection.execute(text("SELECT version FROM applied_versions WHERE entity = 'customer' "
                                       "AND entity_id = :id"), {"id": later[0]["entity_id"]}).scalar() == 3


def test_an_entity_new_to_the_index_with_several_versions_in_a_batch_notes_its_last_version_once():
    events, _ = _history()
    customer, deleted = [e for e in events if e["entity"] == "customer"][:2]
    batch = [customer, _renamed(customer, 2, "二版"), deleted,
             {**copy.deepcopy(deleted), "version": 2, "event_type": "customer_deleted"}]
    one, many = _index(), _index()
    _one_by_one(one, [batch])
    _batched(many, [batch])
    assert _rows(many) == _rows(one)
    with many.connect() as connection:
        assert sorted(connection.execute(text("SELECT entity_id, version FROM applied_versions")).all()) == sorted(
            [(customer["entity_id"], 2), (deleted["entity_id"], 2)])
        assert connection.execute(text("SELECT family_name FROM ix_customers")).scalars().all() == ["二版"]


def test_a_batch_whose_event_skips_versions_takes_the_owners_state():
    events, _ = _history()
    customer = next(e for e in events if e["entity"] == "customer")
    other = next(e for e in events if e["entity"] == "customer" and e["entity_id"] != customer["entity_id"])
    engine = _index()
    _batched(engine, [[customer]])
    asked = []
    owners_state = _renamed(customer, 4, "所有者の状態")

    def owner(entity, entity_id, company_id):
        asked.append((entity, str(entity_id), company_id))
        return owners_state

    with sessionmaker(engine)() as session:
        assert indexer.apply_batch(session, [_renamed(customer, 3, "途中"), other], owner) == 2
        session.commit()
    assert asked == [("customer", customer["entity_id"], 1)]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT family_name FROM ix_customers WHERE id = :id"),
                                  {"id": int(customer["entity_id"])}).scalar() == "所有者の状態"
        assert connection.execute(text("SELECT version FROM applied_versions WHERE entity = 'customer' "
                                       "AND entity_id = :id"), {"id": customer["entity_id"]}).scalar() == 4


def test_a_purchases_recorded_batch_event_stands_for_the_purchase_recorded_of_each_purchase_it_carries():
    events, later = _history()
    purchases = [e for e in events if e["entity"] == "purchase"]
    others = [e for e in events if e["entity"] != "purchase"]
    moved = later[5]  # purchases[0] again, version 2, under another customer

    def batch(event_id, carried):
        return _batch_event("purchases_recorded", "purchase_batch", "purchases", event_id, carried)

    # two batches, the second with a later version of one purchase, the first delivered twice
    first, second = batch("b-1", purchases[:40]), batch("b-2", purchases[40:] + [moved])
    singles = [purchases[:40], purchases[40:] + [moved]]
    assert [e["entity_id"] for e in indexer.unbatched([first])] == [p["entity_id"] for p in purchases[:40]]
    assert [(e["event_type"], e["entity"], e["version"]) for e in indexer.unbatched([second])][-1] == (
        "purchase_recorded", "purchase", 2)
    one, many = _index(), _index()
    _one_by_one(one, [others] + singles)
    _batched(many, [others])
    _delivered(many, [[first], [second, first]])
    _assert_same_rows(many, one)
    with many.connect() as connection:
        assert connection.execute(text("SELECT customer_id FROM ix_purchases WHERE id = :id"),
                                  {"id": int(moved["entity_id"])}).scalar() == moved["data"]["customer_id"]


def test_a_customers_recorded_batch_event_stands_for_the_customer_event_of_each_customer_it_carries():
    events, later = _history()
    customers = [e for e in events if e["entity"] == "customer"]
    others = [e for e in events if e["entity"] != "customer"]
    renamed = later[:2]  # customers[0] again, versions 2 and 3, in one batch as an import's two records make them

    def batch(event_id, carried):
        return _batch_event("customers_recorded", "customer_batch", "customers", event_id, carried)

    first, second = batch("c-1", customers[:30]), batch("c-2", customers[30:] + renamed)
    assert [e["entity_id"] for e in indexer.unbatched([first])] == [c["entity_id"] for c in customers[:30]]
    assert [(e["event_type"], e["entity"], e["entity_id"], e["version"])
            for e in indexer.unbatched([second])][-2:] == [
        ("customer_updated", "customer", customers[0]["entity_id"], 2),
        ("customer_updated", "customer", customers[0]["entity_id"], 3)]
    one, many = _index(), _index()
    _one_by_one(one, [customers, renamed, others])
    _delivered(many, [[first], [second, first]])  # the first delivered again
    _batched(many, [others])
    _assert_same_rows(many, one)
    with many.connect() as connection:
        assert connection.execute(text("SELECT family_name FROM ix_customers WHERE id = :id"),
                                  {"id": int(customers[0]["entity_id"])}).scalar() == "改名三"


def test_a_purchase_held_without_its_version_is_written_over_not_doubled(tmp_path):
    """On the test database (PostgreSQL's COPY under a savepoint when TSUHAN_TEST_DATABASE names a server)."""
    with database_at(tmp_path, "search", "head", "held") as (_url, index), \
            database_at(tmp_path, "search", "head", "expected") as (_other, expected):
        _held_without_its_version(index, expected)


def _held_without_its_version(index, expected):
    events, _later = _history()
    purchases = [e for e in events if e["entity"] == "purchase"]
    others = [e for e in events if e["entity"] != "purchase"]
    _batched(expected, [others, purchases])
    _batched(index, [others, purchases[:3]])
    with index.begin() as connection:  # the first purchase's row and lines stay, its version is forgotten
        connection.execute(text("DELETE FROM applied_versions WHERE entity = 'purchase' AND entity_id = :id"),
                           {"id": purchases[0]["entity_id"]})
    _batched(index, [[purchases[0]] + purchases[3:]])  # claimed as new, held all the same
    _assert_same_rows(index, expected)


def test_a_batch_of_new_entities_delivered_again_changes_nothing(tmp_path):
    """On the test database: the second delivery's entities are all claimed as new (their events from version 1),
    found held (PostgreSQL: the COPY of their versions refused under its savepoint), and left as they are."""
    with database_at(tmp_path, "search", "head", "again") as (_url, index), \
            database_at(tmp_path, "search", "head", "once") as (_other, expected):
        events, _later = _history()
        purchases = [e for e in events if e["entity"] == "purchase"]
        customers = [e for e in events if e["entity"] == "customer"]
        _batched(expected, [customers, purchases])
        _batched(index, [customers, purchases, customers[:5] + customers[10:], purchases[3:]])
        _assert_same_rows(index, expected)
        with index.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM applied_versions WHERE entity = 'purchase'")
                                      ).scalar() == len(purchases)
