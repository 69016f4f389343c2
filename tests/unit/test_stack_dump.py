"""The stacks a service writes on SIGUSR1: every green thread's, those frozen at start-up included."""
import gc
import weakref

import eventlet
from eventlet.event import Event

from services.common import stack_dump


def waiting_for_a_reply(event):
    event.wait()


def test_every_green_thread_is_shown_with_what_it_waits_on_even_when_frozen_at_start_up():
    early, late = Event(), Event()
    threads = [eventlet.spawn(waiting_for_a_reply, early)]
    eventlet.sleep(0)
    gc.freeze()  # as a service freezes what its start made (its consumer's thread among it)
    try:
        threads.append(eventlet.spawn(waiting_for_a_reply, late))
        eventlet.sleep(0)

        blocks = [block for block in stack_dump.green_stacks() if "waiting_for_a_reply" in block]

        assert len(blocks) == 2
        assert all(block.splitlines()[-1].endswith(" switch") for block in blocks)  # innermost last: the wait
        assert gc.get_freeze_count() > 0  # what was frozen stays out of the collector's passes
    finally:
        gc.unfreeze()
        early.send(None)
        late.send(None)
        for thread in threads:
            thread.wait()


def test_a_finished_green_thread_is_not_shown():
    done = eventlet.spawn(waiting_for_a_reply, Event())
    done.kill()

    assert not [block for block in stack_dump.green_stacks() if "waiting_for_a_reply" in block]


def test_a_dead_weak_proxy_among_the_objects_is_passed_over():
    class Referent:
        pass

    referent = Referent()
    proxy = weakref.proxy(referent)
    del referent  # the proxy stays, tracked by the collector, pointing at nothing

    assert proxy is not None
    assert isinstance(stack_dump.green_stacks(), list)
