"""Applying the owners' events to the index, idempotently: an event older than (or as old as) what was applied for
its entity changes nothing."""
import datetime as dt
import json
import logging
import re
import time

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError

from services.common import pgcopy
from services.common.contracts import Timestamp
from services.common.db import insert_for
from services.common.text import fold_for_matching

from .models import (AddressErrorCount, AppliedVersion, IndexChange, IndexedAddressState, IndexedChoice,
                     IndexedCustomer, IndexedLine, IndexedMail, IndexedMailActivity, IndexedPurchase)

log = logging.getLogger(__name__)
_time = Timestamp()
# The form the owners publish moments in (Timestamp's output): parsed directly, the same moment Timestamp would give.
_PUBLISHED_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{6})?[+-]\d{2}:\d{2}")


def _moment(value):
    if not value:
        return None
    if _PUBLISHED_MOMENT.fullmatch(value):
        try:
            return dt.datetime.fromisoformat(value).astimezone(dt.timezone.utc)
        except ValueError:  # out of range: Timestamp reports it
            pass
    return _time.deserialize(value)


def _date(value):
    return dt.date.fromisoformat(value) if value else None


def claim(session, entity, entity_id):
    """The version applied for an entity (0: none yet), its ``applied_versions`` row locked to the end of the
    transaction, so that the changes of one entity are applied one after another whichever replica, worker or rebuild
    applies them, and none fails on a row another inserted meanwhile.

    The row is inserted first when missing (version 0): on SQLite that write takes the database's write lock at once;
    on PostgreSQL an insert of a row another transaction has just inserted waits for it and then does nothing, and
    FOR UPDATE holds the row."""
    session.execute(_insert(session, AppliedVersion).values(entity=entity, entity_id=str(entity_id), version=0)
                    .on_conflict_do_nothing())
    return session.scalar(_version_of(entity, entity_id).with_for_update())


def _version_of(entity, entity_id):
    return select(AppliedVersion.version).where(AppliedVersion.entity == entity,
                                                AppliedVersion.entity_id == str(entity_id))


def note_version(session, entity, entity_id, version):
    """Note the version now applied for a claimed entity (0 forgets it: the index holds nothing of it)."""
    which = (AppliedVersion.entity == entity, AppliedVersion.entity_id == str(entity_id))
    if version:
        session.execute(update(AppliedVersion).where(*which).values(version=version))
    else:
        session.execute(delete(AppliedVersion).where(*which))


def _insert(session, model):
    return insert_for(session, model.__table__)


def upsert(session, model, row, update_only=None):
    """Insert an index row, or update the row with its key (``update_only``: just those columns of it). A statement of
    its own, not the ORM's read-then-write: a rebuild clearing the company meanwhile, or another transaction inserting
    the same row, never makes it fail."""
    insert = _insert(session, model).values(**row)
    keys = [column.name for column in model.__table__.primary_key]
    changed = {name: insert.excluded[name] for name in (update_only or row) if name not in keys}
    session.execute(insert.on_conflict_do_update(index_elements=keys, set_=changed))


def customer_row(event):
    """The index row of a customer event, and its choices."""
    data = event["data"]
    number = data["member_number"]
    row = {"id": int(event["entity_id"]), "company_id": event["company_id"], "shop_id": data["shop_id"],
           "member_number": number,
           "member_number_value": int(number) if number.isdigit() and len(number) < 18 else None,
           # name, then furigana, a space between (a folded needle has none, so it never spans the two)
           "name_key": " ".join("".join(fold_for_matching(data[k]) for k in keys)
                                for keys in (("family_name", "given_name"), ("family_kana", "given_kana"))),
           "birth_date": _date(data["birth_date"]), "points_expiry": _date(data["points_expiry"]),
           "earliest_expiry": _date(data["earliest_expiry"]), "last_login_at": _moment(data["last_login_at"]),
           "registered_at": _moment(data["registered_at"])}
    for key in ("family_name", "given_name", "family_kana", "given_kana", "gender", "mail_permission", "mobile_email",
                "pc_email", "dm_permission", "mobile_phone", "home_phone", "fax", "points_held", "valid_points"):
        row[key] = data[key]
    # Events published before customers had a LINE permission carry none: allowed, as the owner defaults it.
    row["line_permission"] = data.get("line_permission", True)
    row["customer_class"] = data.get("customer_class", "new")
    for i, remark in enumerate(data["remarks"], start=1):
        row[f"remark{i}"] = remark
    for i, extra in enumerate(data["extras"], start=1):
        row[f"extra{i}"] = extra
    choices = [{"customer_id": row["id"], "group_id": int(g), "choice_id": c} for g, c in data["choices"].items()]
    return row, choices


