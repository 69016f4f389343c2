"""A batch of new orders goes straight into the purchases table, ids drawn from its sequence first; once a batch
named stored orders, the company's batches go to the upsert at once until one is all new (on the test database:
PostgreSQL when TSUHAN_TEST_DATABASE names a server, where the straight copy is made). An id an insert drew and did
not use is never handed out: an upsert draws one for every order it is given, stored or not, as the straight copy
does for a batch it gives up."""
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from services.common.scope import OPERATOR, Scope
from services.purchases import order_batches
from tests import support
from tests.support import database_at

COMPANY_ID, SHOP_ID = 71, 1
MEMBERS = {"M-1": {"id": 5, "member_number": "M-1", "shop_id": SHOP_ID}}


def _order(code):
    return {"shop_id": SHOP_ID, "order_code": code, "member_number": "M-1", "purchased_at": "2026-10-01T10:00:00",
            "lines": [{"product_code": "R-1", "product_name": "ローズ", "quantity": 2, "unit_price": 400}]}


def test_a_file_sent_again_costs_the_sequence_one_batch_of_ids_then_new_orders_go_straight_in(tmp_path):
    scope = Scope(COMPANY_ID, OPERATOR)
    with database_at(tmp_path, "purchases", "head") as (_url, engine):
        Session = sessionmaker(engine)

        def record(codes):
            with Session() as session:
                answer = order_batches.record_orders(session, scope, [_order(c) for c in codes], MEMBERS, {SHOP_ID})
                session.commit()
            return answer

        first = record(["S-0", "S-1", "S-2"])
        assert (first["created"], [p["id"] for p in first["purchases"]]) == (3, [1, 2, 3])
        for _ in range(2):
            again = record(["S-0", "S-1", "S-2"])
            assert (again["unchanged"], [p["id"] for p in again["purchases"]]) == (3, [1, 2, 3])
        # PostgreSQL: the first time sent again tried as new (ids 4-6), then upserted (7-9); the second time upserted
        # at once (10-12); SQLite upserts every batch (4-6, 7-9)
        expected = 13 if support.test_database_server() else 10
        assert record(["S-3"])["purchases"][0]["id"] == expected  # upserted, found all new
        assert record(["S-4"])["purchases"][0]["id"] == expected + 1  # straight in again (PostgreSQL)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT order_code, quantity FROM purchases JOIN purchase_lines "
                                           "ON purchase_id = purchases.id ORDER BY order_code")).all() == [
                (f"S-{n}", 2) for n in range(5)]
