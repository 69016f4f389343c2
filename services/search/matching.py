"""Which customers a condition document asks for: the clauses, over a company's store, of the caller's scope, of the
saved search it is narrowed to (``saved_search_id``) and of each section."""
import datetime as dt
import json

from sqlalchemy import and_, select, true

from services.common import arguments
from services.common.contracts import JST, load
from services.common.errors import NotFound

from . import conditions as contract
from . import rfm, rfm_settings
from .models import SavedSearch
from .query import scope_clauses, section_clauses
from .store_tables import customers, saved_members

C = customers.c
_conditions = contract.Conditions()
MAX_SAVED_DEPTH = 10  # saved searches narrowed to saved searches, followed this deep


def today_jst():
    return dt.datetime.now(JST).date()


def parse(conditions):
    """The validated condition document (raises ValidationFailed with every error by path)."""
    return load(_conditions, conditions or {})


def saved_search(session, scope, saved_id):
    """A saved search in the caller's scope. Raises NotFound."""
    saved = session.get(SavedSearch, arguments.entity_id(saved_id, "saved_search_id"))
    if saved is None or saved.company_id != scope.company_id or (scope.is_shop and saved.shop_id != scope.shop_id):
        raise NotFound("saved search not found")
    return saved


def saved_members_clause(session, scope, saved_id, today, depth=0):
    """The customers of a saved search: its fixed list, or its conditions evaluated now (within the saved search
    it was itself narrowed to, if any: that one was saved before it, so the chain ends)."""
    saved = saved_search(session, scope, saved_id)
    if saved.frozen:
        return C.id.in_(select(saved_members.c.customer_id).where(saved_members.c.saved_search_id == saved.id))
    parsed = parse(json.loads(saved.conditions))
    clauses = [c for group in sections(session, scope, parsed, today).values() for c in group]
    within = parsed.get("saved_search_id")
    if within and within != saved.id and depth < MAX_SAVED_DEPTH:
        clauses.append(saved_members_clause(session, scope, within, today, depth + 1))
    return and_(true(), *clauses)


def sections(session, scope, parsed, today):
    """{section: [clauses]}. An ``rfm`` section is read over the purchases of the shops the caller may ask
    (``rfm.shops_for``: a shop account's own) with the company's RFM設定."""
    settings = None
    if parsed.get("rfm"):
        parsed = dict(parsed, rfm=dict(parsed["rfm"], shop_ids=rfm.shops_for(scope, parsed["rfm"]["shop_ids"])))
        settings = rfm_settings.settings_of(session, scope.company_id)
    return section_clauses(parsed, today, settings)


def clauses(session, scope, parsed, today=None):
    """(clauses every answer shares: the scope and the saved search, {section: [clauses]})."""
    today = today or today_jst()
    base = scope_clauses(scope)
    if parsed.get("saved_search_id"):
        base.append(saved_members_clause(session, scope, parsed["saved_search_id"], today))
    return base, sections(session, scope, parsed, today)


def all_clauses(session, scope, parsed, today=None):
    """Every clause of a document: the customers it finds."""
    base, sections = clauses(session, scope, parsed, today)
    return base + [c for group in sections.values() for c in group]