def purchase_row(event):
    """The index row of a purchase event, and its lines."""
    data = event["data"]
    row = {"id": int(event["entity_id"]), "company_id": event["company_id"], "customer_id": data["customer_id"],
           "shop_id": data["shop_id"], "order_code": data["order_code"],
           "purchased_at": _moment(data["purchased_at"]), "shipped_at": _moment(data["shipped_at"]),
           "billed_amount": data["billed_amount"], "media": data["media"],
           # events published before the index kept sales and prices carry none (the migration marks them stale)
           "sales": data.get("sales", 0),
           # most orders have no attributes: "{}" without an encoder made for them (json.dumps with options makes one)
           "order_attributes": (json.dumps(data["order_attributes"], ensure_ascii=False) if data["order_attributes"]
                                else "{}"), "counted": data["counted"]}
    lines = [{"purchase_id": row["id"], "customer_id": data["customer_id"], "product_code": line["product_code"],
              "quantity": line["quantity"], "unit_price": line.get("unit_price") or 0} for line in data["lines"]]
    return row, lines


def mail_row(event):
    data = event["data"]
    return {"id": data["id"], "company_id": event["company_id"], "mail_number": data["mail_number"],
            "kind": data["kind"], "family": data["family"], "scenario_number": data["scenario_number"],
            "step": data["step"], "name": data["name"]}


def activity_row(event):
    data = event["data"]
    return {"id": data["id"], "company_id": event["company_id"], "customer_id": data["customer_id"],
            "mail_id": data["mail_id"], "activity": data["activity"], "result": data["result"],
            "occurred_at": _moment(data["occurred_at"])}


def write_customer(session, event):
    customer_id = int(event["entity_id"])
    session.execute(delete(IndexedChoice).where(IndexedChoice.customer_id == customer_id))
    if event["event_type"] == "customer_deleted":
        session.execute(delete(IndexedCustomer).where(IndexedCustomer.id == customer_id))
    else:
        row, choices = customer_row(event)
        upsert(session, IndexedCustomer, row)
        session.add_all(IndexedChoice(**choice) for choice in choices)
    return [("customer", customer_id)]


def lock_customers(session, customer_ids):
    """Serialise the address-error counts of customers across replicas and workers: two address states of the same
    customer applied at once would each count only their own and the later commit would win. On PostgreSQL transaction
    advisory locks (held to commit) order them, taken in ascending order so that two transactions locking several
    never wait for each other in a circle; SQLite writes one transaction at a time anyway."""
    if session.bind.dialect.name != "postgresql":
        return
    locked = session.info.setdefault("locked_customers", set())
    wanted = sorted(int(customer_id) for customer_id in set(customer_ids) - locked)
    if wanted:  # one statement, taking them in the order of the sorted keys
        session.execute(text("SELECT pg_advisory_xact_lock(key) FROM (SELECT unnest(CAST(:keys AS bigint[])) AS key "
                             "ORDER BY key) AS wanted"), {"keys": wanted})
        locked.update(wanted)


def write_purchase(session, event):
    purchase_id = int(event["entity_id"])
    session.execute(delete(IndexedLine).where(IndexedLine.purchase_id == purchase_id))
    if event["event_type"] == "purchase_deleted":
        session.execute(delete(IndexedPurchase).where(IndexedPurchase.id == purchase_id))
    else:
        row, lines = purchase_row(event)
        upsert(session, IndexedPurchase, row)
        session.add_all(IndexedLine(**line) for line in lines)
    session.flush()
    return [("purchase", purchase_id)]


