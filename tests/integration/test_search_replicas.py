"""Two search replicas: both answer; one stopped mid-stream loses nothing; restarted, it serves the same index."""
import threading

from nameko.standalone.rpc import ClusterRpcProxy

from tests.support import wait_for


def test_a_replica_stopped_mid_stream_loses_nothing(rpc, tenant, stack):
    scope = tenant.operator_scope()
    stack.processes.start("search", label="search-2")
    try:
        wait_for(lambda: rpc.search.health()["status"] == "ok", message="search replicas")
        records = [{"member_number": f"R{i:03d}", "shop_id": tenant.shops[0]["id"], "family_name": f"複製{i}"}
                   for i in range(120)]
        done = threading.Event()

        def produce():  # its own proxy: a proxy serves one thread
            with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=30) as own:
                for start in range(0, 120, 10):
                    assert not own.customers.upsert_customers(scope, records[start:start + 10])["errors"]
            done.set()

        producer = threading.Thread(target=produce)
        producer.start()
        wait_for(lambda: rpc.search.count(scope, {})["total"] >= 20, timeout=30, message="events flowing")
        stack.processes.stop("search-2")  # one replica goes away mid-stream
        producer.join(60)
        assert done.is_set()
        wait_for(lambda: rpc.search.count(scope, {})["total"] == 120, timeout=30, message="every event indexed")
        stack.processes.start("search", label="search-2")
        # both replicas answer from their in-memory columns once loaded (the new one loads them by itself)
        wait_for(lambda: all(rpc.search.health()["columns"]["state"] == "ready" for _ in range(6)), timeout=30,
                 message="both replicas' columns loaded")
        answers = {rpc.search.count(scope, {"attributes": {"name": "複製"}})["total"] for _ in range(6)}
        assert answers == {120}
        assert rpc.search.reconcile(scope)["in_agreement"]
    finally:
        if "search-2" in stack.processes.processes:
            stack.processes.stop("search-2")
