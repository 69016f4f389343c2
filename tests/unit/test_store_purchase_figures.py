"""The customers' purchase figures a replica's store computes (``store_derived.py``): the first counted purchase, by
moment then id, and the moment of the second — on a store loaded afresh and on one that followed each kind of change
(a purchase earlier than the first, one taken out of 集計, one moved to another customer, one deleted, the customer's
own record changed, a purchase indexed before its customer). Every expected value is written out by hand."""
import copy
import datetime as dt

from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from services.search import indexer
from services.search import store_tables as T
from services.search.models import Base
from services.search.store import IndexStore
from tests.unit.report_company import customer_event, purchase_event

JST = dt.timezone(dt.timedelta(hours=9))
LINE = [("P1", 1, 1000)]


def _moment(text):
    return dt.datetime.fromisoformat(text).astimezone(dt.timezone.utc)


def _figures(store):
    """{customer id: (first purchase id, second purchase moment)} as the store holds them."""
    C = T.customers.c
    rows = store.execute(1, select(C.id, C.first_purchase_id, C.second_purchase_at).order_by(C.id))
    return {cid: (first, second.astimezone(dt.timezone.utc) if second else None) for cid, first, second in rows}


class Company:
    """An index on SQLite and a store following its journal."""

    def __init__(self, events):
        self.engine = create_engine("sqlite://")
        Base.metadata.create_all(self.engine)
        self.factory = sessionmaker(self.engine)
        self.apply(*events)
        self.store = IndexStore.open(None)
        with self.factory() as session:
            self.store.load(session)

    def apply(self, *events):
        with self.factory() as session:
            for event in events:
                indexer.apply(session, event)
            session.commit()

    def follow(self, *events):
        self.apply(*events)
        with self.factory() as session:
            assert self.store.follow(session) > 0

    def afresh(self):
        """The figures of a store loaded afresh from the same index."""
        store = IndexStore.open(None)
        try:
            with self.factory() as session:
                store.load(session)
            return _figures(store)
        finally:
            store.close()

    def close(self):
        self.store.close()
        self.engine.dispose()


def _again(event, **data):
    changed = copy.deepcopy(event)
    changed["version"] += 1
    changed["data"].update(data)
    return changed


def test_first_purchase_and_second_moment_follow_every_kind_of_change():
    # customer 1: purchases 11 (2025-03-01 10:00), 12 and 13 at the same moment (2025-04-01 09:00), 14 not counted
    # (2025-02-01); customer 2: purchase 21 alone; customer 3: none
    p11 = purchase_event(11, 1, "2025-03-01T10:00:00+09:00", LINE)
    p12 = purchase_event(12, 1, "2025-04-01T09:00:00+09:00", LINE)
    p13 = purchase_event(13, 1, "2025-04-01T09:00:00+09:00", LINE)
    p14 = purchase_event(14, 1, "2025-02-01T09:00:00+09:00", LINE, counted=False)
    p21 = purchase_event(21, 2, "2025-05-05T12:00:00+09:00", LINE)
    company = Company([customer_event(1), customer_event(2), customer_event(3), p11, p12, p13, p14, p21])
    try:
        march, april = _moment("2025-03-01T10:00:00+09:00"), _moment("2025-04-01T09:00:00+09:00")
        assert _figures(company.store) == {1: (11, april), 2: (21, None), 3: (None, None)}

        # 14 counted now: the first (2025-02-01), 11 the second
        p14 = _again(p14, counted=True)
        company.follow(p14)
        assert _figures(company.store)[1] == (14, march)
        # 11 taken out of 集計 and 14 deleted: 12 and 13 share a moment; the first is the lower id
        company.follow(_again(p11, counted=False), {**_again(p14), "event_type": "purchase_deleted"})
        assert _figures(company.store)[1] == (12, april)
        # 12 recorded again for customer 2, before 21: customer 1 keeps 13 alone, customer 2 starts with 12
        company.follow(_again(p12, customer_id=2))
        assert _figures(company.store) == {1: (13, None), 2: (12, _moment("2025-05-05T12:00:00+09:00")),
                                           3: (None, None)}
        # the customers' own records change: their figures stay; customer 3 buys
        changed = _again(customer_event(1), family_name="変更")
        company.follow(changed, _again(customer_event(2), dm_permission=False),
                       purchase_event(31, 3, "2026-01-01T00:00:00+09:00", LINE))
        assert _figures(company.store) == {1: (13, None), 2: (12, _moment("2025-05-05T12:00:00+09:00")),
                                           3: (31, None)}
        # a purchase indexed before its customer (events of two owners come in any order): the customer's row, new
        # to the store, gets its figures when it comes
        company.follow(purchase_event(41, 4, "2026-02-01T00:00:00+09:00", LINE),
                       purchase_event(42, 4, "2026-03-01T00:00:00+09:00", LINE))
        company.follow(customer_event(4))
        assert _figures(company.store)[4] == (41, _moment("2026-03-01T00:00:00+09:00"))
        assert company.afresh() == _figures(company.store)
    finally:
        company.close()
