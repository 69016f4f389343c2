"""購入者数: the distinct customers of a report's rows per value of its keys (a day or month, a shop, a media …) and
over the whole — a customer who bought in two groups counts once in each and once in the whole.

Counting distinct customers per group groups the rows by (group, customer): at ten million customers, a year's 12
million purchases make as many groups. When each key has at most MASK_BITS values, one grouping by customer marks
the values each bought in as bits of a BIGINT, and the bits are counted: about half the time. With more values (a
daily report over a year), distinct counts.
"""
from sqlalchemy import BigInteger, case, func, literal, select, tuple_

MASK_BITS = 63  # the values a BIGINT bit mask marks (bits 0 to 62)


def distinct_customers(reading, rows, keys):
    """{name: {value: customers}} for each key of ``keys`` ({name: (column of ``rows``, its values)}) and, under
    None, the whole's number. ``rows``: a subquery with ``customer_id``; ``values``: the key's values among the rows
    (another value counts in none; None stands for NULL)."""
    if not any(values for _column, values in keys.values()):  # no rows
        return {None: 0, **{name: {} for name in keys}}
    if any(len(values) > MASK_BITS for _column, values in keys.values()):
        return _distinct_counts(reading, rows, keys)
    masks = (select(*[func.bit_or(_bit(_position(column, values))).label(name)
                      for name, (column, values) in keys.items()])
             .add_columns(rows.c.customer_id).group_by(rows.c.customer_id).subquery())
    counted = [func.count()]
    for name, (_column, values) in keys.items():
        counted += [func.count().filter(masks.c[name].op("&")(1 << n) != 0) for n in range(len(values))]
    whole, *counts = reading.execute(select(*counted))[0]
    found = {None: whole}
    for name, (_column, values) in keys.items():
        found[name], counts = dict(zip(values, counts)), counts[len(values):]
    return found


def _position(column, values):
    """The bit of the value a row has: its place among ``values``."""
    return case(*[(column.is_(None) if value is None else column == value, n) for n, value in enumerate(values)])


def _bit(position):
    """1 shifted left by ``position``, a BIGINT."""
    return literal(1, BigInteger).op("<<")(position)


def _distinct_counts(reading, rows, keys):
    """``distinct_customers`` by distinct counts: one GROUPING SETS, a set per key and the whole."""
    columns = [column for column, _values in keys.values()]
    statement = (select(func.grouping(*columns), *columns, func.count(func.distinct(rows.c.customer_id)))
                 .group_by(func.grouping_sets(*[tuple_(column) for column in columns], tuple_())))
    names = list(keys)
    found = {name: {} for name in names}
    everything = 2 ** len(names) - 1  # GROUPING: a bit per column not grouped by (the first the highest)
    for grouping, *values, customers in reading.execute(statement):
        if grouping == everything:
            found[None] = customers
            continue
        at = next(n for n in range(len(names)) if not grouping & (1 << (len(names) - 1 - n)))
        found[names[at]][values[at]] = customers
    found.setdefault(None, 0)
    return found