def write_mail(session, event):
    upsert(session, IndexedMail, mail_row(event))
    return [("mail", int(event["data"]["id"]))]


def write_mail_activity(session, event):
    upsert(session, IndexedMailActivity, activity_row(event))
    return [("activity", int(event["data"]["id"]))]


def write_address_state(session, event):
    data = event["data"]
    lock_customers(session, {data["customer_id"]})  # already held unless the owner's state names another customer
    upsert(session, IndexedAddressState, {"customer_id": data["customer_id"], "address": data["address"],
                                          "address_error": data["address_error"]})
    errors = session.scalar(select(func.count()).select_from(IndexedAddressState).where(
        IndexedAddressState.customer_id == data["customer_id"], IndexedAddressState.address_error.is_(True)))
    upsert(session, AddressErrorCount, {"customer_id": data["customer_id"], "company_id": event["company_id"],
                                        "address_errors": errors}, update_only=["address_errors"])
    return [("address_errors", int(data["customer_id"]))]


WRITERS = {  # event type → what writes its data into the index; returns the changes as the journal names them
    "customer_created": write_customer, "customer_updated": write_customer, "customer_deleted": write_customer,
    "purchase_recorded": write_purchase, "purchase_deleted": write_purchase,
    "mail_updated": write_mail, "mail_activity_recorded": write_mail_activity,
    "address_error_changed": write_address_state,
}
DELETIONS = {"customer": "customer_deleted", "purchase": "purchase_deleted"}  # the entities an owner deletes


def customers_touched(*events):
    """The customers whose address-error count applying the events may change (to lock before their entities are
    claimed)."""
    return {event["data"]["customer_id"] for event in events if event["entity"] == "address_state"}


def note_changes(session, changes, company_id):
    """Journal a company's changes ((kind, key) pairs) in the transaction that makes them, for the replicas' stores to
    follow: the keys of a kind that follow each other in one entry (``last_key``). An import's batch of new purchases,
    their ids drawn together, is one entry where it was one a purchase (a fifth of the index database's time)."""
    now = dt.datetime.now(dt.timezone.utc)
    pgcopy.insert_rows(session.connection(), IndexChange.__table__, [
        {"kind": kind, "key": first, "last_key": None if last == first else last, "company_id": company_id,
         "changed_at": now} for kind, first, last in key_runs(changes)])


def key_runs(changes):
    """(kind, first key, last key) for each run of consecutive keys of a kind among the (kind, key) pairs."""
    keys_of = {}
    for kind, key in changes:
        keys_of.setdefault(kind, set()).add(int(key))
    runs = []
    for kind in sorted(keys_of):
        first = last = None
        for key in sorted(keys_of[kind]):
            if last is not None and key == last + 1:
                last = key
                continue
            if first is not None:
                runs.append((kind, first, last))
            first = last = key
        runs.append((kind, first, last))
    return runs


def write(session, event):
    """Write an envelope's data as the entity's state, note its version and journal the change."""
    note_changes(session, WRITERS[event["event_type"]](session, event), event["company_id"])
    note_version(session, event["entity"], event["entity_id"], event["version"])


def apply(session, event, owner=None):
    """Apply one event envelope; returns True when it changed the index (and journals the change).

    An event as old as (or older than) what was applied for its entity changes nothing. With ``owner``, a function
    ``owner(entity, entity_id, company_id)`` returning the owner's envelope of the entity now (None: the owner has
    none), the index follows the owner's versions: an event more than one version above the applied one (an update
    missed or still on its way, or an event whose version the owner never gave) makes the index take the owner's
    current state and version instead of the event's (``follow_owner``)."""
    lock_customers(session, customers_touched(event))
    applied = claim(session, event["entity"], event["entity_id"])
    if event["version"] <= applied:
        return False
    if owner is not None and event["version"] > applied + 1:
        state = owner(event["entity"], event["entity_id"], event["company_id"])
        log.info("%s %s: event version %s after version %s applied; the owner's state applied instead (version %s)",
                 event["entity"], event["entity_id"], event["version"], applied, state and state["version"])
        return follow_owner(session, event, state, applied)
    write(session, event)
    return True


