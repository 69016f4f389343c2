"""Rebuilding the index from the owners, checking that index and owners agree (reconciliation), and setting right
what disagrees entity by entity (repair).

Rebuild and repair page through the owners' ``export_for_index`` RPCs (event envelopes by id; a page of one for a
single entity), reconciliation through their ``index_versions`` (ids and versions only), so all work at any time,
also while events keep arriving: each entity is claimed as an event claims it.
"""
import concurrent.futures
import itertools

from sqlalchemy import String, and_, cast, delete, select

from services.common.index_versions import MAX_VERSIONS

from .indexer import claim_many, customers_touched, lock_customers, note_changes, repair_entity, write_page
from .models import (AddressErrorCount, AppliedVersion, IndexedAddressState, IndexedChoice, IndexedCustomer,
                     IndexedLine, IndexedMail, IndexedMailActivity, IndexedPurchase)

SOURCES = (  # (entity, how to fetch a page of envelopes with ids above ``after``)
    ("customer", lambda owners, scope, after, limit=1000: owners["customers"].export_for_index(scope, after, limit)),
    ("purchase", lambda owners, scope, after, limit=1000: owners["purchases"].export_for_index(scope, after, limit)),
    ("mail", lambda owners, scope, after, limit=1000: owners["mailhistory"].export_for_index(scope, "mail", after,
                                                                                             limit)),
    ("mail_activity", lambda owners, scope, after, limit=1000: owners["mailhistory"].export_for_index(
        scope, "mail_activity", after, limit)),
    ("address_state", lambda owners, scope, after, limit=1000: owners["mailhistory"].export_for_index(
        scope, "address_state", after, limit)),
)

VERSION_OWNERS = {"customer": "customers", "purchase": "purchases", "mail": "mailhistory",
                  "mail_activity": "mailhistory", "address_state": "mailhistory"}
"""Whose ``index_versions`` tells the versions of an entity (reconciliation)."""


def owner_state(owners):
    """``owner(entity, entity_id, company_id)``: the owner's envelope of one entity now, or None when the company has
    no such entity (the owner's export page of one envelope that starts at that id)."""
    fetches = dict(SOURCES)

    def owner(entity, entity_id, company_id):
        page = fetches[entity](owners, {"company_id": company_id, "role": "system"}, int(entity_id) - 1, 1)
        return page[0] if page and str(page[0]["entity_id"]) == str(entity_id) else None

    return owner


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
    counted = select(AddressErrorCount.customer_id).where(AddressErrorCount.company_id == company_id)
    session.execute(delete(IndexedAddressState).where(IndexedAddressState.customer_id.in_(counted)))
    for model in (IndexedCustomer, IndexedPurchase, IndexedMail, IndexedMailActivity, AddressErrorCount):
        session.execute(delete(model).where(model.company_id == company_id))
    note_changes(session, [("reset", company_id)], company_id)


def rebuild(unit_of_work, owners, scope):
    """Clear the company's index and load it again from the owners. Returns how many of each were loaded.

    While it runs, the company's searches see the index filling up again; events keep being applied, and one newer
    than the owner's page it concerns is kept."""
    with unit_of_work() as session:
        clear_company(session, scope["company_id"])
    counts = {}
    for entity, fetch in SOURCES:
        counts[entity] = 0
        for page in owner_pages(owners, scope, fetch):
            with unit_of_work() as session:
                load_page(session, entity, page)
            counts[entity] += len(page)
    return counts


def load_page(session, entity, page):
    """Write a page of the owner's envelopes into the index. Its entities are claimed as events claim theirs, and the
    customers whose address-error counts it touches locked first (all at once, in ascending order, as an event locks
    its own): the page and the events applied meanwhile wait for one another instead of failing."""
    lock_customers(session, customers_touched(*page))
    applied = claim_many(session, entity, [e["entity_id"] for e in page])
    # The page is the owner's state and the company's rows were cleared: written even at the version applied. A
    # higher version applied is an event newer than the page (events skipping versions took the owner's state): its
    # data stays.
    write_page(session, entity, [e for e in page if e["version"] >= applied[str(e["entity_id"])]])


def reconcile(read, owners, scope):
    """Compare owners and index: per entity, counts and the entities whose versions differ (or are missing). The
    entities are compared at once, each in a thread of its own (green threads in a service): the owners' pages and
    the index's reads of one overlap those of the others."""
    report = {"in_agreement": True, "entities": {}}
    with concurrent.futures.ThreadPoolExecutor(len(VERSION_OWNERS)) as pool:
        found = dict(zip(VERSION_OWNERS, pool.map(lambda entity: disagreements(read, owners, scope, entity),
                                                  VERSION_OWNERS)))
    for entity in VERSION_OWNERS:
        owner_count, index_count, stale, extra = found[entity]
        report["entities"][entity] = {"owner": owner_count, "index": index_count, "stale": stale[:100],
                                      "extra": extra[:100]}
        if stale or extra or owner_count != index_count:
            report["in_agreement"] = False
    return report


