"""Nameko wiring of the customers service: RPC entrypoints, the notification-mail handler, the database."""
import logging

import eventlet

from services.common.db import Database
from services.common.deadlines import RpcProxy
from services.common.entrypoints import event_handler, rpc
from services.common.errors import EXPECTED_ERRORS, Unavailable
from services.common.health import health_report
from services.common.import_jobs import Jobs
from services.common.index_service import IndexVersionsEntrypoint
from services.common.import_service import ImportEntrypoints
from services.common.known_shops import KnownShops, named_shop_ids
from services.common.request_order import RequestOrder
from services.common.requests import HandledRequests
from services.common.scope import Scope

from . import address, customers, events, groups, mailer, registration, schemas, settings, support
from .import_formats import KIND
from .models import HandledRequest, ImportJob, ImportMapping, OutboxEvent

log = logging.getLogger(__name__)
rpc_method = rpc(expected_exceptions=EXPECTED_ERRORS)

_customer = schemas.Customer()
_page = schemas.CustomerPage()
_group = schemas.AttributeGroup()
_groups = schemas.AttributeGroup(many=True)
_entry = schemas.SupportEntry()
_entries = schemas.SupportEntry(many=True)
handled = HandledRequests(HandledRequest)
batch_order = RequestOrder(handled)
known_shops = KnownShops()


