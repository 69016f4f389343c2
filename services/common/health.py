"""The health report every service answers by RPC."""
import time

from kombu import Connection
from nameko.events import EventHandler
from nameko.extensions import DependencyProvider

from .batch_consumer import BatchEventHandler
from .broker import broker_answers, masked
from .deadlines import ClusterRpcProxy

_STARTED = time.time()


def health_report(service_name, store):
    report = {"service": service_name, "status": "ok", "database": "ok",
              "uptime_seconds": int(time.time() - _STARTED)}
    try:
        store.ping()
        report["outbox_pending"] = store.relay.pending_count() if store.relay else 0
    except Exception as exc:
        report.update(status="degraded", database=f"error: {type(exc).__name__}")
    return report


def probe(service_name, amqp_uri, timeout=5.0):
    """Ask a running service for its health: (True, report) when it answers ok within ``timeout`` seconds."""
    if not broker_answers(amqp_uri, timeout=timeout):
        return False, f"no broker answers at {masked(amqp_uri)}"
    try:
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=timeout) as rpc:
            report = getattr(rpc, service_name).health()
    except Exception as exc:  # no reply in time, or the service is down
        return False, f"{service_name}: no answer ({type(exc).__name__})"
    return report.get("status") == "ok", f"{service_name}: {report}"


def indexing_state(queued_events):
    """How an index kept from events reads in a health report: still applying events, or caught up."""
    return {"state": "indexing" if queued_events else "ready", "queued_events": queued_events}


class EventBacklog(DependencyProvider):
    """How many events wait in the queues of this service's event handlers, or in this process's batches not applied
    yet (a service that keeps an index from other services' events is still filling it while some do). The broker's
    own count of ready messages, read with passive declarations; None when the broker could not be asked. With
    replicas, each counts the queues and its own batches."""

    def get_dependency(self, worker_ctx):
        return self

    def queue_names(self):
        return sorted({entrypoint.queue.name for entrypoint in self.container.entrypoints
                       if isinstance(entrypoint, EventHandler) and getattr(entrypoint, "queue", None) is not None})

    def queued(self, timeout=2.0):
        """Events waiting in the queues plus those this process has taken and not applied yet (a batch handler
        holds up to twice its batch): none of both means caught up."""
        held = sum(entrypoint.held for entrypoint in self.container.entrypoints
                   if isinstance(entrypoint, BatchEventHandler))
        try:
            with Connection(self.container.config["AMQP_URI"], connect_timeout=timeout) as connection:
                channel = connection.channel()
                return held + sum(channel.queue_declare(name, passive=True).message_count
                                  for name in self.queue_names())
        except Exception:  # the health report says what it knows; the broker's own state is reported elsewhere
            return None
