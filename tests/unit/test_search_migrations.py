"""The search index's migrations: the last one keeps each customer's address errors (with its company, by which a
rebuild finds the company's address states) and leaves the purchase figures to the replicas' stores; the schema the
migrations make is the models' (on SQLite, and on PostgreSQL when TSUHAN_TEST_DATABASE names a server)."""
import pytest
from alembic import command
from sqlalchemy import inspect, text

from services.common.migrations import alembic_config, upgrade
from services.search.models import Base
from tests.support import database_at, schema_differences

SUMMARIES = [  # customer, company, first purchase, count, total, address errors
    (1, 1, "2025-01-02 10:00:00+09:00", 3, 9000, 0),
    (2, 1, None, 0, 0, 2),
    (3, 2, "2025-03-04 12:00:00+09:00", 1, 500, 1),
]
ADDRESS_STATES = [(2, "a@example.jp", True), (2, "b@example.jp", True), (3, "c@example.jp", True),
                  (3, "d@example.jp", False)]


@pytest.fixture
def index_at_0010(tmp_path):
    """An index at the migration before, with summaries and address states, and an engine on it."""
    with database_at(tmp_path, "search", "0010", "search_migrations") as (url, engine):
        _fill(engine)
        yield url, engine


def _fill(engine):
    with engine.begin() as connection:
        for customer, company, first, count, total, errors in SUMMARIES:
            connection.execute(text(
                "INSERT INTO ix_customer_summaries (customer_id, company_id, first_purchase_at, latest_order_code, "
                "purchase_count, purchase_total, address_errors) VALUES (:c, :co, :f, '', :n, :t, :e)"),
                {"c": customer, "co": company, "f": first, "n": count, "t": total, "e": errors})
        for customer, address, error in ADDRESS_STATES:
            connection.execute(text("INSERT INTO ix_address_states (customer_id, address, address_error) "
                                    "VALUES (:c, :a, :e)"), {"c": customer, "a": address, "e": error})


def test_the_address_errors_stay_and_the_purchase_figures_go(index_at_0010):
    url, engine = index_at_0010
    upgrade("search", url)
    tables = inspect(engine).get_table_names()
    assert "ix_customer_summaries" not in tables and "ix_address_errors" in tables
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT customer_id, company_id, address_errors FROM ix_address_errors "
                                       "ORDER BY customer_id")).all()
    assert [tuple(row) for row in rows] == [(2, 1, 2), (3, 2, 1)]  # customer 1 has no address state


def test_the_migrations_make_the_models_schema(index_at_0010):
    url, engine = index_at_0010
    upgrade("search", url)
    assert schema_differences(engine, Base.metadata) == []


def test_going_back_before_journal_runs_writes_each_run_out_key_by_key(tmp_path):
    with database_at(tmp_path, "search", "head", "journal_runs") as (url, engine):
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO ix_changes (kind, key, last_key, company_id, changed_at) VALUES "
                "('purchase', 10, 13, 1, '2026-12-08 10:00:00+00:00'), ('customer', 4, NULL, 1, "
                "'2026-12-08 10:00:00+00:00'), ('purchase', 20, 21, 2, '2026-12-08 10:00:01+00:00')"))
        command.downgrade(alembic_config("search", url), "0012")
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT kind, key, company_id FROM ix_changes ORDER BY kind, key")).all()
        assert [tuple(row) for row in rows] == [("customer", 4, 1), ("purchase", 10, 1), ("purchase", 11, 1),
                                                ("purchase", 12, 1), ("purchase", 13, 1), ("purchase", 20, 2),
                                                ("purchase", 21, 2)]
