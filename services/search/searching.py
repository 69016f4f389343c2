"""Counting and listing the customers that match a condition document, over the replica's store."""
from sqlalchemy import and_, func, select, true

from services.common.contracts import load

from . import conditions as contract
from . import matching, rfm_reports
from .query import sort_order
from .store_tables import customers

C = customers.c
_page = contract.Page()


def count(session, scope, conditions, with_sections=True, store=None):
    """{"total": n, "sections": {"attributes": n, ...}} — each section's count on its own, for the operator to see
    which one narrows the list; all of them in one pass over the company's customers. ``store``: the replica's
    store (``execute(company_id, statement)``); ``session``: the service's database (saved searches)."""
    parsed = matching.parse(conditions)
    base, sections = matching.clauses(session, scope, parsed)
    names = list(sections) if with_sections else []
    if not names:
        everything = [c for clauses in sections.values() for c in clauses]
        row = store.execute(scope.company_id, select(func.count()).select_from(customers).where(*base, *everything))[0]
        return {"total": row[0], "sections": {}}
    # each section's clauses evaluated once per customer, then counted alone and together
    flags = select(*[and_(true(), *sections[name]).label(f"s{i}") for i, name in enumerate(names)]) \
        .select_from(customers).where(*base).subquery()
    columns = [flags.c[f"s{i}"] for i in range(len(names))]
    figures = [func.count().filter(and_(*columns))] + [func.count().filter(column) for column in columns]
    row = store.execute(scope.company_id, select(*figures).select_from(flags))[0]
    return {"total": row[0], "sections": dict(zip(names, row[1:]))}


PAGE_COLUMNS = ("id", "member_number", "family_name", "given_name", "family_kana", "given_kana", "gender", "shop_id",
                "mail_permission", "registered_at", "purchase_count", "purchase_total", "latest_purchase_at")


def page(session, scope, conditions, paging=None, store=None):
    """One page of matching customers with their RFM figures and today's RFM rank (``rfm_rank``, over the scope's
    shops; None for a customer without a counted purchase), sorted as asked (``sort_order``), then by id."""
    parsed = matching.parse(conditions)
    options = load(_page, paging or {})
    per_page, number = options["per_page"], options["page"]
    statement = (select(*[C[name] for name in PAGE_COLUMNS]).where(*matching.all_clauses(session, scope, parsed))
                 .order_by(*sort_order(options["sort"], options["descending"]), C.id)
                 .offset((number - 1) * per_page).limit(per_page))
    hits = [dict(zip(PAGE_COLUMNS, row)) for row in store.execute(scope.company_id, statement)]
    if hits:
        ids = [hit["id"] for hit in hits]
        ranks, _settings = rfm_reports.ranks_today(session, scope, store, lambda column: column.in_(ids))
        for hit in hits:
            hit["rfm_rank"] = ranks.get(hit["id"])
    return {"page": number, "per_page": per_page, "customers": hits}


def matching_ids(session, scope, parsed, store):
    """Every matching customer's id (a frozen saved search keeps them)."""
    statement = select(C.id).where(*matching.all_clauses(session, scope, parsed)).order_by(C.id)
    return [row[0] for row in store.execute(scope.company_id, statement)]
