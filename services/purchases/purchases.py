"""購入履歴: recording orders (idempotent by shop + order code), manual registration, edits, a customer's history."""
import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from services.common import arguments
from services.common.batches import MAX_RECORDS
from services.common.contracts import field_error, load
from services.common.db import add_unless_present
from services.common.errors import NotFound

from . import catalog, events, history_groups, order_attributes, order_batches, schemas
from .models import Purchase, PurchaseAnswer, PurchaseLine

_input = schemas.PurchaseInput()


def get_purchase(session, scope, purchase_id, lock=False):
    """``lock``: the purchase's row locked for the transaction (a change or deletion: the lines it writes or takes
    belong to a purchase no other transaction changes meanwhile)."""
    purchase = session.get(Purchase, arguments.entity_id(purchase_id, "purchase_id"), with_for_update=lock)
    if purchase is None:
        raise NotFound("purchase not found")
    scope.ensure_shop(purchase.company_id, purchase.shop_id)
    return purchase


MAX_EXPORT = 5000


def member_numbers_of(orders):
    """The member numbers a batch of orders names, to be resolved by the customers service."""
    return [o.get("member_number") for o in arguments.sequence(orders, "orders", MAX_RECORDS) if isinstance(o, dict)]


def customer_id_of(purchase):
    """The customer a 購入履歴登録 payload is for (its customer's existence is checked by the customers service)."""
    return arguments.entity_id(arguments.mapping(purchase, "purchase").get("customer_id"), "customer_id")


INDEX_VERSIONS = {"purchase": Purchase}
"""What ``index_versions`` reads for search.reconcile."""


def purchases_after(session, company_id, after_id, limit):
    """Purchases of the company with id > after_id, by id: a page of the index rebuild (at most MAX_EXPORT)."""
    after_id, limit = arguments.after_id(after_id), min(arguments.integer(limit, "limit", 1), MAX_EXPORT)
    return list(session.scalars(select(Purchase).where(Purchase.company_id == company_id, Purchase.id > after_id)
                                .order_by(Purchase.id).limit(limit)))


MAX_PURCHASES_PER_PAGE = 100
"""The most purchases one page of a customer's 購入履歴 holds (the tab shows 20; a customer may have hundreds)."""


def customer_purchases(session, scope, customer_id, page=1, per_page=20):
    """One page of a customer's purchases, newest first (a shop account sees those at its shop):
    ``{"total", "page", "per_page", "purchases"}``."""
    customer_id = arguments.entity_id(customer_id, "customer_id")
    page, per_page = arguments.paging(page, per_page, MAX_PURCHASES_PER_PAGE)
    query = select(Purchase).where(Purchase.company_id == scope.company_id, Purchase.customer_id == customer_id)
    if scope.is_shop:
        query = query.where(Purchase.shop_id == scope.shop_id)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Purchase.purchased_at.desc(), Purchase.id.desc())
                           .offset((page - 1) * per_page).limit(per_page)
                           .options(selectinload(Purchase.lines), selectinload(Purchase.answers))).all()
    return {"total": total, "page": page, "per_page": per_page, "purchases": list(rows)}


def _apply(session, purchase, values, customer, products=None):
    purchase.customer_id = customer["id"]
    purchase.member_number = customer["member_number"]
    purchase.purchased_at = values["purchased_at"]
    purchase.shipped_at = values["shipped_at"]
    purchase.media = values["media"]
    purchase.order_attributes = order_attributes.as_text(values["order_attributes"])
    purchase.status = values["status"]
    # A cancelled or returned order stays on record but never counts.
    purchase.counted = values["counted"] and values["status"] == schemas.ORDERED
    purchase.lines.clear()
    session.flush()
    sales = 0
    find = products.product if products is not None else (
        lambda shop_id, code, name, price: catalog.product_for_line(session, purchase.company_id, shop_id, code, name,
                                                                    price))
    for line_no, line in enumerate(values["lines"], start=1):
        product = find(purchase.shop_id, line["product_code"], line["product_name"], line["unit_price"])
        unit_price = product.price if line["unit_price"] is None else line["unit_price"]
        purchase.lines.append(PurchaseLine(line_no=line_no, product_id=product.id, product_code=product.code,
                                           product_name=product.name, line_remark=line["line_remark"],
                                           quantity=line["quantity"], unit_price=unit_price))
        sales += unit_price * line["quantity"]
    if sales > schemas.MAX_AMOUNT:  # each line may be within bounds and their sum not
        raise field_error("lines", "total_too_large")
    purchase.sales = sales
    # 請求金額 defaults to the sales; a lower amount records a discount (割引 = 売上 − 請求金額).
    purchase.billed_amount = sales if values["billed_amount"] is None else values["billed_amount"]
    purchase.answers.clear()
    session.flush()
    for group_id, choice_id in values["answers"].items():
        if choice_id is not None:
            purchase.answers.append(PurchaseAnswer(group_id=group_id, choice_id=choice_id))


