"""対応履歴: a customer's support history."""
from sqlalchemy import select

from services.common import arguments
from services.common.contracts import load
from services.common.errors import NotFound

from . import events, schemas
from .customers import get_customer
from .models import SupportEntry

_input = schemas.SupportEntryInput()
_period = schemas.Period()


def list_entries(session, scope, customer_id, period=None):
    customer = get_customer(session, scope, customer_id)
    bounds = load(_period, period or {})
    query = select(SupportEntry).where(SupportEntry.customer_id == customer.id)
    if bounds["entered_from"]:
        query = query.where(SupportEntry.entered_at >= bounds["entered_from"])
    if bounds["entered_to"]:
        query = query.where(SupportEntry.entered_at <= bounds["entered_to"])
    return list(session.scalars(query.order_by(SupportEntry.entered_at.desc(), SupportEntry.id.desc())))


def _entry(session, scope, entry_id):
    entry = session.get(SupportEntry, arguments.entity_id(entry_id, "entry_id"))
    if entry is None:
        raise NotFound("support entry not found")
    get_customer(session, scope, entry.customer_id)
    return entry


def add_entry(session, scope, customer_id, data):
    customer = get_customer(session, scope, customer_id)
    values = load(_input, data)
    entry = SupportEntry(company_id=customer.company_id, customer_id=customer.id, staff=values["staff"],
                         entered_at=values["entered_at"], content=values["content"], version=1)
    session.add(entry)
    session.flush()
    events.support_entry_changed(session, entry, events.SUPPORT_ENTRY_ADDED)
    return entry


def update_entry(session, scope, entry_id, data):
    entry = _entry(session, scope, entry_id)
    values = load(_input, data)
    entry.staff, entry.entered_at, entry.content = values["staff"], values["entered_at"], values["content"]
    entry.version += 1
    session.flush()
    events.support_entry_changed(session, entry, events.SUPPORT_ENTRY_UPDATED)
    return entry


def delete_entry(session, scope, entry_id):
    remove(session, _entry(session, scope, entry_id))
    session.flush()


def remove(session, entry):
    """Delete an entry (its scope already checked), announcing it."""
    entry.version += 1
    events.support_entry_changed(session, entry, events.SUPPORT_ENTRY_DELETED)
    session.delete(entry)

