"""RPC requests that carry their caller's deadline, so that a request whose caller has given up is never run.

Every request leaves with the header ``nameko.deadline`` (Unix time, seconds) set to when its caller stops waiting,
and with the AMQP per-message expiration of the time left, so that the broker itself discards it when it waits in a
queue for longer. The service side (``services.common.entrypoints.Rpc``) drops a request found past its deadline.

A service keeps the deadline of the request it is handling in its worker's context, and Nameko passes the context on
with every call it makes: a call to another service gets the earlier of that deadline and its own timeout.

Callers use ``ClusterRpcProxy`` (standalone: the gateway, the command line) or the ``RpcProxy`` dependency (a
service calling another) from here instead of Nameko's.
"""
import time
import uuid

import eventlet
from kombu import Queue
from kombu.exceptions import OperationalError
from nameko.amqp.publish import Publisher
from nameko.exceptions import RpcTimeout
from nameko.rpc import RPC_REPLY_QUEUE_TEMPLATE, MethodProxy, ReplyListener, ServiceProxy
from nameko.rpc import RpcProxy as NamekoRpcProxy
from nameko.standalone.rpc import ClusterProxy, PollingQueueConsumer, SingleThreadedReplyListener, StandaloneProxyBase

from . import wire_json
from .acks import settle
from .errors import Unavailable
from .queue_consumer import QueueConsumer, QueueOfAConnection

DEADLINE_KEY = "deadline"  # in a worker's context data
DEADLINE_HEADER = "nameko." + DEADLINE_KEY  # Nameko's own prefix: the context passes it on to nested calls
CALL_TIMEOUT_CONFIG_KEY = "RPC_CALL_TIMEOUT"
DEFAULT_CALL_TIMEOUT = 30.0


def call_deadline(timeout, inherited=None, now=None):
    """When a call made now with ``timeout`` seconds stops being awaited: never later than an ``inherited``
    deadline. None when neither limits it."""
    now = time.time() if now is None else now
    own = None if timeout is None else now + timeout
    limits = [value for value in (own, _as_number(inherited)) if value is not None]
    return min(limits) if limits else None


def seconds_past(deadline, now=None):
    """How long ago ``deadline`` passed (a number > 0), or None when it has not (or there is none)."""
    deadline = _as_number(deadline)
    if deadline is None:
        return None
    late = (time.time() if now is None else now) - deadline
    return late if late > 0 else None


def _as_number(value):
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):  # a header someone else wrote: no deadline rather than a crash
        return None


class _ExpiringPublisher(Publisher):
    """Publishes a request with the AMQP expiration of the time left before its deadline header."""

    def publish(self, payload, **kwargs):
        deadline = _as_number((kwargs.get("extra_headers") or {}).get(DEADLINE_HEADER))
        if deadline is not None:
            kwargs["expiration"] = max(deadline - time.time(), 0.001)  # kombu: seconds, sent as whole ms
        super().publish(payload, **kwargs)


class _DeadlineMethodProxy(MethodProxy):
    publisher_cls = _ExpiringPublisher

    def __init__(self, worker_ctx, service_name, method_name, reply_listener, timeout=None, **options):
        self.timeout = timeout
        super().__init__(worker_ctx, service_name, method_name, reply_listener, **options)

    def get_message_headers(self, worker_ctx):
        headers = super().get_message_headers(worker_ctx)
        deadline = call_deadline(self.timeout, worker_ctx.context_data.get(DEADLINE_KEY))
        if deadline is None:
            headers.pop(DEADLINE_HEADER, None)
        else:
            headers[DEADLINE_HEADER] = deadline
        return headers


class _ServiceMethodProxy(_DeadlineMethodProxy):
    """Inside a service: waits for the reply until the call's deadline. A call the broker does not take (it is away)
    or that gets no reply by then (a reply lost in an outage) raises ``Unavailable``: the request it serves is
    answered as one that met an outage, which its caller may send again, never as an unexpected error."""

    def __call__(self, *args, **kwargs):
        deadline = call_deadline(self.timeout, self.worker_ctx.context_data.get(DEADLINE_KEY))
        try:
            reply = self._call(*args, **kwargs)
            if deadline is None:
                return reply.result()
            with eventlet.Timeout(max(deadline - time.time(), 0), RpcTimeout(self.timeout)):
                return reply.result()
        except (RpcTimeout, OperationalError) as away:
            raise Unavailable(f"{self.service_name} did not answer ({type(away).__name__})") from away


