"""The project's ``rpc`` and ``event_handler`` entrypoints: Nameko's, made to outlive a broker outage.

Nameko stops a service's whole container when an entrypoint's result cannot be handled: an RPC reply that cannot be
published (the publisher gives up after its retries) or an acknowledgement written to a connection that broke raises
in the worker thread, and the container kills itself. Here such a failure is logged and the message left to the
broker: a reply that cannot be sent is dropped (its caller times out), a message whose acknowledgement fails is
redelivered by the broker to a consumer that has reconnected. The queue consumer itself reconnects (kombu retries
for as long as it takes), however the connection broke (``services.common.queue_consumer``).

An RPC request found past its caller's deadline (``services.common.deadlines``) is acknowledged and dropped, never
run: its caller has already given up.

``RABBITMQ_QUEUE_TYPE=quorum`` declares the durable queues (``rpc-<service>`` and the SERVICE_POOL event queues) as
quorum queues, replicated over the nodes of a RabbitMQ cluster; reply queues stay classic (they are temporary).
"""
import logging

from nameko.events import EventHandler as NamekoEventHandler
from nameko.exceptions import ConfigurationError
from nameko.rpc import Rpc as NamekoRpc
from nameko.rpc import RpcConsumer as NamekoRpcConsumer
from nameko.timer import Timer as NamekoTimer

from .acks import settle
from .deadlines import DEADLINE_HEADER, seconds_past
from .queue_consumer import QueueConsumer

log = logging.getLogger(__name__)

QUEUE_TYPE_CONFIG_KEY = "QUEUE_TYPE"
QUEUE_TYPES = ("classic", "quorum")


def durable_queue_arguments(config):
    """The arguments a durable queue is declared with: ``x-queue-type`` for quorum queues, none for classic ones
    (so that queues declared before the setting existed still match)."""
    queue_type = config.get(QUEUE_TYPE_CONFIG_KEY) or "classic"
    if queue_type not in QUEUE_TYPES:
        raise ConfigurationError(f"queue type must be one of {QUEUE_TYPES}, not {queue_type!r}")
    return {"x-queue-type": "quorum"} if queue_type == "quorum" else {}


class RpcConsumer(NamekoRpcConsumer):
    queue_consumer = QueueConsumer()

    def setup(self):
        super().setup()
        self.queue.queue_arguments = durable_queue_arguments(self.container.config)

    def handle_result(self, message, result, exc_info):
        try:
            return super().handle_result(message, result, exc_info)
        except Exception as exc:
            log.warning("reply to %s not sent (%s: %s); dropped, its caller times out",
                        message.delivery_info.get("routing_key"), type(exc).__name__, exc)
            # Acknowledged all the same: the request has been handled, running it again would repeat it.
            settle(self.queue_consumer.ack_message, message, "acknowledgement")
            return result, exc_info


class Rpc(NamekoRpc):
    rpc_consumer = RpcConsumer()

    def handle_message(self, body, message):
        late = seconds_past((message.headers or {}).get(DEADLINE_HEADER))
        if late is not None:
            log.warning("request %s dropped: its caller stopped waiting %.1f s ago",
                        message.delivery_info.get("routing_key"), late)
            settle(self.rpc_consumer.queue_consumer.ack_message, message, "acknowledgement")
            return
        super().handle_message(body, message)


class EventHandler(NamekoEventHandler):
    queue_consumer = QueueConsumer()

    def setup(self):
        super().setup()
        if self.queue.durable and not self.queue.auto_delete and not self.queue.exclusive:
            self.queue.queue_arguments = durable_queue_arguments(self.container.config)

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is not None and self.requeue_on_error:
            settle(self.queue_consumer.requeue_message, message, "requeue")
        else:
            settle(self.queue_consumer.ack_message, message, "acknowledgement")


rpc = Rpc.decorator
event_handler = EventHandler.decorator


class Timer(NamekoTimer):
    """Nameko's timer, stopped safely twice: a service told to stop a second time while it stops (a second SIGTERM)
    would otherwise raise from the timer's stop event."""

    def stop(self):
        if not self.should_stop.ready():
            self.should_stop.send(True)
        self.gt.wait()


timer = Timer.decorator
