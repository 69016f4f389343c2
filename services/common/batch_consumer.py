"""An event handler that receives its events in batches: the service method is called with a list of event
envelopes, applied (by the method) in one transaction, and every message of the batch is acknowledged only once the
method has returned.

Messages are gathered as they arrive: a batch is what came until a pause of ``quiet_seconds`` without a message, or
at most ``wait_seconds`` after its first, and at most ``batch_size`` of them (a backlog streams in without pauses and
fills batches; a lone event waits only the pause); the queue's prefetch is twice the batch size, so that the next batch is already on its way
while one is applied. One batch is applied at a time per handler and replica; replicas share the queue as
``event_handler``'s do (SERVICE_POOL).

When the method fails, nothing of the batch was applied (its transaction was rolled back):

- with one of the handler's ``expected_exceptions`` (a database not answering) every message goes back to the queue,
  to be applied once the cause is gone;
- with any other exception the batch may hold one event that cannot be applied (poison): its events are applied
  again one by one, each as ``event_handler`` would (acknowledged when applied, put back on failure), so the others
  are applied and only the bad one stays in the queue.

The handlers consume over a connection of their own (``BatchQueueConsumer``): the prefetch of the service's other
consumers (its RPC) stays what it is. An acknowledgement that fails on a broken connection is logged
(``services.common.acks``): the broker delivers the message again.
"""
import logging
import time
from functools import partial

from eventlet.event import Event
from eventlet.queue import Empty, LightQueue
from nameko.exceptions import ContainerBeingKilled

from .acks import settle
from .entrypoints import EventHandler
from .queue_consumer import QueueConsumer

log = logging.getLogger(__name__)

_STOP = object()


class BatchQueueConsumer(QueueConsumer):
    """Nameko's queue consumer, shared by the batch handlers of a service only, each handler's queue consumed with
    the handler's own prefetch.

    Nameko sets one prefetch (the largest) on every consumer of its connection: a queue of batch events (a message
    of a thousand orders or customers, applied one a transaction) was then handed up to a thousand messages at once
    when a backlog waited, as many as the queue of single events of the same service. RabbitMQ gives a consumer the
    prefetch set on its channel when the consumer starts (``basic.qos`` without ``global``), so each consumer is
    started right after its own prefetch is set."""

    def get_consumers(self, consumer_cls, channel):
        for provider in self._providers:
            consumer = consumer_cls(queues=[provider.queue], callbacks=[partial(self.handle_message, provider)],
                                    accept=self.accept)
            consumer.qos(prefetch_count=provider.prefetch_count)
            consumer.consume()  # kombu starts it once: consuming it again when the connection enters it does nothing
            self._consumers[provider] = consumer
        return self._consumers.values()


class BatchEventHandler(EventHandler):
    queue_consumer = BatchQueueConsumer()

    def __init__(self, source_service, event_type, batch_size=500, wait_seconds=0.1, quiet_seconds=0.01, **kwargs):
        self.batch_size = batch_size
        self.wait_seconds = wait_seconds
        self.quiet_seconds = quiet_seconds
        self._arrived = None
        self._gatherer = None
        self._applying = 0
        super().__init__(source_service, event_type, **kwargs)

    @property
    def held(self):
        """Events received and not settled yet (waiting for their batch, or in the batch under way): the broker
        counts them as delivered, no longer as waiting in the queue."""
        return (self._arrived.qsize() if self._arrived is not None else 0) + self._applying

    @property
    def prefetch_count(self):
        return 2 * self.batch_size

    def setup(self):
        self._arrived = LightQueue()
        super().setup()

    def start(self):
        self._gatherer = self.container.spawn_managed_thread(self._gather, identifier=f"{self.method_name} batches")

    def stop(self):
        self._arrived.put(_STOP)
        if self._gatherer is not None:
            self._gatherer.wait()  # the batch under way is applied and settled first
        super().stop()
        self._requeue_left()

    def handle_message(self, body, message):
        self._arrived.put((body, message))

    def _gather(self):
        while True:
            batch = self._next_batch()
            if batch is None:
                self._requeue_left()
                return
            self._apply(batch)

    def _next_batch(self):
        first = self._arrived.get()
        if first is _STOP:
            return None
        batch, deadline = [first], time.monotonic() + self.wait_seconds
        while len(batch) < self.batch_size:
            try:
                item = self._arrived.get(timeout=max(0.0, min(self.quiet_seconds, deadline - time.monotonic())))
            except Empty:
                break
            if item is _STOP:
                self._arrived.put(_STOP)  # stop after this batch
                break
            batch.append(item)
        return batch

    def _apply(self, batch):
        self._applying = len(batch)
        try:
            self._settle(batch)
        finally:
            self._applying = 0

    def _settle(self, batch):
        settled = 0
        try:
            exc_info = self._run([body for body, _ in batch], batch[0][1])
            if exc_info is None or len(batch) == 1 or isinstance(exc_info[1], self.expected_exceptions):
                for _, message in batch:
                    self.handle_message_processed(message, exc_info=exc_info)
                return
            log.warning("a batch of %d events from %s failed (%s: %s); applying them one by one", len(batch),
                        self.queue.name, exc_info[0].__name__, exc_info[1])
            for body, message in batch:
                self.handle_message_processed(message, exc_info=self._run([body], message))
                settled += 1
        except ContainerBeingKilled:  # those not settled yet go back (or would, with the connection)
            for _, message in batch[settled:]:
                settle(self.queue_consumer.requeue_message, message, "requeue")

    def _run(self, bodies, message):
        """Run the service method on ``bodies`` in a worker; returns its exc_info (None: it returned)."""
        finished = Event()

        def handle_result(worker_ctx, result=None, exc_info=None):
            finished.send(exc_info)
            return result, exc_info

        self.container.spawn_worker(self, (bodies,), {}, context_data=self.unpack_message_headers(message),
                                    handle_result=handle_result)
        return finished.wait()

    def _requeue_left(self):
        while True:
            try:
                item = self._arrived.get_nowait()
            except Empty:
                return
            if item is not _STOP:
                settle(self.queue_consumer.requeue_message, item[1], "requeue")


batch_event_handler = BatchEventHandler.decorator
