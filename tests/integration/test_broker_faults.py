"""The broker goes away while writes are running: no service stops, no acknowledged write is lost or applied twice,
the search index agrees with the owners afterwards; a request whose caller has given up is never run.

The services run on a RabbitMQ node of this test's own (tests/rabbit_nodes.py), which the test stops and starts.
It takes a couple of minutes: ``make test-cluster`` runs it, ``make test`` skips it.
"""
import json
import os
import threading
import time
import uuid

import pytest
from kombu import Connection, Exchange, Producer, Queue
from nameko.exceptions import RpcTimeout
from sqlalchemy import select

from gateway.rpc import RpcPool
from services.common.config import SERVICE_NAMES
from services.common.deadlines import DEADLINE_HEADER, ClusterRpcProxy
from services.customers.models import Customer
from services.search.models import IndexedCustomer
from tests.rabbit_nodes import only_with_own_brokers, rabbit_nodes
from tests.support import Databases, ServiceProcesses, make_tenant, session_for, wait_for

pytestmark = only_with_own_brokers

WRITERS = 4
OUTAGE_SECONDS = 10
HUNG = 180  # seconds: longer than this means something hangs, not that it is slow


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    with rabbit_nodes(tmp_path_factory.mktemp("rabbit"), 1, prefix="tsuhanfault") as nodes:
        yield nodes[0]


def start_services(tmp, amqp_uri, databases, extra_env=None):
    """The five services on fresh databases, talking to ``amqp_uri``: (processes, database urls)."""
    urls = databases.create_services()
    env = dict(os.environ, AMQP_URI=amqp_uri, TSUHAN_VAR_DIR=str(tmp), LOG_LEVEL="INFO", OUTBOX_POLL_SECONDS="0.5",
               **(extra_env or {}))
    for service, url in urls.items():
        env[f"{service.upper()}_DATABASE_URL"] = url
    processes = ServiceProcesses(env, tmp)
    for service in SERVICE_NAMES:
        processes.start(service)
    return processes, urls


def wait_until_answering(amqp_uri, services, processes=None):
    """Each service answers its health call; when one never does, the error carries the end of its log and the
    stacks of its threads."""
    def answers(service):
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=5) as rpc:
            return getattr(rpc, service).health()["status"] == "ok"

    for service in services:
        try:
            wait_for(lambda: answers(service), timeout=HUNG, interval=1, message=f"{service} to answer")
        except AssertionError as exc:
            if processes is None:
                raise
            tail = "\n".join(processes.log(service).splitlines()[-40:])
            stacks = processes.green_stacks(service)
            raise AssertionError(f"{exc}\n--- the end of {service}'s log ---\n{tail}\n"
                                 f"--- what {service} is doing (its threads' stacks) ---\n{stacks}") from None


@pytest.fixture(scope="module")
def faulty_stack(tmp_path_factory, broker):
    tmp = tmp_path_factory.mktemp("faults")
    processes, databases = None, Databases(tmp)
    try:
        processes, urls = start_services(tmp, broker.uri, databases)
        wait_until_answering(broker.uri, SERVICE_NAMES, processes)
        yield type("Stack", (), {"processes": processes, "urls": urls, "amqp_uri": broker.uri, "tmp": tmp})()
    finally:
        if processes is not None:
            processes.stop_all()
        databases.drop_all()


def customer(tenant, marker):
    return {"shop_id": tenant.shops[0]["id"], "family_name": "障害", "given_name": marker}


def rows_by_marker(customers_url, company_id):
    engine, factory = session_for(customers_url)
    try:
        with factory() as session:
            rows = session.execute(select(Customer.given_name, Customer.id).where(
                Customer.company_id == company_id)).all()
    finally:
        engine.dispose()
    found = {}
    for marker, customer_id in rows:
        found.setdefault(marker, []).append(customer_id)
    return found


def indexed_ids(search_url, company_id):
    engine, factory = session_for(search_url)
    try:
        with factory() as session:
            return set(session.scalars(select(IndexedCustomer.id).where(IndexedCustomer.company_id == company_id)))
    finally:
        engine.dispose()


class Writers:
    """A few threads creating customers through the gateway's RPC pool, each write with its own marker."""

    def __init__(self, amqp_uri, tenant, label):
        self.amqp_uri, self.tenant, self.label = amqp_uri, tenant, label
        self.acknowledged = {}  # marker -> customer id
        self.failed = {}  # marker -> the error's name
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._write, args=(index,)) for index in range(WRITERS)]

    def start(self):
        for thread in self.threads:
            thread.start()

    def _write(self, index):
        pool = RpcPool(self.amqp_uri, timeout=10)
        number = index
        while not self.stopping.is_set():
            marker = f"{self.label}{number:05d}"
            try:  # with a request id, as the gateway's forms and the connectors send: a redelivery applies once
                created = pool.call("customers", "create_customer", self.tenant.operator_scope(),
                                    customer(self.tenant, marker), request_id=str(uuid.uuid4()))
                with self._lock:
                    self.acknowledged[marker] = created["id"]
            except Exception as exc:  # the broker is away: the caller sees the failure, the write may or may not be in
                with self._lock:
                    self.failed[marker] = type(exc).__name__
                time.sleep(0.5)
            number += WRITERS
        pool.close()

    def count(self):
        with self._lock:
            return len(self.acknowledged), len(self.failed)

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=HUNG)
            assert not thread.is_alive(), "a writer hangs"


