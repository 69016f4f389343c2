"""Nameko wiring of the purchases service: RPC entrypoints and the database."""

from services.common import arguments
from services.common.db import Database
from services.common.deadlines import RpcProxy
from services.common.entrypoints import rpc
from services.common.errors import EXPECTED_ERRORS
from services.common.health import health_report
from services.common.import_jobs import Jobs
from services.common.index_service import IndexVersionsEntrypoint
from services.common.import_service import ImportEntrypoints
from services.common.known_shops import KnownShops, named_shop_ids
from services.common.request_order import RequestOrder
from services.common.requests import HandledRequests
from services.common.scope import Scope

from . import catalog, exports, history_groups, import_formats, purchases, schemas
from .models import HandledRequest, ImportJob, ImportMapping, OutboxEvent

rpc_method = rpc(expected_exceptions=EXPECTED_ERRORS)

_purchase = schemas.Purchase()
_purchase_page = schemas.PurchasePage()
_product = schemas.Product()
_products = schemas.Product(many=True)
_product_page = schemas.ProductPage()
_category = schemas.Category()
_group = schemas.HistoryGroup()
_groups = schemas.HistoryGroup(many=True)
handled = HandledRequests(HandledRequest)
batch_order = RequestOrder(handled)
known_shops = KnownShops()


