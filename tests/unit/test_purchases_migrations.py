"""The purchases database as its migrations leave it, on SQLite and (TSUHAN_TEST_DATABASE) PostgreSQL."""
import pytest
from sqlalchemy.exc import DBAPIError

from services.common.migrations import upgrade
from services.purchases.models import Base
from tests.support import add_row as _add, database_at, schema_differences


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


def test_lines_are_kept_by_purchase_and_line_number_and_go_with_their_purchase(purchases_at_0007):
    url, engine = purchases_at_0007
    upgrade("purchases", url, "0008")
    with engine.begin() as connection:
        category = _add(connection, "categories", name="お茶")
        product = _add(connection, "products", category_id=category, code="A-1", name="ほうじ茶", price=800)
        kept, gone = _add(connection, "purchases", order_code="1001"), _add(connection, "purchases", order_code="1002")
        for purchase, line_no, quantity in ((kept, 1, 2), (gone, 1, 5), (kept, 2, 3), (gone, 2, 6)):
            _add(connection, "purchase_lines", purchase_id=purchase, line_no=line_no, product_id=product,
                 product_code="A-1", product_name="ほうじ茶", quantity=quantity, unit_price=800)
    upgrade("purchases", url)
    with engine.begin() as connection:
        assert connection.exec_driver_sql(
            "SELECT purchase_id, line_no, quantity FROM purchase_lines ORDER BY quantity").all() == [
            (kept, 1, 2), (kept, 2, 3), (gone, 1, 5), (gone, 2, 6)]
        with pytest.raises(DBAPIError):  # a line number twice in one purchase
            with connection.begin_nested():
                _add(connection, "purchase_lines", purchase_id=kept, line_no=2, product_id=product,
                     product_code="A-1", product_name="ほうじ茶", quantity=9, unit_price=800)
        connection.exec_driver_sql(f"DELETE FROM purchases WHERE id = {int(gone)}")
        assert connection.exec_driver_sql(
            "SELECT purchase_id, line_no, quantity FROM purchase_lines ORDER BY quantity").all() == [
            (kept, 1, 2), (kept, 2, 3)]


def test_the_migrations_make_the_models_schema(purchases_at_0007):
    url, engine = purchases_at_0007
    upgrade("purchases", url)
    assert schema_differences(engine, Base.metadata) == []
