"""The replica's store as a Nameko dependency: opened (or loaded) in the background when the replica starts, then
kept fresh by following the index's change journal. DuckDB holds the thread it runs on for a whole query, so every
call into it runs in eventlet's pool of native threads (``tpool``): the service's green threads (heartbeats, other
requests, the event handlers) go on meanwhile, and DuckDB runs its queries in threads of its own. A replica told to
stop lets the DuckDB call under way end (DuckDB refuses to close a connection in use), starts no other (a load stops
between two chunks: its files are removed when the store opens next), then closes the store."""
import logging
import time

import eventlet
from eventlet import tpool
from eventlet.event import Event
from nameko.extensions import DependencyProvider
from sqlalchemy.orm import sessionmaker

from services.common import allocator
from services.common.config import search_store_dir
from services.common.db import make_engine
from services.common.errors import Unavailable
from services.common.outages import first_line, unavailable

from .store import BUSY_ENTRIES, MAX_ENTRIES, IndexStore, prune_journal

log = logging.getLogger(__name__)
BUSY_SECONDS = 1.0


class StoreKeeper:
    """Keeps a replica's IndexStore: ``run`` opens it, loads it when needed and follows the journal; ``execute``
    answers a statement once it is ready."""

    def __init__(self, session_factory, directory, poll_seconds=0.1, prune_seconds=300.0, threads=None,
                 memory_limit=None):
        self.session_factory = session_factory
        self.directory = directory
        self.poll_seconds = poll_seconds
        self.prune_seconds = prune_seconds
        self.settings = {"threads": threads, "memory_limit": memory_limit}
        self.store = None
        self.state = "opening"
        self.running = True
        self.loaded_at = None
        self._pruned_at = 0.0
        self._finished = None  # an Event while ``run`` goes on: sent when it has returned

    def _native(self, function, *arguments, **options):
        """A call into the store, in a native thread; none once the replica is stopping."""
        if not self.running:
            raise Stopping()
        return tpool.execute(function, *arguments, **options)

    def execute(self, company_id, statement):
        store = self.store
        if store is None or not store.ready:
            raise Unavailable("search_store_loading")
        return tpool.execute(store.execute, company_id, statement)

    def step(self):
        """One round: open or load when needed, else follow the journal. Returns the journal entries followed."""
        if self.store is None:
            self.store = self._native(IndexStore.open, self.directory, **self.settings)
        with self.session_factory() as session:
            if not self.store.ready and not self.store.needs_loading(session):
                self.store.follow(session, self._native)  # what changed while the replica was stopped
                self.store.ready, self.state, self.loaded_at = True, "ready", time.time()
                log.info("search store opened from %s", self.store.directory)
                return 0
            if self.store.needs_loading(session):
                self.store.ready, self.state = False, "loading"
                self.store.load(session, self._native)
                self.state, self.loaded_at = "ready", time.time()
                return 0
            followed = self.store.follow(session, self._native)
        if followed:  # what the step's rows took, freed, handed back (allocator.trim)
            self._native(allocator.trim)
        self._prune()
        return followed

    def _prune(self):
        if time.monotonic() - self._pruned_at < self.prune_seconds:
            return
        self._pruned_at = time.monotonic()
        with self.session_factory() as session:
            prune_journal(session)

    def run(self):
        self._finished = Event()
        try:
            while self.running:
                try:
                    followed = self.step()
                except Stopping:
                    break
                except Exception as exc:  # the database may be away for a while: keep trying
                    if unavailable(exc):
                        log.warning("following the index journal: database unavailable (%s)", first_line(exc))
                    else:
                        log.exception("following the index journal failed")
                    eventlet.sleep(1.0)
                    continue
                eventlet.sleep(self.pause_after(followed))
        finally:
            self._finished.send()

    def pause_after(self, followed):
        """Seconds to wait after a step that followed ``followed`` changes (the keys its journal entries name).

        Each step costs the store the same whatever it takes (a transaction, a look at what the changes touch, the
        purchase figures of the customers it touched set again from their purchases: about 14 ms at 200,000
        customers), so a step should take what came in a while, not the few entries since the last. A step that
        could not take everything goes on at once; after a busy one (BUSY_ENTRIES or more: a stream of changes, an
        import's) the next waits BUSY_SECONDS, so that it takes ten times as much for that cost (the search service
        spent a fifth less per line imported with half a second, and the step's fixed cost grows with the company:
        docs/performance.md), and a search sees what an import wrote within about a second; after any other, a poll
        (a lone change is seen as soon as ever)."""
        if followed >= MAX_ENTRIES:
            return 0
        if followed >= BUSY_ENTRIES:
            return max(BUSY_SECONDS, self.poll_seconds)
        return self.poll_seconds

    def close(self):
        """Stop following (the step under way ends first) and close the store."""
        self.running = False
        if self._finished is not None:
            self._finished.wait()
        if self.store is not None:
            self.store.close()
            self.store = None

    def report(self):
        store = self.store
        if store is None or not store.ready:
            return {"state": self.state if self.state != "ready" else "loading"}
        return {"state": "ready", "journal_seq": int(store.seq), "companies": len(store.catalogs),
                "directory": str(store.directory) if store.directory else None}


class Stopping(Exception):
    """The replica is stopping: no further call into the store is started."""


class SearchStore(DependencyProvider):
    def setup(self):
        config = self.container.config
        self.engine = make_engine(config["DATABASE_URL"])
        self.keeper = StoreKeeper(sessionmaker(self.engine), config.get("SEARCH_STORE_DIR")
                                  or search_store_dir(config["DATABASE_URL"]),
                                  poll_seconds=float(config.get("SEARCH_STORE_POLL_SECONDS", 0.1)),
                                  threads=config.get("SEARCH_STORE_THREADS"),
                                  memory_limit=config.get("SEARCH_STORE_MEMORY"))

    def start(self):
        self.container.spawn_managed_thread(self.keeper.run, identifier="search_store")

    def stop(self):
        self.keeper.running = False
        self.keeper.close()
        self.engine.dispose()

    def kill(self):
        self.keeper.running = False

    def get_dependency(self, worker_ctx):
        return self.keeper
