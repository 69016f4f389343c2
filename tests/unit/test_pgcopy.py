"""COPY's text format as the bulk loads write it (the database side: tests/unit/test_search_bulk_load.py), and a
batch of rows inserted with one COPY (a multi-row INSERT on SQLite)."""
import datetime as dt
import itertools
import threading

import psycopg2.extras
import pytest
import sqlalchemy as sa
from psycopg2 import extensions

from services.common import pgcopy
from services.common.pgcopy import copy_shape, insert_rows, text_format
from tests.support import Databases


def test_plain_values_are_joined_with_tabs_and_none_is_null():
    moment = dt.datetime(2024, 5, 1, 3, 4, 5, tzinfo=dt.timezone.utc)
    rows = [(1, "佐藤", None, True, moment, dt.date(1980, 2, 29)), (2, "", 0, False, None, None)]
    assert text_format(rows, 6) == ("1\t佐藤\t\\N\tTrue\t2024-05-01 03:04:05+00:00\t1980-02-29\n"
                                    "2\t\t0\tFalse\t\\N\t\\N\n")


def test_text_that_looks_like_the_format_is_escaped():
    rows = [(1, "a\tb", "c\nd"), (2, "\\N", "e\rf\\g"), (3, None, "")]
    assert text_format(rows, 3) == "1\ta\\tb\tc\\nd\n2\t\\\\N\te\\rf\\\\g\n3\t\\N\t\n"


def test_a_nul_character_is_not_mistaken_for_null():
    assert text_format([(1, "a\x00b", None)], 3) == "1\ta\x00b\t\\N\n"  # PostgreSQL refuses it, as it refuses inserts


# --- insert_rows: one batch of rows into a table, on the test database (COPY on PostgreSQL) ---------------------

_metadata = sa.MetaData()
_table = sa.Table("copied", _metadata, sa.Column("id", sa.Integer, primary_key=True),
                  sa.Column("name", sa.String(50), nullable=False), sa.Column("note", sa.String(50), nullable=True),
                  sa.Column("quantity", sa.Integer, default=1))
_ROWS = [{"name": "佐藤\tタブ", "note": None}, {"name": "C:\\new\\N", "note": "改行\nと\r復帰"}, {"name": "", "note": ""}]
_STORED = [(1, "佐藤\tタブ", None, 1), (2, "C:\\new\\N", "改行\nと\r復帰", 1), (3, "", "", 1)]


_databases = itertools.count()


@pytest.fixture
def engine(tmp_path):
    databases = Databases(tmp_path)
    engine = sa.create_engine(databases.create(f"pgcopy{next(_databases)}"))
    _metadata.create_all(engine)
    yield engine
    engine.dispose()
    databases.drop_all()


def _stored(engine):
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.select(_table).order_by(_table.c.id))]


def test_rows_are_inserted_with_the_defaults_an_insert_fills(engine):
    with engine.begin() as connection:
        insert_rows(connection, _table, _ROWS)
        insert_rows(connection, _table, [])
    assert _stored(engine) == _STORED


def test_rows_given_as_values_of_columns_are_inserted(engine):
    with engine.begin() as connection:
        pgcopy.insert_values(connection, _table, ("id", "name", "note", "quantity"),
                             [(n, *row[1:]) for n, row in enumerate(_STORED, start=1)])
        pgcopy.insert_values(connection, _table, ("id", "name", "note", "quantity"), [])
    assert _stored(engine) == _STORED


def test_a_failed_batch_leaves_nothing(engine):
    with pytest.raises(sa.exc.DBAPIError), engine.begin() as connection:
        insert_rows(connection, _table, _ROWS)
        insert_rows(connection, _table, [{"name": "x", "note": None}, {"name": None, "note": "x"}])
    assert _stored(engine) == []


def test_under_a_wait_callback_the_copy_runs_and_the_callback_is_put_back(engine):
    """A service's psycopg2 waits through eventlet (psycogreen): COPY is refused while a wait callback is set."""
    if engine.dialect.name != "postgresql":
        pytest.skip("COPY and wait callbacks are PostgreSQL's")
    with engine.begin() as connection:
        connection.execute(sa.text("SET lock_timeout = '7s'"))
    waits = []

    def callback(conn):
        waits.append(1)
        return psycopg2.extras.wait_select(conn)

    extensions.set_wait_callback(callback)
    try:
        with engine.begin() as connection:
            insert_rows(connection, _table, _ROWS)
            assert extensions.get_wait_callback() is callback
            assert connection.execute(sa.text("SHOW lock_timeout")).scalar() == "7s"  # the session's own again
    finally:
        extensions.set_wait_callback(None)
    assert waits and _stored(engine) == _STORED