# A batch event: its data's list → the event type and entity each of its entries stands for.
BATCH_EVENTS = {"purchases_recorded": ("purchases", "purchase_recorded", "purchase"),
                # a customer's first version is its creation; the index writes both kinds alike
                "customers_recorded": ("customers", "customer_updated", "customer")}


def unbatched(events):
    """The envelopes with each batch event (``purchases_recorded``, ``customers_recorded``) replaced by one envelope
    for every entity it carries, with the entity's own id and version: applied (and de-duplicated) as if each had
    come alone."""
    single = []
    for event in events:
        if event["event_type"] not in BATCH_EVENTS:
            single.append(event)
            continue
        key, event_type, entity = BATCH_EVENTS[event["event_type"]]
        single.extend({"event_id": f"{event['event_id']}:{n}", "event_type": event_type, "entity": entity,
                       "entity_id": str(data["id"]), "version": data["version"], "company_id": event["company_id"],
                       "occurred_at": event["occurred_at"], "data": data}
                      for n, data in enumerate(event["data"][key]))
    return single


def apply_batch(session, events, owner=None):
    """Apply many event envelopes in the session's transaction, in a few statements per entity; returns how many
    entities it changed. The index ends as if each event had been applied by ``apply`` in the order of its versions:

    - every customer whose address-error count may change is locked first, all at once in ascending order, and then
      each entity's rows claimed in one order (as a rebuild's page does): batches applied at once by replicas wait
      for one another instead of deadlocking;
    - an event as old as (or older than) the applied version changes nothing, a duplicate counts once;
    - an envelope carries its entity's whole state: of the versions that follow the applied one without a gap only
      the latest is written, with the others' rows (``write_page``);
    - an entity whose newer versions skip one, or end in its deletion, is applied event by event by ``apply`` (which
      asks the owner when a version is missing), in the same transaction.
    """
    if len(events) == 1:
        return int(apply(session, events[0], owner))
    by_entity = {}  # entity → entity id → version → envelope
    for event in events:
        versions = by_entity.setdefault(event["entity"], {}).setdefault(str(event["entity_id"]), {})
        versions.setdefault(event["version"], event)
    lock_customers(session, customers_touched(*(e for versions in by_entity.get("address_state", {}).values()
                                                for e in versions.values())))
    changed = 0
    for entity in sorted(by_entity):
        entities = by_entity[entity]
        applied = claim_many(session, entity, entities, {
            entity_id: max(versions) for entity_id, versions in entities.items()
            if sorted(versions) == list(range(1, len(versions) + 1))
            and versions[max(versions)]["event_type"] != DELETIONS.get(entity)})
        pages, one_by_one = {}, []
        for entity_id, versions in entities.items():
            current = applied.get(entity_id, 0)
            newer = [versions[v] for v in sorted(versions) if v > current]
            if not newer:
                continue
            if [e["version"] for e in newer] == list(range(current + 1, current + 1 + len(newer))) \
                    and newer[-1]["event_type"] != DELETIONS.get(entity):
                pages.setdefault(newer[-1]["company_id"], []).append(newer[-1])
            else:
                one_by_one.extend(newer)
        for page in pages.values():  # a page per company: the journal notes each change with its company
            write_page(session, entity, page, noted=applied.inserted)
            changed += len(page)
        changed += sum(apply(session, event, owner) for event in one_by_one)
    return changed


def follow_owner(session, event, state, applied):
    """Make the index hold the owner's ``state`` of the event's (claimed) entity, with the owner's version.

    The owner was asked while the entity was claimed: any change of it the owner makes later comes as an event with a
    higher version, applied after this. When the owner has no such entity, a deletion is applied (and its version
    noted: ids are never handed out twice); otherwise what the index holds of the entity in that company is removed
    and no version noted, so that an event for an id the owner never gave cannot hold a version back for it."""
    entity, entity_id, company_id = event["entity"], event["entity_id"], event["company_id"]
    if state is not None:
        write(session, state)
        return True
    if event["event_type"] == DELETIONS.get(entity):
        write(session, event)
        return True
    changed = remove(session, entity, int(entity_id), company_id)
    if applied == 0:
        note_version(session, entity, entity_id, 0)
    return changed


