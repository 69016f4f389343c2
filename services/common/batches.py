"""Batches where each record stands alone: a bad record changes nothing and is reported by its index."""
from . import arguments
from .errors import ValidationFailed

MAX_RECORDS = 10_000
"""The most records one batch call takes (carts send hundreds, the mail system thousands)."""


def apply_each(session, records, apply, path="records"):
    """Call ``apply(record)`` for each record inside its own savepoint.

    Returns ``(applied, errors)``: ``applied`` a list of ``(index, result)``, ``errors`` a list of
    ``{"index": i, "fields": {...}}`` for the records refused with ValidationFailed (their changes rolled back).
    """
    applied, errors = [], []
    for index, record in enumerate(arguments.sequence(records, path, MAX_RECORDS)):
        try:
            arguments.clean(record, "")
            with session.begin_nested():
                applied.append((index, apply(record)))
        except ValidationFailed as failure:
            errors.append({"index": index, "fields": failure.fields})
    return applied, errors
