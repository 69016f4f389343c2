"""Planner statistics kept fresh while a service's tables grow.

PostgreSQL plans each statement from the statistics ``ANALYZE`` last took of its tables. An import grows a table
from nothing to millions of rows in minutes; autovacuum analyses a table once a tenth of it has changed, but it may
lag behind, or be switched off on a server: a table never analysed is planned as if any value matched many rows, and a
batch's look-up of a few hundred ids (``IN (...)``) reads the whole table instead of its index. Every batch then costs
more than the one before (on a server without autovacuum, an import of a million order lines spent more time in such
scans than in its writes).

So each service process analyses, every ``interval`` seconds, those of its tables that changed by more than the rows
they held when they were last analysed (by anyone: its own process, another replica, autovacuum), as PostgreSQL counts
it (``pg_stat_user_tables.n_mod_since_analyze``). A table growing from nothing is analysed about once each time it
doubles: the planner scales what it learnt by the table's current size, so plans stay right in between. A table
another session is analysing is skipped (``SKIP_LOCKED``). SQLite needs none of it: its planner prefers an index
without statistics.
"""
import logging
import threading

from sqlalchemy import text

from .outages import first_line, unavailable

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 10.0
LEAST_CHANGES = 1000
"""Changes a table takes before it is analysed at all (a small table is planned well enough without)."""
SHARE = 1.0
"""...and changes as a share of its rows: analysed once it has changed by as many rows as it holds."""

# Rows as of the last analysis (or vacuum): pg_class.reltuples, -1 for a table never analysed.
_GROWN = text("SELECT s.relname FROM pg_stat_user_tables AS s JOIN pg_class AS c ON c.oid = s.relid "
              "WHERE s.schemaname = current_schema() "
              "AND s.n_mod_since_analyze > :least + :share * greatest(c.reltuples, 0) ORDER BY s.relname")


def grown_tables(connection, least=LEAST_CHANGES, share=SHARE):
    """The tables of the connection's schema that changed by more than ``least + share × the rows they held``
    since their last analysis."""
    return list(connection.execute(_GROWN, {"least": least, "share": share}).scalars())


def analyze_grown(engine, least=LEAST_CHANGES, share=SHARE):
    """Analyse the grown tables (PostgreSQL only); returns their names."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as connection:
        names = grown_tables(connection, least, share)
        for name in names:
            connection.execute(text(f'ANALYZE (SKIP_LOCKED) "{name}"'))
        connection.commit()
    if names:
        log.info("analysed the grown tables %s", ", ".join(names))
    return names


class StatisticsKeeper:
    """Runs ``analyze_grown`` every ``interval`` seconds until stopped (a service's managed thread)."""

    def __init__(self, engine, interval=INTERVAL_SECONDS):
        self.engine = engine
        self.interval = interval
        self._stopped = threading.Event()

    def run(self):
        if self.engine.dialect.name != "postgresql":
            return
        while not self._stopped.wait(self.interval):
            try:
                analyze_grown(self.engine)
            except Exception as exc:  # the next round tries again
                if unavailable(exc):
                    log.warning("table statistics: database unavailable (%s); will retry", first_line(exc))
                else:
                    log.exception("table statistics: analysing the grown tables failed; will retry")

    def stop(self):
        self._stopped.set()