def test_a_broker_outage_during_writes_stops_no_service_and_loses_no_acknowledged_write(broker, faulty_stack):
    tenant = make_tenant(faulty_stack.urls["shops"])
    writers = Writers(broker.uri, tenant, "W")
    writers.start()
    try:
        wait_for(lambda: writers.count()[0] >= 10, timeout=HUNG, message="writes before the outage")
        before_outage = writers.count()[0]
        broker.stop_app()
        time.sleep(OUTAGE_SECONDS)
        failed_during_outage = writers.count()[1]
        broker.start_app()
        wait_for(lambda: writers.count()[0] >= before_outage + 20, timeout=HUNG, message="writes after the outage")
    finally:
        writers.stop()

    wait_until_answering(broker.uri, SERVICE_NAMES, faulty_stack.processes)
    scope = {"company_id": tenant.company_id, "role": "system"}
    rows = rows_by_marker(faulty_stack.urls["customers"], tenant.company_id)
    customer_ids = {customer_id for ids in rows.values() for customer_id in ids}
    wait_for(lambda: indexed_ids(faulty_stack.urls["search"], tenant.company_id) == customer_ids, timeout=HUNG,
             interval=0.5, message="the search index to hold every customer")
    with ClusterRpcProxy({"AMQP_URI": broker.uri}, timeout=60) as rpc:
        report = rpc.search.reconcile(scope)

    acknowledged, failed = writers.acknowledged, writers.failed
    lost = sorted(marker for marker in acknowledged if marker not in rows)
    twice = sorted(marker for marker, ids in rows.items() if len(ids) > 1)
    exited = {label: process.returncode for label, process in faulty_stack.processes.processes.items()
              if process.poll() is not None}
    figures = {
        "writes attempted": len(acknowledged) + len(failed), "acknowledged": len(acknowledged),
        "failed (caller told)": len(failed), "applied": len(rows),
        "applied though the caller was told it failed": len([m for m in failed if m in rows]),
        "lost": len(lost), "applied twice": len(twice), "processes exited": len(exited),
        "errors seen by callers": sorted(set(failed.values())), "outage seconds": OUTAGE_SECONDS,
        "search reconcile in agreement": report["in_agreement"],
    }
    print("\nbroker outage figures:", json.dumps(figures, ensure_ascii=False))

    assert failed_during_outage > 0, "the outage did not reach the writers"
    assert exited == {}
    assert set(failed.values()) <= {"ServiceUnavailable"}  # what the gateway shows as its 503 page
    assert lost == [] and twice == []
    assert all(rows[marker] == [customer_id] for marker, customer_id in acknowledged.items())
    assert report["in_agreement"] is True, report


def test_a_request_whose_caller_gave_up_while_the_service_was_down_is_never_run(broker, faulty_stack):
    tenant = make_tenant(faulty_stack.urls["shops"])
    processes = faulty_stack.processes
    processes.stop("customers")
    try:
        with ClusterRpcProxy({"AMQP_URI": broker.uri}, timeout=2) as rpc:
            with pytest.raises(RpcTimeout):
                rpc.customers.create_customer(tenant.operator_scope(), customer(tenant, "LATE"))
        time.sleep(1)  # the request's deadline has passed while it waits in the queue
    finally:
        processes.start("customers")
    wait_until_answering(broker.uri, ["customers"], processes)
    with ClusterRpcProxy({"AMQP_URI": broker.uri}, timeout=30) as rpc:
        rpc.customers.create_customer(tenant.operator_scope(), customer(tenant, "AFTER"))
    assert set(rows_by_marker(faulty_stack.urls["customers"], tenant.company_id)) == {"AFTER"}


def publish_request(amqp_uri, tenant, marker, deadline):
    """A create_customer request as a caller's proxy sends it, with ``deadline`` in its header and no AMQP expiration
    (as a request kept by the broker over its own restart): returns a function that waits for its reply."""
    connection = Connection(amqp_uri)
    channel = connection.channel()
    reply_queue = Queue(f"fault-test-reply-{uuid.uuid4().hex[:8]}", exchange=Exchange("nameko-rpc", type="topic",
                        durable=True), routing_key=uuid.uuid4().hex, auto_delete=True)
    reply_queue(channel).declare()
    Producer(channel).publish(
        {"args": [tenant.operator_scope(), customer(tenant, marker)], "kwargs": {}},
        exchange=Exchange("nameko-rpc", type="topic", durable=True), routing_key="customers.create_customer",
        reply_to=reply_queue.routing_key, correlation_id=uuid.uuid4().hex, headers={DEADLINE_HEADER: deadline},
        serializer="json")

    def reply(seconds):
        try:
            end = time.time() + seconds
            while time.time() < end:
                message = reply_queue(channel).get(no_ack=True)
                if message is not None:
                    return json.loads(message.body)
                time.sleep(0.2)
            return None
        finally:
            connection.release()

    return reply


def test_a_request_found_past_its_deadline_is_dropped_and_logged(broker, faulty_stack):
    tenant = make_tenant(faulty_stack.urls["shops"])
    in_time = publish_request(broker.uri, tenant, "INTIME", time.time() + 60)
    assert in_time(HUNG)["error"] is None  # the same request before its deadline is run
    late = publish_request(broker.uri, tenant, "EXPIRED", time.time() - 5)
    wait_for(lambda: "request customers.create_customer dropped: its caller stopped waiting"
             in faulty_stack.processes.log("customers"), timeout=HUNG, message="the drop in the customers log")
    assert late(1) is None  # dropped without a reply: its caller had gone
    assert set(rows_by_marker(faulty_stack.urls["customers"], tenant.company_id)) == {"INTIME"}
