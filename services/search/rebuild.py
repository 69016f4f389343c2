"""Rebuilding the index from the owners, and checking that index and owners agree (reconciliation).

Both page through the owners' ``export_for_index`` RPCs (event envelopes by id), so they work at any time, also
while events keep arriving: an envelope is applied only when newer than what the index holds.
"""
from sqlalchemy import delete, select

from .indexer import apply, note_changes
from .models import (AppliedVersion, CustomerSummary, IndexedAddressState, IndexedChoice, IndexedCustomer,
                     IndexedLine, IndexedMail, IndexedMailActivity, IndexedPurchase)

SOURCES = (  # (entity, how to fetch a page)
    ("customer", lambda owners, scope, after: owners["customers"].export_for_index(scope, after, 1000)),
    ("purchase", lambda owners, scope, after: owners["purchases"].export_for_index(scope, after, 1000)),
    ("mail", lambda owners, scope, after: owners["mailhistory"].export_for_index(scope, "mail", after, 1000)),
    ("mail_activity", lambda owners, scope, after: owners["mailhistory"].export_for_index(scope, "mail_activity",
                                                                                        after, 1000)),
    ("address_state", lambda owners, scope, after: owners["mailhistory"].export_for_index(scope, "address_state",
                                                                                        after, 1000)),
)


def owner_pages(owners, scope, fetch):
    after = 0
    while True:
        page = fetch(owners, scope, after)
        if not page:
            return
        yield page
        after = int(page[-1]["entity_id"])


def clear_company(session, company_id):
    """Forget everything the index holds for a company (before a rebuild from scratch)."""
    customer_ids = select(IndexedCustomer.id).where(IndexedCustomer.company_id == company_id)
    purchase_ids = select(IndexedPurchase.id).where(IndexedPurchase.company_id == company_id)
    session.execute(delete(IndexedChoice).where(IndexedChoice.customer_id.in_(customer_ids)))
    session.execute(delete(IndexedLine).where(IndexedLine.purchase_id.in_(purchase_ids)))
    summaries = select(CustomerSummary.customer_id).where(CustomerSummary.company_id == company_id)
    session.execute(delete(IndexedAddressState).where(IndexedAddressState.customer_id.in_(summaries)))
    for model in (IndexedCustomer, IndexedPurchase, IndexedMail, IndexedMailActivity, CustomerSummary):
        session.execute(delete(model).where(model.company_id == company_id))
    note_changes(session, [("reset", company_id)])


def rebuild(unit_of_work, owners, scope):
    """Clear the company's index and load it again from the owners. Returns how many of each were applied.

    While it runs, the company's searches see the index filling up again; events keep being applied, and one newer
    than the owner's page it concerns is kept."""
    with unit_of_work() as session:
        clear_company(session, scope["company_id"])
    counts = {}
    for entity, fetch in SOURCES:
        counts[entity] = 0
        for page in owner_pages(owners, scope, fetch):
            with unit_of_work() as session:
                # The page is loaded afresh: forget the versions noted for its entities, unless an event newer than
                # the page was applied since the page was read (that event's data stays).
                fetched = {str(e["entity_id"]): e["version"] for e in page}
                noted = session.execute(select(AppliedVersion.entity_id, AppliedVersion.version).where(
                    AppliedVersion.entity == entity, AppliedVersion.entity_id.in_(list(fetched)))).all()
                older = [entity_id for entity_id, version in noted if version <= fetched[entity_id]]
                if older:
                    session.execute(delete(AppliedVersion).where(AppliedVersion.entity == entity,
                                                                 AppliedVersion.entity_id.in_(older)))
                for envelope in page:
                    apply(session, envelope)
                    counts[entity] += 1
    return counts


def reconcile(read, owners, scope):
    """Compare owners and index: per entity, counts and the entities whose versions differ (or are missing)."""
    report = {"in_agreement": True, "entities": {}}
    for entity, fetch in SOURCES:
        owner_versions = {}
        for page in owner_pages(owners, scope, fetch):
            owner_versions.update({e["entity_id"]: e["version"] for e in page})
        with read() as session:
            index_versions = dict(session.execute(
                select(AppliedVersion.entity_id, AppliedVersion.version)
                .where(AppliedVersion.entity == entity, AppliedVersion.entity_id.in_(list(owner_versions) or ["-"]))
            ).all()) if owner_versions else {}
            present = _present_ids(session, entity, scope["company_id"], index_versions)
        stale = sorted((i for i, v in owner_versions.items() if index_versions.get(i) != v), key=int)[:100]
        extra = sorted((i for i in present if i not in owner_versions), key=int)[:100]
        report["entities"][entity] = {"owner": len(owner_versions), "index": len(present), "stale": stale,
                                      "extra": extra}
        if stale or extra or len(owner_versions) != len(present):
            report["in_agreement"] = False
    return report


def _present_ids(session, entity, company_id, index_versions):
    model = {"customer": IndexedCustomer, "purchase": IndexedPurchase, "mail": IndexedMail,
             "mail_activity": IndexedMailActivity}.get(entity)
    if model is None:  # address states are kept by customer and address: what was applied is what is there
        return set(index_versions)
    return {str(i) for i in session.scalars(select(model.id).where(model.company_id == company_id))}
