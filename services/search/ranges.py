"""A range of the condition language ({min, max}, either absent or null) as SQL clauses on an expression, the
moment a Japan day begins and ends, and the Japan day of a moment in SQL: the one reading of every range and day, for
the search conditions, RFM集計 and the reports alike. A range without bounds asks nothing."""
import datetime as dt

from sqlalchemy import Integer, cast, func

from services.common.contracts import JST

EPOCH = dt.date(1970, 1, 1)
SECONDS_A_DAY = 86_400
JST_OFFSET_SECONDS = 9 * 3600


def day_start(day):
    """The moment (UTC) the Japan day ``day`` begins."""
    return dt.datetime.combine(day, dt.time(), JST).astimezone(dt.timezone.utc)


def day_end(day):
    """The moment (UTC) the Japan day after ``day`` begins: what was bought on or before ``day`` is before it."""
    return day_start(day + dt.timedelta(days=1))


def day_number(moment):
    """The Japan day of a moment (a SQL expression) as days since 1970-01-01 (no time zone data needed: Japan is UTC+9
    all year)."""
    return cast(func.floor((func.epoch(moment) + JST_OFFSET_SECONDS) / SECONDS_A_DAY), Integer)


def in_range(expression, bounds):
    clauses = []
    if bounds and bounds.get("min") is not None:
        clauses.append(expression >= bounds["min"])
    if bounds and bounds.get("max") is not None:
        clauses.append(expression <= bounds["max"])
    return clauses
