"""What a running service is doing, on demand: ``kill -USR1 <pid>`` writes the stack of every green thread to the
service's log, and the stack of every OS thread to its standard error.

For a service that has stopped answering without a word in its log: the green threads show which of them waits, and
on what (a reply, a lock, a socket); the OS threads' stacks are written from the signal itself (Python's
``faulthandler``), so they come out even when the process's loop is held by a call that never returns, when no green
thread can run.
"""
import faulthandler
import gc
import logging
import signal
import sys
import traceback

import eventlet
import greenlet

log = logging.getLogger(__name__)

SIGNAL = signal.SIGUSR1
BEGIN = "green threads"
END = "end of the green threads"


def green_stacks():
    """One block a live green thread (its innermost frame last), the thread calling this left out."""
    current = greenlet.getcurrent()
    blocks = []
    for thread in _all_objects():
        # by type: isinstance would ask a dead weak proxy among the objects for its class, and raise
        if not issubclass(type(thread), greenlet.greenlet) or thread is current or thread.gr_frame is None:
            continue
        frames = traceback.extract_stack(thread.gr_frame)
        blocks.append("\n".join(f"  {frame.filename}:{frame.lineno} {frame.name}" for frame in frames))
    return blocks


def _all_objects():
    """Every object the collector tracks, those frozen at start-up (``garbage.freeze_startup``: the containers and
    their threads) included, which ``gc.get_objects`` leaves out; they are frozen again after, with what was made
    since (kept from the collector's passes, as start-up's are: a dump is a rare event)."""
    frozen = gc.get_freeze_count()
    gc.unfreeze()
    try:
        return gc.get_objects()
    finally:
        if frozen:
            gc.freeze()


def log_green_stacks():
    blocks = green_stacks()
    log.warning("%s (%d):\n%s\n%s", BEGIN, len(blocks), "\n--\n".join(blocks), END)


def install():
    """Answer SIGUSR1 with the dumps (from the main thread, once the runner has started)."""
    # The signal's handler runs outside eventlet's loop: the green threads are read from a green thread of its own.
    signal.signal(SIGNAL, lambda _signum, _frame: eventlet.spawn_n(log_green_stacks))
    faulthandler.register(SIGNAL, file=sys.stderr, all_threads=True, chain=True)