def repair(unit_of_work, read, owners, scope):
    """Set right, entity by entity, what reconciliation finds in disagreement: each stale or extra entity is claimed
    and given the owner's state and version (or taken out, when the owner has none). Events keep being applied
    meanwhile. Returns {"repaired": {entity: how many were set right}, "in_agreement": what a reconciliation says
    afterwards}."""
    owner = owner_state(owners)
    repaired = {}
    for entity in VERSION_OWNERS:
        _count, _present, stale, extra = disagreements(read, owners, scope, entity)
        repaired[entity] = 0
        for entity_id in sorted(set(stale) | set(extra), key=int):
            with unit_of_work() as session:
                repaired[entity] += repair_entity(session, entity, entity_id, scope["company_id"], owner)
    return {"repaired": repaired, "in_agreement": reconcile(read, owners, scope)["in_agreement"]}


def owner_versions(owners, scope, entity):
    """``(id, version)`` of every entity of the company its owner keeps, by id (``index_versions``, 50,000 a call).
    The next page is asked for as soon as a full page has come, while the caller goes through that one."""
    def page_after(after):
        return owners[VERSION_OWNERS[entity]].index_versions(scope, entity, after, MAX_VERSIONS)

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        coming = pool.submit(page_after, 0)
        while coming is not None:
            page = coming.result()
            coming = pool.submit(page_after, page[-1][0]) if len(page) >= MAX_VERSIONS else None
            for entity_id, version in page:
                yield int(entity_id), version


def disagreements(read, owners, scope, entity):
    """(the owner's count, the index's count, stale ids, extra ids) of one entity: stale when the index's version
    differs from the owner's or its row is missing, extra when the owner has no such entity. Both sides are read in
    the order of their ids and walked side by side: a page of each at a time is held, whatever the company's size."""
    owned = owner_versions(owners, scope, entity)
    with read() as session:
        if entity in _MODELS:
            held = _index_versions(session, entity, scope["company_id"])
        else:  # address states are kept by customer and address: what was applied is what is there
            owned, asked = itertools.tee(owned)  # the second runs a query's ids ahead of the first
            held = _applied_versions(session, entity, asked)
        return _compare(owned, held)


def _compare(owned, held):
    """Two streams of ``(id, version)`` in ascending id, walked side by side: (how many each holds, stale ids (a
    version differs, or the index lacks it), extra ids (the owner lacks it)), the ids as text."""
    owner_count = index_count = 0
    stale, extra = [], []
    mine, theirs = next(owned, None), next(held, None)
    while mine is not None or theirs is not None:
        if theirs is None or (mine is not None and mine[0] < theirs[0]):
            stale.append(str(mine[0]))
            owner_count += 1
            mine = next(owned, None)
        elif mine is None or theirs[0] < mine[0]:
            extra.append(str(theirs[0]))
            index_count += 1
            theirs = next(held, None)
        else:
            if mine[1] != theirs[1]:
                stale.append(str(mine[0]))
            owner_count += 1
            index_count += 1
            mine, theirs = next(owned, None), next(held, None)
    return owner_count, index_count, stale, extra


_MODELS = {"customer": IndexedCustomer, "purchase": IndexedPurchase, "mail": IndexedMail,
           "mail_activity": IndexedMailActivity}
_IDS_PER_QUERY = 5000
_ROWS_PER_FETCH = 10_000


def _index_versions(session, entity, company_id):
    """``(id, version applied)`` (None: not noted) of every row of the entity the index holds for the company, by id,
    fetched a part at a time."""
    model = _MODELS[entity]
    # plain rows (the connection's, not the ORM's): a quarter quicker for 800,000 of them
    rows = session.connection().execution_options(yield_per=_ROWS_PER_FETCH).execute(
        select(model.id, AppliedVersion.version).where(model.company_id == company_id)
        .outerjoin(AppliedVersion, and_(AppliedVersion.entity == entity,
                                        AppliedVersion.entity_id == cast(model.id, String)))
        .order_by(model.id))
    yield from rows


def _applied_versions(session, entity, owned):
    """``(id, version applied)`` of the owned ids the index noted a version of, by id (``owned`` by id too)."""
    while True:
        ids = [str(entity_id) for entity_id, _version in itertools.islice(owned, _IDS_PER_QUERY)]
        if not ids:
            return
        applied = session.execute(select(AppliedVersion.entity_id, AppliedVersion.version).where(
            AppliedVersion.entity == entity, AppliedVersion.entity_id.in_(ids))).all()
        yield from sorted(((int(entity_id), version) for entity_id, version in applied))
