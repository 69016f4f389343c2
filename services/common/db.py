"""Database access for a service: engine set-up, a unit of work, and the Nameko dependency that ties them to the outbox relay."""
import contextlib
import logging

from nameko.extensions import DependencyProvider
from sqlalchemy import ARRAY, any_, bindparam, create_engine, event, func, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from .config import env_int
from .outages import database_errors
from .outbox import OutboxRelay
from .table_statistics import StatisticsKeeper

log = logging.getLogger(__name__)

# Table options of an entity whose id goes out in events and whose rows can be deleted: consumers keep the versions
# they applied per id, so an id must never name a second entity. PostgreSQL sequences never hand an id out twice;
# SQLite reuses the highest rowid once its row is deleted unless the table is declared AUTOINCREMENT.
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


def insert_for(session, table):
    """An INSERT of ``table`` in the session's dialect, for its ``on_conflict_do_nothing`` / ``do_update`` (both
    dialects spell ON CONFLICT the same way)."""
    return (postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert)(table)


_UNIT_SEPARATOR = "\x1f"  # a control character: no code, member number or other text the services keep holds one


def one_of(session, column, values):
    """``column IN values`` as the session's database takes a long list best: on PostgreSQL ``= ANY`` of one array,
    texts sent as one string the server splits (``string_to_array``), where SQLAlchemy handled an ``IN``'s values as
    a parameter each (a microsecond a value, a batch's thousands of product codes and member numbers each time) and
    the driver writes a list out as an array of quoted values (0.8 ms for 2,000 codes, and the server took ten times
    longer to read it than the one string); elsewhere ``IN``."""
    if session.bind.dialect.name != "postgresql":
        return column.in_(values)
    values = list(values)
    if values and all(value.__class__ is str for value in values):
        joined = _UNIT_SEPARATOR.join(values)  # empty for [""] alone, which would split into no value at all
        if joined and _UNIT_SEPARATOR not in "".join(values):
            return column == any_(func.string_to_array(bindparam(None, joined), _UNIT_SEPARATOR))
    return column == any_(bindparam(None, values, type_=ARRAY(column.type)))


def make_engine(url, **kwargs):
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout so that several processes can share a file."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "savepoint")
        def _begin_before_savepoint(connection, _name):
            # pysqlite opens a transaction only before an INSERT, UPDATE or DELETE. A SAVEPOINT issued before any of
            # them opens one of its own, and releasing it COMMITS: a unit of work whose first write sits in a
            # savepoint (add_unless_present, batches) would keep that write even when it is rolled back later.
            # Open the transaction first; IMMEDIATE, because a write follows.
            if not connection.connection.dbapi_connection.in_transaction:
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # Connections per process: every service process (and search replica) keeps at most this many, so that all of
    # them together stay under PostgreSQL's max_connections (100 by default); a worker that finds none free waits.
    size = env_int("DB_POOL_SIZE", 6)
    # An executemany of an UPDATE or DELETE (a batch's changed rows) goes in pages of statements per round trip
    # (psycopg2's execute_batch) instead of one round trip a row; INSERTs are multi-row either way.
    kwargs.setdefault("executemany_mode", "values_plus_batch")
    return create_engine(url, pool_pre_ping=True, pool_size=size, max_overflow=env_int("DB_POOL_OVERFLOW", 4),
                         pool_timeout=30, **kwargs)


class Store:
    """What a worker gets: sessions, and a unit of work that wakes the outbox relay after it commits."""

    def __init__(self, session_factory, relay=None):
        self.session_factory = session_factory
        self.relay = relay

    @contextlib.contextmanager
    def unit_of_work(self):
        """A session whose changes (and the events recorded in it) commit together, or not at all."""
        session = self.session_factory()
        try:
            with database_errors():
                yield session
                session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        if self.relay is not None:
            self.relay.wake()

    @contextlib.contextmanager
    def read(self):
        """A session for reading; anything left pending in it is discarded."""
        session = self.session_factory()
        try:
            with database_errors():
                yield session
        finally:
            session.rollback()
            session.close()

    def ping(self):
        with self.read() as session:
            session.execute(text("SELECT 1"))


class Database(DependencyProvider):
    """The service's own database, with its outbox relayed to the service's event exchange and the statistics of its
    growing tables kept fresh (``table_statistics``)."""

    def __init__(self, outbox_model):
        self.outbox_model = outbox_model

    def setup(self):
        config = self.container.config
        self.engine = make_engine(config["DATABASE_URL"])
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        self.relay = OutboxRelay(
            self.session_factory,
            self.outbox_model,
            service_name=self.container.service_name,
            amqp_uri=config["AMQP_URI"],
            poll_seconds=config.get("OUTBOX_POLL_SECONDS", 1.0),
        )
        self.statistics = StatisticsKeeper(self.engine)

    def start(self):
        self.container.spawn_managed_thread(self.relay.run, identifier="outbox_relay")
        self.container.spawn_managed_thread(self.statistics.run, identifier="table_statistics")

    def stop(self):
        self.relay.stop()
        self.statistics.stop()
        self.engine.dispose()

    def kill(self):
        self.relay.stop()
        self.statistics.stop()

    def get_dependency(self, worker_ctx):
        return Store(self.session_factory, self.relay)


def add_unless_present(session, new, find):
    """Insert ``new`` unless a concurrent transaction inserted the same unique key first.

    ``find()`` looks the row up by that key. The insert runs in a savepoint: when it breaks the unique constraint
    (the other transaction committed meanwhile), the savepoint is rolled back and the row found is returned instead.
    Returns ``(row, created)``.
    """
    try:
        with session.begin_nested():
            session.add(new)
            session.flush()
        return new, True
    except IntegrityError:
        found = find()
        if found is None:  # a different constraint: not a lost race
            raise
        return found, False
