"""Ids that go out in events are never handed out twice, even on SQLite where a deleted highest rowid comes back."""
import datetime as dt

import pytest
from sqlalchemy import func, select

from services.common.migrations import upgrade
from services.customers.customers import DEFAULTS
from services.customers.models import AttributeChoice, AttributeGroup, Customer, CustomerChoice, SupportEntry
from services.purchases.models import Category, Purchase
from tests.support import session_for

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)


def _customer(number):
    return Customer(company_id=1, shop_id=1, member_number=str(number), family_name="消去", version=1, **DEFAULTS)


def _purchase(code):
    return Purchase(company_id=1, shop_id=1, customer_id=1, member_number="1", order_code=str(code),
                    purchased_at=NOW, version=1)


def _newest_deleted_then_added(factory, model, make):
    with factory() as session:
        session.add_all([make(1), make(2)])
        session.commit()
        newest = session.scalar(select(func.max(model.id)))
        session.delete(session.get(model, newest))
        session.commit()
        again = make(3)
        session.add(again)
        session.commit()
        return newest, again.id


@pytest.mark.parametrize("service, revision, model, make", [
    ("customers", "0004", Customer, _customer),
    ("purchases", "0002", Purchase, _purchase),
])
def test_a_deleted_newest_id_is_not_handed_out_again_after_the_upgrade(tmp_path, service, revision, model, make):
    url = f"sqlite:///{tmp_path}/{service}.db"
    upgrade(service, url, revision)
    engine, factory = session_for(url)
    try:
        before = _newest_deleted_then_added(factory, model, make)
        assert before[1] == before[0]  # what SQLite does without AUTOINCREMENT: the reason for the migration
        upgrade(service, url)
        newest, again = _newest_deleted_then_added(factory, model, lambda n: make(n + 10))
        assert again > newest
    finally:
        engine.dispose()


def test_rebuilding_the_tables_keeps_their_rows_and_the_rows_that_refer_to_them(tmp_path):
    url = f"sqlite:///{tmp_path}/customers.db"
    upgrade("customers", url, "0004")
    engine, factory = session_for(url)
    try:
        with factory() as session:
            session.add(AttributeGroup(id=1, company_id=1, name="会員ステータス"))
            session.add(AttributeChoice(id=2, group_id=1, label="プラチナ"))
            session.flush()
            customer = _customer(7)
            customer.choices.append(CustomerChoice(group_id=1, choice_id=2))
            session.add(customer)
            session.flush()
            session.add(SupportEntry(company_id=1, customer_id=customer.id, staff="佐藤", entered_at=NOW,
                                     content="電話"))
            session.commit()
        upgrade("customers", url)
        with factory() as session:
            kept = session.scalar(select(Customer).where(Customer.member_number == "7"))
            assert [(c.group_id, c.choice_id) for c in kept.choices] == [(1, 2)]
            assert session.scalar(select(SupportEntry.content).where(SupportEntry.customer_id == kept.id)) == "電話"
            session.delete(kept)  # and the foreign keys still cascade
            session.commit()
            assert session.scalar(select(func.count()).select_from(SupportEntry)) == 0
            assert session.scalar(select(func.count()).select_from(CustomerChoice)) == 0
    finally:
        engine.dispose()


def test_categories_keep_their_ids_through_the_upgrade(tmp_path):
    url = f"sqlite:///{tmp_path}/purchases.db"
    upgrade("purchases", url, "0002")
    engine, factory = session_for(url)
    try:
        with factory() as session:
            session.add(Category(id=41, company_id=1, shop_id=1, name="花", version=1))
            session.commit()
        upgrade("purchases", url)
        with factory() as session:
            assert session.get(Category, 41).name == "花"
    finally:
        engine.dispose()
