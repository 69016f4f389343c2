"""Batches sent one after another without waiting for each answer, written in the order they were sent.

A caller streaming batches (the connector) sends a batch while its owner is still writing the one before, naming
that one: ``after=<its request id>``. The owner first does what writes nothing (checking the records, asking other
services about them), then waits until the batch named has been applied (its request id is in ``handled_requests``,
which commits with the batch's changes), and only then writes. The checking of one batch overlaps the writing of
the one before, and the writes happen in the order sent: a record named in both batches ends as the later one has
it, and whatever a batch creates first (a product named by a line) is named by its first mention in the file.

The batch named is waited for in this process when it runs here (woken when its transaction has ended), otherwise
by asking the database every ``poll_seconds``. A batch named that ended here without being applied, or that is not
applied within ``wait_seconds``, gets the later batch refused as Unavailable with nothing written: its caller sends
it again (the same request id) once the batch before has been answered.
"""
import contextlib
import threading
import time

from .errors import Unavailable
from .requests import check_request_id

WAIT_SECONDS = 60.0
"""The longest a batch waits for the one named before it; the connector waits 120 s for an answer."""
POLL_SECONDS = 0.02


class RequestOrder:
    """The order of one service's batches, kept with its ``HandledRequests``."""

    def __init__(self, handled, wait_seconds=WAIT_SECONDS, poll_seconds=POLL_SECONDS):
        self.handled = handled
        self.wait_seconds, self.poll_seconds = wait_seconds, poll_seconds
        self._running = {}  # request id → an Event set when that request's work here has ended

    @contextlib.contextmanager
    def running(self, request_id):
        """Around the whole of a request's work, its transaction included: a batch sent after it waits for the
        end of this block, not for the database's next poll. Raises ValidationFailed (a malformed request id)."""
        request_id = check_request_id(request_id)
        if request_id is None or request_id in self._running:  # a repeat running beside the first: the first tells
            yield
            return
        ended = self._running[request_id] = threading.Event()
        try:
            yield
        finally:
            del self._running[request_id]
            ended.set()

    def wait_for(self, after, read, company_id):
        """Return once the request ``after`` (of ``company_id``) has been applied; at once when ``after`` is None.
        ``read()``: a context manager giving a session. Raises ValidationFailed (``after`` malformed), Unavailable
        (not applied within ``wait_seconds``, or it ended here without being applied)."""
        after = check_request_id(after, "after")
        if after is None:
            return
        deadline = time.monotonic() + self.wait_seconds
        while True:
            ended = self._running.get(after)
            if ended is not None:  # running here: its end tells, applied or not
                ended.wait(max(0.0, deadline - time.monotonic()))
            if self._applied(after, read, company_id):
                return
            if ended is not None or time.monotonic() >= deadline:
                raise Unavailable("the batch this one was sent after was not applied", {"after": ["not_applied"]})
            time.sleep(self.poll_seconds)

    def _applied(self, request_id, read, company_id):
        with read() as session:
            return self.handled.was_handled(session, request_id, company_id)
