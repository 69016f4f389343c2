"""RPC deadlines: a call expires when its caller stops waiting, and never later than the request it is made for."""
import time
from types import SimpleNamespace

import eventlet
import pytest
from kombu.exceptions import OperationalError

from services.common.deadlines import DEADLINE_KEY, _ServiceMethodProxy, call_deadline, seconds_past
from services.common.errors import Unavailable
from services.common.entrypoints import durable_queue_arguments


def test_a_call_expires_after_its_timeout():
    assert call_deadline(10, now=1000.0) == 1010.0


def test_a_nested_call_expires_no_later_than_the_request_it_serves():
    assert call_deadline(30, inherited=1005.0, now=1000.0) == 1005.0
    assert call_deadline(3, inherited="1005.0", now=1000.0) == 1003.0


def test_without_timeout_or_inherited_deadline_a_call_never_expires():
    assert call_deadline(None, now=1000.0) is None
    assert call_deadline(None, inherited="not a number", now=1000.0) is None


def test_a_request_is_late_only_once_its_deadline_has_passed():
    assert seconds_past(1010.0, now=1009.0) is None
    assert seconds_past(1010.0, now=1012.5) == 2.5
    assert seconds_past(None, now=1012.5) is None


def test_durable_queues_are_quorum_queues_only_when_asked():
    assert durable_queue_arguments({}) == {}
    assert durable_queue_arguments({"QUEUE_TYPE": "classic"}) == {}
    assert durable_queue_arguments({"QUEUE_TYPE": "quorum"}) == {"x-queue-type": "quorum"}


def _nested_call(deadline, call):
    """A service's proxy to shops.list_shops, in a request whose deadline is ``deadline``, sending with ``call``."""
    proxy = object.__new__(_ServiceMethodProxy)
    proxy.timeout, proxy.service_name = None, "shops"
    proxy.worker_ctx = SimpleNamespace(context_data={DEADLINE_KEY: deadline})
    proxy._call = call
    return proxy


def test_a_nested_call_without_a_reply_by_its_deadline_is_an_outage():
    never = SimpleNamespace(result=lambda: eventlet.sleep(3600))  # the reply was lost: it never comes
    with pytest.raises(Unavailable):
        _nested_call(time.time() + 0.01, lambda *args, **kwargs: never)()


def test_a_nested_call_the_broker_does_not_take_is_an_outage():
    def refused(*args, **kwargs):
        raise OperationalError("[Errno 111] ECONNREFUSED")

    with pytest.raises(Unavailable):
        _nested_call(time.time() + 60, refused)()
