"""Planner statistics of grown tables (``table_statistics``), on the test database: a table an import filled is
analysed once it has changed by more than its size, and is then read through its index, where before a look-up of a
few hundred values read the whole table."""
import threading

import pytest
import sqlalchemy as sa

from services.common import table_statistics
from tests.support import Databases, wait_for


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """One database for the module (dropping one makes PostgreSQL write a checkpoint): a table of its own each test."""
    databases = Databases(tmp_path_factory.mktemp("statistics"))
    engine = sa.create_engine(databases.create("statistics"))
    yield engine
    engine.dispose()
    databases.drop_all()


@pytest.fixture
def engine(database):
    with database.begin() as connection:
        connection.execute(sa.text("CREATE TABLE lines (id serial PRIMARY KEY, purchase_id integer NOT NULL, "
                                   "product_code varchar(50) NOT NULL)"))
        connection.execute(sa.text("CREATE INDEX lines_purchase ON lines (purchase_id)"))
    yield database
    with database.begin() as connection:
        connection.execute(sa.text("DROP TABLE lines"))


def fill(engine, purchases, first=0):
    """Two lines for each purchase; on PostgreSQL, the counts made visible to other sessions at once."""
    with engine.connect() as connection:
        connection.execute(sa.text(
            "INSERT INTO lines (purchase_id, product_code) SELECT n / 2, 'P' || (n % 5000) "
            "FROM generate_series(:first, :last) AS n"), {"first": first * 2, "last": (first + purchases) * 2 - 1})
        connection.commit()
        if engine.dialect.name == "postgresql":  # counts are otherwise sent up to a second later
            connection.execute(sa.text("SELECT pg_stat_force_next_flush()"))
            connection.commit()


def plan(engine):
    ids = ", ".join(str(n) for n in range(1000, 1500))
    with engine.connect() as connection:
        return "\n".join(connection.execute(sa.text(f"EXPLAIN SELECT * FROM lines WHERE purchase_id IN ({ids})"))
                         .scalars())


def last_analyzed(engine):
    with engine.connect() as connection:
        return connection.execute(sa.text(
            "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'lines'")).scalar()


def postgresql_only(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's (set TSUHAN_TEST_DATABASE)")


def test_a_filled_table_is_analysed_once_and_then_read_through_its_index(engine):
    postgresql_only(engine)
    fill(engine, 20_000)
    assert "Seq Scan on lines" in plan(engine)  # never analysed: every value is taken to match many rows
    assert table_statistics.analyze_grown(engine) == ["lines"]
    assert "Index" in plan(engine) and "Seq Scan" not in plan(engine)
    assert last_analyzed(engine) is not None
    assert table_statistics.analyze_grown(engine) == []  # nothing changed since


def test_a_table_is_analysed_again_only_once_it_changed_by_as_many_rows_as_it_holds(engine):
    postgresql_only(engine)
    fill(engine, 5_000)  # 10,000 rows
    assert table_statistics.analyze_grown(engine) == ["lines"]
    fill(engine, 4_000, first=5_000)  # 8,000 new rows: fewer than 1,000 + the 10,000 it held
    assert table_statistics.analyze_grown(engine) == []
    fill(engine, 2_000, first=9_000)  # 12,000 changes in all since, over 1,000 + 10,000
    assert table_statistics.analyze_grown(engine) == ["lines"]


def test_a_small_table_is_left_alone(engine):
    postgresql_only(engine)
    fill(engine, 400)  # 800 rows: under the 1,000 changes any table takes first
    assert table_statistics.analyze_grown(engine) == []


def test_sqlite_needs_no_statistics(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'statistics.db'}")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE lines (id integer PRIMARY KEY, purchase_id integer)"))
        connection.execute(sa.text("INSERT INTO lines (purchase_id) VALUES (1), (2)"))
    assert table_statistics.analyze_grown(engine) == []
    keeper = table_statistics.StatisticsKeeper(engine, interval=0.01)
    keeper.run()  # returns at once: nothing to keep
    engine.dispose()


def test_the_keeper_analyses_a_grown_table_on_its_own_until_stopped(engine):
    postgresql_only(engine)
    keeper = table_statistics.StatisticsKeeper(engine, interval=0.05)
    thread = threading.Thread(target=keeper.run)
    thread.start()
    try:
        fill(engine, 20_000)
        wait_for(lambda: last_analyzed(engine) is not None, message="the grown table analysed")
    finally:
        keeper.stop()
        thread.join(timeout=60)
    assert not thread.is_alive()
    assert "Seq Scan" not in plan(engine)
