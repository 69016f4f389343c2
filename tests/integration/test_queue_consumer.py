"""The services' queue consumer connection, on the real broker: once a write on it has failed (a worker's
acknowledgement on a socket the broker's node dropped), reading it raises a connection error for the consumer loop to
reconnect with its consumers, where kombu connected again of its own accord, to a connection consuming nothing."""
import socket
from types import SimpleNamespace

import pytest
from amqp.exceptions import RecoverableConnectionError
from kombu import Connection

from services.common.queue_consumer import ConsumingConnection, QueueConsumer
from tests.support import private_vhost


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
