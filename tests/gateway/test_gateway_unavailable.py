"""A service whose database refuses connections answers Unavailable, and the gateway shows its 503 page, never a 500;
once the database is back the same pages work again. PostgreSQL only: the customers service's database is closed to
new connections and its open ones ended, as when the database server restarts or fails over."""
import contextlib

import pytest
from sqlalchemy import create_engine, text

from services.common.errors import Unavailable
from tests import support
from tests.support import wait_for

pytestmark = pytest.mark.skipif(support.test_database_server() is None, reason="closes a PostgreSQL database to connections")


@contextlib.contextmanager
def database_closed(url):
    server, name = url.rsplit("/", 1)
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                               {"name": name})
        yield
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
        admin.dispose()


def test_a_service_without_its_database_gives_the_503_page_and_recovers(stack, rpc, tenant, operator):
    customer = rpc.customers.create_customer(tenant.operator_scope(), {"shop_id": tenant.shops[0]["id"],
                                                                      "family_name": "停止"})
    assert operator.get(f"/customers/{customer['id']}").status_code == 200
    with database_closed(stack.urls["customers"]):
        with pytest.raises(Unavailable):
            rpc.customers.get_customer(tenant.operator_scope(), customer["id"])
        page = operator.get(f"/customers/{customer['id']}")
        assert page.status_code == 503
        assert "一時的に利用できません" in page.get_data(as_text=True)
        posted = operator.get("/customers/new")
        assert posted.status_code == 503
    wait_for(lambda: operator.get(f"/customers/{customer['id']}").status_code == 200, timeout=60,
             message="the customer page once the database is back")
    assert "停止" in operator.get(f"/customers/{customer['id']}").get_data(as_text=True)
