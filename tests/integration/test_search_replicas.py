"""Two search replicas: the second answers while the first is stopped, and loses nothing of what was under way; the
first, started again, has caught up and answers alone when the second stops."""
import threading

from nameko.standalone.rpc import ClusterRpcProxy

from tests.support import wait_for


def replicas_answering(rpc, times=12):
    """Which replicas (process ids) answered ``times`` health calls, and whether their columns were loaded."""
    reports = [rpc.search.health() for _ in range(times)]
    return {r["replica"] for r in reports}, all(r["store"]["state"] == "ready" for r in reports)


def test_the_second_replica_answers_while_the_first_is_stopped_and_the_first_catches_up(rpc, tenant, stack):
    scope = tenant.operator_scope()
    processes = stack.processes
    first = processes.processes["search"].pid
    second = processes.start("search", label="search-2").pid
    try:
        wait_for(lambda: replicas_answering(rpc) == ({first, second}, True), timeout=60,
                 message="both replicas answering")
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
        processes.stop("search")  # the first replica goes away mid-stream
        producer.join(60)
        assert done.is_set()
        wait_for(lambda: rpc.search.count(scope, {})["total"] == 120, timeout=30, message="every event indexed")
        assert replicas_answering(rpc) == ({second}, True)
        assert rpc.search.count(scope, {"attributes": {"name": "複製"}})["total"] == 120

        restarted = processes.start("search").pid
        wait_for(lambda: replicas_answering(rpc) == ({restarted, second}, True), timeout=60,
                 message="the first replica back, its columns loaded")
        processes.stop("search-2")
        assert replicas_answering(rpc) == ({restarted}, True)
        assert rpc.search.count(scope, {"attributes": {"name": "複製"}})["total"] == 120
        assert rpc.search.search(scope, {"attributes": {"name": "複製119"}})["customers"][0]["member_number"] == "R119"
        assert rpc.search.reconcile(scope)["in_agreement"]
        assert "starting services: search" in processes.log("search-2")
    finally:
        if "search-2" in processes.processes:
            processes.stop("search-2")
        if "search" not in processes.processes:
            processes.start("search")
            wait_for(lambda: rpc.search.health()["status"] == "ok", timeout=60, message="search back")