class _DeadlineServiceProxy(ServiceProxy):
    method_proxy_cls = _DeadlineMethodProxy

    def __init__(self, worker_ctx, service_name, reply_listener, timeout=None, **options):
        super().__init__(worker_ctx, service_name, reply_listener, **options)
        self.timeout = timeout

    def __getattr__(self, name):
        return self.method_proxy_cls(self.worker_ctx, self.service_name, name, self.reply_listener,
                                     timeout=self.timeout, **self.options)


class _ServiceDependencyProxy(_DeadlineServiceProxy):
    method_proxy_cls = _ServiceMethodProxy


def _transient(queue):
    """A reply queue that lives only as long as its broker node: Nameko declares it durable, and a durable classic
    queue whose node is down cannot be declared again on another node of a cluster (``not_found: home node ... is
    down``), so a caller that fails over would never get a reply queue back. A transient one is dropped with its
    node and declared afresh wherever the caller reconnects; replies in flight then are lost and their callers time
    out, as with any outage."""
    queue.durable = False
    return queue


class _ReplyListener(QueueOfAConnection, ReplyListener):
    """Nameko's, except that a reply whose acknowledgement fails (the connection broke) does not stop the service,
    and that its queue is transient and named anew on each connection (``services.common.queue_consumer``): calls
    made once it is consumed ask for their replies there."""

    queue_consumer = QueueConsumer()

    def queue_for_a_connection(self):  # the queue Nameko's setup made is never declared: each connection has its own
        reply_id = str(uuid.uuid4())
        self.queue = _transient(Queue(RPC_REPLY_QUEUE_TEMPLATE.format(self.container.service_name, reply_id),
                                      exchange=self.queue.exchange, routing_key=reply_id,
                                      queue_arguments=self.queue.queue_arguments))

    def queue_ready(self):
        self.routing_key = self.queue.routing_key  # what Nameko's calls give as their reply_to

    def handle_message(self, body, message):
        settle(self.queue_consumer.ack_message, message)
        correlation_id = message.properties.get("correlation_id")
        client_event = self._reply_events.pop(correlation_id, None)
        if client_event is not None:
            client_event.send(body)


class RpcProxy(NamekoRpcProxy):
    """Nameko's ``RpcProxy`` whose calls carry a deadline: the caller's own, or ``RPC_CALL_TIMEOUT`` seconds from
    now when that is earlier, and that fail with RpcTimeout when no reply came by then."""

    rpc_reply_listener = _ReplyListener()

    def get_dependency(self, worker_ctx):
        timeout = float(worker_ctx.config.get(CALL_TIMEOUT_CONFIG_KEY, DEFAULT_CALL_TIMEOUT))
        return _ServiceDependencyProxy(worker_ctx, self.target_service, self.rpc_reply_listener, timeout=timeout,
                                       **self.options)


class _DeadlineClusterProxy(ClusterProxy):
    def __init__(self, worker_ctx, reply_listener, timeout):
        super().__init__(worker_ctx, reply_listener)
        self._timeout = timeout

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._proxies:
            self._proxies[name] = _DeadlineServiceProxy(self._worker_ctx, name, self._reply_listener,
                                                        timeout=self._timeout)
        return self._proxies[name]


class _TransientQueueConsumer(PollingQueueConsumer):
    def register_provider(self, provider):  # where the standalone consumer declares the queue
        _transient(provider.queue)
        super().register_provider(provider)


class _StandaloneReplyListener(SingleThreadedReplyListener):
    def __init__(self, timeout=None):
        super().__init__(timeout=timeout)
        self.queue_consumer = _TransientQueueConsumer(timeout=timeout)


class ClusterRpcProxy(StandaloneProxyBase):
    """Nameko's standalone ``ClusterRpcProxy`` whose requests expire when ``timeout`` (seconds) has passed, with a
    transient reply queue, reading and writing messages with ``wire_json``."""

    def __init__(self, config, timeout=None, **kwargs):
        kwargs.setdefault("reply_listener_cls", _StandaloneReplyListener)
        config = {"SERIALIZERS": wire_json.SERIALIZERS, **config}
        super().__init__(config, timeout=timeout, **kwargs)
        self._proxy = _DeadlineClusterProxy(self._worker_ctx, self._reply_listener, timeout)
