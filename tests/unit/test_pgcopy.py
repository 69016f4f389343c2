"""COPY's text format as the bulk loads write it (the database side: tests/unit/test_search_bulk_load.py), and a
batch of rows inserted with one COPY (a multi-row INSERT on SQLite)."""
import datetime as dt
import itertools

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
    engine = sa.create_engine(Databases(tmp_path).create(f"pgcopy{next(_databases)}"))
    _metadata.create_all(engine)
    yield engine
    engine.dispose()


def _stored(engine):
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.select(_table).order_by(_table.c.id))]


def test_rows_are_inserted_with_the_defaults_an_insert_fills(engine):
    with engine.begin() as connection:
        insert_rows(connection, _table, _ROWS)
        insert_rows(connection, _table, [])
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


def test_a_column_whose_default_is_computed_must_be_given():
    table = sa.Table("computed", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("at", sa.DateTime, default=dt.datetime.now))
    with pytest.raises(ValueError, match="computed"):
        copy_shape(table, {"id": 1})
    columns, read = copy_shape(table, {"id": 1, "at": None})
    assert columns == ["id", "at"] and read({"at": None, "id": 1}) == (1, None)


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
