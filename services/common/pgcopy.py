"""Bulk loading into PostgreSQL: rows streamed with COPY in chunks, and secondary indexes built after the load.

``insert_rows`` inserts one batch of new rows with a single COPY on PostgreSQL (a multi-row INSERT elsewhere): a
batch write's lines cost the writer no statement to build and the database none to parse. In a service, psycopg2
waits through eventlet (psycogreen's wait callback), and refuses COPY while that callback is set: it is taken off for
the COPY, which holds the process's loop for the few milliseconds a batch takes, as computing does; a lock the COPY
would wait for (a key of a table it references, held by a transaction that needs the loop to end) ends it after
``LOCK_WAIT`` instead of holding the process.

``upsert_rows`` does the same for an ``INSERT … ON CONFLICT``: the rows are copied into a temporary table of the
same columns (one per table and connection, emptied by the statement that reads it and at commit) and inserted
from it in one statement.

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
from eventlet.patcher import original
from psycopg2 import extensions
from sqlalchemy import UniqueConstraint, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError

LOCK_WAIT = "5s"
NULL = "\\N"
_PLACEHOLDER = "\x00"  # stands for NULL while a chunk is built; PostgreSQL text never holds it
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_count_none = operator.methodcaller("count", None)
_threading = original("threading")  # a lock that holds across OS threads whether or not eventlet patched them


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
    fill; a default the model computes, as a moment, is computed once here for all the rows). A default that is
    an SQL expression is refused: COPY cannot compute it."""
    unknown = set(row) - set(table.columns.keys())
    if unknown:
        raise ValueError(f"{table.name} has no column {sorted(unknown)}")
    left = [column for column in table.columns if column.name not in row and column.default is not None]
    expressions = [column.name for column in left if not (column.default.is_scalar or column.default.is_callable)]
    if expressions:
        raise ValueError(f"{table.name}: give {expressions} (their defaults are SQL expressions)")
    present = [column.name for column in table.columns if column.name in row]
    defaults = {column.name: column.default.arg if column.default.is_scalar else column.default.arg(None)
                for column in left}
    get, fill = operator.itemgetter(*present), tuple(defaults.values())
    if len(present) == 1:
        return present + list(defaults), lambda r: (get(r),) + fill
    return present + list(defaults), ((lambda r: get(r) + fill) if fill else get)


def upsert_rows(connection, table, rows, keys, update=(), returning=(), order_by=()):
    """``INSERT`` the rows (dicts with the same keys) ``ON CONFLICT (keys)``: ``DO NOTHING``, or with ``update`` ``DO
    UPDATE SET`` those columns to the row's; returns the ``returning`` columns of the rows it inserted or updated, as
    tuples. The rows go in in the order of ``order_by`` (writers that insert the same keys then lock them in one
    order). On PostgreSQL staged with COPY (above); elsewhere a multi-row INSERT."""
    if not rows:
        return []
    if connection.dialect.name != "postgresql":
        if order_by:
            rows = sorted(rows, key=operator.itemgetter(*order_by))
        return _upsert_statement_rows(connection, table, rows, keys, update, returning)
    columns, read = copy_shape(table, rows[0])
    name = connection.dialect.identifier_preparer.quote
    target, staged = name(table.name), name(f"staged_{table.name}")
    listed = ", ".join(map(name, columns))
    connection.exec_driver_sql(f"CREATE TEMPORARY TABLE IF NOT EXISTS {staged} ON COMMIT DELETE ROWS AS "
                               f"SELECT * FROM {target} WITH NO DATA")
    data = text_format([read(row) for row in rows], len(columns)).encode()
    _copy(connection, f"COPY {staged} ({listed}) FROM STDIN", data, lock_wait=False)  # its own table: no lock
    action = ("DO UPDATE SET " + ", ".join(f"{name(column)} = EXCLUDED.{name(column)}" for column in update)
              if update else "DO NOTHING")
    statement = (f"WITH moved AS (DELETE FROM {staged} RETURNING {listed}) "
                 f"INSERT INTO {target} ({listed}) SELECT {listed} FROM moved"
                 + (f" ORDER BY {', '.join(map(name, order_by))}" if order_by else "")
                 + f" ON CONFLICT ({', '.join(map(name, keys))}) {action}"
                 + (f" RETURNING {', '.join(map(name, returning))}" if returning else ""))
    result = connection.exec_driver_sql(statement)
    return [tuple(row) for row in result] if returning else []


