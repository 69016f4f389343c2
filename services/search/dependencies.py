"""The replica's in-memory columns as a Nameko dependency: loaded in the background when the replica starts, then
kept fresh by following the index's change journal. Until they are loaded, searches are answered by SQL."""
import datetime as dt
import logging
import time

import eventlet
from nameko.extensions import DependencyProvider
from sqlalchemy import delete
from sqlalchemy.orm import sessionmaker

from services.common.db import make_engine
from services.common.outages import first_line, unavailable

from .columns import ColumnStore
from .models import IndexChange

log = logging.getLogger(__name__)

JOURNAL_KEPT = dt.timedelta(hours=1)


class Follower:
    """Loads a ColumnStore and follows the journal; ``store`` is None while (re)loading."""

    def __init__(self, session_factory, poll_seconds=0.1, prune_seconds=300.0):
        self.session_factory = session_factory
        self.poll_seconds = poll_seconds
        self.prune_seconds = prune_seconds
        self.store = None
        self.running = True
        self.loaded_at = None
        self._pruned_at = 0.0

    def step(self):
        """One round: load when needed, else follow the journal. Returns the number of journal entries followed."""
        if self.store is None or time.monotonic() - self.store.followed_at > JOURNAL_KEPT.total_seconds() / 2:
            self.store = None
            store = ColumnStore()
            with self.session_factory() as session:
                store.load(session)
            self.store, self.loaded_at = store, time.time()
            return 0
        with self.session_factory() as session:
            followed = self.store.follow(session)
        if followed is None:  # a company was rebuilt: read everything again
            self.store = None
            return 0
        self._prune()
        return followed

    def _prune(self):
        if time.monotonic() - self._pruned_at < self.prune_seconds:
            return
        self._pruned_at = time.monotonic()
        with self.session_factory() as session:
            session.execute(delete(IndexChange).where(
                IndexChange.changed_at < dt.datetime.now(dt.timezone.utc) - JOURNAL_KEPT))
            session.commit()

    def run(self):
        while self.running:
            try:
                followed = self.step()
            except Exception as exc:  # the database may be away for a while: keep trying
                if unavailable(exc):
                    log.warning("following the index journal: database unavailable (%s)", first_line(exc))
                else:
                    log.exception("following the index journal failed")
                eventlet.sleep(1.0)
                continue
            if not followed:
                eventlet.sleep(self.poll_seconds)
            else:
                eventlet.sleep(0)

    def report(self):
        store = self.store
        if store is None:
            return {"state": "loading"}
        return {"state": "ready", "customers": int(store.customers.size), "purchases": int(store.purchases.size),
                "mail_activities": int(store.activities.size), "journal_seq": int(store.seq)}


class SearchColumns(DependencyProvider):
    def setup(self):
        config = self.container.config
        self.engine = make_engine(config["DATABASE_URL"])
        self.follower = Follower(sessionmaker(self.engine),
                                 poll_seconds=float(config.get("SEARCH_COLUMNS_POLL_SECONDS", 0.1)))
        self.enabled = str(config.get("SEARCH_COLUMNS", "on")).lower() not in ("off", "0", "false", "no")

    def start(self):
        if self.enabled:
            self.container.spawn_managed_thread(self.follower.run, identifier="search_columns")

    def stop(self):
        self.follower.running = False
        self.engine.dispose()

    def kill(self):
        self.follower.running = False

    def get_dependency(self, worker_ctx):
        return self.follower