def repair_entity(session, entity, entity_id, company_id, owner):
    """Claim an entity and make the index hold the owner's state of it (a repair). Returns True when it changed.

    An address state's owner is asked once to know which customer to lock first (as its events lock it), and again
    once the entity is claimed: what the owner answers then is what the index keeps.

    On SQLite the owner is asked before the claim instead: a claim takes the lock of the whole database, and a
    process's other green threads wanting it meanwhile (the outbox relay, an event handler) would wait for it in
    SQLite's own blocking wait, so that the owner's answer could not be read until that wait gave up. An entity whose
    applied version changed between the question and the claim (an event came) is left for the next repair."""
    event = {"entity": entity, "entity_id": str(entity_id), "company_id": company_id, "event_type": None}
    if session.bind.dialect.name == "sqlite":
        seen = applied_version(session, entity, entity_id)
        state = owner(entity, entity_id, company_id)
        applied = claim(session, entity, entity_id)
        return applied == seen and follow_owner(session, event, state, applied)
    if entity == "address_state":
        first = owner(entity, entity_id, company_id)
        lock_customers(session, customers_touched(first) if first is not None else set())
    applied = claim(session, entity, entity_id)
    return follow_owner(session, event, owner(entity, entity_id, company_id), applied)


def applied_version(session, entity, entity_id):
    """The version applied for an entity (0: none), read without claiming it."""
    return session.scalar(_version_of(entity, entity_id)) or 0


def remove(session, entity, entity_id, company_id):
    """Take out of the index an entity its owner does not have (in that company). Returns True when something went."""
    if entity == "customer":
        if session.scalar(select(IndexedCustomer.company_id).where(IndexedCustomer.id == entity_id)) != company_id:
            return False
        note_changes(session, write_customer(session, {"entity_id": entity_id, "event_type": "customer_deleted"}),
                     company_id)
        return True
    if entity == "purchase":
        row = session.execute(select(IndexedPurchase.company_id, IndexedPurchase.customer_id)
                              .where(IndexedPurchase.id == entity_id)).first()
        if row is None or row.company_id != company_id:
            return False
        note_changes(session, write_purchase(session, {
            "entity_id": entity_id, "event_type": "purchase_deleted", "company_id": company_id,
            "data": {"customer_id": row.customer_id}}), company_id)
        return True
    model = {"mail": IndexedMail, "mail_activity": IndexedMailActivity}.get(entity)
    if model is None:  # address states are kept by customer and address, and owners never delete them
        return False
    gone = session.execute(delete(model).where(model.id == entity_id, model.company_id == company_id)).rowcount
    if gone:
        note_changes(session, [({"mail": "mail", "mail_activity": "activity"}[entity], entity_id)], company_id)
    return bool(gone)


def upsert_many(session, model, rows, update_only=None):
    """``upsert`` of many rows: one statement per shape of row for all its rows at once (``pgcopy.upsert_rows``:
    staged with COPY on PostgreSQL)."""
    shapes = {}
    for row in rows:
        shapes.setdefault(tuple(row), []).append(row)
    keys = [column.name for column in model.__table__.primary_key]
    for names, group in shapes.items():
        pgcopy.upsert_rows(session.connection(), model.__table__, group, keys,
                           update=[name for name in (update_only or names) if name not in keys])


def insert_many(session, model, rows):
    pgcopy.insert_rows(session.connection(), model.__table__, rows)


def insert_new(session, model, rows):
    """Insert rows of entities the index has never held (their versions noted by this transaction's claim): one
    COPY, nothing to look up or replace. Under a savepoint: should a row be held after all, nothing is written and
    False is returned, for the caller to write them as it writes any other."""
    if not rows:
        return True
    try:
        with session.begin_nested():
            insert_many(session, model, rows)
    except IntegrityError:
        return False
    return True


class Claimed(dict):
    """{entity id: applied version} of ``claim_many``; ``inserted``: the ids it noted with their new version."""

    inserted = frozenset()