_TAKEN = ("23505", "55P03")  # unique_violation; lock_not_available (a key another transaction holds past LOCK_WAIT)


def insert_new_rows(connection, table, rows, order_by=()):
    """Insert rows (dicts with the same keys, no id) expected to be new under the table's unique keys, as
    ``upsert_rows`` would with ``DO NOTHING`` but without staging them or reading them back: their ids drawn from
    the table's sequence first, then one COPY (in the order of ``order_by``) under a savepoint. Returns the ids in
    the rows' order, or None when a key is stored already (or held by another transaction past LOCK_WAIT): then
    nothing is written and the ids drawn are never used. PostgreSQL only (elsewhere: None, nothing done)."""
    if not rows or connection.dialect.name != "postgresql":
        return None
    (key,) = table.primary_key.columns
    order = _order(rows, order_by)
    # The sequence named once (a sub-select, evaluated once): named in each row's nextval, it cost four times the draw.
    drawn = [drawn_id for drawn_id, in connection.exec_driver_sql(
        "SELECT nextval((SELECT pg_get_serial_sequence(%(table)s, %(column)s))::regclass) "
        "FROM generate_series(1, %(count)s)", {"table": table.name, "column": key.name, "count": len(rows)})]
    ids = [None] * len(rows)
    for position, drawn_id in zip(order, drawn):
        ids[position] = drawn_id
    columns, read = copy_shape(table, rows[0])
    values = [(ids[i],) + read(rows[i]) for i in order]
    return ids if _copied_new(connection, table, [key.name] + columns, values) else None


def insert_new_keys(connection, table, rows, order_by=()):
    """Insert rows (dicts with the same keys, their table's keys given) expected to be new, as ``upsert_rows`` would
    with ``DO NOTHING`` but without staging them or reading them back: one COPY (in the order of ``order_by``) under
    a savepoint. Returns True, or False when a key is stored already (or held by another transaction past
    LOCK_WAIT): then nothing is written. PostgreSQL only (elsewhere: False, nothing done)."""
    if not rows or connection.dialect.name != "postgresql":
        return False
    columns, read = copy_shape(table, rows[0])
    return _copied_new(connection, table, columns, [read(rows[i]) for i in _order(rows, order_by)])


def _order(rows, order_by):
    """The positions of ``rows`` in the order of their ``order_by`` values (as given when none)."""
    if not order_by:
        return range(len(rows))
    values = list(map(operator.itemgetter(*order_by), rows))
    return sorted(range(len(rows)), key=values.__getitem__)


def _copied_new(connection, table, columns, values):
    """COPY the ``values`` (tuples of ``columns``) under a savepoint: False, and nothing written, when a key is
    taken."""
    data = text_format(values, len(columns)).encode()
    name = connection.dialect.identifier_preparer.quote
    savepoint = connection.begin_nested()
    try:
        _copy(connection, f"COPY {name(table.name)} ({', '.join(map(name, columns))}) FROM STDIN", data,
              lock_wait=True)
    except DBAPIError as failure:
        savepoint.rollback()
        if getattr(failure.orig, "pgcode", None) in _TAKEN:
            return False
        raise
    savepoint.commit()
    return True


def _upsert_statement_rows(connection, table, rows, keys, update, returning):
    """``upsert_rows`` where there is no COPY (SQLite): one multi-row INSERT … ON CONFLICT."""
    statement = sqlite.insert(table)
    if update:
        statement = statement.on_conflict_do_update(index_elements=list(keys),
                                                    set_={column: statement.excluded[column] for column in update})
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(keys))
    # RETURNING keeps it one multi-row statement: without it SQLAlchemy sends an upsert row by row (its #13130)
    answer = connection.execute(statement.returning(*[table.c[name] for name in (returning or keys)]), rows).all()
    return [tuple(row) for row in answer] if returning else []


