"""A store table written again in order, a range of its leading order column at a time.

``IndexStore._rewrite`` copies a company's tables into a new database in order (``ORDER BY`` the table's
``ORDERED_BY`` columns). Copied in one statement, a large table's new rows stay in memory, uncompressed, until the
statement commits and the database is checkpointed: two million order lines held the replica about 170 MB above what
it holds otherwise, its peak in an import (docs/performance.md). A table of more than ``ROWS_AT_A_TIME`` rows is
copied instead in ranges of its leading column, each range in order and checkpointed before the next: the ranges
follow one another in that column's order, so the rows end in the same order as one statement leaves them, and at most
a range's rows are held at a time. The range bounds are taken from a sample of the column (a range may then hold a
little more or less than ``ROWS_AT_A_TIME``); rows whose leading value is NULL come last, as ``ORDER BY`` puts them.
"""
from sqlalchemy import DateTime, Enum, Integer, String

ROWS_AT_A_TIME = 250_000
SAMPLED = 10_000


def _ranged(column_type):
    """Is a comparison of the column with a bound in the order ``ORDER BY`` gives? Not for an ENUM, which sorts by its
    catalogue's order where a bound would be compared as text."""
    return isinstance(column_type, (String, DateTime, Integer)) and not isinstance(column_type, Enum)


def ranges(cursor, source, table, order, rows):
    """The conditions (SQL, parameters) that split ``table`` of the database ``source`` into ranges of its leading
    order column, in that column's order: [("", [])] (the whole table) when it holds ``ROWS_AT_A_TIME`` rows or fewer
    or cannot be split by value."""
    column = table.c[order[0]]
    parts = -(-rows // ROWS_AT_A_TIME)
    if parts <= 1 or not _ranged(column.type):
        return [("", [])]
    name = column.name
    sample = [value for (value,) in cursor.execute(  # ordered by DuckDB, as the ranges will be compared
        f"SELECT {name} FROM (SELECT {name} FROM {source}.main.{table.name} USING SAMPLE reservoir({SAMPLED} ROWS) "
        f"REPEATABLE (7)) WHERE {name} IS NOT NULL ORDER BY {name}").fetchall()]
    bounds = list(dict.fromkeys(sample[len(sample) * n // parts] for n in range(1, parts)))
    if not bounds:
        return [("", [])]
    conditions = [(f" WHERE {name} < ?", [bounds[0]])]
    conditions += [(f" WHERE {name} >= ? AND {name} < ?", [low, high]) for low, high in zip(bounds, bounds[1:])]
    conditions += [(f" WHERE {name} >= ?", [bounds[-1]]), (f" WHERE {name} IS NULL", [])]
    return conditions
