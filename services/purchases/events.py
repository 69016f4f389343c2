"""Events the purchases service publishes on ``purchases.events`` (envelope: services/common/events.py).

| event type             | entity        | data                                                       |
| purchase_recorded      | purchase      | Purchase schema (lines, answers, counted, customer)        |
| purchases_recorded     | purchase_batch| {"purchases": [RecordedPurchase, ...]}: a batch of orders   |
| purchase_deleted       | purchase      | {"id", "shop_id", "customer_id", "member_number", "order_code"} |
| product_updated        | product       | Product schema                                             |
| category_updated       | category      | Category schema (deleted: true when removed)               |
| history_group_updated  | history_group | HistoryGroup schema (with choices)                         |
"""

from services.common.contracts import moment_text
from services.common.outbox import record_event, record_events

from . import order_attributes, schemas
from .models import OutboxEvent

PURCHASE_RECORDED = "purchase_recorded"
PURCHASES_RECORDED = "purchases_recorded"
PURCHASE_DELETED = "purchase_deleted"
PRODUCT_UPDATED = "product_updated"
CATEGORY_UPDATED = "category_updated"
HISTORY_GROUP_UPDATED = "history_group_updated"

_purchase = schemas.Purchase()
_product = schemas.Product()
_group = schemas.HistoryGroup()


def purchase_recorded(session, purchase):
    return record_event(session, OutboxEvent, PURCHASE_RECORDED, entity="purchase", entity_id=purchase.id,
                        version=purchase.version, company_id=purchase.company_id, data=_purchase.dump(purchase))


def recorded_purchase(p):
    """RecordedPurchase: a purchase as a batch event carries it, what a reader of purchases keeps of an order (its
    id and version, the order, its lines' products, quantities and prices), without the names, remarks and answers
    that the Purchase schema adds. Built directly: the schema's dump was a third of a batch's time."""
    return {"id": p.id, "version": p.version, "shop_id": p.shop_id, "customer_id": p.customer_id,
            "member_number": p.member_number, "order_code": p.order_code,
            "purchased_at": moment_text(p.purchased_at), "shipped_at": moment_text(p.shipped_at), "sales": p.sales,
            "billed_amount": p.billed_amount, "media": p.media,
            "order_attributes": order_attributes.as_dict(p.order_attributes), "counted": p.counted, "status": p.status,
            "lines": [{"product_code": line.product_code, "quantity": line.quantity, "unit_price": line.unit_price}
                      for line in p.lines]}


def purchases_recorded(session, company_id, batch_id, purchases):
    """One ``purchases_recorded`` event for the purchases a batch created or changed, in the batch's order: it stands
    for a ``purchase_recorded`` of each (same id and version) to a reader that needs no more than RecordedPurchase.
    One event instead of hundreds: each is a row in the outbox, a message on the broker and one for every reader."""
    if not purchases:
        return []
    return record_events(session, OutboxEvent, [
        {"event_type": PURCHASES_RECORDED, "entity": "purchase_batch", "entity_id": batch_id, "version": 1,
         "company_id": company_id, "data": {"purchases": [recorded_purchase(p) for p in purchases]}}])


def purchase_deleted(session, purchase):
    return record_event(session, OutboxEvent, PURCHASE_DELETED, entity="purchase", entity_id=purchase.id,
                        version=purchase.version, company_id=purchase.company_id,
                        data={"id": purchase.id, "shop_id": purchase.shop_id, "customer_id": purchase.customer_id,
                              "member_number": purchase.member_number, "order_code": purchase.order_code})


def product_changed(session, product):
    return record_event(session, OutboxEvent, PRODUCT_UPDATED, entity="product", entity_id=product.id,
                        version=product.version, company_id=product.company_id, data=_product.dump(product))


def products_changed(session, products):
    """``product_updated`` for each of many products, written at once."""
    return record_events(session, OutboxEvent, [
        {"event_type": PRODUCT_UPDATED, "entity": "product", "entity_id": p.id, "version": p.version,
         "company_id": p.company_id, "data": _product.dump(p)} for p in products])


def category_changed(session, category, product_count, deleted=False):
    data = {"id": category.id, "shop_id": category.shop_id, "name": category.name, "product_count": product_count,
            "deleted": deleted}
    return record_event(session, OutboxEvent, CATEGORY_UPDATED, entity="category", entity_id=category.id,
                        version=category.version, company_id=category.company_id, data=data)


def history_group_changed(session, group):
    return record_event(session, OutboxEvent, HISTORY_GROUP_UPDATED, entity="history_group", entity_id=group.id,
                        version=group.version, company_id=group.company_id, data=_group.dump(group))
