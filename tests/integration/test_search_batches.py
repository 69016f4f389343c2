"""The index applies its events in batches; one event it cannot apply (poison) makes the others of its batch be
applied one by one, and only the bad one goes back to the queue."""
import copy
import itertools
import json
import re
import shutil
import subprocess
import uuid
from urllib.parse import unquote

import pytest
from kombu import Connection, Producer

from bench.generate import generate
from services.common.outbox import event_exchange
from tests.support import HUNG_SECONDS, wait_for

# Ids the customers service is far from handing out, so the hand-made events are the index's only rows of them.
_ids = itertools.count(900_000_000 + uuid.uuid4().int % 1_000_000 * 10)


def envelopes(tenant, count):
    events = [e for e in generate(company_id=tenant.company_id, shop_ids=[s["id"] for s in tenant.shops],
                                  customers=count, seed=5, products=3, mails=1) if e["entity"] == "customer"]
    made = []
    for i, event in enumerate(events):
        event = copy.deepcopy(event)
        entity_id = next(_ids)
        event.update(entity_id=str(entity_id), event_id=uuid.uuid4().hex, occurred_at="2026-01-05T10:00:00+09:00")
        event["data"].update(id=entity_id, member_number=f"BATCH{i}")
        made.append(event)
    return made


def publish(amqp_uri, events):
    with Connection(amqp_uri) as connection:
        producer = Producer(connection.channel(), exchange=event_exchange("customers"), serializer="json")
        for event in events:
            producer.publish(event, routing_key=event["event_type"], delivery_mode=2)


def test_a_batch_with_one_poison_event_applies_the_others(rpc, tenant, stack, expect_service_log_errors):
    expect_service_log_errors(r"KeyError: 'member_number'")
    scope = tenant.operator_scope()
    good = envelopes(tenant, 4)
    poison = {**copy.deepcopy(good[0]), "entity_id": str(next(_ids)), "event_id": uuid.uuid4().hex,
              "data": {"poison": True}}  # no member number: applying it raises
    processes = stack.processes
    processes.stop("search")  # the events wait in its queue, and come in one batch when it starts again
    try:
        publish(stack.amqp_uri, good[:2] + [poison] + good[2:])
    finally:
        processes.start("search")
    wait_for(lambda: rpc.search.health()["status"] == "ok", timeout=HUNG_SECONDS, message="search back")
    # the index's own tables (reconcile reads them): the customers service has none of these ids, so they are extra
    good_ids = sorted((e["entity_id"] for e in good), key=int)
    wait_for(lambda: rpc.search.reconcile(scope)["entities"]["customer"]["extra"] == good_ids,
             timeout=HUNG_SECONDS, message="the good events of the batch applied")
    log = processes.log("search")
    assert re.search(r"a batch of 5 events from evt-customers-customer_created--search\.\S+ failed "
                     r"\(KeyError: 'member_number'\); applying them one by one", log), log[-2000:]
    # the bad one alone failed again (put back, as any event that fails)
    assert len(re.findall(r"KeyError: 'member_number'", log)) >= 2
    # the test ends once it is gone (taken out of the queue while the index's consumers are stopped), so that the
    # tests after it find no failures of it in the search log
    processes.stop("search")
    try:
        assert drop_poison(stack.amqp_uri) == 1
    finally:
        processes.start("search")
    wait_for(lambda: rpc.search.health()["status"] == "ok", timeout=HUNG_SECONDS, message="search back")
    failures = len(re.findall(r"KeyError: 'member_number'", processes.log("search")))
    assert rpc.search.reconcile(scope)["entities"]["customer"]["extra"] == good_ids
    assert len(re.findall(r"KeyError: 'member_number'", processes.log("search"))) == failures


QUEUE = "evt-customers-customer_created--search.on_customers_customer_created"  # nameko's name for it


def drop_poison(amqp_uri):
    """Take the poison events out of the search service's queue of customer_created events (no consumer on it),
    leaving any other event there; returns how many went."""
    with Connection(amqp_uri) as connection:
        channel = connection.default_channel
        held = []
        while (message := channel.basic_get(QUEUE)) is not None:  # every ready message, unacknowledged
            held.append(message)
        dropped = 0
        for message in held:
            if json.loads(message.body)["data"].get("poison"):
                channel.basic_ack(message.delivery_tag)
                dropped += 1
            else:
                channel.basic_reject(message.delivery_tag, requeue=True)
        return dropped


def test_each_queue_of_events_is_consumed_with_its_own_prefetch(stack):
    """A queue of batch events (one message: a thousand orders or customers) is handed two messages at a time, a
    queue of single events a thousand: twice what each handler applies in one transaction."""
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        pytest.skip("rabbitmqctl is not installed")
    vhost = unquote(stack.amqp_uri.rstrip("/").rsplit("/", 1)[1]) if stack.amqp_uri.count("/") > 2 else "/"
    listed = subprocess.run([ctl, "list_consumers", "-p", vhost or "/", "queue_name", "prefetch_count", "--quiet",
                             "--no-table-headers"], check=True, capture_output=True, text=True,
                            timeout=HUNG_SECONDS).stdout
    prefetch = {}
    for line in listed.splitlines():
        queue, count = line.split("\t")[:2]
        prefetch.setdefault(queue, set()).add(int(count))
    assert prefetch["evt-purchases-purchases_recorded--search.on_purchases_purchases_recorded"] == {2}
    assert prefetch["evt-customers-customers_recorded--search.on_customers_customers_recorded"] == {2}
    assert prefetch["evt-customers-customer_created--search.on_customers_customer_created"] == {1000}
    assert prefetch["evt-mailhistory-mail_activity_recorded--search.on_mailhistory_mail_activity_recorded"] == {1000}
