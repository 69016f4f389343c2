"""Events the purchases service publishes on ``purchases.events`` (envelope: services/common/events.py).

| event type             | entity        | data                                                       |
| purchase_recorded      | purchase      | Purchase schema (lines, answers, counted, customer)        |
| purchase_deleted       | purchase      | {"id", "shop_id", "customer_id", "member_number", "order_code"} |
| product_updated        | product       | Product schema                                             |
| category_updated       | category      | Category schema (deleted: true when removed)               |
| history_group_updated  | history_group | HistoryGroup schema (with choices)                         |
"""
from services.common.outbox import record_event, record_events

from . import schemas
from .models import OutboxEvent

PURCHASE_RECORDED = "purchase_recorded"
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


def purchases_recorded(session, purchases):
    """``purchase_recorded`` for each purchase of a batch, written at once; each as ``purchase_recorded`` makes it."""
    return record_events(session, OutboxEvent, [
        {"event_type": PURCHASE_RECORDED, "entity": "purchase", "entity_id": p.id, "version": p.version,
         "company_id": p.company_id, "data": _purchase.dump(p)} for p in purchases])


def purchase_deleted(session, purchase):
    return record_event(session, OutboxEvent, PURCHASE_DELETED, entity="purchase", entity_id=purchase.id,
                        version=purchase.version, company_id=purchase.company_id,
                        data={"id": purchase.id, "shop_id": purchase.shop_id, "customer_id": purchase.customer_id,
                              "member_number": purchase.member_number, "order_code": purchase.order_code})


def product_changed(session, product):
    return record_event(session, OutboxEvent, PRODUCT_UPDATED, entity="product", entity_id=product.id,
                        version=product.version, company_id=product.company_id, data=_product.dump(product))


def category_changed(session, category, product_count, deleted=False):
    data = {"id": category.id, "shop_id": category.shop_id, "name": category.name, "product_count": product_count,
            "deleted": deleted}
    return record_event(session, OutboxEvent, CATEGORY_UPDATED, entity="category", entity_id=category.id,
                        version=category.version, company_id=category.company_id, data=data)


def history_group_changed(session, group):
    return record_event(session, OutboxEvent, HISTORY_GROUP_UPDATED, entity="history_group", entity_id=group.id,
                        version=group.version, company_id=group.company_id, data=_group.dump(group))
