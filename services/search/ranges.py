"""A range of the condition language ({min, max}, either absent or null) as SQL clauses on an expression, and the
moment a Japan day begins: the one reading of every range and day, for the search conditions and RFM集計 alike. A
range without bounds asks nothing."""
import datetime as dt

from services.common.contracts import JST


def day_start(day):
    """The moment (UTC) the Japan day ``day`` begins."""
    return dt.datetime.combine(day, dt.time(), JST).astimezone(dt.timezone.utc)


def in_range(expression, bounds):
    clauses = []
    if bounds and bounds.get("min") is not None:
        clauses.append(expression >= bounds["min"])
    if bounds and bounds.get("max") is not None:
        clauses.append(expression <= bounds["max"])
    return clauses