def claim_many(session, entity, entity_ids, new_versions=None):
    """``claim`` of many entities at once: {entity id: applied version}, their rows locked in one order. The rows
    this inserts are its own until it commits (another transaction inserting one waits, as ``claim`` says): only
    those another had inserted are read and locked.

    ``new_versions`` ({entity id: version}): the version to note for an entity the index has none of yet, when the
    caller will write it in this transaction (its events follow each other from the first); it is then claimed as
    never applied (0) and listed in the answer's ``inserted``, so that its version is not written a second time."""
    ids = sorted({str(i) for i in entity_ids})
    if not ids:
        return Claimed()
    new_versions = {str(i): version for i, version in (new_versions or {}).items()}
    rows = [{"entity": entity, "entity_id": i, "version": new_versions.get(i, 0)} for i in ids]
    # Entities all new (each one's events from its first version: an import's, a batch of creations): copied straight
    # in, in the ids' order, nothing staged nor read back; one held after all makes it the upsert below.
    if len(new_versions) == len(ids) and pgcopy.insert_new_keys(session.connection(), AppliedVersion.__table__, rows):
        inserted = set(ids)
    else:
        inserted = {entity_id for entity_id, in pgcopy.upsert_rows(
            session.connection(), AppliedVersion.__table__, rows, keys=("entity", "entity_id"),
            returning=("entity_id",), order_by=("entity_id",))}
    older = [i for i in ids if i not in inserted]
    claimed = Claimed.fromkeys(inserted, 0)
    claimed.inserted = frozenset(i for i in inserted if i in new_versions)
    for chunk in _chunks_of(older, 1000):
        claimed.update(session.execute(select(AppliedVersion.entity_id, AppliedVersion.version).where(
            AppliedVersion.entity == entity, AppliedVersion.entity_id.in_(chunk))
            .order_by(AppliedVersion.entity_id).with_for_update()).all())
    return claimed


def write_page(session, entity, envelopes, noted=frozenset()):
    """What ``write`` does for each envelope, for many of one entity (claimed, their customers locked) in a few
    statements: a rebuild's page. ``noted``: ids whose version the claim noted already."""
    if not envelopes:
        return
    ids = [int(e["entity_id"]) for e in envelopes]
    if entity == "customer":
        mapped = [customer_row(e) for e in envelopes]
        session.execute(delete(IndexedChoice).where(IndexedChoice.customer_id.in_(ids)))
        upsert_many(session, IndexedCustomer, [row for row, _ in mapped])
        insert_many(session, IndexedChoice, [choice for _, its in mapped for choice in its])
        changes = [("customer", i) for i in ids]
    elif entity == "purchase":
        mapped = [purchase_row(e) for e in envelopes]
        # A purchase claimed as new (an import's, nearly all) has no row and no lines here: inserted, not replaced.
        new = [row for row, _ in mapped if str(row["id"]) in noted]
        held = [row for row, _ in mapped if str(row["id"]) not in noted]
        if not insert_new(session, IndexedPurchase, new):
            held += new
        if held:
            session.execute(delete(IndexedLine).where(IndexedLine.purchase_id.in_([row["id"] for row in held])))
            upsert_many(session, IndexedPurchase, held)
        insert_many(session, IndexedLine, [line for _, its in mapped for line in its])
        changes = [("purchase", i) for i in ids]
    elif entity in ("mail", "mail_activity"):
        model, row = (IndexedMail, mail_row) if entity == "mail" else (IndexedMailActivity, activity_row)
        upsert_many(session, model, [row(e) for e in envelopes])
        changes = [("mail" if entity == "mail" else "activity", i) for i in ids]
    else:  # address states: few, one at a time
        changes = [change for e in envelopes for change in write_address_state(session, e)]
    note_changes(session, changes, envelopes[0]["company_id"])
    upsert_many(session, AppliedVersion, [{"entity": entity, "entity_id": str(e["entity_id"]), "version": e["version"]}
                                          for e in envelopes if str(e["entity_id"]) not in noted])


def _chunks_of(values, size):
    for start in range(0, len(values), size):
        yield values[start:start + size]

