"""The purchases database as its migrations leave it, on SQLite and (TSUHAN_TEST_DATABASE) PostgreSQL."""
import pytest
from sqlalchemy.exc import DBAPIError

from services.common.migrations import upgrade
from tests.support import add_row as _add, database_at


@pytest.fixture
def purchases_at_0007(tmp_path):
    with database_at(tmp_path, "purchases", "0007") as (url, engine):
        yield url, engine


def _foreign_keys_on(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")


def test_a_product_is_never_deleted_and_lines_written_before_the_upgrade_stay(purchases_at_0007):
    url, engine = purchases_at_0007
    with engine.begin() as connection:
        category = _add(connection, "categories", name="お茶")
        product = _add(connection, "products", category_id=category, code="A-1", name="ほうじ茶", price=800)
        purchase = _add(connection, "purchases", order_code="1001")
        _add(connection, "purchase_lines", purchase_id=purchase, line_no=1, product_id=product, product_code="A-1",
             product_name="ほうじ茶", quantity=2, unit_price=800)
    upgrade("purchases", url)
    with engine.connect() as connection:
        _foreign_keys_on(connection)
        assert connection.exec_driver_sql("SELECT product_code, quantity FROM purchase_lines").all() == [("A-1", 2)]
        with pytest.raises(DBAPIError, match="products are never deleted"):
            connection.exec_driver_sql(f"DELETE FROM products WHERE id = {int(product)}")
        connection.rollback()
    with engine.begin() as connection:
        _foreign_keys_on(connection)
        assert connection.exec_driver_sql("SELECT COUNT(*) FROM products").scalar() == 1
        # a purchase deleted still takes its lines with it
        connection.exec_driver_sql(f"DELETE FROM purchases WHERE id = {int(purchase)}")
        assert connection.exec_driver_sql("SELECT COUNT(*) FROM purchase_lines").scalar() == 0
