"""Nameko's queue consumer, over a connection that is never replaced behind its back.

A service consumes its queues (RPC requests, events, RPC replies) over one connection, read by the consumer's
thread, while its workers acknowledge messages over the same connection. When a broker node goes away, a worker's
acknowledgement may be the first to fail on the broken socket: py-amqp then marks the connection as no longer
connected, and kombu's ``Connection.connection`` (which ``drain_events`` and ``heartbeat_check`` go through)
connects again of its own accord, to the next node of the failover list, without a word (kombu issue #220). The
consumer went on reading the new connection, on which nothing consumed any queue: the service was deaf until
restarted, its log silent (seen when a node of a three-node cluster stopped during writes).

Here that connection raises instead: the consumer loop takes it as the lost connection it is, logs it, and
connects again the way it does after any outage, starting its consumers on the new connection.

A reply queue is declared under a new name on each connection (``QueueOfAConnection``). Under its old name, after a
node of a cluster went away, its declaration raced with that node's clean-up of the queue it had held under the same
name (``NOT_FOUND`` on declare, bind or consume, the loop connecting again each time); a name no node has known
cannot meet a leftover. Replies on their way to the old queue are lost, as replies are in any outage: their callers
time out.
"""
from amqp.exceptions import RecoverableConnectionError
from kombu import Connection
from nameko.messaging import QueueConsumer as NamekoQueueConsumer


class ConsumingConnection(Connection):
    """A kombu connection that reports its underlying connection broken instead of connecting again: a
    reconnection is for its consumer loop to make, with its consumers."""

    @property
    def connection(self):
        if self._connection is not None and not self._closed and not self.connected:
            raise RecoverableConnectionError("the connection to the broker broke (a write on it failed)")
        return super().connection


class QueueOfAConnection:
    """A provider whose queue serves one connection only (a reply listener's): before each connection's consumers
    start it makes a queue of a new name (``queue_for_a_connection``), and once every consumer of the connection
    has started, that queue is told ready (``queue_ready``: a reply listener then gives its name to new calls)."""

    def queue_for_a_connection(self):
        raise NotImplementedError

    def queue_ready(self):
        raise NotImplementedError


class QueueConsumer(NamekoQueueConsumer):
    """Nameko's, over a ``ConsumingConnection`` with Nameko's settings (heartbeat, transport options, failover
    list), giving each ``QueueOfAConnection`` provider its new queue on every connection."""

    @property
    def connection(self):
        declared = super().connection
        return ConsumingConnection(**dict(declared._info(resolve=False)))  # as kombu's own ``clone`` copies one

    def get_consumers(self, consumer_cls, channel):
        for provider in self._connection_queues():
            provider.queue_for_a_connection()
        return super().get_consumers(consumer_cls, channel)

    def on_consume_ready(self, connection, channel, consumers, **kwargs):
        for provider in self._connection_queues():
            provider.queue_ready()
        super().on_consume_ready(connection, channel, consumers, **kwargs)

    def _connection_queues(self):
        return [provider for provider in self._providers if isinstance(provider, QueueOfAConnection)]
