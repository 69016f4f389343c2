"""Ids that go out in events are never handed out twice, even on SQLite where a deleted highest rowid comes back."""
import pytest
from sqlalchemy import MetaData, Table, create_engine, func, select

from services.common.migrations import upgrade
from tests.support import add_row as _add


def _newest_deleted_then_added(engine, table_name, unique):
    with engine.begin() as connection:
        for n in (1, 2):
            _add(connection, table_name, **{unique: f"{table_name}-{n}-{_stamp()}"})
        table = Table(table_name, MetaData(), autoload_with=connection)
        newest = connection.scalar(select(func.max(table.c.id)))
        connection.exec_driver_sql(f"DELETE FROM {table_name} WHERE id = {int(newest)}")
        again = _add(connection, table_name, **{unique: f"{table_name}-3-{_stamp()}"})
    return newest, again


_count = [0]


def _stamp():
    _count[0] += 1
    return _count[0]


@pytest.mark.parametrize("service, revision, table, unique", [
    ("customers", "0004", "customers", "member_number"),
    ("customers", "0004", "support_entries", "content"),
    ("purchases", "0002", "purchases", "order_code"),
    ("purchases", "0002", "categories", "name"),
])
def test_a_deleted_newest_id_is_not_handed_out_again_after_the_upgrade(tmp_path, service, revision, table, unique):
    url = f"sqlite:///{tmp_path}/{service}.db"
    upgrade(service, url, revision)
    engine = create_engine(url)
    try:
        if table == "support_entries":
            with engine.begin() as connection:
                _add(connection, "customers", member_number="owner")
        newest, again = _newest_deleted_then_added(engine, table, unique)
        assert again == newest  # what SQLite does without AUTOINCREMENT: the reason for the migration
        upgrade(service, url)
        newest, again = _newest_deleted_then_added(engine, table, unique)
        assert again > newest
    finally:
        engine.dispose()


def test_rebuilding_the_tables_keeps_their_rows_and_the_rows_that_refer_to_them(tmp_path):
    url = f"sqlite:///{tmp_path}/customers.db"
    upgrade("customers", url, "0004")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            group = _add(connection, "attribute_groups", name="会員ステータス")
            choice = _add(connection, "attribute_choices", group_id=group, label="プラチナ")
            customer = _add(connection, "customers", member_number="7")
            _add(connection, "customer_choices", customer_id=customer, group_id=group, choice_id=choice)
            _add(connection, "support_entries", customer_id=customer, staff="佐藤", content="電話")
        upgrade("customers", url)
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            assert connection.exec_driver_sql("SELECT content FROM support_entries WHERE customer_id = ?",
                                              (customer,)).scalar() == "電話"
            assert connection.exec_driver_sql("SELECT choice_id FROM customer_choices WHERE customer_id = ?",
                                              (customer,)).scalar() == choice
            connection.exec_driver_sql("DELETE FROM customers WHERE id = ?", (customer,))  # foreign keys still cascade
            assert connection.exec_driver_sql("SELECT COUNT(*) FROM support_entries").scalar() == 0
            assert connection.exec_driver_sql("SELECT COUNT(*) FROM customer_choices").scalar() == 0
            connection.commit()
    finally:
        engine.dispose()


def test_categories_keep_their_ids_through_the_upgrade(tmp_path):
    url = f"sqlite:///{tmp_path}/purchases.db"
    upgrade("purchases", url, "0002")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            _add(connection, "categories", id=41, name="花")
        upgrade("purchases", url)
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT name FROM categories WHERE id = 41").scalar() == "花"
    finally:
        engine.dispose()
