"""A search replica's store: the index copied into DuckDB, one database per company, kept fresh from the journal.

The index tables (``models.py``, in the service's database) stay the one place events are applied to, by version,
shared by every replica. Each replica copies them into DuckDB, in the shape of ``store_tables.py``, and answers every
condition, count, page, sort and download from that copy with the SQL of ``query.py``:

- one DuckDB database per company (a file ``company_<id>_<generation>.duckdb`` in the replica's slot directory, all
  attached to one DuckDB instance), so that a company's data lives apart, can be loaded again alone (a rebuild) and a
  replica can serve a subset of companies;
- the change journal (``ix_changes``: kind, key, company, in commit order) says what to read again: the rows of the
  changed entities are read from the index tables and replace, in one DuckDB transaction per company, what the store
  held of them (reading them twice changes nothing, so a replica that stops mid-way starts again from its last noted
  place, a little before it);
- the slot directory keeps, besides the databases, ``state.json``: which index it copies (the index's identity
  token), the journal place, when it last followed, and each company's current database (with its rows written in
  order and added since). A replica that starts opens
  its slot and follows the journal from there; a slot of another index, or one left longer than the journal is kept,
  is loaded afresh.

Everything here runs without Nameko or eventlet; ``dependencies.py`` runs the DuckDB work in native threads.
"""
import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import time
import uuid
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from duckdb_engine import Dialect
from sqlalchemy import (BigInteger, Boolean, Date, DateTime, Integer, any_, delete, func, literal_column, select,
                        union)
from sqlalchemy.dialects.postgresql.base import CreateEnumType
from sqlalchemy.schema import CreateTable

from services.common import pgcopy
from services.common.errors import Unavailable

from . import store_derived as derived
from . import store_ranges
from . import store_tables as T
from .models import (AddressErrorCount, IndexChange, IndexedChoice, IndexedCustomer, IndexedLine, IndexedMail,
                     IndexedMailActivity, IndexedPurchase, IndexIdentity, SavedSearch, SavedSearchMember)

log = logging.getLogger(__name__)

DIALECT = Dialect(paramstyle="qmark")
CHUNK = 50_000  # rows read from the index and written to the store at a time
JOURNAL_KEPT = dt.timedelta(hours=1)
"""How long the journal keeps a change; a store that followed longer ago than half of it is loaded afresh."""
FOLLOW_MARGIN = 5000
"""Journal entries read again when a store opens: transactions that had taken a place in the journal and committed
after the store last followed."""
LAYOUT = "5 " + " ".join(f"{enum.name}={','.join(enum.enums)}" for enum in T.ENUMS)
"""The store's table layout (store_tables.py, its ENUM catalogues, ORDERED_BY); a slot written with another is loaded
afresh."""
MAX_ENTRIES = 20000  # journal entries, and changes (keys), followed in one step
STATE_SAVED_EVERY = 10.0
"""Seconds between two writes of state.json while the journal is quiet (it is written after every step that
followed something): a replica stopped after a quiet while opens its files instead of loading afresh."""
ORDERED_BY = {
    # The order a table's rows are kept in, so that a condition on its leading columns reads only the row groups
    # holding those values (DuckDB keeps each row group's smallest and largest value of every column): a product
    # row reads the lines of its products, an opened mail the opens, a period the purchases of its days.
    "lines": ("product_code", "purchase_id"),
    "mail_activities": ("activity", "mail_id", "customer_id"),
    "purchases": ("purchased_at", "id"),
}
REWRITTEN_AFTER = (0.5, 100_000)
"""A company's database is written again in order once the rows changes added since it was last written are half
its rows then, and at least this many: what following the journal appends lies outside the order."""
REWRITTEN_WHILE_BUSY = 4.0
"""...but while a stream of changes goes on (a busy step: an import's), only once they are four times its rows: the
rest waits for a quiet step. An import of a million order lines wrote its company again five times as it grew (a
tenth of the search service's time); a search meanwhile reads more row groups, never other rows."""
BUSY_ENTRIES = 100
"""Changes in one step that make it a busy one (the keeper's pause after it, and the writing again above)."""
ORDERED_FROM = 100_000
"""A company's database of fewer rows is kept in the order it was loaded: each of its tables fits in one row group
(122,880 rows), which any condition reads whole whatever the order. Writing it again would only double its load (a
replica starting on an index of hundreds of small companies)."""


_DDL = ([str(CreateEnumType(enum).compile(dialect=DIALECT)) for enum in T.ENUMS]
        + [str(CreateTable(table).compile(dialect=DIALECT)) for table in T.metadata.sorted_tables])
"""What a company's new database is made with."""


