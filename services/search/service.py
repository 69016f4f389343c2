"""Nameko wiring of the search service: event handlers that keep the index, and the search RPC."""
import logging
import os

from nameko.events import SERVICE_POOL

from services.common.db import Database
from services.common.deadlines import RpcProxy
from services.common.batch_consumer import batch_event_handler
from services.common.entrypoints import rpc
from services.common.errors import EXPECTED_ERRORS, Unavailable
from services.common.health import EventBacklog, health_report, indexing_state
from services.common.requests import HandledRequests
from services.common.scope import Scope

from . import exports, indexer, rebuild, rfm_reports, saved_searches, schemas, searching
from .reports import catalogue as report_catalogue, running as reports
from . import rfm_settings as rfm_rules  # the RPC methods below take its name
from .dependencies import SearchStore
from .models import HandledRequest, OutboxEvent

log = logging.getLogger(__name__)
rpc_method = rpc(expected_exceptions=EXPECTED_ERRORS)
REPLICA = os.getpid()  # which replica answered, in its health report (one process each)
_page = schemas.SearchPage()
# A batch: what arrives until a pause (or the wait's end), up to the size. Large enough that a bulk import's events
# are applied hundreds per transaction; the pause, what a lone event waits for others, short for freshness.
EVENT_BATCH_SIZE = 500
# A message of a batch event (purchases_recorded) carries up to a whole owner batch (the connector sends 1,000 orders
# a call, an owner takes up to 10,000): one such message a transaction.
BATCH_EVENTS_PER_TRANSACTION = 1
EVENT_BATCH_WAIT_SECONDS = 0.1
EVENT_BATCH_QUIET_SECONDS = 0.01
handled = HandledRequests(HandledRequest)


def _indexing(source, event_type):
    """An event handler applying ``event_type`` from ``source`` to the index, a batch of events in one transaction
    (``indexer.apply_batch``; a batch event stands for the events of the entities it carries, ``indexer.unbatched``). Replicas share the queue; a failure puts the batch back (one event that cannot be
    applied makes the others be applied one by one, see ``batch_consumer``), and applying an event twice changes
    nothing (versions). An event that skips versions makes the index ask the owner for the entity."""

    @batch_event_handler(source, event_type, handler_type=SERVICE_POOL, reliable_delivery=True,
                         requeue_on_error=True, expected_exceptions=Unavailable,  # put back, applied once it answers
                         batch_size=(BATCH_EVENTS_PER_TRANSACTION if event_type in indexer.BATCH_EVENTS
                                     else EVENT_BATCH_SIZE), wait_seconds=EVENT_BATCH_WAIT_SECONDS,
                         quiet_seconds=EVENT_BATCH_QUIET_SECONDS)
    def handle(self, events):
        with self.db.unit_of_work() as session:
            indexer.apply_batch(session, indexer.unbatched(events), rebuild.owner_state(self._owners()))

    handle.__name__ = f"on_{source}_{event_type}"
    return handle


INDEXED = {"customers": ("customer_created", "customer_updated", "customers_recorded", "customer_deleted"),
           "purchases": ("purchase_recorded", "purchases_recorded", "purchase_deleted"),
           "mailhistory": ("mail_updated", "mail_activity_recorded", "address_error_changed")}


