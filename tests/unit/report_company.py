"""A hand-made company for the tests of 集計's reports: customers and purchases written out in a test, indexed from
the events their owners publish and loaded into a store, and the report run as the search service runs it."""
import contextlib
import datetime as dt

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from services.common.scope import OPERATOR, SHOP, Scope
from services.search import indexer, matching
from services.search.models import Base
from services.search.reports import running
from services.search.store import IndexStore

OPERATOR_SCOPE = Scope(1, OPERATOR, account_id=9)


def shop_scope(shop_id, **permissions):
    return Scope(1, SHOP, shop_id=shop_id, permissions=permissions)


def customer_event(number, shop_id=1, customer_class="new"):
    return {"event_type": "customer_created", "entity": "customer", "entity_id": str(number), "version": 1,
            "company_id": 1, "data": {
                "id": number, "shop_id": shop_id, "member_number": str(number), "family_name": f"c{number}",
                "given_name": "", "family_kana": "", "given_kana": "", "gender": "unknown", "birth_date": None,
                "mail_permission": "pc", "dm_permission": True, "line_permission": True, "mobile_email": "",
                "pc_email": f"c{number}@example.jp", "mobile_phone": "", "home_phone": "", "fax": "",
                "remarks": [""] * 10, "extras": [""] * 4, "points_held": 0, "valid_points": 0,
                "points_expiry": None, "earliest_expiry": None, "last_login_at": None,
                "registered_at": "2025-01-01T10:00:00+09:00", "choices": {}, "customer_class": customer_class}}


def purchase_event(number, customer, moment, lines, shop_id=1, billed=None, counted=True, media=""):
    """A purchase: ``moment`` ISO text (Japan time: ``2026-01-05T12:00:00+09:00``), ``lines`` [(code, quantity,
    unit price)]; billed defaults to the lines' sum (no discount)."""
    sales = sum(quantity * price for _code, quantity, price in lines)
    return {"event_type": "purchase_recorded", "entity": "purchase", "entity_id": str(number), "version": 1,
            "company_id": 1, "data": {
                "id": number, "customer_id": customer, "shop_id": shop_id, "order_code": f"O-{number}",
                "purchased_at": moment, "shipped_at": None, "billed_amount": sales if billed is None else billed,
                "sales": sales, "media": media, "order_attributes": {}, "counted": counted,
                "lines": [{"product_code": code, "quantity": quantity, "unit_price": price}
                          for code, quantity, price in lines]}}


def events_of(purchases, ids, shop_of):
    """The events of a company written as {customer name: [(moment, lines, shop id, counted[, media]), …]}:
    ``ids`` {name: customer id}, ``shop_of`` {name: the customer's shop}. Purchases are numbered in that order."""
    events = [customer_event(ids[name], shop_id=shop_of.get(name, 1)) for name in ids]
    number = 0
    for name, bought in purchases.items():
        for moment, lines, shop, counted, *media in bought:
            number += 1
            events.append(purchase_event(number, ids[name], moment, lines, shop_id=shop, counted=counted,
                                         media=media[0] if media else ""))
    return events


@contextlib.contextmanager
def company_store(events):
    """A store loaded from an index built of ``events``."""
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    factory = sessionmaker(engine)
    with factory() as session:
        for event in events:
            indexer.apply(session, event)
        session.commit()
    store = IndexStore.open(None)
    with factory() as session:
        store.load(session)
    try:
        yield store
    finally:
        store.close()
        engine.dispose()


def labels_of(catalogue):
    """``Reading.product_labels`` over a hand-written catalogue {code: (name, category)}."""
    def product_labels(codes):
        return {code: {"name": catalogue[code][0], "category": catalogue[code][1]} for code in codes
                if code in catalogue}
    return product_labels


def run_report(store, kind, options=None, scope=OPERATOR_SCOPE, today=dt.date(2026, 12, 6), catalogue=None):
    """The report as ``search.report`` answers it, with ``today`` the given Japan day."""
    original = matching.today_jst
    matching.today_jst = lambda: today
    try:
        return running.run(scope, kind, options or {}, store, labels_of(catalogue or {}))
    finally:
        matching.today_jst = original


def table_rows(answer, name=None):
    """The rows of the answer's table ``name`` (the first when none)."""
    tables = answer["tables"]
    found = tables[0] if name is None else next(t for t in tables if t["name"] == name)
    return found["rows"]