def compiled(statement):
    """A SQLAlchemy Core statement as DuckDB SQL with its parameters (values are always bound, never written in)."""
    query = statement.compile(dialect=DIALECT, compile_kwargs={"render_postcompile": True})
    return query.string, [query.params[name] for name in (query.positiontup or ())]


def _arrow_type(column):
    if isinstance(column.type, DateTime):
        return pa.timestamp("us", tz="UTC")
    if isinstance(column.type, Date):
        return pa.date32()
    if isinstance(column.type, Boolean):
        return pa.bool_()
    if isinstance(column.type, (Integer, BigInteger)):
        return pa.int64()
    return pa.string()


ARROW_POOL = pa.system_memory_pool()
"""Where the rows handed to DuckDB are built: malloc's pool. Arrow's default (mimalloc) keeps a heap for each thread
that allocates, and the store is written from any of eventlet's twenty native threads: a replica following an import
grew by about 80 MB more with it (a million lines written from twenty threads in one process: 418 against 337 MB)."""

_ARROW_SCHEMAS = {table.name: pa.schema([(c.name, _arrow_type(c)) for c in table.columns])
                  for table in T.metadata.sorted_tables}


def _arrow(table, rows):
    schema = _ARROW_SCHEMAS[table.name]
    columns = list(zip(*rows)) if rows else [[] for _ in schema]
    return pa.Table.from_arrays([pa.array(values, type=field.type, memory_pool=ARROW_POOL)
                                 for values, field in zip(columns, schema)], schema=schema)


# --- what each store table is read from in the index ------------------------------------------------------------

C, E, P, L = IndexedCustomer, AddressErrorCount, IndexedPurchase, IndexedLine
A = T.mail_activities.c
ACTIVITY_CUSTOMER = list(T.mail_activities.columns.keys()).index("customer_id")
PURCHASE_CUSTOMER = list(T.purchases.columns.keys()).index("customer_id")
CUSTOMER_ID = list(T.customers.columns.keys()).index("id")
COMPUTED = [(n, column) for n, column in enumerate(T.customers.columns) if column.name in derived.COLUMNS]
"""The store's computed columns (``store_derived.py``) and where they are in a customer row."""
DERIVED = {kind: {touched_only: [compiled(statement) for statement in derived.statements(kind, touched_only)]
                  for touched_only in (False, True)} for kind in derived.FIGURES}
"""The statements setting the store's computed customer columns (``store_derived.py``), compiled once."""


def _customer_columns():
    columns = []
    for column in T.customers.columns:
        if hasattr(C, column.name):
            columns.append(getattr(C, column.name))
        elif column.name in derived.COLUMNS:  # computed in the store (_set_derived)
            columns.append(derived.CLEARED[column.name].label(column.name))
        else:  # a customer without an address state has no address in error
            columns.append(func.coalesce(getattr(E, column.name), 0).label(column.name))
    return columns


_LINE_COUNT = (select(func.count()).where(L.purchase_id == P.id).scalar_subquery()).label("line_count")
"""A purchase's number of lines: a report that leaves products out knows an order of only those without reading
every line."""

SOURCES = {
    # table → (statement reading its rows, the index column naming the company, the store column rows are keyed by,
    #          the index columns holding that key: each is read by it)
    "customers": (select(*_customer_columns()).outerjoin(E, E.customer_id == C.id), C.company_id, "id", (C.id,)),
    "choices": (select(IndexedChoice.customer_id, IndexedChoice.group_id, IndexedChoice.choice_id)
                .join(C, C.id == IndexedChoice.customer_id), C.company_id, "customer_id",
                (IndexedChoice.customer_id, C.id)),
    "purchases": (select(*[getattr(P, c.name) if hasattr(P, c.name) else _LINE_COUNT for c in T.purchases.columns]),
                  P.company_id, "id", (P.id,)),
    "lines": (select(L.purchase_id, L.customer_id, L.product_code, L.quantity, L.unit_price, P.shop_id,
                     P.purchased_at, P.shipped_at, P.counted).join(P, P.id == L.purchase_id), P.company_id, "purchase_id",
              (L.purchase_id, P.id)),
    "mails": (select(*[getattr(IndexedMail, c.name) for c in T.mails.columns]), IndexedMail.company_id, "id",
              (IndexedMail.id,)),
    "mail_activities": (select(*[getattr(IndexedMailActivity, c.name) for c in T.mail_activities.columns]),
                        IndexedMailActivity.company_id, "id", (IndexedMailActivity.id,)),
    "saved_members": (select(SavedSearchMember.saved_search_id, SavedSearchMember.customer_id)
                      .join(SavedSearch, SavedSearch.id == SavedSearchMember.saved_search_id), SavedSearch.company_id,
                      "saved_search_id", (SavedSearchMember.saved_search_id, SavedSearch.id)),
}
TABLES_OF_KIND = {  # a journal entry's kind → the store tables whose rows of that key are read again
    "customer": ("customers", "choices"), "address_errors": ("customers",), "purchase": ("purchases", "lines"),
    "mail": ("mails",), "activity": ("mail_activities",), "saved": ("saved_members",),
}


