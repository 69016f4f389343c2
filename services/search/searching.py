"""Counting and listing the customers that match a condition document."""
import datetime as dt

from sqlalchemy import func, select

from services.common.contracts import JST, load

from . import conditions as contract
from .models import CustomerSummary, IndexedCustomer
from .query import scope_clauses, section_clauses, sort_order

C, S = IndexedCustomer, CustomerSummary
_conditions = contract.Conditions()
_page = contract.Page()


def today_jst():
    return dt.datetime.now(JST).date()


def _count(session, clauses):
    return session.scalar(select(func.count()).select_from(C).where(*clauses))


def _base(session, scope, parsed):
    base = scope_clauses(scope)
    if parsed.get("saved_search_id"):
        from .exports import saved_members_clause

        base.append(saved_members_clause(session, scope, parsed["saved_search_id"]))
    return base


def answers_from_memory(store, parsed):
    """The in-memory columns answer when loaded; within a saved search's customers the database does."""
    return store is not None and store.ready and not parsed.get("saved_search_id")


def count(session, scope, conditions, with_sections=True, store=None):
    """{"total": n, "sections": {"attributes": n, ...}} — each section's count on its own, for the operator to see
    which one narrows the list. ``store``: the replica's in-memory columns, used when loaded."""
    parsed = load(_conditions, conditions or {})
    if answers_from_memory(store, parsed):
        return store.count(scope, parsed, today_jst(), with_sections)[0]
    sections = section_clauses(parsed, scope.company_id, today_jst())
    base = _base(session, scope, parsed)
    result = {"total": _count(session, base + [c for clauses in sections.values() for c in clauses]),
              "sections": {}}
    if with_sections:
        for name, clauses in sections.items():
            result["sections"][name] = _count(session, base + clauses)
    return result


def _rows(statement):
    return statement.select_from(C).outerjoin(S, S.customer_id == C.id)


_COLUMNS = (C.id, C.member_number, C.family_name, C.given_name, C.family_kana, C.given_kana, C.gender, C.shop_id,
            C.mail_permission, C.registered_at, S.purchase_count, S.purchase_total, S.latest_purchase_at)


def page(session, scope, conditions, paging=None, store=None):
    """One page of matching customers with their RFM figures, sorted as asked. ``store``: the replica's in-memory
    columns, which choose the page's customers when loaded (the rows are then read from the database)."""
    parsed = load(_conditions, conditions or {})
    options = load(_page, paging or {})
    per_page, number = options["per_page"], options["page"]
    if answers_from_memory(store, parsed):
        mask = store.matching(scope, parsed, today_jst())
        ids = store.ordered_page(mask, options["sort"], options["descending"], (number - 1) * per_page, per_page)
        if ids is not None:
            found = {r.id: r for r in session.execute(_rows(select(*_COLUMNS)).where(C.id.in_(ids))).all()} \
                if ids else {}
            return _page_result(number, per_page, [found[i] for i in ids if i in found])
    sections = section_clauses(parsed, scope.company_id, today_jst())
    clauses = _base(session, scope, parsed) + [c for group in sections.values() for c in group]
    order = sort_order(options["sort"], options["descending"])
    rows = session.execute(_rows(select(*_COLUMNS)).where(*clauses)
                           .order_by(*order, C.id).offset((number - 1) * per_page).limit(per_page)).all()
    return _page_result(number, per_page, rows)


def _page_result(number, per_page, rows):
    return {"page": number, "per_page": per_page, "customers": [
        {"id": r.id, "member_number": r.member_number, "family_name": r.family_name, "given_name": r.given_name,
         "family_kana": r.family_kana, "given_kana": r.given_kana, "gender": r.gender, "shop_id": r.shop_id,
         "mail_permission": r.mail_permission, "registered_at": r.registered_at,
         "purchase_count": r.purchase_count or 0, "purchase_total": r.purchase_total or 0,
         "latest_purchase_at": r.latest_purchase_at} for r in rows]}
