"""How fast the search index works off a backlog of owners' events (a bulk import's): events applied per second.

    python -m bench.index_backlog_bench [--customers 10000] [--orders 10000] [--replicas 1]
                                        [--server postgresql://postgres@127.0.0.1:5432]

Starts every service as its own process on fresh PostgreSQL databases and a private RabbitMQ vhost, stops search,
writes the customers (customers.upsert_customers, 500 a call) and then one order for each of the first ``orders``
of them (purchases.record_orders, 500 a call) through the real services, and waits until their outboxes have put
every customers_recorded and purchases_recorded event (one for each call of 500) in the search queues. Then starts
search (``--replicas`` processes) and times how long its queues take to empty and search.reconcile to agree with the owners.
"""
import argparse
import logging
import os
import time

from kombu import Connection
from nameko.standalone.rpc import ClusterRpcProxy

from services.common.config import SERVICE_NAMES
from bench.stack import fresh_stack
from tests.support import make_tenant, wait_for

QUEUES = ("evt-customers-customers_recorded--search.on_customers_customers_recorded",
          "evt-purchases-purchases_recorded--search.on_purchases_purchases_recorded")
PER_CALL = 500


def queued(amqp_uri):
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        return sum(channel.queue_declare(name, passive=True).message_count for name in QUEUES)


def main():
    logging.getLogger("amqp").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=10000)
    parser.add_argument("--orders", type=int, default=10000)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    with fresh_stack(args.server, "tsuhan-backlog-") as stack:
        run(args, stack.amqp_uri, stack.urls, stack.processes)


def run(args, amqp_uri, urls, processes):
    for service in SERVICE_NAMES:
        processes.start(service)
    tenant = make_tenant(urls["shops"])
    scope = {"company_id": tenant.company_id, "role": "system"}
    shop = tenant.shops[0]["id"]
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=300) as rpc:
        for service in SERVICE_NAMES:
            wait_for(lambda: getattr(rpc, service).health()["status"] == "ok", timeout=60,
                     message=f"{service} health")
        processes.stop("search")  # its queues stay (durable) and fill up
        started = time.monotonic()
        numbers = [f"B{i:07d}" for i in range(args.customers)]
        for start in range(0, len(numbers), PER_CALL):
            result = rpc.customers.upsert_customers(scope, [
                {"member_number": n, "shop_id": shop, "family_name": f"積残{n}"} for n in numbers[start:start + PER_CALL]])
            assert not result["errors"], result["errors"][:3]
        ordered = numbers[:args.orders]
        for start in range(0, len(ordered), PER_CALL):
            result = rpc.purchases.record_orders(scope, [
                {"shop_id": shop, "order_code": f"O-{n}", "member_number": n, "purchased_at": "2026-02-01T10:00:00",
                 "counted": True, "lines": [{"product_code": "P-1", "quantity": 1, "unit_price": 1000}]}
                for n in ordered[start:start + PER_CALL]])
            assert not result["errors"], result["errors"][:3]
        customer_batches, batches = -(-len(numbers) // PER_CALL), -(-len(ordered) // PER_CALL)
        wait_for(lambda: queued(amqp_uri) >= customer_batches + batches, timeout=600, interval=1,
                 message="every event in the queues")
        total = len(numbers) + len(ordered)
        print(f"{total} changes ({len(numbers)} customers in {customer_batches} customers_recorded, {len(ordered)} "
              f"purchases in {batches} purchases_recorded) queued in "
              f"{time.monotonic() - started:.0f} s; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")

        started = time.monotonic()
        processes.start("search")
        for i in range(1, args.replicas):
            processes.start("search", label=f"search-{i + 1}")
        wait_for(lambda: queued(amqp_uri) == 0, timeout=3600, interval=0.5, message="the queues empty")
        emptied = time.monotonic() - started
        wait_for(lambda: rpc.search.reconcile(scope)["in_agreement"], timeout=600, interval=0.5,
                 message="search and the owners in agreement")
        agreed = time.monotonic() - started
        print(f"search ({args.replicas} replica(s)) started with {total} changes queued: queues empty after "
              f"{emptied:.1f} s, reconcile in agreement after {agreed:.1f} s (service start included) = "
              f"{total / agreed:.0f} events/s; load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