def _read(session, table, company_id, keys=None):
    """The index's rows of a store table for a company (those of ``keys`` only, when given), in chunks.

    Rows of keys are read by their keys alone, and those of another company left out here: with the company in the
    statement, PostgreSQL may read every row of the company to find a few (it did, on tables growing faster than
    their statistics during an import: a whole company's purchases for each followed step)."""
    statement, company_column, _key, key_columns = SOURCES[table]
    if keys is None:
        result = session.connection().execution_options(yield_per=CHUNK).execute(
            statement.where(company_column == company_id))
        for rows in result.partitions(CHUNK):
            yield rows
        return
    connection = session.connection()  # Core rows: the ORM's loading of rows of entity columns costs as much again
    for chunk in _by_keys(table, keys):
        rows = connection.execute(chunk).all()
        yield [row[:-1] for row in rows if row[-1] == company_id]


def _by_keys(table, keys, within=lambda column, chunk: column.in_(chunk)):
    """The statements reading a store table's index rows of ``keys``, CHUNK keys each, by their keys alone, each row
    with its company last (``of_company``), for the reader to leave another company's out (``_read``).
    ``within(column, chunk)``: the condition that the column holds one of the chunk's keys."""
    statement, company_column, _key, key_columns = SOURCES[table]
    statement = statement.add_columns(company_column.label("of_company"))  # a label: never merged with a column read
    keys = sorted(keys)
    for start in range(0, len(keys), CHUNK):
        yield statement.where(*[within(column, keys[start:start + CHUNK]) for column in key_columns])


def _listed(column, chunk):
    """``column = ANY(ARRAY[…])`` with the chunk's integer keys written out at once, for a statement compiled with
    its values in its text (a COPY's): the compiler rendered each key of an ``IN`` itself, a tenth of a followed
    step's time."""
    return column == any_(literal_column("ARRAY[" + ",".join(str(int(key)) for key in chunk) + "]"))


AS_READ = ("purchases", "lines", "mails", "mail_activities", "choices", "saved_members")
"""Store tables whose index rows go into the store as they are read (no computed column set in Python): a followed
step reads them on PostgreSQL with COPY into Arrow, no Python object a value (the rows of an import's purchases and
lines cost the replica about a fifth of its time as Python rows)."""


def _csv_options(table):
    """How Arrow's CSV reader takes a COPY of ``_by_keys``'s rows of a store table: its columns in the store's types,
    ``of_company`` last; NULL is left empty, an empty string quoted; on the replica's thread (with a pool of threads
    of its own the reader kept their memory)."""
    schema = _ARROW_SCHEMAS[table].append(pa.field("of_company", pa.int64()))
    return (pacsv.ReadOptions(column_names=schema.names, use_threads=False),
            pacsv.ConvertOptions(column_types=schema, true_values=["t"], false_values=["f"], strings_can_be_null=True,
                                 quoted_strings_can_be_null=False))


_CSV_OPTIONS = {table: _csv_options(table) for table in AS_READ}


def _read_columns(session, table, company_id, keys):
    """The index's rows of ``keys`` of a store table (one of AS_READ) for a company, as one Arrow table: ``_read``
    without a Python object a value on PostgreSQL (COPY in CSV, read by Arrow's reader in the store's column
    types), and ``_read``'s rows made Arrow elsewhere."""
    store_table = T.metadata.tables[table]
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return _arrow(store_table, [row for chunk in _read(session, table, company_id, keys) for row in chunk])
    read, convert = _CSV_OPTIONS[table]
    parts = []
    for chunk in _by_keys(table, keys, _listed):
        data = pgcopy.copy_out(connection, chunk.compile(dialect=connection.dialect,
                                                         compile_kwargs={"literal_binds": True}))
        if data:
            part = pacsv.read_csv(pa.py_buffer(data), read_options=read, convert_options=convert,
                                  memory_pool=ARROW_POOL)
            parts.append(part.filter(pc.equal(part["of_company"], company_id)).drop_columns(["of_company"]))
    return pa.concat_tables(parts) if parts else _arrow(store_table, [])


def _values(rows, position, name):
    """One column of rows read (Python rows, or an Arrow table)."""
    if isinstance(rows, pa.Table):
        return rows.column(name).to_pylist()
    return [row[position] for row in rows]


