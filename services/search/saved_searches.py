"""Saved searches: a named condition set, live (evaluated each time) or frozen (the customers it matched when
saved). A frozen one's customers are kept in the service's database and copied to each replica's store through the
change journal (kind ``saved``)."""
import datetime as dt
import json

from sqlalchemy import delete, select

from services.common import arguments
from services.common.contracts import Timestamp, field_error

from . import matching, searching
from .indexer import note_changes
from .models import SavedSearch, SavedSearchMember

_moment = Timestamp()


def save_search(session, scope, name, conditions, frozen, store):
    """Save a condition set (refused like a search when it would not run); a frozen one with the customers it
    matches now in ``store``."""
    name = (arguments.text(name, "name", allow_none=True) or "").strip()
    conditions = arguments.mapping(conditions, "conditions")
    frozen = arguments.flag(frozen, "frozen")
    if not name or len(name) > 100:
        raise field_error("name", "required" if not name else "max_length:100")
    parsed = matching.parse(conditions)
    saved = SavedSearch(company_id=scope.company_id, shop_id=scope.shop_id if scope.is_shop else None, name=name,
                        conditions=json.dumps(conditions, ensure_ascii=False), frozen=frozen,
                        created_by=scope.account_id, created_at=dt.datetime.now(dt.timezone.utc))
    session.add(saved)
    session.flush()
    if frozen:
        ids = searching.matching_ids(session, scope, parsed, store)
        session.add_all([SavedSearchMember(saved_search_id=saved.id, customer_id=i) for i in ids])
        saved.customer_count = len(ids)
        note_changes(session, [("saved", saved.id)], scope.company_id)
    return saved


def list_saved(session, scope):
    query = select(SavedSearch).where(SavedSearch.company_id == scope.company_id)
    if scope.is_shop:
        query = query.where(SavedSearch.shop_id == scope.shop_id)
    return [{"id": s.id, "name": s.name, "frozen": s.frozen, "conditions": json.loads(s.conditions),
             "customer_count": s.customer_count, "created_at": _moment._serialize(s.created_at, None, None)}
            for s in session.scalars(query.order_by(SavedSearch.id.desc()))]


def delete_saved(session, scope, saved_id):
    saved = matching.saved_search(session, scope, saved_id)
    if saved.frozen:
        note_changes(session, [("saved", saved.id)], scope.company_id)
    session.execute(delete(SavedSearchMember).where(SavedSearchMember.saved_search_id == saved.id))
    session.delete(saved)
