"""The bulk load (benchmark, first loads) and the event handlers build the same index from the same events."""
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from bench.generate import generate
from services.common.scope import OPERATOR, Scope
from services.search import indexer, searching
from services.search.models import Base

CONDITIONS = [
    {}, {"attributes": {"genders": ["female"]}}, {"latest": {"purchase_count": {"min": 0, "max": 0}}},
    {"latest": {"purchase_count": {"min": 1, "max": 1}}}, {"latest": {"purchase_total": {"min": 8000}}},
    {"mails": {"manual": {"opened": "include"}}}, {"period": {"purchased": {"from": "2024-01-01", "to": "2024-12-31"}}},
]


def _index():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    return engine


def test_bulk_load_and_event_handlers_agree():
    events = list(generate(company_id=1, shop_ids=[1, 2], customers=80, seed=7, products=20, mails=4))
    bulk, one_by_one = _index(), _index()
    with bulk.begin() as connection:
        indexer.load_bulk(connection, events)
    with sessionmaker(one_by_one)() as session:
        for event in events:
            indexer.apply(session, event)
        session.commit()
    scope = Scope(1, OPERATOR)
    for conditions in CONDITIONS:
        with sessionmaker(bulk)() as a, sessionmaker(one_by_one)() as b:
            assert searching.count(a, scope, conditions) == searching.count(b, scope, conditions), conditions
