"""The transactional outbox.

A service records the event announcing a change in the same database transaction as the change
(``record_event``). After the commit, the relay publishes pending events, oldest first, to the
service's Nameko event exchange (``<service>.events``, routing key = event type) with publisher
confirms, and marks them published. A broker outage leaves them pending until it answers again; a
rolled-back transaction leaves no event behind. Delivery is at least once: consumers de-duplicate by
entity id and version.
"""
import datetime as dt
import logging
import threading
import time
import uuid

from kombu import Connection, Exchange, Producer
from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text, delete, func, insert, select, text, update
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from . import wire_json
from .events import EventEnvelope
from .outages import first_line, unavailable

log = logging.getLogger(__name__)

_envelope = EventEnvelope()


def utcnow():
    return dt.datetime.now(dt.timezone.utc)


class OutboxRecord:
    """Columns of a service's ``outbox`` table; mix into a model of the service's own metadata."""

    # The relay's question (the oldest unpublished events) answered from the events still to publish alone: a week of
    # published events is kept, and walking past them made each batch of 200 take 0.4 s after a bulk import.
    @declared_attr.directive
    def __table_args__(cls):  # one Index object for each service's table
        return (Index("ix_outbox_pending", "id", postgresql_where=text("published_at IS NULL"),
                      sqlite_where=text("published_at IS NULL")),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    event_type: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    company_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


def _row(event_type, entity, entity_id, version, company_id, data):
    envelope = _envelope.dump({
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "entity": entity,
        "entity_id": str(entity_id),
        "version": version,
        "company_id": company_id,
        "occurred_at": utcnow(),
        "data": data,
    })
    return envelope, dict(event_id=envelope["event_id"], event_type=event_type, entity=entity, entity_id=str(entity_id),
                          version=version, company_id=company_id, payload=wire_json.text(envelope))


def record_event(session, model, event_type, *, entity, entity_id, version, company_id, data):
    """Add the event announcing a change to the session that holds the change."""
    envelope, row = _row(event_type, entity, entity_id, version, company_id, data)
    session.add(model(**row))
    return envelope


def record_events(session, model, events):
    """``record_event`` for many events at once, in one multi-row INSERT (a batch of hundreds announces each change
    as one event would). ``events``: dicts with ``event_type``, ``entity``, ``entity_id``, ``version``,
    ``company_id`` and ``data``, in the order they happened, which is the order the relay publishes them. Returns the
    envelopes."""
    made = [_row(e["event_type"], e["entity"], e["entity_id"], e["version"], e["company_id"], e["data"])
            for e in events]
    if made:
        session.execute(insert(model), [row for _envelope, row in made])
    return [envelope for envelope, _row_values in made]


def event_exchange(service_name):
    # The same exchange Nameko's EventDispatcher and event_handler use, so ordinary handlers consume it.
    return Exchange(f"{service_name}.events", type="topic", durable=True, auto_delete=False)


class KombuPublisher:
    """Publishes batches with publisher confirms over one kept connection: every event of a batch is sent, then the
    broker's confirms are awaited together (one wait for a batch, not one per event: a confirm takes about 3 ms, and
    the relay published no more than about 300 events a second when it waited for each). Reconnects on the next call
    after a failure."""

    def __init__(self, amqp_uri, exchange, connect_timeout=2.0, confirm_timeout=30.0):
        self.amqp_uri = amqp_uri
        self.exchange = exchange
        self.connect_timeout = connect_timeout
        self.confirm_timeout = confirm_timeout
        self._connection = None
        self._producer = None
        self._sent = 0  # the delivery tag of this channel's last message (the broker numbers them from 1)
        self._unconfirmed = set()  # tags sent and not yet answered
        self._refused = 0  # how many the broker refused (nack)

    def _ensure(self):
        if self._producer is None:
            self._connection = Connection(self.amqp_uri, connect_timeout=self.connect_timeout)
            self._connection.connect()
            channel = self._connection.channel()
            channel.confirm_select()
            channel.events["basic_ack"].add(self._acked)
            channel.events["basic_nack"].add(self._nacked)
            self._sent, self._unconfirmed, self._refused = 0, set(), 0
            self._producer = Producer(channel, exchange=self.exchange)
            self.exchange(channel).declare()
        return self._producer

    def _answered(self, delivery_tag, multiple):
        answered = {tag for tag in self._unconfirmed if tag <= delivery_tag} if multiple else {delivery_tag}
        self._unconfirmed -= answered
        return len(answered)

    def _acked(self, delivery_tag, multiple):
        self._answered(delivery_tag, multiple)

    def _nacked(self, delivery_tag, multiple):
        self._refused += self._answered(delivery_tag, multiple)

    def publish_many(self, events):
        """Publish ``(routing key, JSON text)`` pairs in order and wait until the broker has confirmed them all.
        Raises when the broker refuses one or does not confirm in time (the caller keeps them to publish again:
        delivery is at least once)."""
        try:
            producer = self._ensure()
            for routing_key, body in events:
                producer.publish(body, routing_key=routing_key, delivery_mode=2, retry=False,
                                 content_type="application/json", content_encoding="utf-8")
                self._sent += 1
                self._unconfirmed.add(self._sent)
            deadline = time.monotonic() + self.confirm_timeout
            while self._unconfirmed:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"the broker did not confirm {len(self._unconfirmed)} of {len(events)} events")
                self._connection.drain_events(timeout=left)
            if self._refused:
                raise RuntimeError(f"the broker refused {self._refused} of {len(events)} events")
        except Exception:
            self.close()
            raise

    def close(self):
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # already broken; nothing to release
                pass
        self._connection = None
        self._producer = None