class PurchasesService(ImportEntrypoints, IndexVersionsEntrypoint):
    name = "purchases"
    index_entities = purchases.INDEX_VERSIONS

    db = Database(OutboxEvent)
    shops = RpcProxy("shops")
    customers = RpcProxy("customers")
    import_jobs = Jobs(ImportJob, ImportMapping, import_formats.KIND, "purchases")

    def _import_batch(self, scope, orders, request_id, options, dry_run):
        """インポート機能's batch write: record_orders (customers named by address found first), or for a dry run
        the same checks with nothing kept."""
        orders = import_formats.named_by_number(orders, lambda emails: self.customers.resolve_emails(scope, emails))
        if not dry_run:
            return self.record_orders(scope, orders, request_id=request_id, options=options)
        scope = Scope.parse(scope)
        shop_ids = self._shop_ids(scope)
        known = self.customers.resolve_member_numbers(scope.as_dict(), purchases.member_numbers_of(orders))
        with self.db.read() as session:  # rolled back
            return purchases.record_orders(session, scope, orders, known, shop_ids, options)

    def _shop_ids(self, scope):
        return {shop["id"] for shop in self.shops.list_shops(scope.as_dict())}

    def _customer(self, scope, customer_id):
        customer = self.customers.get_customer(scope.as_dict(), customer_id)
        return {"id": customer["id"], "member_number": customer["member_number"]}

    @rpc_method
    def health(self):
        """Returns {service, status, database, outbox_pending, uptime_seconds}."""
        return health_report(self.name, self.db)

    # --- purchases ---------------------------------------------------------------------------

    @rpc_method
    def record_orders(self, scope, orders, request_id=None, options=None, after=None):
        """Record orders from a cart in a batch (idempotent by shop + order code); options {"mode": "create_update"
        (default) | "update_only" | "create_only"}; ``after``: the request id of the batch sent before this one,
        whose answer has not come (written first). Returns {created, updated, unchanged, cancelled, skipped, errors,
        purchases}; a repeated request_id returns the first answer. Raises ValidationFailed (options, after),
        Forbidden, Unavailable (the batch named by ``after`` was not applied)."""
        scope = Scope.parse(scope)
        with batch_order.running(request_id):
            shop_ids = known_shops.ids(scope, named_shop_ids(orders), lambda: self._shop_ids(scope))
            known = self.customers.resolve_member_numbers(scope.as_dict(), purchases.member_numbers_of(orders))
            with self.db.read() as session:
                checked = purchases.check_orders(session, scope, orders, known, shop_ids, options)
            batch_order.wait_for(after, self.db.read, scope.company_id)
            with self.db.unit_of_work() as session:
                return handled.once(session, request_id, "record_orders", scope,
                                    lambda: purchases.write_orders(session, scope, checked))

    @rpc_method
    def create_purchase(self, scope, purchase, request_id=None):
        """購入履歴登録 by hand for purchase["customer_id"]; required surveys enforced; a repeated request_id returns the
        first purchase. Raises ValidationFailed, NotFound, Forbidden, Conflict."""
        scope = Scope.parse(scope)
        customer = self._customer(scope, purchases.customer_id_of(purchase))
        shop_ids = self._shop_ids(scope)
        with self.db.unit_of_work() as session:
            def create():
                values = purchases.validate(session, scope, purchase, shop_ids, enforce_survey=True)
                values["order_code"] = values.get("order_code") or None
                created, _ = purchases.record(session, scope, values, customer)
                return _purchase.dump(created)

            return handled.once(session, request_id, "create_purchase", scope, create)

    @rpc_method
    def get_purchase(self, scope, purchase_id):
        """One purchase with its lines. Raises NotFound, Forbidden."""
        with self.db.read() as session:
            return _purchase.dump(purchases.get_purchase(session, Scope.parse(scope), purchase_id))

    @rpc_method
    def update_purchase(self, scope, purchase_id, purchase):
        """Edit a purchase (same shop and order code). Raises ValidationFailed, NotFound, Forbidden."""
        scope = Scope.parse(scope)
        with self.db.read() as session:
            customer_id = purchases.get_purchase(session, scope, purchase_id).customer_id
        customer = self._customer(scope, customer_id)
        shop_ids = self._shop_ids(scope)
        with self.db.unit_of_work() as session:
            return _purchase.dump(purchases.update_purchase(session, scope, purchase_id, purchase, customer, shop_ids))

    @rpc_method
    def set_counted(self, scope, purchase_id, counted):
        """集計対象 on/off. Returns the purchase."""
        with self.db.unit_of_work() as session:
            return _purchase.dump(purchases.set_counted(session, Scope.parse(scope), purchase_id, counted))

    @rpc_method
    def delete_purchase(self, scope, purchase_id):
        """Delete a purchase. Raises NotFound, Forbidden."""
        with self.db.unit_of_work() as session:
            purchases.delete_purchase(session, Scope.parse(scope), purchase_id)
        return {"deleted": purchase_id}

    @rpc_method
    def customer_purchases(self, scope, customer_id, page=1, per_page=20):
        """One page of a customer's purchases with lines, newest first: {total, page, per_page (≤ 100), purchases}.
        Raises ValidationFailed, NotFound, Forbidden (the customer's owner checks)."""
        scope = Scope.parse(scope)
        self._customer(scope, customer_id)
        with self.db.read() as session:
            return _purchase_page.dump(purchases.customer_purchases(session, scope, customer_id, page, per_page))

    @rpc_method
    def export_purchases(self, scope, customer_id):
        """The customer's 購入情報 download (購入情報 出力許可 needed): {headers, rows}, one row per line, newest
        purchase first, moments in Japan time (2026/11/25 09:00), 集計対象 as 対象 / 対象外. Raises NotFound,
        Forbidden."""
        scope = Scope.parse(scope)
        scope.ensure_permitted("may_export_purchases")
        self._customer(scope, customer_id)
        shops = {shop["id"]: f"{shop['shop_number']}: {shop['name']}" for shop in self.shops.list_shops(scope.as_dict())}
        with self.db.read() as session:
            return exports.purchase_rows(session, scope, customer_id, shops)

    @rpc_method
    def export_for_index(self, scope, after_id=0, limit=1000):
        """For the search index rebuild: purchases of the company with id > after_id as event envelopes, by id."""
        scope = Scope.parse(scope)
        scope.ensure_company_wide()
        with self.db.read() as session:
            rows = purchases.purchases_after(session, scope.company_id, after_id, limit)
            return [{"entity": "purchase", "entity_id": str(p.id), "version": p.version,
                     "event_type": "purchase_recorded", "company_id": p.company_id, "data": _purchase.dump(p)}
                    for p in rows]

    # --- categories and products -------------------------------------------------------------

    @rpc_method
    def list_categories(self, scope, shop_id):
        """Categories of a shop with product counts; `default` first (id null while the shop has no catalogue yet).
        Raises ValidationFailed, Forbidden (a shop outside the caller's)."""
        shop_id = arguments.entity_id(shop_id, "shop_id")
        scope = Scope.parse(scope)
        shop_ids = self._shop_ids(scope)
        with self.db.read() as session:
            return catalog.list_categories(session, scope, shop_id, shop_ids)

    @rpc_method
    def add_category(self, scope, shop_id, category, request_id=None):
        """Add {name}. Raises ValidationFailed (name taken), Forbidden."""
        scope = Scope.parse(scope)
        shop_ids = self._shop_ids(scope)
        with self.db.unit_of_work() as session:
            def add():
                created = catalog.add_category(session, scope, arguments.entity_id(shop_id, "shop_id"), category,
                                               shop_ids)
                return _category.dump(dict(id=created.id, shop_id=created.shop_id, name=created.name, product_count=0,
                                           version=created.version))

            return handled.once(session, request_id, "add_category", scope, add)

    @rpc_method
    def rename_category(self, scope, category_id, category):
        """Rename. Raises ValidationFailed, Conflict (default), NotFound."""
        with self.db.unit_of_work() as session:
            renamed = catalog.rename_category(session, Scope.parse(scope),
                                              arguments.entity_id(category_id, "category_id"), category)
            return {"id": renamed.id, "name": renamed.name, "version": renamed.version}

    @rpc_method
    def delete_category(self, scope, category_id):
        """Delete an empty category. Raises Conflict (default, category_not_empty), NotFound."""
        with self.db.unit_of_work() as session:
            catalog.delete_category(session, Scope.parse(scope), arguments.entity_id(category_id, "category_id"))
        return {"deleted": category_id}

    @rpc_method
    def list_products(self, scope, shop_id, category_id=None, text=""):
        """Products of a shop (optionally of one category, or matching text), by code. Raises Forbidden."""
        scope = Scope.parse(scope)
        shop_ids = self._shop_ids(scope)
        with self.db.read() as session:
            return _products.dump(catalog.list_products(
                session, scope, arguments.entity_id(shop_id, "shop_id"), shop_ids,
                arguments.optional_entity_id(category_id or None, "category_id"),
                arguments.text(text, "text", 100, allow_none=True)))

    @rpc_method
    def search_products(self, scope, shop_ids, text="", category_id=None, page=1, per_page=20):
        """The product picker and the product list: products of the shops (ids, each the caller's) whose code, name
        or category name holds every word of text, optionally of one category, by code; {total, page, per_page
        (≤ 100), products}. Raises ValidationFailed, Forbidden."""
        scope = Scope.parse(scope)
        shop_ids_listed = self._shop_ids(scope)
        with self.db.read() as session:
            return _product_page.dump(catalog.search_products(session, scope, shop_ids, shop_ids_listed, text,
                                                              category_id, page, per_page))

    @rpc_method
    def product_labels(self, scope, codes):
        """The names and categories of products by code over the caller's shops (集計 names what it counts with
        them): {code: {name, category}}; a code no shop has is left out. Raises ValidationFailed."""
        with self.db.read() as session:
            return catalog.product_labels(session, Scope.parse(scope), codes)

    @rpc_method
    def get_product(self, scope, product_id):
        """One product. Raises ValidationFailed, NotFound, Forbidden."""
        with self.db.read() as session:
            return _product.dump(catalog.get_product(session, Scope.parse(scope),
                                                     arguments.entity_id(product_id, "product_id")))

    @rpc_method
    def add_product(self, scope, shop_id, product, request_id=None):
        """商品追加 {code, name, category_id, price}. Raises ValidationFailed, Forbidden."""
        scope = Scope.parse(scope)
        shop_ids = self._shop_ids(scope)
        with self.db.unit_of_work() as session:
            return handled.once(session, request_id, "add_product", scope, lambda: _product.dump(
                catalog.add_product(session, scope, arguments.entity_id(shop_id, "shop_id"), product, shop_ids)))

    @rpc_method
    def update_product(self, scope, product_id, product):
        """Edit a product. Raises ValidationFailed, NotFound, Forbidden."""
        with self.db.unit_of_work() as session:
            return _product.dump(catalog.update_product(session, Scope.parse(scope),
                                                        arguments.entity_id(product_id, "product_id"), product))

    # --- history groups (履歴グループ) --------------------------------------------------------

    @rpc_method
    def list_history_groups(self, scope, include_retired=False):
        """履歴グループ with their choices, in order."""
        with self.db.read() as session:
            return _groups.dump(history_groups.list_groups(session, Scope.parse(scope).company_id, include_retired))

    @rpc_method
    def add_history_group(self, scope, group, request_id=None):
        """Add {name, in_use, required}."""
        scope = Scope.parse(scope)
        with self.db.unit_of_work() as session:
            return handled.once(session, request_id, "add_history_group", scope,
                                lambda: _group.dump(history_groups.add_group(session, scope, group)))

    @rpc_method
    def update_history_group(self, scope, group_id, group):
        """Change {name, in_use, required}."""
        with self.db.unit_of_work() as session:
            return _group.dump(history_groups.update_group(session, Scope.parse(scope), group_id, group))

    @rpc_method
    def retire_history_group(self, scope, group_id):
        """Retire a group; answers already given are kept."""
        with self.db.unit_of_work() as session:
            return _group.dump(history_groups.retire_group(session, Scope.parse(scope), group_id))

    @rpc_method
    def reorder_history_groups(self, scope, group_ids):
        """Set the order of every group."""
        with self.db.unit_of_work() as session:
            return _groups.dump(history_groups.reorder_groups(session, Scope.parse(scope), group_ids))

    @rpc_method
    def add_history_choice(self, scope, group_id, choice, request_id=None):
        """Add a choice {label}. Returns the group."""
        scope = Scope.parse(scope)
        with self.db.unit_of_work() as session:
            return handled.once(session, request_id, "add_history_choice", scope,
                                lambda: _group.dump(history_groups.add_choice(session, scope, group_id, choice)))

    @rpc_method
    def update_history_choice(self, scope, group_id, choice_id, choice):
        """Change a choice's label. Returns the group."""
        with self.db.unit_of_work() as session:
            return _group.dump(history_groups.update_choice(session, Scope.parse(scope), group_id, choice_id, choice))

    @rpc_method
    def retire_history_choice(self, scope, group_id, choice_id):
        """Retire a choice. Returns the group."""
        with self.db.unit_of_work() as session:
            return _group.dump(history_groups.retire_choice(session, Scope.parse(scope), group_id, choice_id))

    @rpc_method
    def reorder_history_choices(self, scope, group_id, choice_ids):
        """Set the order of every choice of a group. Returns the group."""
        with self.db.unit_of_work() as session:
            return _group.dump(history_groups.reorder_choices(session, Scope.parse(scope), group_id, choice_ids))


SERVICE = PurchasesService