def test_a_default_the_model_computes_is_computed_once_and_an_sql_default_must_be_given():
    moments = iter([dt.datetime(2024, 5, 1, 12, 0), dt.datetime(2024, 5, 1, 12, 1)])
    table = sa.Table("computed", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("at", sa.DateTime, default=lambda: next(moments)),
                     sa.Column("day", sa.Date, default=sa.func.current_date()))
    columns, read = copy_shape(table, {"id": 1, "day": None})
    assert columns == ["id", "day", "at"]
    assert [read({"day": None, "id": n}) for n in (1, 2)] == [(1, None, dt.datetime(2024, 5, 1, 12, 0)),
                                                             (2, None, dt.datetime(2024, 5, 1, 12, 0))]
    with pytest.raises(ValueError, match="SQL expressions"):
        copy_shape(table, {"id": 1})


def test_under_a_wait_callback_a_copy_waiting_for_a_lock_gives_up(engine, monkeypatch):
    """The COPY holds the process's loop: a lock held by a transaction that needs the loop would hold it for ever."""
    if engine.dialect.name != "postgresql":
        pytest.skip("COPY and wait callbacks are PostgreSQL's")
    metadata = sa.MetaData()
    parent = sa.Table("parent", metadata, sa.Column("id", sa.Integer, primary_key=True))
    child = sa.Table("child", metadata, sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("parent_id", sa.ForeignKey("parent.id")))
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(parent.insert(), [{"id": 1}])
    monkeypatch.setattr(pgcopy, "LOCK_WAIT", "50ms")
    with engine.connect() as holder:
        holder.execute(sa.select(parent).with_for_update())  # the key a child row's check needs
        extensions.set_wait_callback(psycopg2.extras.wait_select)
        try:
            with pytest.raises(sa.exc.OperationalError, match="lock timeout"), engine.begin() as connection:
                insert_rows(connection, child, [{"parent_id": 1}])
        finally:
            extensions.set_wait_callback(None)
        holder.rollback()
    with engine.begin() as connection:
        insert_rows(connection, child, [{"parent_id": 1}])
        assert connection.execute(sa.select(sa.func.count()).select_from(child)).scalar() == 1


# --- upsert_rows: INSERT … ON CONFLICT of a batch (staged with COPY on PostgreSQL) -------------------------------

_keyed = sa.Table("keyed", _metadata, sa.Column("shop_id", sa.Integer, primary_key=True, autoincrement=False),
                  sa.Column("code", sa.String(20), primary_key=True), sa.Column("name", sa.String(50)),
                  sa.Column("price", sa.Integer, default=0))


def _keyed_rows(engine):
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.select(_keyed).order_by(_keyed.c.shop_id, _keyed.c.code))]


def test_upsert_rows_inserts_the_new_keys_and_returns_only_them(engine):
    with engine.begin() as connection:
        assert pgcopy.upsert_rows(connection, _keyed, [{"shop_id": 1, "code": "A", "name": "一"}],
                                  keys=("shop_id", "code"), returning=("code",)) == [("A",)]
        answer = pgcopy.upsert_rows(
            connection, _keyed, [{"shop_id": 2, "code": "B", "name": "二"}, {"shop_id": 1, "code": "A", "name": "x"},
                                 {"shop_id": 1, "code": "B\tタブ", "name": None}],
            keys=("shop_id", "code"), returning=("shop_id", "code"), order_by=("shop_id", "code"))
        assert answer == [(1, "B\tタブ"), (2, "B")]  # in the order asked; the stored key left alone
        assert pgcopy.upsert_rows(connection, _keyed, [], keys=("shop_id", "code"), returning=("code",)) == []
    assert _keyed_rows(engine) == [(1, "A", "一", 0), (1, "B\tタブ", None, 0), (2, "B", "二", 0)]


def test_upsert_rows_updates_the_columns_named_and_no_other(engine):
    with engine.begin() as connection:
        pgcopy.upsert_rows(connection, _keyed, [{"shop_id": 1, "code": "A", "name": "一", "price": 5}],
                           keys=("shop_id", "code"))
    with engine.begin() as connection:
        # two shapes of row in one transaction: the staging table takes any of the table's columns
        pgcopy.upsert_rows(connection, _keyed, [{"shop_id": 1, "code": "A", "name": "新", "price": 7},
                                                {"shop_id": 3, "code": "C", "name": "三", "price": 1}],
                           keys=("shop_id", "code"), update=("name",))
        pgcopy.upsert_rows(connection, _keyed, [{"shop_id": 3, "code": "C", "price": 9}],
                           keys=("shop_id", "code"), update=("price",))
    assert _keyed_rows(engine) == [(1, "A", "新", 5), (3, "C", "三", 9)]


