"""Request ids: a write delivered twice is applied once.

A caller of a create or batch RPC may pass ``request_id``, a string it chooses (a UUID, say). The first call with an
id applies the change and stores its result in the service's ``handled_requests`` table in the same transaction, so
both commit or neither does. A repeat with that id changes nothing, publishes nothing, and returns the stored result.

The row is inserted before the change is applied, and its id is unique: a repeat running at the same time waits for
the first transaction (PostgreSQL blocks the second insert on the unique key; SQLite writes one transaction at a
time), then finds the stored row and returns its result; if the first rolled back, the repeat applies the change
itself. A failed call stores nothing, so a retry after an error is applied afresh. An id used by another caller
(company or shop) or for another method is refused as Conflict. Rows are purged after seven days, as published
outbox events are.
"""
import datetime as dt
import re
import time

from sqlalchemy import BigInteger, DateTime, Integer, String, Text, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from . import wire_json
from .contracts import field_error
from .errors import Conflict
from .outbox import utcnow

REQUEST_ID_LENGTH = 64
_REQUEST_ID = re.compile(r"[!-~]{1,%d}\Z" % REQUEST_ID_LENGTH)  # printable ASCII, no spaces


class HandledRequestRecord:
    """Columns of a service's ``handled_requests`` table; mix into a model of the service's own metadata."""

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(REQUEST_ID_LENGTH), unique=True)
    method: Mapped[str] = mapped_column(String(100))
    company_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    shop_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


def check_request_id(request_id, field="request_id"):
    """``None`` (no request id) or the id; anything else is refused as ValidationFailed at ``field``."""
    if request_id is None:
        return None
    if not isinstance(request_id, str) or not _REQUEST_ID.match(request_id):
        raise field_error(field, "invalid")
    return request_id


class HandledRequests:
    """The handled requests of one service, kept in ``model`` (a HandledRequestRecord of its metadata)."""

    retention = dt.timedelta(days=7)
    purge_every_seconds = 3600

    def __init__(self, model):
        self.model = model
        self._purged_at = None

    def once(self, session, request_id, method, caller, apply, stored=None):
        """``apply()`` unless ``request_id`` was handled already; then the first call's result.

        Call it first in the unit of work, before anything else is changed in it. ``caller``: the Scope of the call,
        or for a public entrance the company id. ``stored(result)``: what to keep when part of the result must not
        be stored (a repeat returns that). Without a request id, just ``apply()``. Raises ValidationFailed (malformed
        id), Conflict (the id belongs to another caller or method).
        """
        request_id = check_request_id(request_id)
        if request_id is None:
            return apply()
        company_id, shop_id = _caller(caller)
        self._purge_now_and_then(session)
        row = self.model(request_id=request_id, method=method, company_id=company_id, shop_id=shop_id)
        session.add(row)
        try:
            session.flush()
        except IntegrityError:
            # Nothing else is in this transaction yet (no savepoint: on SQLite, releasing one opened first would
            # commit it), so rolling it back loses nothing.
            session.rollback()
            handled = session.scalar(select(self.model).where(self.model.request_id == request_id))
            if handled is None:  # a different constraint: not a repeat
                raise
            if (handled.method, handled.company_id, handled.shop_id) != (method, company_id, shop_id):
                raise Conflict("request id used for another request", {"request_id": ["reused"]}) from None
            return wire_json.loads(handled.result)
        result = apply()
        row.result = wire_json.dumps_text(stored(result) if stored else result)
        session.flush()
        return result

    def was_handled(self, session, request_id, company_id):
        """Whether ``request_id`` of that company has been applied (committed)."""
        return session.scalar(select(self.model.id).where(self.model.request_id == request_id,
                                                          self.model.company_id == company_id)) is not None

    def _purge_now_and_then(self, session):
        now = time.monotonic()
        if self._purged_at is not None and now - self._purged_at < self.purge_every_seconds:
            return
        self._purged_at = now
        session.execute(delete(self.model).where(self.model.created_at < utcnow() - self.retention))


def _caller(caller):
    if isinstance(caller, int):
        return caller, None
    return caller.company_id, caller.shop_id if caller.is_shop else None
