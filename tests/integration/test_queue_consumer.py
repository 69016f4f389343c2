"""The services' queue consumer, on the real broker: once a write on its connection has failed (a worker's
acknowledgement on a socket the broker's node dropped), reading it raises a connection error for the consumer loop to
reconnect with its consumers, where kombu connected again of its own accord, to a connection consuming nothing; and
on each connection a service's reply queue has a new name."""
import os
import shutil
import socket
import subprocess
from types import SimpleNamespace

import pytest
from amqp.exceptions import RecoverableConnectionError
from kombu import Connection

from services.common.deadlines import ClusterRpcProxy
from services.common.migrations import upgrade
from services.common.queue_consumer import ConsumingConnection, QueueConsumer
from tests.support import HUNG_SECONDS, Databases, ServiceProcesses, make_tenant, private_vhost, wait_for

CALL_SECONDS = 30


def broken_under_a_write(connection_class, amqp_uri):
    """A connection of ``connection_class`` whose socket no longer takes writes, and on which a write has failed,
    as an acknowledgement fails once the broker's end is gone."""
    connection = connection_class(amqp_uri)
    connection.connect()
    channel = connection.channel()
    underlying = connection.connection
    underlying.sock.shutdown(socket.SHUT_WR)
    with pytest.raises(OSError):
        channel.basic_ack(1)
    return connection, underlying


def test_reading_a_connection_broken_under_a_write_raises_and_connects_nowhere_else():
    with private_vhost("consumer") as amqp_uri:
        connection, underlying = broken_under_a_write(ConsumingConnection, amqp_uri)
        try:
            with pytest.raises(RecoverableConnectionError):
                connection.drain_events(timeout=1)
            with pytest.raises(RecoverableConnectionError):
                connection.heartbeat_check()
            assert connection._connection is underlying  # nothing connected behind the consumer's back
        finally:
            connection.release()


def test_kombus_own_connection_connects_again_behind_its_user():
    """What the consumer's connection guards against, shown on kombu's: the broken connection is replaced without a
    word, and reading waits on a new one where nothing is consumed."""
    with private_vhost("consumer") as amqp_uri:
        connection, underlying = broken_under_a_write(Connection, amqp_uri)
        try:
            with pytest.raises(TimeoutError):
                connection.drain_events(timeout=1)
            assert connection._connection is not underlying and connection.connected
        finally:
            connection.release()


def test_the_queue_consumer_keeps_nameko_settings_on_its_connection():
    consumer = QueueConsumer()
    consumer.container = SimpleNamespace(config={
        "AMQP_URI": "amqp://guest:guest@10.0.0.1:5672/;amqp://guest:guest@10.0.0.2:5672/", "HEARTBEAT": 30,
        "TRANSPORT_OPTIONS": {"max_retries": 3}})

    connection = consumer.connection

    assert type(connection) is ConsumingConnection
    assert type(connection.clone()) is ConsumingConnection  # kombu's consumer loop connects with a clone
    assert connection.alt == ["amqp://guest:guest@10.0.0.1:5672/", "amqp://guest:guest@10.0.0.2:5672/"]
    assert connection.heartbeat == 30
    assert connection.transport_options == {"max_retries": 3}


def reply_queues(vhost, service):
    listed = subprocess.run([shutil.which("rabbitmqctl"), "list_queues", "-p", vhost, "name", "--quiet",
                             "--no-table-headers"], check=True, capture_output=True, text=True, timeout=HUNG_SECONDS)
    return {name for name in listed.stdout.split() if name.startswith(f"rpc.reply-{service}-")}


@pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="closes the broker's connections with rabbitmqctl")
def test_a_service_connecting_again_asks_for_its_replies_on_a_reply_queue_of_a_new_name(tmp_path):
    """The customers service calls shops for every new customer: after the broker closed every connection, its reply
    queue is declared under a name no node has known (a leftover of the old one cannot shadow it), and its calls get
    their replies there."""
    databases = Databases(tmp_path)
    urls = {service: databases.create(f"replies-{service}") for service in ("shops", "customers")}
    for service, url in urls.items():
        upgrade(service, url)
    try:
        with private_vhost("replies") as amqp_uri:
            vhost = amqp_uri.rsplit("/", 1)[1]
            env = dict(os.environ, AMQP_URI=amqp_uri, TSUHAN_VAR_DIR=str(tmp_path),
                       SHOPS_DATABASE_URL=urls["shops"], CUSTOMERS_DATABASE_URL=urls["customers"])
            processes = ServiceProcesses(env, tmp_path)
            for service in urls:
                processes.start(service)
            tenant = make_tenant(urls["shops"])

            def created(given_name):
                # a call's reply lost to the reconnection is not an answer: it is asked again after CALL_SECONDS
                with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=CALL_SECONDS) as rpc:
                    return rpc.customers.create_customer(tenant.operator_scope(), {
                        "shop_id": tenant.shops[0]["id"], "family_name": "再接続", "given_name": given_name})

            try:
                assert wait_for(lambda: created("前"), message="customers answering")["id"]
                before = reply_queues(vhost, "customers")
                assert len(before) == 1

                subprocess.run([shutil.which("rabbitmqctl"), "close_all_connections", "-p", vhost, "closed by a test"],
                               check=True, capture_output=True, timeout=HUNG_SECONDS)

                assert wait_for(lambda: created("後"), message="customers answering again")["id"]
                assert len(reply_queues(vhost, "customers") - before) == 1
                assert "Connection to broker lost" in processes.log("customers")
            finally:
                processes.stop_all()
    finally:
        databases.drop_all()