def test_upsert_rows_rolled_back_leaves_nothing_and_the_next_transaction_works(engine):
    with pytest.raises(RuntimeError), engine.begin() as connection:
        pgcopy.upsert_rows(connection, _keyed, [{"shop_id": 1, "code": "A", "name": "一"}], keys=("shop_id", "code"))
        raise RuntimeError("rolled back")
    with engine.begin() as connection:
        pgcopy.upsert_rows(connection, _keyed, [{"shop_id": 2, "code": "B", "name": "二"}], keys=("shop_id", "code"))
    assert _keyed_rows(engine) == [(2, "B", "二", 0)]


def test_copies_in_two_threads_take_the_callback_off_one_at_a_time_and_put_it_back():
    """The callback is the process's: a search replica's thread copying while the service's loop copies must neither
    see it off and copy under it, nor put back the None the other left."""
    extensions.set_wait_callback(psycopg2.extras.wait_select)
    seen, entered = [], threading.Event()

    def second():
        entered.set()
        with pgcopy._without_wait_callback(None, lock_wait=False):
            seen.append(extensions.get_wait_callback())

    try:
        with pgcopy._without_wait_callback(None, lock_wait=False):
            assert extensions.get_wait_callback() is None
            other = threading.Thread(target=second)
            other.start()
            assert entered.wait(30)
            other.join(0.2)
            assert other.is_alive() and seen == []  # waits for the first to put the callback back
        other.join(30)
        assert seen == [None] and extensions.get_wait_callback() is psycopg2.extras.wait_select
    finally:
        extensions.set_wait_callback(None)


def test_copy_out_reads_a_query_in_csv(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    with engine.begin() as connection:
        insert_rows(connection, _table, _ROWS)
        data = pgcopy.copy_out(connection, "SELECT id, name, note FROM copied ORDER BY id")
    assert bytes(data).decode() == '1,佐藤\tタブ,\n2,C:\\new\\N,"改行\nと\r復帰"\n3,"",""\n'


_numbered = sa.Table("numbered", _metadata, sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("shop_id", sa.Integer, nullable=False), sa.Column("code", sa.String(20), nullable=False),
                     sa.Column("name", sa.String(50)), sa.UniqueConstraint("shop_id", "code"))


def _numbered_rows(engine):
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.select(_numbered).order_by(_numbered.c.id))]


def test_new_rows_are_copied_in_with_ids_drawn_in_the_order_of_their_keys(engine):
    rows = [{"shop_id": 2, "code": "B", "name": "二"}, {"shop_id": 1, "code": "A\tタブ", "name": None}]
    with engine.begin() as connection:
        ids = pgcopy.insert_new_rows(connection, _numbered, rows, order_by=("shop_id", "code"))
    if engine.dialect.name != "postgresql":  # no COPY: the caller upserts
        assert ids is None and _numbered_rows(engine) == []
        return
    assert ids == [2, 1]  # in the rows' order
    assert _numbered_rows(engine) == [(1, 1, "A\tタブ", None), (2, 2, "B", "二")]


def test_a_key_stored_already_writes_nothing_and_the_transaction_goes_on(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    with engine.begin() as connection:
        assert pgcopy.insert_new_rows(connection, _numbered, [{"shop_id": 1, "code": "A", "name": "一"}]) == [1]
    with engine.begin() as connection:
        assert pgcopy.insert_new_rows(connection, _numbered, [{"shop_id": 1, "code": "C", "name": "三"},
                                                              {"shop_id": 1, "code": "A", "name": "x"}]) is None
        # the same transaction writes on: the rows as an upsert, ids 2 and 3 drawn for nothing and never used
        assert pgcopy.upsert_rows(connection, _numbered, [{"shop_id": 1, "code": "C", "name": "三"},
                                                          {"shop_id": 1, "code": "A", "name": "x"}],
                                  keys=("shop_id", "code"), returning=("id", "code")) == [(4, "C")]
    assert _numbered_rows(engine) == [(1, 1, "A", "一"), (4, 1, "C", "三")]