class OutboxRelay:
    """Moves committed events from the outbox table to the broker."""

    batch_size = 500
    retention = dt.timedelta(days=7)

    def __init__(self, session_factory, model, *, service_name, amqp_uri, poll_seconds=1.0, publisher=None):
        self.session_factory = session_factory
        self.model = model
        self.poll_seconds = poll_seconds
        self.publisher = publisher or KombuPublisher(amqp_uri, event_exchange(service_name))
        self._wake = threading.Event()
        self._stopped = False

    def wake(self):
        self._wake.set()

    def stop(self):
        self._stopped = True
        self._wake.set()

    def run(self):
        while not self._stopped:
            try:
                while self.relay_pending() == self.batch_size:
                    pass
                self.purge_published()
            except Exception as exc:
                if unavailable(exc):
                    log.warning("outbox relay: database unavailable (%s); will retry", first_line(exc))
                else:
                    log.exception("outbox relay pass failed; will retry")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
        self.publisher.close()

    def relay_pending(self):
        """Publish the oldest pending events, in order, as one batch. Returns how many were published (0 when the
        broker did not confirm them: they stay pending, with the failure noted on the first)."""
        table = self.model.__table__
        session = self.session_factory()
        try:
            query = (select(table.c.id, table.c.event_id, table.c.event_type, table.c.payload)
                     .where(table.c.published_at.is_(None)).order_by(table.c.id).limit(self.batch_size))
            if session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            pending = session.execute(query).all()
            if not pending:
                return 0
            ids = [row.id for row in pending]
            try:
                self.publisher.publish_many([(row.event_type, row.payload) for row in pending])
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
                log.warning("outbox: %d events not published yet, from %s (%s)", len(pending), pending[0].event_id,
                            error)
                session.execute(update(table).where(table.c.id == ids[0])
                                .values(attempts=table.c.attempts + 1, last_error=error))
                session.commit()
                return 0
            session.execute(update(table).where(table.c.id.in_(ids))
                            .values(published_at=utcnow(), attempts=table.c.attempts + 1, last_error=None))
            session.commit()
        finally:
            session.close()
        return len(pending)

    def purge_published(self):
        cutoff = utcnow() - self.retention
        session = self.session_factory()
        try:
            session.execute(delete(self.model).where(self.model.published_at < cutoff))
            session.commit()
        finally:
            session.close()

    def pending_count(self):
        session = self.session_factory()
        try:
            return session.scalar(select(func.count()).select_from(self.model).where(self.model.published_at.is_(None)))
        finally:
            session.close()
