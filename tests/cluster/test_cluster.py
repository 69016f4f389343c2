"""Production runs RabbitMQ as three clustered nodes with the services' durable queues as quorum queues: losing one
node while writes run loses no acknowledged write and stops no service (clients fail over to the other nodes).

Three nodes of this test's own, on free ports, clustered with ``rabbitmqctl join_cluster``; ``make test-cluster``.
"""
import json
import time

import pytest

from services.common.config import SERVICE_NAMES
from services.common.deadlines import ClusterRpcProxy
from tests.integration.test_broker_faults import (
    HUNG, Writers, indexed_ids, rows_by_marker, start_services, wait_until_answering)
from tests.rabbit_nodes import join, only_with_own_brokers, rabbit_nodes
from tests.support import Databases, make_tenant, wait_for

pytestmark = only_with_own_brokers

DOWN_SECONDS = 10


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with rabbit_nodes(tmp_path_factory.mktemp("rabbit-cluster"), 3, prefix="tsuhancluster") as nodes:
        join(nodes)
        yield nodes


@pytest.fixture(scope="module")
def clustered_stack(tmp_path_factory, cluster):
    tmp = tmp_path_factory.mktemp("clustered")
    amqp_uri = ";".join(node.uri for node in cluster)  # kombu's failover list, passed through by Nameko
    processes, databases = None, Databases(tmp)
    try:
        processes, urls = start_services(tmp, amqp_uri, databases, {"RABBITMQ_QUEUE_TYPE": "quorum"})
        wait_until_answering(amqp_uri, SERVICE_NAMES, processes)
        yield type("Stack", (), {"processes": processes, "urls": urls, "amqp_uri": amqp_uri})()
    finally:
        if processes is not None:
            processes.stop_all()
        databases.drop_all()


def queue_types(node):
    return {name: queue_type for name, queue_type, _ in listed_queues(node)}


def listed_queues(node):
    """(name, type, durable) of every queue the node knows."""
    listed = node.ctl("list_queues", "name", "type", "durable", "--quiet", "--no-table-headers").stdout
    return [tuple(line.split("\t")[:3]) for line in listed.splitlines() if line.count("\t") >= 2]


def test_the_three_nodes_form_one_cluster(cluster):
    status = json.loads(cluster[2].ctl("cluster_status", "--formatter", "json").stdout)
    assert sorted(status["running_nodes"]) == sorted(node.node for node in cluster)


def test_durable_queues_are_quorum_queues_and_reply_queues_classic(cluster, clustered_stack):
    types = queue_types(cluster[0])
    assert {types[f"rpc-{service}"] for service in SERVICE_NAMES} == {"quorum"}
    event_queues = [name for name in types if name.startswith("evt-customers-customer_created--search")]
    assert event_queues and {types[name] for name in event_queues} == {"quorum"}
    replies = [name for name in types if name.startswith("rpc.reply-")]
    assert replies and {types[name] for name in replies} == {"classic"}
    # transient: a durable classic queue cannot be declared again while its node is down, so a caller failing over
    # to another node would never get its replies
    assert {durable for name, _, durable in listed_queues(cluster[0]) if name.startswith("rpc.reply-")} == {"false"}


def test_losing_a_node_during_writes_loses_no_acknowledged_write_and_stops_no_service(cluster, clustered_stack):
    tenant = make_tenant(clustered_stack.urls["shops"])
    amqp_uri = clustered_stack.amqp_uri
    writers = Writers(amqp_uri, tenant, "C")
    lost_node = cluster[0]  # the first of the failover list: where the services are connected
    writers.start()
    try:
        wait_for(lambda: writers.count()[0] >= 10, timeout=HUNG, message="writes before the node stops")
        before = writers.count()[0]
        lost_node.stop_app()
        wait_for(lambda: writers.count()[0] >= before + 20, timeout=HUNG,
                 message="writes while a node is down")
        time.sleep(DOWN_SECONDS)
    finally:
        writers.stop()
        lost_node.start_app()

    wait_until_answering(amqp_uri, SERVICE_NAMES, clustered_stack.processes)
    rows = rows_by_marker(clustered_stack.urls["customers"], tenant.company_id)
    customer_ids = {customer_id for ids in rows.values() for customer_id in ids}
    wait_for(lambda: indexed_ids(clustered_stack.urls["search"], tenant.company_id) == customer_ids, timeout=HUNG,
             interval=0.5, message="the search index to hold every customer")
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=60) as rpc:
        report = rpc.search.reconcile({"company_id": tenant.company_id, "role": "system"})

    acknowledged, failed = writers.acknowledged, writers.failed
    lost = sorted(marker for marker in acknowledged if marker not in rows)
    twice = sorted(marker for marker, ids in rows.items() if len(ids) > 1)
    exited = {label: process.returncode for label, process in clustered_stack.processes.processes.items()
              if process.poll() is not None}
    print("\ncluster node loss figures:", json.dumps({
        "writes attempted": len(acknowledged) + len(failed), "acknowledged": len(acknowledged),
        "failed (caller told)": len(failed), "applied": len(rows), "lost": len(lost), "applied twice": len(twice),
        "processes exited": len(exited), "errors seen by callers": sorted(set(failed.values())),
        "search reconcile in agreement": report["in_agreement"]}, ensure_ascii=False))

    assert exited == {}
    assert set(failed.values()) <= {"ServiceUnavailable"}  # what the gateway shows as its 503 page
    assert lost == [] and twice == []
    assert all(rows[marker] == [customer_id] for marker, customer_id in acknowledged.items())
    assert report["in_agreement"] is True, report
