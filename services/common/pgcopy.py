"""Bulk loading into PostgreSQL: rows streamed with COPY in chunks, and secondary indexes built after the load.

``insert_rows`` inserts one batch of new rows with a single COPY on PostgreSQL (a multi-row INSERT elsewhere): a
batch write's lines cost the writer no statement to build and the database none to parse. In a service, psycopg2
waits through eventlet (psycogreen's wait callback), and refuses COPY while that callback is set: it is taken off for
the COPY, which holds the process's loop for the few milliseconds a batch takes, as computing does; a lock the COPY
would wait for (a key of a table it references, held by a transaction that needs the loop to end) ends it after
``LOCK_WAIT`` instead of holding the process.

``CopyStream`` formats rows in COPY's text format in the caller's thread and hands each chunk to a thread of its own
that sends it over the connection, so that the caller prepares the next chunk while PostgreSQL takes the last one
(the driver releases the GIL while it sends). Only a few chunks wait at any time: memory stays bounded whatever the
size of the load.
"""
import contextlib
import io
import operator
import queue
import threading
import time

import psycopg2
from psycopg2 import extensions
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

LOCK_WAIT = "5s"
NULL = "\\N"
_PLACEHOLDER = "\x00"  # stands for NULL while a chunk is built; PostgreSQL text never holds it
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_count_none = operator.methodcaller("count", None)


def _escaped(value):
    if value is None:
        return NULL
    return (value if value.__class__ is str else str(value)).translate(_ESCAPES)


def text_format(rows, width):
    """Rows (sequences of ``width`` values: None, str, or anything whose str() PostgreSQL reads, as numbers, booleans,
    dates and aware datetimes) in COPY's text format."""
    lines = ["\t".join([v if v.__class__ is str else _PLACEHOLDER if v is None else str(v) for v in row])
             for row in rows]
    block = "\n".join(lines) + "\n"
    nulls = sum(map(_count_none, rows)) if _PLACEHOLDER in block else 0
    if ("\\" in block or "\r" in block or block.count("\n") != len(lines)
            or block.count("\t") != len(lines) * (width - 1) or block.count(_PLACEHOLDER) != nulls):
        # a value holds a backslash, tab, newline or carriage return: escape value by value
        return "".join("\t".join([_escaped(v) for v in row]) + "\n" for row in rows)
    return block.replace(_PLACEHOLDER, NULL) if nulls else block


def copy_shape(table, row):
    """The columns a COPY of rows shaped like ``row`` (a dict) fills, and how to read a row's values in their order:
    the row's own, then those of the columns it leaves out that have a default in the model (what an insert would
    fill). A column left out whose default the model computes (a callable) is refused: COPY would leave it empty."""
    unknown = set(row) - set(table.columns.keys())
    if unknown:
        raise ValueError(f"{table.name} has no column {sorted(unknown)}")
    computed = [column.name for column in table.columns
                if column.name not in row and column.default is not None and not column.default.is_scalar]
    if computed:
        raise ValueError(f"{table.name}: give {computed} (their defaults are computed)")
    present = [column.name for column in table.columns if column.name in row]
    defaults = {column.name: column.default.arg for column in table.columns
                if column.name not in row and column.default is not None}
    get, fill = operator.itemgetter(*present), tuple(defaults.values())
    if len(present) == 1:
        return present + list(defaults), lambda r: (get(r),) + fill
    return present + list(defaults), ((lambda r: get(r) + fill) if fill else get)


def insert_rows(connection, table, rows):
    """Insert ``rows`` (dicts with the same keys) into ``table`` in the connection's transaction: one COPY on
    PostgreSQL, a multi-row INSERT elsewhere. ``connection``: a SQLAlchemy Connection (``session.connection()``)."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(table.insert(), rows)
        return
    columns, read = copy_shape(table, rows[0])
    data = text_format([read(row) for row in rows], len(columns)).encode()
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    with connection.connection.driver_connection.cursor() as cursor:
        try:
            with _without_wait_callback(cursor):
                cursor.copy_expert(statement, io.BytesIO(data), size=len(data))
        except psycopg2.Error as exc:  # as SQLAlchemy raises the driver's errors of its statements
            raise DBAPIError.instance(statement, None, exc, psycopg2.Error) from exc


@contextlib.contextmanager
def _without_wait_callback(cursor):
    callback = extensions.get_wait_callback()
    if callback is None:
        yield
        return
    cursor.execute("SELECT current_setting('lock_timeout'), set_config('lock_timeout', %s, true)", (LOCK_WAIT,))
    before = cursor.fetchone()[0]
    extensions.set_wait_callback(None)
    try:
        yield
    finally:
        extensions.set_wait_callback(callback)
    cursor.execute("SELECT set_config('lock_timeout', %s, true)", (before,))


class CopyStream:
    """COPY into tables over one psycopg2 connection (in its current transaction), from a background thread.

        with CopyStream(dbapi_connection) as stream:
            stream.write("table", ("a", "b"), [(1, "x"), (2, None)])

    Leaving the block waits until every chunk is in and raises the first error the database reported; on an error
    in the block, what is still queued is discarded (the caller rolls the transaction back).
    ``rows`` and ``seconds`` tell, per table, how many rows were copied and how long the database took them.
    """

    def __init__(self, dbapi_connection, queued=3):
        self.connection = dbapi_connection
        self.rows, self.seconds = {}, {}
        self._queue = queue.Queue(queued)
        self._error = None
        self._thread = threading.Thread(target=self._run, name="copy-stream", daemon=True)
        self._thread.start()

    def write(self, table, columns, rows):
        """Queue rows (a list of sequences in the order of ``columns``) for one COPY into ``table``."""
        if self._error is not None:
            raise self._error
        if rows:
            data = text_format(rows, len(columns)).encode()
            self._queue.put((f"COPY {table} ({', '.join(columns)}) FROM STDIN", table, len(rows), data))

    def _run(self):
        cursor = self.connection.cursor()
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                if self._error is not None:
                    continue  # drain: the stream failed or is being abandoned
                statement, table, count, data = item
                started = time.perf_counter()
                try:
                    cursor.copy_expert(statement, io.BytesIO(data), size=len(data))
                except BaseException as exc:  # reported to the writer
                    self._error = exc
                    continue
                self.seconds[table] = self.seconds.get(table, 0.0) + time.perf_counter() - started
                self.rows[table] = self.rows.get(table, 0) + count
        finally:
            cursor.close()

    def close(self):
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abandon(self):
        self._error = self._error or RuntimeError("the copy stream was abandoned")
        self._queue.put(None)
        self._thread.join()

    def __enter__(self):
        return self

    def __exit__(self, kind, _value, _traceback):
        if kind is None:
            self.close()
        else:
            self.abandon()


def secondary_indexes(connection, tables):
    """[(table, index, CREATE INDEX statement)] of the tables' indexes that back no constraint (primary keys and
    unique constraints are not among them), as the database defines them."""
    return [tuple(row) for row in connection.execute(text(
        "SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
        "FROM pg_index i WHERE i.indrelid = ANY(CAST(:tables AS regclass[])) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1, 2"),
        {"tables": list(tables)})]


def drop_indexes(connection, indexes):
    for _table, name, _definition in indexes:
        connection.execute(text(f"DROP INDEX {name}"))


def create_indexes(connection, indexes, seconds=None):
    """Create the indexes (as ``secondary_indexes`` listed them); ``seconds``, a dict, receives the time per table."""
    for table, _name, definition in indexes:
        started = time.perf_counter()
        connection.execute(text(definition))
        if seconds is not None:
            seconds[table] = seconds.get(table, 0.0) + time.perf_counter() - started