def insert_rows(connection, table, rows):
    """Insert ``rows`` (dicts with the same keys) into ``table`` in the connection's transaction: one COPY on
    PostgreSQL, a multi-row INSERT elsewhere. ``connection``: a SQLAlchemy Connection (``session.connection()``)."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(table.insert(), rows)
        return
    columns, read = copy_shape(table, rows[0])
    _copy_in(connection, table, columns, [read(row) for row in rows])


def insert_values(connection, table, columns, values):
    """``insert_rows`` of rows given as tuples of ``columns`` (every column without a default among them): no dict
    to make for each of a batch's thousands of order lines."""
    if not values:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(table.insert(), [dict(zip(columns, row)) for row in values])
        return
    _copy_in(connection, table, columns, values)


def _copy_in(connection, table, columns, values):
    data = text_format(values, len(columns)).encode()
    name = connection.dialect.identifier_preparer.quote
    _copy(connection, f"COPY {name(table.name)} ({', '.join(map(name, columns))}) FROM STDIN", data,
          lock_wait=_may_wait(table))


def _may_wait(table):
    """Whether inserting into ``table`` may wait for another transaction's lock: a key of another table to check, or
    a unique key another transaction may be inserting too (a generated primary key never is)."""
    generated = len(table.primary_key.columns) == 1 and table.autoincrement_column is not None
    unique = any(index.unique for index in table.indexes) or any(
        isinstance(constraint, UniqueConstraint) for constraint in table.constraints)
    return bool(table.foreign_keys) or unique or not generated


def copy_out(connection, query):
    """The rows of ``query`` (SQL text, no parameters) in COPY's CSV format (a memoryview of the bytes): a reader that
    hands rows on as they are (to Arrow, say) without a Python object a value. ``connection``: a SQLAlchemy
    Connection."""
    statement = f"COPY ({query}) TO STDOUT WITH (FORMAT csv)"
    out = io.BytesIO()
    with connection.connection.driver_connection.cursor() as cursor:
        try:
            with _without_wait_callback(cursor, lock_wait=False):
                cursor.copy_expert(statement, out)
        except psycopg2.Error as exc:
            raise DBAPIError.instance(statement, None, exc, psycopg2.Error) from exc
    return out.getbuffer()  # no copy of what may be megabytes


def _copy(connection, statement, data, lock_wait):
    """``lock_wait``: the table has keys of other tables to check, whose locks the COPY may wait for."""
    with connection.connection.driver_connection.cursor() as cursor:
        try:
            with _without_wait_callback(cursor, lock_wait):
                cursor.copy_expert(statement, io.BytesIO(data), size=len(data))
        except psycopg2.Error as exc:  # as SQLAlchemy raises the driver's errors of its statements
            raise DBAPIError.instance(statement, None, exc, psycopg2.Error) from exc


_TAKING_CALLBACK_OFF = _threading.Lock()
"""The wait callback is one for the whole process, and a search replica copies from a thread of its own while the
service's loop copies too: one at a time takes it off and puts it back, so that neither puts back the None the other
left (every query of the process would then hold the loop)."""


@contextlib.contextmanager
def _without_wait_callback(cursor, lock_wait):
    if extensions.get_wait_callback() is None and not _TAKING_CALLBACK_OFF.locked():
        yield  # no loop to wait through (a command, a test)
        return
    if lock_wait:
        cursor.execute("SELECT current_setting('lock_timeout'), set_config('lock_timeout', %s, true)", (LOCK_WAIT,))
        before = cursor.fetchone()[0]
    with _TAKING_CALLBACK_OFF:
        callback = extensions.get_wait_callback()
        extensions.set_wait_callback(None)
        try:
            yield
        finally:
            extensions.set_wait_callback(callback)
    if lock_wait:
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
