"""The bulk load (benchmark, first loads) and the event handlers build the same index from the same events: with
multi-row inserts on SQLite, and with COPY on PostgreSQL (when TSUHAN_TEST_DATABASE names a server)."""
import copy

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

from bench.generate import generate
from services.common.migrations import upgrade
from services.common.scope import OPERATOR, Scope
from services.search import indexer, searching
from services.search.models import Base
from tests.support import Databases, loaded_store
from tests.support import test_database_server as database_server

CONDITIONS = [
    {}, {"attributes": {"genders": ["female"]}}, {"latest": {"purchase_count": {"min": 0, "max": 0}}},
    {"latest": {"purchase_count": {"min": 1, "max": 1}}}, {"latest": {"purchase_total": {"min": 8000}}},
    {"mails": {"manual": {"opened": "include"}}}, {"period": {"purchased": {"from": "2024-01-01", "to": "2024-12-31"}}},
    {"attributes": {"line_permission": False}},
]


def _index():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    return engine


def _events():
    """A small generated company; two customers' remarks hold what text formats must escape."""
    events = list(generate(company_id=1, shop_ids=[1, 2], customers=80, seed=7, products=20, mails=4))
    for position, remarks in ((3, ["タブ\tと改行\nと\r復帰", "\\N", 'バック\\スラッシュと"引用",カンマ']),
                              (60, ["C:\\new\\N", "", "\\"])):
        events[position] = copy.deepcopy(events[position])
        events[position]["data"]["remarks"][1:4] = remarks
    return events


def test_bulk_load_and_event_handlers_agree():
    events = _events()
    bulk, one_by_one = _index(), _index()
    with bulk.begin() as connection:
        indexer.load_bulk(connection, events)
    with sessionmaker(one_by_one)() as session:
        for event in events:
            indexer.apply(session, event)
        session.commit()
    _same_answers(sessionmaker(bulk), sessionmaker(one_by_one))


def _same_answers(a, b):
    scope = Scope(1, OPERATOR)
    with loaded_store(a) as store_a, loaded_store(b) as store_b, a() as session_a, b() as session_b:
        for conditions in CONDITIONS:
            assert searching.count(session_a, scope, conditions, True, store_a) == \
                searching.count(session_b, scope, conditions, True, store_b), conditions


TABLES = {  # table: the columns its rows are compared by, in order (lines: their ids are the database's own)
    "ix_customers": "id", "ix_customer_choices": "customer_id, group_id", "ix_purchases": "id",
    "ix_purchase_lines": "purchase_id, customer_id, product_code, quantity", "ix_mails": "id",
    "ix_mail_activities": "id", "ix_address_errors": "customer_id", "applied_versions": "entity, entity_id",
}


def _index_definitions(engine):
    with engine.connect() as connection:
        return connection.execute(text("SELECT tablename, indexname, indexdef FROM pg_indexes "
                                       "WHERE schemaname = 'public' ORDER BY 2")).all()


def _rows(engine, table, order):
    columns = "*" if table != "ix_purchase_lines" else order
    with engine.connect() as connection:
        return connection.execute(text(f"SELECT {columns} FROM {table} ORDER BY {order}")).all()


@pytest.mark.skipif(database_server() is None, reason="PostgreSQL only: set TSUHAN_TEST_DATABASE")
def test_bulk_load_with_copy_and_event_handlers_agree_on_postgresql(tmp_path):
    events = _events()
    databases = Databases(tmp_path)
    engines = []
    try:
        bulk_url, one_by_one_url = databases.create("bulk_copy"), databases.create("bulk_events")
        for url in (bulk_url, one_by_one_url):
            upgrade("search", url)
        bulk, one_by_one = create_engine(bulk_url), create_engine(one_by_one_url)
        engines += [bulk, one_by_one]
        indexes = _index_definitions(bulk)
        timings = {}
        with bulk.begin() as connection:  # a generator, in chunks smaller than a table, indexes built afterwards
            counts = indexer.load_bulk(connection, iter(events), chunk=50, rebuild_indexes=True, timings=timings)
        assert _index_definitions(bulk) == indexes  # the schema is the migrations' again
        assert {"copy", "indexes", "analyze", "copy ix_customers", "indexes ix_customers"} <= set(timings)
        with sessionmaker(one_by_one)() as session:
            for event in events:
                indexer.apply(session, event)
            session.commit()
        assert counts["customer"] == 80 and counts["version"] == len(events)
        assert counts["line"] == sum(len(e["data"]["lines"]) for e in events if e["entity"] == "purchase")
        for table, order in TABLES.items():
            assert _rows(bulk, table, order) == _rows(one_by_one, table, order), table
        customers = _rows(bulk, "ix_customers", "id")
        for position in (3, 60):
            row = customers[position]
            assert (row.remark2, row.remark3, row.remark4) == tuple(events[position]["data"]["remarks"][1:4])
            assert row.points_expiry is None and row.remark5 == ""
        _same_answers(sessionmaker(bulk), sessionmaker(one_by_one))
    finally:
        for engine in engines:
            engine.dispose()
        databases.drop_all()
