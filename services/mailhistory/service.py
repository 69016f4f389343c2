"""Nameko wiring of the mail-history service: RPC entrypoints and the database."""

from services.common.config import env
from services.common.db import Database
from services.common.deadlines import RpcProxy
from services.common.entrypoints import rpc
from services.common.errors import EXPECTED_ERRORS
from services.common.health import health_report
from services.common.index_service import IndexVersionsEntrypoint
from services.common.requests import HandledRequests
from services.common.scope import SYSTEM, Scope

from . import history, schemas, tracking
from .models import HandledRequest, OutboxEvent

rpc_method = rpc(expected_exceptions=EXPECTED_ERRORS)
_mails = schemas.Mail(many=True)
_customer_mails = schemas.CustomerMail(many=True)
handled = HandledRequests(HandledRequest)


class MailHistoryService(IndexVersionsEntrypoint):
    name = "mailhistory"
    index_entities = history.INDEX_VERSIONS

    db = Database(OutboxEvent)
    customers = RpcProxy("customers")
    shops = RpcProxy("shops")

    @rpc_method
    def health(self):
        """Returns {service, status, database, outbox_pending, uptime_seconds}."""
        return health_report(self.name, self.db)

    @rpc_method
    def upsert_mails(self, scope, mails, request_id=None):
        """Register or update mails by mail number. Returns {saved, errors: [{index, fields}]}; a shop_id outside
        the caller's shops is refused by index; a repeated request_id returns the first answer."""
        scope = Scope.parse(scope)
        shop_ids = {shop["id"] for shop in self.shops.list_shops(scope.as_dict())}
        with self.db.unit_of_work() as session:
            return handled.once(session, request_id, "upsert_mails", scope,
                                lambda: history.upsert_mails(session, scope, mails, shop_ids))

    @rpc_method
    def record_activities(self, scope, reports, request_id=None):
        """Ingest deliveries, opens, clicks and QR reads (thousands per call; a report seen before counts once).
        Returns {recorded, duplicates, errors: [{index, fields}]}; a repeated request_id returns the first answer."""
        scope = Scope.parse(scope)
        known = self.customers.resolve_member_numbers(scope.as_dict(), history.member_numbers_of(reports))
        with self.db.unit_of_work() as session:
            return handled.once(session, request_id, "record_activities", scope,
                                lambda: history.record_activities(session, scope, reports, known))

    @rpc_method
    def find_mails(self, scope, reference="", kind=None, family=None):
        """Mails by reference ('123', 'S12', 'S12-2'), kind, or family (manual / automatic)."""
        with self.db.read() as session:
            return _mails.dump(history.find_mails(session, Scope.parse(scope), reference, kind, family))

    @rpc_method
    def mail_summaries(self, scope, family=None):
        """配信管理 > 履歴: mails with counts of customers sent, opened, clicked, QR read, and errors."""
        with self.db.read() as session:
            return history.mail_summaries(session, Scope.parse(scope), family)

    @rpc_method
    def customer_history(self, scope, customer_id):
        """The customer's メール送信履歴 and address states: {mails: [...], addresses: [...]}."""
        scope = Scope.parse(scope)
        self.customers.get_customer(scope.as_dict(), customer_id)  # scope check by the owner of customers
        with self.db.read() as session:
            return {"mails": _customer_mails.dump(history.customer_history(session, scope, customer_id)),
                    "addresses": history.address_errors(session, scope, customer_id)}

    @rpc_method
    def tracking_links(self, scope, mail_number, member_number, click_urls=(), qr_url=""):
        """Signed tracking URLs for one customer and mail: {open, clicks: {url: tracking url}, qr_read}."""
        scope = Scope.parse(scope)
        customer = self.customers.get_customer_by_member_number(scope.as_dict(), member_number)
        with self.db.read() as session:
            history.get_mail(session, scope, mail_number)
        return tracking.links(env("PUBLIC_BASE_URL", "http://127.0.0.1:8000"), scope.company_id, mail_number,
                              customer, click_urls, qr_url)

    @rpc_method
    def export_for_index(self, scope, entity, after_id=0, limit=1000):
        """For the search index rebuild: `mail`, `mail_activity` or `address_state` rows of the company with
        id > after_id, as event envelopes, by id."""
        scope = Scope.parse(scope)
        scope.ensure_company_wide()
        with self.db.read() as session:
            return history.export_for_index(session, scope.company_id, entity, after_id, limit)

    @rpc_method
    def record_tracking(self, token, kind):
        """A hit on a tracking URL: records the open / click / QR read. Returns {recorded, url} (url: where a click
        or QR read goes). Raises Forbidden for a forged or altered token."""
        payload = tracking.read_token(token, kind)
        scope = Scope(payload["c"], SYSTEM)
        customer = {payload["n"]: {"id": payload["u"], "member_number": payload["n"]}}
        with self.db.unit_of_work() as session:
            result = history.record_activities(session, scope, [tracking.report_of(payload, kind)], customer)
        return {"recorded": result["recorded"] == 1, "url": payload.get("r", "")}


SERVICE = MailHistoryService
