"""How a batch of events is settled: acknowledged after the method returns, put back whole on an expected error, and
applied again one by one when something else fails, so that only the bad event goes back."""
import sys
from types import SimpleNamespace

import pytest
from eventlet.queue import LightQueue

from services.common.batch_consumer import BatchEventHandler
from services.common.errors import Unavailable


class Settled:
    def __init__(self):
        self.acked, self.requeued = [], []

    def ack_message(self, message):
        self.acked.append(message.body)

    def requeue_message(self, message):
        self.requeued.append(message.body)


class Container:
    """Runs the service method at once, in the calling thread, as a worker would."""

    def __init__(self, method):
        self.method, self.calls = method, []

    def spawn_worker(self, entrypoint, args, kwargs, context_data=None, handle_result=None):
        self.calls.append(list(args[0]))
        try:
            result, exc_info = self.method(*args), None
        except Exception:
            result, exc_info = None, sys.exc_info()
        handle_result(None, result, exc_info)


def handler(method):
    made = BatchEventHandler("customers", "customer_created", requeue_on_error=True, expected_exceptions=Unavailable)
    made.container, made.queue_consumer = Container(method), Settled()
    made.queue = SimpleNamespace(name="evt-customers-customer_created--search.on_customers_customer_created")
    return made


def batch(*bodies):
    return [(body, SimpleNamespace(body=body, headers={}, delivery_info={"routing_key": "customer_created"}))
            for body in bodies]


def applying(failing=None, error=KeyError):
    def apply(events):
        if failing in events:
            raise error(failing)

    return apply


def test_a_batch_applied_is_acknowledged_after_one_call():
    made = handler(applying())
    made._apply(batch("a", "b", "c"))
    assert made.container.calls == [["a", "b", "c"]]
    assert made.queue_consumer.acked == ["a", "b", "c"]
    assert made.queue_consumer.requeued == []


def test_a_poison_event_makes_the_others_be_applied_one_by_one_and_goes_back_alone():
    made = handler(applying(failing="b"))
    made._apply(batch("a", "b", "c"))
    assert made.container.calls == [["a", "b", "c"], ["a"], ["b"], ["c"]]
    assert made.queue_consumer.acked == ["a", "c"]
    assert made.queue_consumer.requeued == ["b"]


@pytest.mark.parametrize("bodies", [("a", "b", "c"), ("b",)])
def test_a_database_not_answering_puts_the_whole_batch_back(bodies):
    made = handler(applying(failing="b", error=Unavailable))
    made._apply(batch(*bodies))
    assert made.container.calls == [list(bodies)]
    assert made.queue_consumer.acked == []
    assert made.queue_consumer.requeued == list(bodies)


def test_batches_hold_what_arrived_within_the_wait_up_to_their_size():
    made = BatchEventHandler("customers", "customer_created", batch_size=2, wait_seconds=0.01)
    made._arrived = LightQueue()  # what setup makes (not bound to a container: only the gathering is exercised)
    for body, message in batch("a", "b", "c"):
        made.handle_message(body, message)
    assert [body for body, _ in made._next_batch()] == ["a", "b"]
    assert [body for body, _ in made._next_batch()] == ["c"]


def test_events_taken_and_not_applied_yet_are_counted_as_held_until_settled():
    seen = []
    made = handler(lambda events: seen.append(made.held))
    made._arrived = LightQueue()
    for body, message in batch("a", "b", "c"):
        made.handle_message(body, message)
    assert made.held == 3  # delivered by the broker, waiting for their batch: not in its queue's count any more
    made._apply(made._next_batch())
    assert seen == [3] and made.held == 0
    assert made.queue_consumer.acked == ["a", "b", "c"]