def validate(session, scope, data, shop_ids=None, enforce_survey=False):
    values = load(_input, data)
    scope.ensure_shop(scope.company_id, values["shop_id"])
    if shop_ids is not None and values["shop_id"] not in shop_ids:
        raise field_error("shop_id", "unknown_shop")
    if not values["lines"]:
        raise field_error("lines", "required")
    values["answers"] = history_groups.check_answers(session, scope.company_id, values["answers"], enforce_survey)
    return values


def record(session, scope, values, customer, products=None):
    """Create the purchase, or update the one with the same shop and order code. Returns (purchase, created)."""
    if not values.get("order_code"):
        values["order_code"] = f"M-{uuid.uuid4().hex[:12].upper()}"  # 手動登録: the CRM issues the code
    def find():  # locked: concurrent re-recordings of one order take their turns
        return session.scalar(select(Purchase).where(Purchase.shop_id == values["shop_id"],
                                                     Purchase.order_code == values["order_code"]).with_for_update())

    purchase = find()
    created = purchase is None
    if created:  # the same order recorded concurrently: the later insert becomes an update
        purchase, created = add_unless_present(session, Purchase(
            company_id=scope.company_id, shop_id=values["shop_id"], order_code=values["order_code"],
            customer_id=customer["id"], member_number=customer["member_number"],
            purchased_at=values["purchased_at"], version=1, lines=[], answers=[]), find)  # known empty: not loaded
    if not created:
        purchase.version += 1
    _apply(session, purchase, values, customer, products)
    session.flush()
    events.purchase_recorded(session, purchase)
    return purchase, created


def record_orders(session, scope, orders, customers_by_number, shop_ids, options=None):
    """Record a batch of orders from a cart; each stands alone (idempotent by shop + order code), written set-wise.

    ``customers_by_number``: ``{member_number: {"id", "member_number"}}`` resolved by the customers service.
    ``options``: ``{"mode": "create_update" | "update_only" | "create_only"}``.
    Returns ``{"created", "updated", "unchanged", "cancelled", "skipped": [{"index", "reason"}],
    "errors": [{"index", "fields"}], "purchases": [{"index", "id", "version"}]}``. Raises ValidationFailed (options).
    """
    return order_batches.record_orders(session, scope, orders, customers_by_number, shop_ids, options)


check_orders = order_batches.check_orders
"""``record_orders`` in two steps: the checks, which write nothing, then ``write_orders`` of what they found."""
write_orders = order_batches.write_orders


def update_purchase(session, scope, purchase_id, data, customer, shop_ids=None):
    purchase = get_purchase(session, scope, purchase_id, lock=True)
    values = validate(session, scope, data, shop_ids, enforce_survey=True)
    if values["shop_id"] != purchase.shop_id:
        raise field_error("shop_id", "cannot_change")
    values["order_code"] = purchase.order_code
    purchase.version += 1
    _apply(session, purchase, values, customer)
    session.flush()
    events.purchase_recorded(session, purchase)
    return purchase


def set_counted(session, scope, purchase_id, counted):
    """集計対象 on or off; an uncounted purchase is kept and shown but left out of counts and reports. A cancelled or
    returned purchase is never counted: turning it on raises ValidationFailed at ``counted``."""
    purchase = get_purchase(session, scope, purchase_id, lock=True)
    counted = arguments.flag(counted, "counted")
    if counted and purchase.status != schemas.ORDERED:
        raise field_error("counted", "not_counted_status")
    purchase.counted = counted
    purchase.version += 1
    session.flush()
    events.purchase_recorded(session, purchase)
    return purchase


def delete_purchase(session, scope, purchase_id):
    purchase = get_purchase(session, scope, purchase_id, lock=True)
    purchase.version += 1
    events.purchase_deleted(session, purchase)
    session.delete(purchase)
    session.flush()