class CustomersService(ImportEntrypoints, IndexVersionsEntrypoint):
    name = "customers"
    index_entities = customers.INDEX_VERSIONS

    db = Database(OutboxEvent)
    shops = RpcProxy("shops")
    import_jobs = Jobs(ImportJob, ImportMapping, KIND, "customers")

    def _shop_ids(self, scope):
        return {shop["id"] for shop in self.shops.list_shops(scope.as_dict())}

    def _import_batch(self, scope, records, request_id, options, dry_run):
        """インポート機能's batch write: upsert_customers, or for a dry run the same checks with nothing kept."""
        if not dry_run:
            return self.upsert_customers(scope, records, request_id=request_id, options=options)
        scope = Scope.parse(scope)
        shop_ids = self._shop_ids(scope)
        with self.db.read() as session:  # rolled back
            return customers.batch_upsert(session, scope, records, shop_ids, options)

    @rpc_method
    def health(self):
        """Returns {service, status, database, outbox_pending, uptime_seconds}."""
        return health_report(self.name, self.db)

    # --- customers ---------------------------------------------------------------------------

    @rpc_method
    def get_customer(self, scope, customer_id):
        """One customer. Raises NotFound, Forbidden."""
        with self.db.read() as session:
            return _customer.dump(customers.get_customer(session, Scope.parse(scope), customer_id))

    @rpc_method
    def get_customer_view(self, scope, customer_id):
        """The customer page in one call: {customer, remark_settings, groups} as get_customer, get_remark_settings
        and list_groups return them. Raises NotFound, Forbidden."""
        scope = Scope.parse(scope)
        with self.db.read() as session:
            return {"customer": _customer.dump(customers.get_customer(session, scope, customer_id)),
                    **self._form_settings(session, scope)}

    @rpc_method
    def get_customer_by_member_number(self, scope, member_number):
        """One customer by member number. Raises NotFound."""
        with self.db.read() as session:
            return _customer.dump(customers.get_by_member_number(session, Scope.parse(scope), member_number))

    @rpc_method
    def resolve_member_numbers(self, scope, member_numbers):
        """{member_number: {id, member_number, shop_id}} for those that exist in scope (others are left out)."""
        with self.db.read() as session:
            return customers.resolve_member_numbers(session, Scope.parse(scope), member_numbers)

    @rpc_method
    def resolve_emails(self, scope, emails):
        """{email: member_number} for the mail addresses (PC or 携帯, compared without case) that name exactly one
        customer in scope: how an order export that names customers by address (Shopify) finds them."""
        with self.db.read() as session:
            return customers.resolve_emails(session, Scope.parse(scope), emails)

    @rpc_method
    def list_customers(self, scope, page=1, per_page=50, text=""):
        """Customers in scope, newest first: {total, page, per_page, customers}."""
        with self.db.read() as session:
            return _page.dump(customers.list_customers(session, Scope.parse(scope), page, per_page, text))

    @rpc_method
    def validate_customer(self, scope, customer, customer_id=None):
        """Check a create (or an update of customer_id) without saving; returns the normalised values."""
        scope = Scope.parse(scope)
        with self.db.read() as session:
            existing = customers.get_customer(session, scope, customer_id) if customer_id else None
            values = customers.validate(session, scope, customer, existing, self._shop_ids(scope))
            return schemas.CustomerInput().dump(values)

    @rpc_method
    def create_customer(self, scope, customer, request_id=None):
        """Register a customer (member number issued when empty); a repeated request_id returns the first customer.
        Raises ValidationFailed, Forbidden, Conflict."""
        scope = Scope.parse(scope)
        shop_ids = self._shop_ids(scope)
        with self.db.unit_of_work() as session:
            return handled.once(session, request_id, "create_customer", scope, lambda: _customer.dump(
                customers.create_customer(session, scope, customer, shop_ids)))

    @rpc_method
    def update_customer(self, scope, customer_id, customer):
        """Change the fields given; the others stay. Raises ValidationFailed, NotFound, Forbidden."""
        scope = Scope.parse(scope)
        shop_ids = self._shop_ids(scope)
        with self.db.unit_of_work() as session:
            return _customer.dump(customers.update_customer(session, scope, customer_id, customer, shop_ids))

    @rpc_method
    def delete_customer(self, scope, customer_id):
        """Delete a customer with its choices and support history. Raises NotFound, Forbidden."""
        with self.db.unit_of_work() as session:
            customers.delete_customer(session, Scope.parse(scope), customer_id)
        return {"deleted": customer_id}

    @rpc_method
    def upsert_customers(self, scope, customers_, request_id=None, options=None, after=None):
        """Batch create-or-update by member number (hundreds per call). ``options``: {mode: create_update (default)
        | update_only | create_only, keep_existing: false (default) | true}; ``after``: the request id of the batch
        sent before this one, whose answer has not come (written first). Returns {created, updated, unchanged,
        skipped, errors, customers}; a repeated request_id returns the first answer, whatever the records and
        options. Raises ValidationFailed (bad options, after), Forbidden (the scope), Unavailable (the batch named by
        ``after`` was not applied)."""
        scope = Scope.parse(scope)
        with batch_order.running(request_id):
            shop_ids = known_shops.ids(scope, named_shop_ids(customers_), lambda: self._shop_ids(scope))
            batch_order.wait_for(after, self.db.read, scope.company_id)
            with self.db.unit_of_work() as session:
                return handled.once(session, request_id, "upsert_customers", scope,
                                    lambda: customers.batch_upsert(session, scope, customers_, shop_ids, options))

    @rpc_method
    def shop_counts(self, scope, shop_id):
        """登録顧客数 etc. of a shop: {registered, with_address, pc, mobile, refused}. Raises Forbidden."""
        scope = Scope.parse(scope)
        shop_ids = self._shop_ids(scope)
        with self.db.read() as session:
            return customers.shop_counts(session, scope, shop_id, shop_ids)

    @rpc_method
    def lookup_address(self, postal_code):
        """住所検索: {postal_code, prefecture, city, town, address}. Raises ValidationFailed."""
        return address.lookup(postal_code)

    @rpc_method
    def export_for_index(self, scope, after_id=0, limit=1000):
        """For the search index rebuild: customers of the company with id > after_id, as event envelopes
        {entity, entity_id, version, event_type, company_id, data}, by id. Operators and systems only."""
        scope = Scope.parse(scope)
        scope.ensure_company_wide()
        with self.db.read() as session:
            rows = customers.customers_after(session, scope.company_id, after_id, limit)
            return [{"entity": "customer", "entity_id": str(c.id), "version": c.version,
                     "event_type": "customer_updated", "company_id": c.company_id, "data": _customer.dump(c)}
                    for c in rows]

    # --- settings ----------------------------------------------------------------------------

    @rpc_method
    def get_registration_settings(self, scope, shop_id=None):
        """基本設定 of a shop (a shop account: its own, whatever is asked), or with None (operators) the company's
        defaults, which a shop without settings of its own follows: {shop_id, uses_company_defaults, fields: {field:
        shown|hidden|required}, notification_subject, notification_body, version}. Raises ValidationFailed, Forbidden
        (a shop that is not one of the caller's)."""
        scope = Scope.parse(scope)
        shop_ids = self._shop_ids(scope) if shop_id is not None else ()
        shop_id = settings.settings_shop(scope, shop_id, shop_ids)
        with self.db.read() as session:
            return settings.registration_settings(session, scope.company_id, shop_id)

    @rpc_method
    def update_registration_settings(self, scope, registration_settings, shop_id=None):
        """Save 基本設定 of a shop (a shop account: only its own), or with None the company's defaults (operators
        only). Raises ValidationFailed, Forbidden."""
        scope = Scope.parse(scope)
        shop_ids = self._shop_ids(scope) if shop_id is not None else ()
        with self.db.unit_of_work() as session:
            return settings.update_registration_settings(session, scope, registration_settings, shop_id, shop_ids)

    @rpc_method
    def get_remark_settings(self, scope):
        """備考: [{position, name, shown}] for 1..10."""
        with self.db.read() as session:
            return settings.remark_settings(session, Scope.parse(scope).company_id)

    @rpc_method
    def get_form_settings(self, scope):
        """What a customer form and the 検索 page show, in one call: {remark_settings, groups} as
        get_remark_settings and list_groups return them."""
        with self.db.read() as session:
            return self._form_settings(session, Scope.parse(scope))

    @staticmethod
    def _form_settings(session, scope):
        return {"remark_settings": settings.remark_settings(session, scope.company_id),
                "groups": _groups.dump(groups.list_groups(session, scope.company_id, False))}

    @rpc_method
    def update_remark_settings(self, scope, remarks):
        """Save 備考 names and visibility (every position 1..10). Raises ValidationFailed, Forbidden."""
        with self.db.unit_of_work() as session:
            return settings.update_remark_settings(session, Scope.parse(scope), {"remarks": remarks})

    @rpc_method
    def list_groups(self, scope, include_retired=False):
        """顧客グループ: attribute groups with their choices, in order."""
        with self.db.read() as session:
            return _groups.dump(groups.list_groups(session, Scope.parse(scope).company_id, include_retired))

    @rpc_method
    def add_group(self, scope, group, request_id=None):
        """Add an attribute group {name, in_use}. Raises ValidationFailed, Forbidden."""
        scope = Scope.parse(scope)
        with self.db.unit_of_work() as session:
            return handled.once(session, request_id, "add_group", scope,
                                lambda: _group.dump(groups.add_group(session, scope, group)))

    @rpc_method
    def update_group(self, scope, group_id, group):
        """Rename a group or change in_use. Raises ValidationFailed, NotFound, Forbidden."""
        with self.db.unit_of_work() as session:
            return _group.dump(groups.update_group(session, Scope.parse(scope), group_id, group))

    @rpc_method
    def retire_group(self, scope, group_id):
        """Retire a group: gone from forms and search; customers' past choices kept."""
        with self.db.unit_of_work() as session:
            return _group.dump(groups.retire_group(session, Scope.parse(scope), group_id))

    @rpc_method
    def reorder_groups(self, scope, group_ids):
        """Set the order of every (non-retired) group. Raises ValidationFailed."""
        with self.db.unit_of_work() as session:
            return _groups.dump(groups.reorder_groups(session, Scope.parse(scope), group_ids))

    @rpc_method
    def add_choice(self, scope, group_id, choice, request_id=None):
        """Add a choice {label ≤ 125}. Returns the group."""
        scope = Scope.parse(scope)
        with self.db.unit_of_work() as session:
            return handled.once(session, request_id, "add_choice", scope,
                                lambda: _group.dump(groups.add_choice(session, scope, group_id, choice)))

    @rpc_method
    def update_choice(self, scope, group_id, choice_id, choice):
        """Change a choice's label. Returns the group."""
        with self.db.unit_of_work() as session:
            return _group.dump(groups.update_choice(session, Scope.parse(scope), group_id, choice_id, choice))

    @rpc_method
    def retire_choice(self, scope, group_id, choice_id):
        """Retire a choice. Returns the group."""
        with self.db.unit_of_work() as session:
            return _group.dump(groups.retire_choice(session, Scope.parse(scope), group_id, choice_id))

    @rpc_method
    def reorder_choices(self, scope, group_id, choice_ids):
        """Set the order of every choice of a group. Returns the group."""
        with self.db.unit_of_work() as session:
            return _group.dump(groups.reorder_choices(session, Scope.parse(scope), group_id, choice_ids))

    # --- support history ---------------------------------------------------------------------

    @rpc_method
    def list_support_entries(self, scope, customer_id, entered_from=None, entered_to=None):
        """対応履歴 of a customer, newest first, optionally within an entered-at range."""
        with self.db.read() as session:
            return _entries.dump(support.list_entries(session, Scope.parse(scope), customer_id,
                                                      {"entered_from": entered_from, "entered_to": entered_to}))

    @rpc_method
    def add_support_entry(self, scope, customer_id, entry, request_id=None):
        """Add {staff, entered_at, content}. Raises ValidationFailed, NotFound, Forbidden."""
        scope = Scope.parse(scope)
        with self.db.unit_of_work() as session:
            return handled.once(session, request_id, "add_support_entry", scope,
                                lambda: _entry.dump(support.add_entry(session, scope, customer_id, entry)))

    @rpc_method
    def update_support_entry(self, scope, entry_id, entry):
        """Edit an entry. Raises ValidationFailed, NotFound, Forbidden."""
        with self.db.unit_of_work() as session:
            return _entry.dump(support.update_entry(session, Scope.parse(scope), entry_id, entry))

    @rpc_method
    def delete_support_entry(self, scope, entry_id):
        """Delete an entry. Raises NotFound, Forbidden."""
        with self.db.unit_of_work() as session:
            support.delete_entry(session, Scope.parse(scope), entry_id)
        return {"deleted": entry_id}

    # --- public member registration ----------------------------------------------------------

    @rpc_method
    def registration_form(self, company_id, shop_number):
        """The public form of a shop, as its 基本設定 say: {shop: {name, shop_number}, fields, groups}. Raises NotFound
        (unknown or standby shop)."""
        shop = self.shops.public_shop(company_id, shop_number)
        with self.db.read() as session:
            form = registration.form_definition(session, company_id, shop["id"])
        form["shop"] = {"name": shop["name"], "shop_number": shop["shop_number"]}
        return form

    @rpc_method
    def register_member(self, company_id, shop_number, form, request_id=None):
        """Register from the public form; the notification mail follows. Returns {member_number, mail_sent_to}; a
        repeated request_id returns the first registration's."""
        shop = self.shops.public_shop(company_id, shop_number)
        with self.db.unit_of_work() as session:
            def register():
                customer, mail = registration.register_member(session, company_id, shop, form)
                return {"member_number": customer.member_number, "mail_sent_to": mail["to"] if mail else None}

            return handled.once(session, request_id, "register_member", shop["company_id"], register)

    @event_handler("customers", events.MEMBER_REGISTERED, reliable_delivery=True, requeue_on_error=True,
                   expected_exceptions=Unavailable)
    def send_notification_mail(self, event):
        """Send the notification mail of a registration, once; an SMTP failure is retried."""
        mail = event["data"]
        try:
            with self.db.unit_of_work() as session:
                if mailer.deliver_once(session, mail):
                    log.info("notification mail sent for customer %s", mail["customer_id"])
        except mailer.PERMANENT_FAILURES:
            # The server refused this mail for good (e.g. the recipient): retrying cannot help.
            log.error("notification mail for customer %s refused by the SMTP server; not retried",
                      mail["customer_id"], exc_info=True)
        except (OSError, mailer.smtplib.SMTPException):
            log.warning("notification mail for customer %s not sent yet; will retry", mail["customer_id"],
                        exc_info=True)
            eventlet.sleep(5)  # the message goes back to the queue; do not spin on a dead SMTP server
            raise


SERVICE = CustomersService
