"""``python -m bench.import_stages`` measures each part of an import's path on real databases: every part does its
work (the index ends with the lines the purchases database got) and costs some CPU."""
import pytest
from sqlalchemy import create_engine, text

from bench import import_stages
from bench.import_data import write_eccube_orders
from tests.support import Databases
from tests.support import test_database_server as database_server


@pytest.mark.skipif(database_server() is None, reason="PostgreSQL only: set TSUHAN_TEST_DATABASE")
def test_every_part_of_the_path_runs_and_is_measured(tmp_path):
    path = tmp_path / "orders.csv"
    write_eccube_orders(str(path), lines=1500, customers=150, products=200)
    databases = Databases(tmp_path)
    try:
        spent = import_stages.run_once(str(path), databases, batch=100)
        counts = {}
        for label, query in (("purchases", "SELECT count(*) FROM purchase_lines"),
                             ("search", "SELECT count(*) FROM ix_purchase_lines")):
            engine = create_engine(databases.urls[label])
            with engine.connect() as connection:
                counts[label] = connection.execute(text(query)).scalar()
            engine.dispose()
    finally:
        databases.drop_all()
    assert counts["purchases"] > 1000 and counts["search"] == counts["purchases"]
    assert set(spent) == set(import_stages.PARTS)
    assert all(seconds > 0 for part, seconds in spent.items() if "database" not in part)
