"""The index and its owners: a rebuild while changes keep coming, events whose versions the owner never gave, and
repairing disagreements entity by entity."""
import threading

from nameko.standalone.rpc import ClusterRpcProxy

from tests.support import wait_for


def search_log_since(stack, offset):
    return stack.processes.log("search")[offset:]


def order(tenant, number, code, amount):
    return {"shop_id": tenant.shops[0]["id"], "order_code": code, "member_number": number,
            "purchased_at": "2026-03-01T10:00:00",
            "lines": [{"product_code": "R-1", "quantity": 1, "unit_price": amount}]}


def test_a_rebuild_while_customers_and_purchases_keep_changing_ends_in_agreement(rpc, tenant, stack):
    scope = tenant.operator_scope()
    log_offset = len(stack.processes.log("search"))
    shop = tenant.shops[0]["id"]
    numbers = [f"RB{i:03d}" for i in range(60)]
    assert not rpc.customers.upsert_customers(scope, [{"member_number": n, "shop_id": shop, "family_name": "再構築"}
                                                      for n in numbers])["errors"]
    assert not rpc.purchases.record_orders(scope, [order(tenant, n, f"RB-{n}", 1000) for n in numbers])["errors"]
    wait_for(lambda: rpc.search.count(scope, {"latest": {"purchase_count": {"min": 1}}})["total"] == 60, timeout=60,
             message="the first customers indexed")
    stop, rounds, failures = threading.Event(), [], []

    def produce():  # the same customers and orders changed again and again, and new ones added (its own proxy)
        try:
            with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=30) as own:
                round_ = 0
                while not stop.is_set():
                    round_ += 1
                    changed = [{"member_number": n, "shop_id": shop, "family_name": f"再構築{round_}"}
                               for n in numbers[round_ % 3::3]] + [{"member_number": f"RN{round_:03d}",
                                                                   "shop_id": shop, "family_name": "新規"}]
                    assert not own.customers.upsert_customers(scope, changed)["errors"]
                    orders = [order(tenant, n, f"RB-{n}", 1000 + round_) for n in numbers[round_ % 4::4]]
                    orders.append(order(tenant, f"RN{round_:03d}", f"RN-{round_}", 500))
                    assert not own.purchases.record_orders(scope, orders)["errors"]
                    rounds.append(round_)
        except Exception as exc:  # reported by the test below
            failures.append(exc)

    producer = threading.Thread(target=produce)
    producer.start()
    try:
        wait_for(lambda: len(rounds) >= 2, timeout=60, message="changes flowing")
        counts = [rpc.search.rebuild(scope) for _ in range(2)]
        wait_for(lambda: len(rounds) >= 6, timeout=60, message="changes flowing after the rebuilds")
    finally:
        stop.set()
        producer.join(60)
    assert not failures, failures
    assert all(c["customer"] >= 60 and c["purchase"] >= 60 for c in counts), counts
    customers, purchases = 60 + len(rounds), 60 + len(rounds)
    wait_for(lambda: rpc.search.reconcile(scope)["in_agreement"], timeout=60, interval=1,
             message="index and owners in agreement")
    report = rpc.search.reconcile(scope)["entities"]
    assert (report["customer"]["owner"], report["customer"]["index"]) == (customers, customers)
    assert (report["purchase"]["owner"], report["purchase"]["index"]) == (purchases, purchases)
    last = rounds[-1]
    # searches read the replica's columns, which follow the index's journal a moment behind it
    wait_for(lambda: rpc.search.count(scope, {"attributes": {"name": f"再構築{last}"}})["total"] == 20, timeout=60,
             message="the last round's names searchable")
    log = search_log_since(stack, log_offset)
    assert "ERROR" not in log and "Traceback" not in log, log[-3000:]


def publish_by_hand(amqp_uri, service, envelope):
    """Publish an event on a service's exchange as if its outbox had (what a forged or replayed event looks like)."""
    from kombu import Connection, Producer

    from services.common.outbox import event_exchange

    with Connection(amqp_uri) as connection:
        Producer(connection.channel(), exchange=event_exchange(service), serializer="json").publish(
            envelope, routing_key=envelope["event_type"], delivery_mode=2, declare=[event_exchange(service)])


