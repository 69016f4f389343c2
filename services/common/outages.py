"""Database errors that mean "not now": the database refused or lost the connection, ran out of connections, or
gave up on a lock or a serialisation conflict. A request meeting one is answered with ``Unavailable`` (the gateway's
503 page) and a background loop logs a warning and tries again; neither is a fault of the request or of the code."""
import contextlib
import logging

from sqlalchemy.exc import DBAPIError, OperationalError

from .errors import Unavailable

log = logging.getLogger(__name__)


def unavailable(exc):
    """Whether ``exc`` is a database error that means "not now"."""
    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


def first_line(exc):
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


@contextlib.contextmanager
def database_errors():
    """Turn a "not now" database error raised inside into ``Unavailable``."""
    try:
        yield
    except DBAPIError as exc:
        if not unavailable(exc):
            raise
        log.warning("database unavailable: %s", first_line(exc))
        raise Unavailable("database unavailable") from exc
