"""The customers' purchase figures a replica's store computes (``store_derived.py``): the summary (first and latest
purchase, latest shipment, latest order code and id, count, total), the first counted purchase, by moment then id,
and the moment of the second — on a store loaded afresh and on one that followed each kind of change (a purchase
earlier than the first, one taken out of 集計, one moved to another customer, one deleted, the customer's own record
changed, a purchase indexed before its customer). Every expected value is written out by hand."""
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


def _summaries(store):
    """{customer id: (first, latest, latest shipped, latest order code, latest purchase id, count, total)}."""
    C = T.customers.c
    rows = store.execute(1, select(C.id, C.first_purchase_at, C.latest_purchase_at, C.latest_shipped_at,
                                   C.latest_order_code, C.latest_purchase_id, C.purchase_count, C.purchase_total)
                         .order_by(C.id))
    utc = [value.astimezone(dt.timezone.utc) if isinstance(value, dt.datetime) else value for row in rows
           for value in row]
    return {utc[n]: tuple(utc[n + 1:n + 8]) for n in range(0, len(utc), 8)}


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

    def afresh(self, figures=_figures):
        """The figures of a store loaded afresh from the same index."""
        store = IndexStore.open(None)
        try:
            with self.factory() as session:
                store.load(session)
            return figures(store)
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


def _shipped(event, moment):
    shipped = copy.deepcopy(event)
    shipped["data"]["shipped_at"] = moment
    return shipped


def test_the_summary_follows_every_kind_of_change():
    # customer 1: 11 (2025-03-01, 3,000円, shipped 03-03), 12 and 13 at one moment (2025-04-01, 500円 and 700円,
    # 12 shipped 04-10), 14 not counted (2025-06-01, 9,999円); customer 2: 21 (2025-05-05, 1,200円); customer 3: none
    p11 = _shipped(purchase_event(11, 1, "2025-03-01T10:00:00+09:00", LINE, billed=3000), "2025-03-03T09:00:00+09:00")
    p12 = _shipped(purchase_event(12, 1, "2025-04-01T09:00:00+09:00", LINE, billed=500), "2025-04-10T09:00:00+09:00")
    p13 = purchase_event(13, 1, "2025-04-01T09:00:00+09:00", LINE, billed=700)
    p14 = purchase_event(14, 1, "2025-06-01T09:00:00+09:00", LINE, billed=9999, counted=False)
    p21 = purchase_event(21, 2, "2025-05-05T12:00:00+09:00", LINE, billed=1200)
    company = Company([customer_event(1), customer_event(2), customer_event(3), p11, p12, p13, p14, p21])
    try:
        march, april, may = (_moment("2025-03-01T10:00:00+09:00"), _moment("2025-04-01T09:00:00+09:00"),
                             _moment("2025-05-05T12:00:00+09:00"))
        shipped_march, shipped_april = _moment("2025-03-03T09:00:00+09:00"), _moment("2025-04-10T09:00:00+09:00")
        never = (None, None, None, "", None, 0, 0)
        assert _summaries(company.store) == {
            1: (march, april, shipped_april, "O-13", 13, 3, 4200),  # 12 and 13 share the moment: 13 is the latest
            2: (may, may, None, "O-21", 21, 1, 1200), 3: never}

        # 14 counted now: the latest, not shipped (the latest shipment stays 12's)
        june = _moment("2025-06-01T09:00:00+09:00")
        company.follow(_again(p14, counted=True))
        assert _summaries(company.store)[1] == (march, june, shipped_april, "O-14", 14, 4, 14199)
        # 12 recorded again for customer 2 and 14 deleted: customer 1 has 11 and 13, customer 2 has 12 and 21
        company.follow(_again(p12, customer_id=2), {**_again(p14, counted=True), "event_type": "purchase_deleted",
                                                    "version": 3})
        assert _summaries(company.store) == {
            1: (march, april, shipped_march, "O-13", 13, 2, 3700),
            2: (april, may, shipped_april, "O-21", 21, 2, 1700), 3: never}
        # 11 out of 集計, the customers' own records change, customer 3 buys
        company.follow(_again(p11, counted=False), _again(customer_event(1), family_name="変更"),
                       purchase_event(31, 3, "2026-01-01T00:00:00+09:00", LINE, billed=100))
        new_year = _moment("2026-01-01T00:00:00+09:00")
        assert _summaries(company.store) == {
            1: (april, april, None, "O-13", 13, 1, 700),
            2: (april, may, shipped_april, "O-21", 21, 2, 1700),
            3: (new_year, new_year, None, "O-31", 31, 1, 100)}
        # a purchase indexed before its customer: the customer's row gets its summary when it comes
        company.follow(purchase_event(41, 4, "2026-02-01T00:00:00+09:00", LINE, billed=50))
        company.follow(customer_event(4))
        february = _moment("2026-02-01T00:00:00+09:00")
        assert _summaries(company.store)[4] == (february, february, None, "O-41", 41, 1, 50)
        assert company.afresh(_summaries) == _summaries(company.store)
    finally:
        company.close()