def test_an_event_a_thousand_versions_ahead_of_the_owner_does_not_pin_the_index(rpc, tenant, stack):
    import uuid

    scope = tenant.operator_scope()
    log_offset = len(stack.processes.log("search"))
    customer = rpc.customers.create_customer(scope, {"shop_id": tenant.shops[0]["id"], "member_number": "F1",
                                                     "family_name": "本物"})
    wait_for(lambda: rpc.search.count(scope, {"attributes": {"name": "本物"}})["total"] == 1, timeout=30,
             message="the customer indexed")
    owned = rpc.customers.export_for_index(scope, customer["id"] - 1, 1)[0]
    assert owned["entity_id"] == str(customer["id"]) and owned["version"] == 1
    forged = dict(owned, event_id=str(uuid.uuid4()), event_type="customer_updated", version=1001,
                  occurred_at="2026-12-01T10:00:00+09:00", data=dict(owned["data"], family_name="偽物"))
    publish_by_hand(stack.amqp_uri, "customers", forged)
    wait_for(lambda: f"customer {customer['id']}: event version 1001 after version 1 applied"
             in search_log_since(stack, log_offset), timeout=30, message="the forged event handled")
    assert rpc.search.count(scope, {"attributes": {"name": "偽物"}})["total"] == 0
    assert rpc.search.reconcile(scope)["entities"]["customer"] == {"owner": 1, "index": 1, "stale": [], "extra": []}
    rpc.customers.update_customer(scope, customer["id"], {"family_name": "更新"})  # version 2 at the owner
    wait_for(lambda: rpc.search.count(scope, {"attributes": {"name": "更新"}})["total"] == 1, timeout=30,
             message="the owner's next update applied")
    assert rpc.search.count(scope, {"attributes": {"name": "本物"}})["total"] == 0
    assert rpc.search.reconcile(scope)["in_agreement"]
    log = search_log_since(stack, log_offset)
    assert "ERROR" not in log and "Traceback" not in log, log[-3000:]


def test_reconcile_finds_and_repair_sets_right_hand_corrupted_index_rows(rpc, tenant, stack):
    import json
    import os
    import subprocess
    import sys

    from sqlalchemy import text

    from services.search.models import IndexedCustomer
    from tests.support import ROOT, session_for

    scope = tenant.operator_scope()
    shop = tenant.shops[0]["id"]
    ids = [rpc.customers.create_customer(scope, {"shop_id": shop, "member_number": f"H{i}",
                                                 "family_name": f"修復{i}"})["id"] for i in range(3)]
    recorded = rpc.purchases.record_orders(scope, [order(tenant, f"H{i}", f"H-{i}", 2000) for i in range(3)])
    purchase = recorded["purchases"][0]["id"]
    wait_for(lambda: rpc.search.count(scope, {"latest": {"purchase_count": {"min": 1}}})["total"] == 3, timeout=30,
             message="the customers and purchases indexed")
    assert rpc.search.reconcile(scope)["in_agreement"]
    engine, factory = session_for(stack.urls["search"])
    columns = [c.name for c in IndexedCustomer.__table__.columns]
    copied = ", ".join(":bogus" if c == "id" else c for c in columns)
    with factory() as session:  # a changed row under a version the owner never gave, a lost row, a row of nothing
        session.execute(text("UPDATE ix_customers SET family_name = '壊れ' WHERE id = :id"), {"id": ids[0]})
        session.execute(text("UPDATE applied_versions SET version = 1001 "
                             "WHERE entity = 'customer' AND entity_id = :id"), {"id": str(ids[0])})
        session.execute(text("DELETE FROM ix_purchases WHERE id = :id"), {"id": purchase})
        session.execute(text(f"INSERT INTO ix_customers ({', '.join(columns)}) SELECT {copied} FROM ix_customers "
                             "WHERE id = :id"), {"id": ids[1], "bogus": ids[2] + 100000})
        session.commit()
    report = rpc.search.reconcile(scope)
    assert not report["in_agreement"]
    assert report["entities"]["customer"] == {"owner": 3, "index": 4, "stale": [str(ids[0])],
                                              "extra": [str(ids[2] + 100000)]}
    assert report["entities"]["purchase"] == {"owner": 3, "index": 2, "stale": [str(purchase)], "extra": []}

    repaired = subprocess.run([sys.executable, "-m", "services", "repair", str(tenant.company_id)], cwd=ROOT,
                              env=dict(os.environ, AMQP_URI=stack.amqp_uri), capture_output=True, text=True,
                              timeout=120)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert json.loads(repaired.stdout) == {"in_agreement": True, "repaired": {
        "customer": 2, "purchase": 1, "mail": 0, "mail_activity": 0, "address_state": 0}}
    assert rpc.search.reconcile(scope)["in_agreement"]
    with factory() as session:
        assert session.execute(text("SELECT family_name FROM ix_customers WHERE id = :id"),
                               {"id": ids[0]}).scalar() == "修復0"
        assert session.execute(text("SELECT version FROM applied_versions WHERE entity = 'customer' "
                                    "AND entity_id = :id"), {"id": str(ids[0])}).scalar() == 1
        assert session.execute(text("SELECT customer_id FROM ix_purchases WHERE id = :id"),
                               {"id": purchase}).scalar() == ids[0]
    engine.dispose()
    assert rpc.search.count(scope, {"latest": {"purchase_count": {"min": 1}}})["total"] == 3
    rpc.customers.update_customer(scope, ids[0], {"family_name": "修復済"})  # the owner's version 2 is applied
    wait_for(lambda: rpc.search.count(scope, {"attributes": {"name": "修復済"}})["total"] == 1, timeout=30,
             message="the next update applied after the repair")