class SearchService:
    name = "search"

    db = Database(OutboxEvent)
    store = SearchStore()
    backlog = EventBacklog()
    customers = RpcProxy("customers")
    purchases = RpcProxy("purchases")
    mailhistory = RpcProxy("mailhistory")

    def _owners(self):
        return {"customers": self.customers, "purchases": self.purchases, "mailhistory": self.mailhistory}

    @rpc_method
    def rebuild(self, scope):
        """Reload the company's index from the owners (safe at any time). Returns how many of each were applied."""
        parsed = Scope.parse(scope)
        parsed.ensure_company_wide()
        return rebuild.rebuild(self.db.unit_of_work, self._owners(), parsed.as_dict())

    @rpc_method
    def reconcile(self, scope):
        """Do index and owners agree? {in_agreement, entities: {entity: {owner, index, stale, extra}}}."""
        parsed = Scope.parse(scope)
        parsed.ensure_company_wide()
        return rebuild.reconcile(self.db.read, self._owners(), parsed.as_dict())

    @rpc_method
    def repair(self, scope):
        """Set right, entity by entity, what reconcile finds in disagreement (no full rebuild). Returns {repaired:
        {entity: count}, in_agreement}."""
        parsed = Scope.parse(scope)
        parsed.ensure_company_wide()
        return rebuild.repair(self.db.unit_of_work, self.db.read, self._owners(), parsed.as_dict())

    @rpc_method
    def export_columns(self):
        """The catalogue of the list download's columns, in order: [{name, header, default}]."""
        return exports.export_columns()

    @rpc_method
    def export_rows(self, scope, conditions, columns=None, after_id=0, limit=5000):
        """A slice of a list download (顧客情報 出力許可 needed): {headers, rows, last_id}; page on with last_id."""
        with self.db.read() as session:
            return exports.export_rows(session, Scope.parse(scope), conditions, columns, after_id, limit,
                                       self.store)

    @rpc_method
    def log_export(self, scope, conditions, columns, rows, client_ip="", completed=True):
        """Record a download: who, when, conditions, columns, rows."""
        with self.db.unit_of_work() as session:
            exports.log_export(session, Scope.parse(scope), conditions, columns, rows, client_ip, completed)
        return {"logged": True}

    @rpc_method
    def export_logs(self, scope, limit=100):
        """The company's downloads, newest first (operators only)."""
        with self.db.read() as session:
            return exports.export_logs(session, Scope.parse(scope), limit)

    @rpc_method
    def save_search(self, scope, name, conditions, frozen=False, request_id=None):
        """Save a condition set: live, or frozen as the customers it matches now. Returns {id, customer_count}; a
        repeated request_id returns the first saved search's."""
        scope = Scope.parse(scope)
        with self.db.unit_of_work() as session:
            def save():
                saved = saved_searches.save_search(session, scope, name, conditions, frozen, self.store)
                return {"id": saved.id, "customer_count": saved.customer_count}

            return handled.once(session, request_id, "save_search", scope, save)

    @rpc_method
    def list_saved_searches(self, scope):
        """Saved searches in scope, newest first."""
        with self.db.read() as session:
            return saved_searches.list_saved(session, Scope.parse(scope))

    @rpc_method
    def delete_saved_search(self, scope, saved_search_id):
        """Delete a saved search. Raises NotFound."""
        with self.db.unit_of_work() as session:
            saved_searches.delete_saved(session, Scope.parse(scope), saved_search_id)
        return {"deleted": saved_search_id}

    @rpc_method
    def rfm_settings(self, scope):
        """The company's RFM設定 (the defaults until it saves its own): {rank_names, recency_days, purchase_count,
        purchase_total, cells, ranks: [{rank, name, colour, hex}], labels: {axis: [6 labels]}, version}."""
        with self.db.read() as session:
            return rfm_rules.settings_of(session, Scope.parse(scope).company_id).as_dict()

    @rpc_method
    def update_rfm_settings(self, scope, settings, request_id=None):
        """Save the company's RFM設定 (company operators only): any of rank_names, recency_days, purchase_count,
        purchase_total, cells; a key left out keeps its value. Returns what rfm_settings then returns; a repeated
        request_id returns the first call's result and changes nothing. Raises Forbidden (a shop account),
        ValidationFailed (by path: ``recency_days.3: not_increasing``, ``cells.2.4: one_of``, …)."""
        scope = Scope.parse(scope)
        scope.ensure_company_wide()
        with self.db.unit_of_work() as session:
            return handled.once(session, request_id, "update_rfm_settings", scope,
                                lambda: rfm_rules.update(session, scope, settings))

    @rpc_method
    def rfm_grid(self, scope, options=None):
        """RFM集計 of a day: options {day (today, Japan), shop_ids (all; a shop account's own), axes "rf" | "rm" |
        "fm"}. Returns {day, shop_ids, axes, rows, columns, cells: 6×6 [{customers, share, sales, rank, conditions}],
        ranks: [{rank, name, colour, hex, customers, share, sales, conditions}], total}. Raises ValidationFailed,
        Forbidden (a shop account naming another shop)."""
        with self.db.read() as session:
            return rfm_reports.grid(session, Scope.parse(scope), options, self.store)

    @rpc_method
    def rfm_movement(self, scope, options):
        """How customers moved between the ranks of two days: options {day_from, day_to (today), shop_ids}. Returns
        {day_from, day_to, shop_ids, ranks: [{rank, name, colour, hex, from, to}], totals, moves: [{from, name, to:
        {rank: customers}, customers}] (the first row ``none``: not yet buyers on day_from)}. Raises
        ValidationFailed (``day_to: from_after_to``), Forbidden."""
        with self.db.read() as session:
            return rfm_reports.movement(session, Scope.parse(scope), options, self.store)

    @rpc_method
    def report_catalogue(self):
        """集計's reports, in menu order: [{kind, title, use_permission (None: everyone), export_permission, options
        (the names of report options its screen offers), default_days, summary}]."""
        return report_catalogue.catalogue()

    @rpc_method
    def report(self, scope, kind, options=None):
        """One report of 集計 (``report_catalogue``): options as ``report_schemas.ReportOptions`` (date_from, date_to,
        shop_ids, excluded_products, …; a shop account's figures are its shop's). Returns {kind, title, options (as
        read, the defaults filled in), chart: {type, x, x_name, series, y_names, y, cells}, tables: [{name, columns:
        [{key, label, unit}], rows}], notes}. Raises NotFound (no such report), Forbidden (no 利用許可; another
        shop), ValidationFailed."""
        scope = Scope.parse(scope)
        return reports.run(scope, kind, options, self.store, self._product_labels(scope))

    @rpc_method
    def export_report(self, scope, kind, options=None, client_ip=""):
        """A report for its CSV download: as ``report``, with the report's 出力許可 checked for a shop account, and the
        download recorded in the export log. Raises as ``report``."""
        scope = Scope.parse(scope)
        answer = reports.run(scope, kind, options, self.store, self._product_labels(scope), exporting=True)
        with self.db.unit_of_work() as session:
            exports.log_report_export(session, scope, answer, client_ip)
        return answer

    def _product_labels(self, scope):
        return lambda codes: self.purchases.product_labels(scope.as_dict(), sorted(codes))

    @rpc_method
    def health(self):
        """Returns {service, status, database, outbox_pending, uptime_seconds, store: {state (opening, loading or
        ready), ...}, index: {state (indexing while events wait in its queues, else ready), queued_events}, replica
        (its process id)}."""
        return {**health_report(self.name, self.db), "store": self.store.report(),
                "index": indexing_state(self.backlog.queued()), "replica": REPLICA}

    @rpc_method
    def count(self, scope, conditions, sections=True):
        """How many customers match, and (with sections) each section's count on its own: {total, sections}."""
        with self.db.read() as session:
            return searching.count(session, Scope.parse(scope), conditions, bool(sections), self.store)

    @rpc_method
    def search_page(self, scope, conditions=None, paging=None):
        """The 検索 page in one call: {saved, counts, result} as list_saved_searches, count (with sections) and
        search return them; without conditions (None) counts and result are None. Raises ValidationFailed."""
        scope = Scope.parse(scope)
        with self.db.read() as session:
            answer = {"saved": saved_searches.list_saved(session, scope), "counts": None, "result": None}
            if conditions is not None:
                answer["counts"] = searching.count(session, scope, conditions, True, self.store)
                answer["result"] = _page.dump(searching.page(session, scope, conditions, paging, self.store))
            return answer

    @rpc_method
    def search(self, scope, conditions, paging=None):
        """One page of matching customers: {page, per_page, customers}; paging {page, per_page, sort, descending}."""
        with self.db.read() as session:
            return _page.dump(searching.page(session, Scope.parse(scope), conditions, paging, self.store))


for _source, _types in INDEXED.items():
    for _type in _types:
        _handler = _indexing(_source, _type)
        setattr(SearchService, _handler.__name__, _handler)

SERVICE = SearchService