def index_identity(session):
    """The index's identity token, made (and committed) the first time it is asked for."""
    token = session.scalar(select(IndexIdentity.token))
    if token is None:
        session.add(IndexIdentity(token=uuid.uuid4().hex))
        session.commit()
        token = session.scalar(select(IndexIdentity.token).order_by(IndexIdentity.token))
    return token


def _companies(session):
    """Every company the index holds anything of."""
    sources = [select(model.company_id).distinct() for model in (C, P, IndexedMail, IndexedMailActivity, SavedSearch)]
    return sorted(session.scalars(union(*sources)).all())


# --- the store -----------------------------------------------------------------------------------------------------

class IndexStore:
    """All the companies' stores of one replica. ``open`` (or ``open(None)`` for one in memory), then ``load`` or
    ``follow``; ``execute`` answers a statement over one company's tables."""

    def __init__(self, directory=None, threads=None, memory_limit=None):
        self.directory = directory
        # jemalloc's background threads hand back to the system what DuckDB freed (it otherwise waits for the next
        # allocation in that arena): the replica's peak at two million lines fell by about 20 MB (docs/performance.md)
        config = {"allocator_background_threads": True}
        if directory is not None:  # a result larger than memory_limit spills here, not into the working directory
            config["temp_directory"] = str(Path(directory) / "spill")
        if threads:
            config["threads"] = int(threads)
        if memory_limit:
            config["memory_limit"] = str(memory_limit)
        self.db = duckdb.connect(":memory:", config=config)
        self.db.execute("SET TimeZone = 'UTC'")
        self.catalogs = {}  # company id → the attached database holding its store now
        self.generations = {}  # company id → the generation of that database
        self.made = {}  # company id → the newest generation made (installed or not yet)
        self.written = {}  # company id → the rows its database held when it was written in order
        self.added = {}  # company id → the rows following the journal has added to it since
        self.retired = []  # replaced databases, detached once no read uses them
        self._reads = []  # the database of each read under way (see ``reading``)
        self.identity = None
        self.seq = 0  # the last journal entry followed
        self.gaps = {}  # journal places not seen yet (a transaction that had not committed): seq → since when
        self.followed_at = 0.0  # wall-clock time of the last follow
        self.saved_at = 0.0  # wall-clock time state.json was last written
        self.ready = False
        self._lock_file = None
        self._attach("empty", ":memory:")  # answers for a company the store holds nothing of
        self._create_tables("empty")

    @classmethod
    def open(cls, directory, threads=None, memory_limit=None):
        """The store in the first free slot (``slot-1``, ``slot-2``, … one per running replica) of ``directory``, with
        what it held when its replica stopped; ``None``: a store in memory, empty."""
        if directory is None:
            return cls(None, threads, memory_limit)
        root = Path(directory)
        for number in range(1, 1000):
            slot = root / f"slot-{number}"
            slot.mkdir(parents=True, exist_ok=True)
            lock = open(slot / "lock", "w")
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.close()
                continue
            store = cls(slot, threads, memory_limit)
            store._lock_file = lock
            store._restore()
            return store
        raise RuntimeError(f"no free store slot in {root}")

    # --- files and catalogs -----------------------------------------------------------------------------------------

    def _attach(self, catalog, path):
        self.db.execute(f"ATTACH '{path}' AS {catalog}")  # names made here, never from input

    def _create_tables(self, catalog):
        cursor = self._cursor(catalog)
        try:
            with _transaction(cursor):  # one commit for them all
                for statement in _DDL:
                    cursor.execute(statement)
        finally:
            cursor.close()

    def _file(self, catalog):
        return self.directory / f"{catalog}.duckdb"

    def _new_catalog(self, company_id):
        generation = max(self.generations.get(company_id, 0), self.made.get(company_id, 0)) + 1
        self.made[company_id] = generation
        catalog = f"company_{int(company_id)}_{generation}"
        path = ":memory:"
        if self.directory is not None:
            path = str(self._file(catalog))
            for stale in (path, path + ".wal"):  # left by a load that did not finish
                if os.path.exists(stale):
                    os.remove(stale)
        self._attach(catalog, path)
        self._create_tables(catalog)
        return catalog, generation

    def _install(self, company_id, catalog, generation, rows=0):
        """Make ``catalog`` (written with ``rows`` rows) the company's store; the one it replaces is detached a while
        later."""
        old = self.catalogs.get(company_id)
        self.catalogs[company_id], self.generations[company_id] = catalog, generation
        self.written[company_id], self.added[company_id] = rows, 0
        if old is not None:
            self.retired.append(old)

    def _detach_retired(self, force=False):
        """Detach the replaced databases no read uses any more (all of them when ``force``): each holds its own
        cached blocks, and an import replaces a company's database every few hundred thousand rows."""
        keep = []
        for catalog in self.retired:
            if catalog in self._reads and not force:
                keep.append(catalog)
                continue
            self.db.execute(f"DETACH {catalog}")
            if self.directory is not None:
                for path in (self._file(catalog), Path(str(self._file(catalog)) + ".wal")):
                    if path.exists():
                        path.unlink()
        self.retired = keep

    def _restore(self):
        state_file = self.directory / "state.json"
        state = json.loads(state_file.read_text()) if state_file.exists() else {}
        self.identity = state.get("identity") if state.get("layout") == LAYOUT else None
        self.seq = max(0, int(state.get("seq", 0)) - FOLLOW_MARGIN)
        self.followed_at = float(state.get("followed_at", 0.0))
        kept, order = set(), state.get("order", {})
        for company, generation in state.get("companies", {}).items():
            catalog = f"company_{int(company)}_{int(generation)}"
            if self._file(catalog).exists():
                self._attach(catalog, str(self._file(catalog)))
                written, added = order.get(company, (0, 0))
                self._install(int(company), catalog, int(generation), int(written))
                self.added[int(company)] = int(added)
                kept.add(self._file(catalog).name)
        for path in self.directory.glob("company_*.duckdb"):  # databases no state names: an unfinished load
            if path.name not in kept:
                path.unlink()

    def _save_state(self):
        if self.directory is None:
            return
        state = {"layout": LAYOUT, "identity": self.identity, "seq": self.seq, "followed_at": self.followed_at,
                 "companies": {str(company): self.generations[company] for company in self.catalogs},
                 # rows written in order, and added since: a restart keeps what waits to be written again
                 "order": {str(company): [self.written.get(company, 0), self.added.get(company, 0)]
                           for company in self.catalogs}}
        temporary = self.directory / "state.json.new"
        temporary.write_text(json.dumps(state))
        os.replace(temporary, self.directory / "state.json")
        self.saved_at = time.time()

    def _clear(self):
        for company in list(self.catalogs):
            self.retired.append(self.catalogs.pop(company))
        self._detach_retired(force=True)

    def close(self):
        self._detach_retired(force=True)
        self.db.close()
        if self._lock_file is not None:
            self._lock_file.close()

    # --- reading ------------------------------------------------------------------------------------------------------

    def _cursor(self, catalog):
        cursor = self.db.cursor()
        cursor.execute(f"USE {catalog}")
        return cursor

    @contextlib.contextmanager
    def reading(self, company_id):
        """A cursor on the company's database as it is now, which stays attached until the block ends (a newer one
        may replace it meanwhile).

        No lock: under eventlet's monkey-patching a threading lock is a green one, which a native thread (where
        DuckDB calls run) cannot wait on. A read notes its database, then checks that it is still the company's; a
        replacement switches the company's database, then detaches the old one only if no read has noted it. Each
        is one list operation under the interpreter lock, so either the detach sees the note or the read sees the
        switch (and reads the newer database)."""
        while True:
            catalog = self.catalogs.get(company_id, "empty")
            self._reads.append(catalog)
            if self.catalogs.get(company_id, "empty") == catalog:
                break
            self._reads.remove(catalog)  # replaced meanwhile, perhaps detached already: read the newer one
        try:
            cursor = self._cursor(catalog)
            try:
                yield cursor
            finally:
                cursor.close()
        finally:
            self._reads.remove(catalog)

    def execute(self, company_id, statement):
        """The rows of a statement over the company's tables (a list of tuples)."""
        sql, parameters = compiled(statement)
        with self.reading(company_id) as cursor:
            try:
                return cursor.execute(sql, parameters).fetchall()
            except duckdb.OutOfMemoryException:  # the question, not the replica, is too big: say so, nothing harmed
                log.warning("a query of company %s needed more than SEARCH_STORE_MEMORY", company_id)
                raise Unavailable("the search store's memory (SEARCH_STORE_MEMORY) is too small for this question")

    def counts(self):
        """How many rows each table holds, over every company."""
        totals = {table.name: 0 for table in T.metadata.sorted_tables}
        for catalog in list(self.catalogs.values()):
            cursor = self._cursor(catalog)
            try:
                for name in totals:
                    totals[name] += cursor.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            finally:
                cursor.close()
        return totals

    # --- writing -------------------------------------------------------------------------------------------------------

    def _write(self, catalog, replaced, rows_by_table, customers_changed=(), derive=True):
        """One transaction on one company's database: the rows of the keys in ``replaced`` ({table: keys}) taken out,
        ``rows_by_table`` ({table: [rows]}) put in, and the computed columns of the customers this touches set again
        (the mail flags of those whose mails or activities changed; the purchase figures of those whose purchases
        changed; both of ``customers_changed``, whose rows come without them: a replaced row keeps its own, a new
        one has them computed) — unless not ``derive``: a load sets them for everyone once its rows are in."""
        cursor = self._cursor(catalog)
        try:
            with _transaction(cursor):
                replaced = {name: _held(cursor, name, keys) for name, keys in replaced.items()}
                kept = {}
                if replaced.get("customers") and rows_by_table.get("customers"):
                    kept = self._computed_of(cursor, replaced["customers"])
                    rows_by_table = {**rows_by_table, "customers": [_with_computed(row, kept)
                                                                    for row in rows_by_table["customers"]]}
                new = set(customers_changed) - set(kept)
                touched = {derived.MAIL: set(new), derived.PURCHASES: set(new)}
                if replaced.get("mail_activities"):  # whose activities go
                    touched[derived.MAIL].update(self._customers_of(cursor, A.customer_id, A.id,
                                                                    replaced["mail_activities"]))
                if replaced.get("purchases"):  # whose purchases go (or move to another customer)
                    touched[derived.PURCHASES].update(self._customers_of(cursor, T.purchases.c.customer_id,
                                                                         T.purchases.c.id, replaced["purchases"]))
                for name, keys in replaced.items():
                    if keys:
                        key = SOURCES[name][2]
                        cursor.execute(*compiled(delete(T.metadata.tables[name]).where(
                            T.metadata.tables[name].c[key].in_(sorted(keys)))))
                for name, rows in rows_by_table.items():
                    if len(rows):
                        cursor.register("incoming", rows if isinstance(rows, pa.Table)
                                        else _arrow(T.metadata.tables[name], rows))
                        cursor.execute(f"INSERT INTO {name} SELECT * FROM incoming")
                        cursor.unregister("incoming")
                touched[derived.MAIL].update(_values(rows_by_table.get("mail_activities", ()), ACTIVITY_CUSTOMER,
                                                     "customer_id"))
                touched[derived.PURCHASES].update(_values(rows_by_table.get("purchases", ()), PURCHASE_CUSTOMER,
                                                          "customer_id"))
                if replaced.get("mails"):  # whose mails changed family
                    touched[derived.MAIL].update(self._customers_of(cursor, A.customer_id, A.mail_id,
                                                                    replaced["mails"]))
                for kind, customer_ids in touched.items():
                    if customer_ids and derive:
                        self._set_derived(cursor, kind, customer_ids)
        finally:
            cursor.close()

    @staticmethod
    def _computed_of(cursor, customer_ids):
        """{customer id: the row's computed columns, in COMPUTED order} of those the store holds."""
        statement = select(T.customers.c.id, *[column for _n, column in COMPUTED]).where(
            T.customers.c.id.in_(sorted(customer_ids)))
        return {row[0]: row[1:] for row in cursor.execute(*compiled(statement)).fetchall()}

    @staticmethod
    def _customers_of(cursor, customer_id, column, keys):
        return {row[0] for row in cursor.execute(*compiled(
            select(customer_id).where(column.in_(sorted(keys))).distinct())).fetchall()}

    @staticmethod
    def _set_derived(cursor, kind, customer_ids=None):
        """Set the computed customer columns of ``kind`` (``store_derived``) from the rows the store holds, of
        ``customer_ids``, else of everyone: all cleared, then set from one grouping (statements compiled once)."""
        if customer_ids is None:
            for statement in DERIVED[kind][False]:
                cursor.execute(*statement)
            return
        cursor.register("touched", pa.table({"id": pa.array(sorted(customer_ids), type=pa.int64(), memory_pool=ARROW_POOL)}))
        try:
            for statement in DERIVED[kind][True]:
                cursor.execute(*statement)
        finally:
            cursor.unregister("touched")

    def load_company(self, session, company_id, run=None, ordered=True):
        """Read one company's index into a new database of its own, then make it the company's store, written
        again in order (when it holds ORDERED_FROM rows or more) unless ``ordered`` is false (the caller does it
        once it has followed the journal)."""
        run = run or _now
        catalog, generation = run(self._new_catalog, company_id)
        rows, pending, waiting = 0, {}, 0  # a write (one commit) for every CHUNK rows, whatever their tables
        for table in T.metadata.sorted_tables:
            for chunk in _read(session, table.name, company_id):
                pending.setdefault(table.name, []).extend(chunk)
                rows, waiting = rows + len(chunk), waiting + len(chunk)
                if waiting >= CHUNK:
                    run(self._write, catalog, {}, pending, (), False)
                    pending, waiting = {}, 0
        if pending:
            run(self._write, catalog, {}, pending, (), False)
        run(self._set_all_derived, catalog)
        if ordered and _kept_in_order(rows):  # what searches read is the copy in order; the loaded file is never read
            run(self._rewrite, company_id, catalog)
        else:
            self._install(company_id, catalog, generation, rows)

    def _set_all_derived(self, catalog):
        cursor = self._cursor(catalog)
        try:
            with _transaction(cursor):
                for kind in derived.FIGURES:
                    self._set_derived(cursor, kind)
        finally:
            cursor.close()

    def _rewrite(self, company_id, loaded=None):
        """Write a company's database again, in order and without the rows changes took out, as a new generation
        (a file written afresh, as small as its rows), and make it the company's store. ``loaded``: a database just
        loaded, never read by a search, to write from instead of the company's store; it goes at once."""
        source = loaded or self.catalogs[company_id]
        catalog, generation = self._new_catalog(company_id)
        cursor = self._cursor(catalog)
        rows = 0
        try:
            for table in T.metadata.sorted_tables:
                order = ORDERED_BY.get(table.name)
                held = cursor.execute(f"SELECT count(*) FROM {source}.main.{table.name}").fetchone()[0]
                parts = store_ranges.ranges(cursor, source, table, order, held) if order else [("", [])]
                for condition, parameters in parts:
                    cursor.execute(f"INSERT INTO {table.name} SELECT * FROM {source}.main.{table.name}{condition}"
                                   + (f" ORDER BY {', '.join(order)}" if order else ""), parameters)
                    if len(parts) > 1:
                        cursor.execute(f"CHECKPOINT {catalog}")  # the range's rows written out before the next
                copied = cursor.execute(f"SELECT count(*) FROM {table.name}").fetchone()[0]
                if copied != held:  # ranges that missed or repeated rows: the company keeps the database it has
                    raise RuntimeError(f"{table.name} written again with {copied} rows of {held}")
                rows += copied
            cursor.execute(f"CHECKPOINT {catalog}")
        finally:
            cursor.close()
        self._install(company_id, catalog, generation, rows)
        if loaded:  # never read: it goes now
            if loaded not in self.retired:
                self.retired.append(loaded)
            self._detach_retired()

    def load(self, session, run=None):
        """Read the whole index (every company), replacing what the store held. The journal is then followed from
        shortly before its newest entry at the start, so that what changed while loading is read again."""
        started = time.monotonic()
        run = run or _now
        identity = index_identity(session)
        newest = session.scalar(select(func.max(IndexChange.seq))) or 0
        run(self._clear)
        self.identity = None
        self._save_state()  # a load that does not finish (the replica stopped) leaves a store loaded afresh next time
        self.identity = identity
        self.gaps = {}
        loaded = _companies(session)
        for company_id in loaded:
            self.load_company(session, company_id, run, ordered=False)
        self.seq = max(0, newest - FOLLOW_MARGIN)
        self.followed_at = time.time()
        self.follow(session, run)
        for company_id in loaded:  # once what changed meanwhile is in (no search read them: the store is not ready)
            if _kept_in_order(self.written[company_id] + self.added[company_id]):
                run(self._rewrite, company_id, self.catalogs[company_id])
        self._save_state()
        self.ready = True
        log.info("search store loaded in %.1f s: %s", time.monotonic() - started, self.counts())

    def needs_loading(self, session):
        """Does the store not copy this index, or has it followed too long ago for the journal to hold the rest?"""
        return (self.identity != index_identity(session)
                or time.time() - self.followed_at > JOURNAL_KEPT.total_seconds() / 2)

    def follow(self, session, run=None, gap_patience=30.0):
        """Read again what the journal says changed since the last call. Returns the number of changes (keys)
        followed: MAX_ENTRIES or more when the step left some to follow."""
        run = run or _now
        now = time.monotonic()
        self.gaps = {seq: since for seq, since in self.gaps.items() if now - since < gap_patience}
        columns = (IndexChange.seq, IndexChange.kind, IndexChange.key, IndexChange.last_key, IndexChange.company_id)
        entries = session.execute(select(*columns).where(IndexChange.seq > self.seq)
                                  .order_by(IndexChange.seq).limit(MAX_ENTRIES)).all()
        entries, left = _step_of(entries)
        # Every gap is asked for, a chunk at a time: a transaction rolled back leaves as many gaps as it noted
        # changes (a rebuild's page, a thousand), and a change committed late into a gap left unasked would be missed.
        gaps = sorted(self.gaps)
        for start in range(0, len(gaps), 1000):
            entries += session.execute(select(*columns).where(IndexChange.seq.in_(gaps[start:start + 1000]))).all()
        self.followed_at = time.time()
        if not entries:
            rewritten = [company_id for company_id in sorted(self.catalogs)  # what waited for a quiet journal
                         if self._due_for_rewrite(company_id, busy=False)]
            for company_id in rewritten:
                run(self._rewrite, company_id)
            run(self._detach_retired)
            if rewritten or self.followed_at - self.saved_at > STATE_SAVED_EVERY:  # a quiet index is followed too
                self._save_state()
            return 0
        seen = {e.seq for e in entries}
        for seq in seen:
            self.gaps.pop(seq, None)
        newest = max(seen)
        for seq in range(self.seq + 1, newest):
            if seq not in seen:
                self.gaps.setdefault(seq, now)
        by_company, changes = {}, 0
        for entry in entries:
            keys = _keys_of(entry)
            changes += len(keys)
            if entry.company_id is not None:
                by_company.setdefault(entry.company_id, {}).setdefault(entry.kind, set()).update(keys)
        for company_id, keys in sorted(by_company.items()):
            if "reset" in keys or company_id not in self.catalogs:
                self.load_company(session, company_id, run)  # a rebuild, or a company new to the store
            else:
                self._follow_company(session, company_id, keys, run, busy=changes >= BUSY_ENTRIES)
        self.seq = max(self.seq, newest)
        run(self._detach_retired)
        self._save_state()
        return max(changes, MAX_ENTRIES) if left else changes

    def _due_for_rewrite(self, company_id, busy):
        """Has the company's database grown enough since it was written in order to be written again
        (REWRITTEN_AFTER; in a busy step, REWRITTEN_WHILE_BUSY)?"""
        share, least = REWRITTEN_AFTER
        added, written = self.added.get(company_id, 0), self.written.get(company_id, 0)
        if busy:
            share = max(share, REWRITTEN_WHILE_BUSY)
        return added >= max(least, share * written)

    def _follow_company(self, session, company_id, keys, run, busy=False):
        replaced, rows = {}, {}
        for kind, tables in TABLES_OF_KIND.items():
            for table in tables:
                if keys.get(kind):
                    replaced.setdefault(table, set()).update(keys[kind])
        for table, table_keys in replaced.items():
            rows[table] = (_read_columns(session, table, company_id, table_keys) if table in AS_READ else
                           [row for chunk in _read(session, table, company_id, table_keys) for row in chunk])
        run(self._write, self.catalogs[company_id], replaced, rows, replaced.get("customers", ()))
        self.added[company_id] = self.added.get(company_id, 0) + sum(len(r) for r in rows.values())
        if self._due_for_rewrite(company_id, busy):
            run(self._rewrite, company_id)


