"""The transactional outbox on a real database and the real broker.

A change and its event commit together; the relay publishes after commit; an event survives a broker
outage (it stays pending and goes out when the broker answers again); a rolled-back change publishes
nothing.
"""
import json
import threading
import urllib.parse
import uuid

import pytest
from kombu import Connection, Queue
from sqlalchemy import func, select

from services.common.db import Store
from services.common.outbox import OutboxRelay, event_exchange, record_event
from services.shops.models import Company, OutboxEvent
from tests.support import Databases, session_for, wait_for
from tests.tcp_proxy import TcpProxy
from services.common.migrations import upgrade


@pytest.fixture
def shops_db(tmp_path):
    databases = Databases(tmp_path)
    url = databases.create("outbox")
    upgrade("shops", url)
    engine, factory = session_for(url)
    yield factory
    engine.dispose()
    databases.drop_all()


@pytest.fixture
def listener(amqp_uri):
    """A durable queue bound to a test-only event exchange; yields (exchange name, fetch-one function)."""
    service_name = f"outboxtest{uuid.uuid4().hex[:6]}"
    exchange = event_exchange(service_name)
    connection = Connection(amqp_uri)
    queue = Queue(f"{service_name}-listener", exchange=exchange, routing_key="#", durable=False, auto_delete=False)
    channel = connection.channel()
    queue(channel).declare()

    def fetch():
        def get():
            message = queue(channel).get(no_ack=True)
            return message
        message = wait_for(get, message="an event on the broker")
        return json.loads(message.body) if isinstance(message.body, (str, bytes)) else message.payload

    def empty():
        return queue(channel).get(no_ack=True) is None

    yield service_name, fetch, empty
    queue(channel).delete()
    connection.release()


def _change_company(session, name):
    company = session.get(Company, 1) or Company(id=1, name=name, version=0)
    company.name = name
    company.version += 1
    session.add(company)
    session.flush()
    record_event(session, OutboxEvent, "company_updated", entity="company", entity_id=company.id,
                 version=company.version, company_id=company.id, data={"name": name})


def _pending(factory):
    with factory() as session:
        return session.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.published_at.is_(None)))


def test_a_rolled_back_change_publishes_nothing(shops_db, listener, amqp_uri):
    service_name, _fetch, empty = listener
    relay = OutboxRelay(shops_db, OutboxEvent, service_name=service_name, amqp_uri=amqp_uri)
    store = Store(shops_db, relay)
    with pytest.raises(RuntimeError):
        with store.unit_of_work() as session:
            _change_company(session, "取り消される変更")
            raise RuntimeError("the change fails after the event was recorded")
    assert relay.relay_pending() == 0
    with shops_db() as session:
        assert session.get(Company, 1) is None
        assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 0
    assert empty()
    relay.publisher.close()


def test_an_event_survives_a_broker_outage(shops_db, listener, amqp_uri):
    service_name, fetch, empty = listener
    parsed = urllib.parse.urlparse(amqp_uri)
    proxy = TcpProxy(parsed.hostname, parsed.port or 5672).start()
    via_proxy = amqp_uri.replace(f"{parsed.hostname}:{parsed.port or 5672}", f"127.0.0.1:{proxy.port}")
    if via_proxy == amqp_uri:  # URI without an explicit port
        via_proxy = amqp_uri.replace(parsed.hostname, f"127.0.0.1:{proxy.port}", 1)
    relay = OutboxRelay(shops_db, OutboxEvent, service_name=service_name, amqp_uri=via_proxy, poll_seconds=0.2)
    store = Store(shops_db, relay)

    with store.unit_of_work() as session:  # broker reachable: goes straight out
        _change_company(session, "最初の名前")
    assert relay.relay_pending() == 1
    assert fetch()["version"] == 1

    proxy.stop()  # the broker becomes unreachable for this service
    with store.unit_of_work() as session:
        _change_company(session, "障害中の変更")
    assert relay.relay_pending() == 0
    assert _pending(shops_db) == 1
    with shops_db() as session:
        record = session.scalars(select(OutboxEvent).where(OutboxEvent.published_at.is_(None))).one()
        assert record.attempts >= 1 and record.last_error
    assert empty()

    proxy.start()  # the broker answers again: the relay loop delivers what was kept
    runner = threading.Thread(target=relay.run, daemon=True)
    runner.start()
    try:
        event = fetch()
        assert event["entity"] == "company" and event["entity_id"] == "1"
        assert event["version"] == 2 and event["data"] == {"name": "障害中の変更"}
        assert event["event_type"] == "company_updated" and event["event_id"]
        wait_for(lambda: _pending(shops_db) == 0, message="the outbox to drain")
    finally:
        relay.stop()
        runner.join(5)
        proxy.stop()


def test_the_running_shops_service_relays_its_events(rpc, tenant, amqp_uri):
    """End to end: an RPC change in the shops service reaches a consumer bound to shops.events."""
    connection = Connection(amqp_uri)
    channel = connection.channel()
    queue = Queue(f"shops-events-test-{uuid.uuid4().hex[:6]}", exchange=event_exchange("shops"),
                  routing_key="shop_updated", auto_delete=True)
    queue(channel).declare()
    try:
        shop = rpc.shops.get_shop(tenant.operator_scope(), tenant.shops[0]["id"])
        editable = {k: shop[k] for k in ("name", "manager_name", "postal_code", "address", "phone", "sender_name",
                                         "sender_address", "felica", "status")}
        rpc.shops.update_shop(tenant.operator_scope(), shop["id"], dict(editable, manager_name="新店長"))
        rpc.shops.update_shop(tenant.operator_scope(), shop["id"], dict(editable, manager_name="次の店長"))

        def next_event():
            message = queue(channel).get(no_ack=True)
            return message and json.loads(message.body)

        seen = []
        while len(seen) < 2:
            event = wait_for(next_event, message="shop_updated events")
            if event["entity_id"] == str(shop["id"]):
                seen.append(event)
        assert [e["version"] for e in seen] == [shop["version"] + 1, shop["version"] + 2]
        assert seen[1]["data"]["manager_name"] == "次の店長"
        assert seen[1]["company_id"] == tenant.company_id
        assert "password" not in json.dumps(seen)
    finally:
        queue(channel).delete()
        connection.release()
