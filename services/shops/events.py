"""Events the shops service publishes on ``shops.events`` (envelope: services/common/events.py).

| event type         | entity  | data                                    |
| company_created    | company | Company schema                          |
| company_updated    | company | Company schema                          |
| allowlist_updated  | company | {"networks": [str, ...]}                |
| shop_created       | shop    | Shop schema (permissions included)      |
| shop_updated       | shop    | Shop schema (permissions included)      |

Passwords and hashes never travel in events.
"""
from services.common.outbox import record_event

from . import schemas
from .models import OutboxEvent

COMPANY_CREATED = "company_created"
COMPANY_UPDATED = "company_updated"
ALLOWLIST_UPDATED = "allowlist_updated"
SHOP_CREATED = "shop_created"
SHOP_UPDATED = "shop_updated"

_company = schemas.Company()
_shop = schemas.Shop()


def company_changed(session, company, event_type=COMPANY_UPDATED):
    return record_event(session, OutboxEvent, event_type, entity="company", entity_id=company.id,
                        version=company.version, company_id=company.id, data=_company.dump(company))


def allowlist_changed(session, company, networks):
    return record_event(session, OutboxEvent, ALLOWLIST_UPDATED, entity="company", entity_id=company.id,
                        version=company.version, company_id=company.id, data={"networks": list(networks)})


def shop_changed(session, shop, event_type=SHOP_UPDATED):
    return record_event(session, OutboxEvent, event_type, entity="shop", entity_id=shop.id,
                        version=shop.version, company_id=shop.company_id, data=_shop.dump(shop))