BULK_TABLES = {"customer": IndexedCustomer, "choice": IndexedChoice, "purchase": IndexedPurchase,
               "line": IndexedLine, "mail": IndexedMail, "mail_activity": IndexedMailActivity,
               "version": AppliedVersion}


def load_bulk(connection, envelopes, chunk=20000, rebuild_indexes=False, timings=None):
    """Load events into an index that holds none of their entities yet (a first load or a benchmark): the same row
    mapping as the event handlers. ``envelopes`` may be any iterable, a generator
    for a large load: it is read once, ``chunk`` events at a time.

    On PostgreSQL the rows are streamed with COPY (``services.common.pgcopy``) and the loaded tables analysed at the
    end; with ``rebuild_indexes`` the tables' secondary indexes are dropped first and created again, exactly as they
    were, after the load (much faster for a large load, but readers of those tables wait for the transaction).
    Elsewhere (SQLite) the rows are written with multi-row inserts. Returns the number of rows per table (by the
    names of BULK_TABLES); ``timings``, a dict, receives the seconds of each step on PostgreSQL.
    """
    if connection.dialect.name == "postgresql":
        return _copy_bulk(connection, envelopes, chunk, rebuild_indexes, {} if timings is None else timings)
    counts = dict.fromkeys(BULK_TABLES, 0)

    def write(name, rows):
        connection.execute(BULK_TABLES[name].__table__.insert(), rows)
        counts[name] += len(rows)

    _bulk_rows(envelopes, chunk, write)
    return counts


def _bulk_rows(envelopes, chunk, write):
    """Map the events to their rows by the event handlers' own mapping, and hand them to ``write(name, rows)`` table
    by table (named as in BULK_TABLES; the list is reused afterwards) every ``chunk`` events."""
    tables = {name: [] for name in BULK_TABLES}
    customers, choices, purchases, lines = tables["customer"], tables["choice"], tables["purchase"], tables["line"]
    mails, activities, versions = tables["mail"], tables["mail_activity"], tables["version"]
    for event in envelopes:
        entity = event["entity"]
        if entity == "customer":
            row, its_choices = customer_row(event)
            customers.append(row)
            choices.extend(its_choices)
        elif entity == "purchase":
            row, its_lines = purchase_row(event)
            purchases.append(row)
            lines.extend(its_lines)
        elif entity == "mail":
            mails.append(mail_row(event))
        elif entity == "mail_activity":
            activities.append(activity_row(event))
        versions.append({"entity": entity, "entity_id": str(event["entity_id"]), "version": event["version"]})
        if len(versions) >= chunk:
            _write_all(tables, write)
    _write_all(tables, write)


def _write_all(tables, write):
    for name, rows in tables.items():
        if rows:
            write(name, rows)
            rows.clear()


def _copy_bulk(connection, envelopes, chunk, rebuild_indexes, timings):
    def step(name, started):
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - started

    names = [model.__table__.name for model in BULK_TABLES.values()]
    connection.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))  # index builds
    indexes = pgcopy.secondary_indexes(connection, names) if rebuild_indexes else []
    pgcopy.drop_indexes(connection, indexes)
    shapes, started = {}, time.perf_counter()

    with pgcopy.CopyStream(connection.connection.driver_connection) as stream:
        def write(name, rows):
            table = BULK_TABLES[name].__table__
            if name not in shapes:
                shapes[name] = pgcopy.copy_shape(table, rows[0])
            columns, read = shapes[name]
            stream.write(table.name, columns, [read(row) for row in rows])

        _bulk_rows(envelopes, chunk, write)
    step("copy", started)
    for table, seconds in stream.seconds.items():
        timings[f"copy {table}"] = seconds
    started, index_seconds = time.perf_counter(), {}
    pgcopy.create_indexes(connection, indexes, index_seconds)
    step("indexes", started)
    for table, seconds in index_seconds.items():
        timings[f"indexes {table}"] = seconds
    started = time.perf_counter()
    connection.execute(text(f"ANALYZE {', '.join(names)}"))
    step("analyze", started)
    by_table = {model.__table__.name: name for name, model in BULK_TABLES.items()}
    return {name: 0 for name in BULK_TABLES} | {by_table[table]: rows for table, rows in stream.rows.items()}