def _keys_of(entry):
    """The keys a journal entry stands for: its key, or the run from it to its last key."""
    return (entry.key,) if entry.last_key is None else range(entry.key, entry.last_key + 1)


def _step_of(entries):
    """The first of the entries (in journal order) whose keys make up to MAX_ENTRIES changes (one at least), and
    whether any entries are left for the next step (those, or more than were read)."""
    changes = 0
    for taken, entry in enumerate(entries):
        changes += len(_keys_of(entry))
        if changes > MAX_ENTRIES and taken:
            return entries[:taken], True
    return entries, len(entries) >= MAX_ENTRIES


def _kept_in_order(rows):
    """Is a company's database of ``rows`` rows worth writing again in order (ORDERED_FROM)?"""
    return rows >= ORDERED_FROM


@contextlib.contextmanager
def _transaction(cursor):
    """The block's statements on ``cursor`` committed together, or rolled back."""
    cursor.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        cursor.execute("ROLLBACK")
        raise
    cursor.execute("COMMIT")


def _held(cursor, name, keys):
    """The keys among ``keys`` the table may hold: none above the greatest it holds. A step of new entities (an
    import's) then takes nothing out and looks for no row of theirs, where each such look scanned the table."""
    if not keys:
        return keys
    greatest = cursor.execute(f"SELECT max({SOURCES[name][2]}) FROM {name}").fetchall()[0][0]
    return set() if greatest is None else {key for key in keys if key <= greatest}


def _with_computed(row, kept):
    """A customer row read from the index with the computed columns its replaced row had (as read, when none)."""
    values = kept.get(row[CUSTOMER_ID])
    if values is None:
        return row
    row = list(row)
    for (n, _column), value in zip(COMPUTED, values):
        row[n] = value
    return row


def _now(function, *arguments):
    return function(*arguments)


def prune_journal(session):
    """Forget journal entries older than the journal is kept."""
    session.execute(delete(IndexChange).where(IndexChange.changed_at < dt.datetime.now(dt.timezone.utc)
                                              - JOURNAL_KEPT))
    session.commit()