def test_purchases_added_in_one_step_are_taken_into_the_figures_their_customers_had():
    # customer 1: 11 (2025-03-01, 3,000円, shipped 03-03) and 12 (2025-04-01, 500円); customer 2: none. One step
    # then adds, for customer 1: 15 before the first (2025-01-15, 800円), 16 and 17 at one moment after the latest
    # (2025-06-01, 900円 shipped 06-03 and 100円), 18 not counted (2025-12-01); for customer 2: 25 and 26 at one
    # moment (2025-07-07, 200円 and 300円). None of them is replaced: the step adds them to the figures.
    p11 = _shipped(purchase_event(11, 1, "2025-03-01T10:00:00+09:00", LINE, billed=3000), "2025-03-03T09:00:00+09:00")
    p12 = purchase_event(12, 1, "2025-04-01T09:00:00+09:00", LINE, billed=500)
    company = Company([customer_event(1), customer_event(2), p11, p12])
    try:
        company.follow(purchase_event(15, 1, "2025-01-15T09:00:00+09:00", LINE, billed=800),
                       _shipped(purchase_event(16, 1, "2025-06-01T09:00:00+09:00", LINE, billed=900),
                                "2025-06-03T09:00:00+09:00"),
                       purchase_event(17, 1, "2025-06-01T09:00:00+09:00", LINE, billed=100),
                       purchase_event(18, 1, "2025-12-01T09:00:00+09:00", LINE, billed=7777, counted=False),
                       purchase_event(25, 2, "2025-07-07T12:00:00+09:00", LINE, billed=200),
                       purchase_event(26, 2, "2025-07-07T12:00:00+09:00", LINE, billed=300))
        january, march, june, july = (_moment("2025-01-15T09:00:00+09:00"), _moment("2025-03-01T10:00:00+09:00"),
                                      _moment("2025-06-01T09:00:00+09:00"), _moment("2025-07-07T12:00:00+09:00"))
        assert _summaries(company.store) == {
            1: (january, june, _moment("2025-06-03T09:00:00+09:00"), "O-17", 17, 5, 5300),  # 16 and 17: 17 latest
            2: (july, july, None, "O-26", 26, 2, 500)}
        assert _figures(company.store) == {1: (15, march), 2: (25, july)}
        assert company.afresh(_summaries) == _summaries(company.store)
        assert company.afresh() == _figures(company.store)
    finally:
        company.close()


def test_a_followed_key_of_another_company_is_not_read_into_the_store():
    # a journal entry of company 1 naming a purchase (and its customer) of company 2: ids are the owners', and a
    # store of one company never holds another's rows, however the entry came to name them
    theirs = [{**customer_event(2), "company_id": 2},
              {**purchase_event(21, 2, "2025-05-05T12:00:00+09:00", LINE), "company_id": 2}]
    company = Company([customer_event(1), purchase_event(11, 1, "2025-03-01T10:00:00+09:00", LINE), *theirs])
    try:
        with company.factory() as session:
            indexer.note_changes(session, [("purchase", 21), ("customer", 2)], 1)
            session.commit()
            assert company.store.follow(session) == 2
        assert company.store.execute(1, select(T.purchases.c.id)) == [(11,)]
        assert company.store.execute(1, select(T.lines.c.purchase_id)) == [(11,)]
        assert company.store.execute(1, select(T.customers.c.id)) == [(1,)]
        assert company.store.execute(2, select(T.purchases.c.id)) == [(21,)]
    finally:
        company.close()
