"""Applying the owners' events to the index, idempotently: an event older than (or as old as) what was applied for
its entity changes nothing."""
import datetime as dt
import json
import operator
import re
import time

from sqlalchemy import delete, func, select, text

from services.common import pgcopy
from services.common.contracts import Timestamp
from services.common.text import fold_for_matching

from .models import (AppliedVersion, CustomerSummary, IndexChange, IndexedAddressState, IndexedChoice,
                     IndexedCustomer, IndexedLine, IndexedMail, IndexedMailActivity, IndexedPurchase)

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


def fresh(session, entity, entity_id, version):
    """True (and the version noted) when this version is newer than the one applied for the entity."""
    applied = session.get(AppliedVersion, (entity, str(entity_id)))
    if applied is not None and applied.version >= version:
        return False
    if applied is None:
        session.add(AppliedVersion(entity=entity, entity_id=str(entity_id), version=version))
    else:
        applied.version = version
    return True


def customer_row(event):
    """The index row of a customer event, and its choices."""
    data = event["data"]
    number = data["member_number"]
    row = {"id": int(event["entity_id"]), "company_id": event["company_id"], "shop_id": data["shop_id"],
           "member_number": number,
           "member_number_value": int(number) if number.isdigit() and len(number) < 18 else None,
           "name_key": "".join(fold_for_matching(data[k]) for k in ("family_name", "given_name", "family_kana",
                                                                   "given_kana")),
           "birth_date": _date(data["birth_date"]), "points_expiry": _date(data["points_expiry"]),
           "earliest_expiry": _date(data["earliest_expiry"]), "last_login_at": _moment(data["last_login_at"]),
           "registered_at": _moment(data["registered_at"])}
    for key in ("family_name", "given_name", "family_kana", "given_kana", "gender", "mail_permission", "mobile_email",
                "pc_email", "dm_permission", "mobile_phone", "home_phone", "fax", "points_held", "valid_points"):
        row[key] = data[key]
    # Events published before customers had a LINE permission carry none: allowed, as the owner defaults it.
    row["line_permission"] = data.get("line_permission", True)
    for i, text in enumerate(data["remarks"], start=1):
        row[f"remark{i}"] = text
    for i, text in enumerate(data["extras"], start=1):
        row[f"extra{i}"] = text
    choices = [{"customer_id": row["id"], "group_id": int(g), "choice_id": c} for g, c in data["choices"].items()]
    return row, choices


def purchase_row(event):
    """The index row of a purchase event, and its lines."""
    data = event["data"]
    row = {"id": int(event["entity_id"]), "company_id": event["company_id"], "customer_id": data["customer_id"],
           "shop_id": data["shop_id"], "order_code": data["order_code"],
           "purchased_at": _moment(data["purchased_at"]), "shipped_at": _moment(data["shipped_at"]),
           "billed_amount": data["billed_amount"], "media": data["media"],
           "order_attributes": json.dumps(data["order_attributes"], ensure_ascii=False), "counted": data["counted"]}
    lines = [{"purchase_id": row["id"], "customer_id": data["customer_id"], "product_code": line["product_code"],
              "quantity": line["quantity"]} for line in data["lines"]]
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


def apply_customer(session, event):
    if not fresh(session, "customer", event["entity_id"], event["version"]):
        return False
    customer_id = int(event["entity_id"])
    session.execute(delete(IndexedChoice).where(IndexedChoice.customer_id == customer_id))
    if event["event_type"] == "customer_deleted":
        session.execute(delete(IndexedCustomer).where(IndexedCustomer.id == customer_id))
        return True
    row, choices = customer_row(event)
    session.merge(IndexedCustomer(**row))
    session.add_all(IndexedChoice(**choice) for choice in choices)
    return True


def lock_customer(session, customer_id):
    """Serialise the summary work of one customer across replicas and workers: two purchases of the same customer
    applied at once would each count only their own and the later commit would win. On PostgreSQL a transaction
    advisory lock (held to commit) orders them; SQLite writes one transaction at a time anyway."""
    if session.bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(customer_id)})


def refresh_summary(session, company_id, customer_id):
    """Recompute a customer's RFM figures over counted purchases at every shop."""
    counted = (IndexedPurchase.customer_id == customer_id, IndexedPurchase.counted.is_(True))
    first, count, total, shipped = session.execute(
        select(func.min(IndexedPurchase.purchased_at), func.count(), func.coalesce(func.sum(IndexedPurchase.billed_amount), 0),
               func.max(IndexedPurchase.shipped_at))
        .where(*counted)).one()
    latest = session.scalars(select(IndexedPurchase).where(*counted)
                             .order_by(IndexedPurchase.purchased_at.desc(), IndexedPurchase.id.desc()).limit(1)).first()
    summary = session.get(CustomerSummary, customer_id) or CustomerSummary(customer_id=customer_id, company_id=company_id,
                                                                          address_errors=0)
    summary.first_purchase_at, summary.purchase_count, summary.purchase_total = first, count, total
    summary.latest_purchase_at = latest.purchased_at if latest else None
    summary.latest_shipped_at = shipped  # the latest shipment, whichever purchase it was
    summary.latest_order_code = latest.order_code if latest else ""
    summary.latest_purchase_id = latest.id if latest else None
    session.merge(summary)


def apply_purchase(session, event):
    data = event["data"]
    lock_customer(session, data["customer_id"])
    if not fresh(session, "purchase", event["entity_id"], event["version"]):
        return False
    purchase_id = int(event["entity_id"])
    # an order recorded again may name another customer: the one it leaves is summarised again too
    previous = session.get(IndexedPurchase, purchase_id)
    left = previous.customer_id if previous is not None and previous.customer_id != data["customer_id"] else None
    if left is not None:
        lock_customer(session, left)
    session.execute(delete(IndexedLine).where(IndexedLine.purchase_id == purchase_id))
    if event["event_type"] == "purchase_deleted":
        session.execute(delete(IndexedPurchase).where(IndexedPurchase.id == purchase_id))
    else:
        row, lines = purchase_row(event)
        session.merge(IndexedPurchase(**row))
        session.add_all(IndexedLine(**line) for line in lines)
    session.flush()
    refresh_summary(session, event["company_id"], data["customer_id"])
    if left is not None:
        refresh_summary(session, event["company_id"], left)
        note_changes(session, [("summary", left)])
    return True


def apply_mail(session, event):
    if not fresh(session, "mail", event["entity_id"], event["version"]):
        return False
    session.merge(IndexedMail(**mail_row(event)))
    return True


def apply_mail_activity(session, event):
    if not fresh(session, "mail_activity", event["entity_id"], event["version"]):
        return False
    session.merge(IndexedMailActivity(**activity_row(event)))
    return True


def apply_address_state(session, event):
    data = event["data"]
    lock_customer(session, data["customer_id"])
    if not fresh(session, "address_state", event["entity_id"], event["version"]):
        return False
    session.merge(IndexedAddressState(customer_id=data["customer_id"], address=data["address"],
                                      address_error=data["address_error"]))
    session.flush()
    errors = session.scalar(select(func.count()).select_from(IndexedAddressState).where(
        IndexedAddressState.customer_id == data["customer_id"], IndexedAddressState.address_error.is_(True)))
    summary = session.get(CustomerSummary, data["customer_id"]) or CustomerSummary(
        customer_id=data["customer_id"], company_id=event["company_id"], purchase_count=0, purchase_total=0)
    summary.address_errors = errors
    session.merge(summary)
    return True


HANDLERS = {
    "customer_created": apply_customer, "customer_updated": apply_customer, "customer_deleted": apply_customer,
    "purchase_recorded": apply_purchase, "purchase_deleted": apply_purchase,
    "mail_updated": apply_mail, "mail_activity_recorded": apply_mail_activity,
    "address_error_changed": apply_address_state,
}


def changes_of(event):
    """What an applied event changed, as the journal names it: [(kind, key)]."""
    entity, data = event["entity"], event["data"]
    if entity == "customer":
        return [("customer", int(event["entity_id"]))]
    if entity == "purchase":
        return [("purchase", int(event["entity_id"])), ("summary", int(data["customer_id"]))]
    if entity == "mail":
        return [("mail", int(data["id"]))]
    if entity == "mail_activity":
        return [("activity", int(data["id"]))]
    return [("summary", int(data["customer_id"]))]  # address state


def note_changes(session, changes):
    """Journal changes in the transaction that makes them, for the replicas' in-memory columns to follow."""
    now = dt.datetime.now(dt.timezone.utc)
    session.add_all(IndexChange(kind=kind, key=key, changed_at=now) for kind, key in changes)


def apply(session, event):
    """Apply one event envelope; returns True when it changed the index (and journals the change)."""
    changed = HANDLERS[event["event_type"]](session, event)
    if changed:
        note_changes(session, changes_of(event))
    return changed


BULK_TABLES = {"customer": IndexedCustomer, "choice": IndexedChoice, "purchase": IndexedPurchase,
               "line": IndexedLine, "mail": IndexedMail, "mail_activity": IndexedMailActivity,
               "version": AppliedVersion}


def load_bulk(connection, envelopes, chunk=20000, rebuild_indexes=False, timings=None):
    """Load events into an index that holds none of their entities yet (a first load or a benchmark): the same row
    mapping as the event handlers, summaries computed once at the end. ``envelopes`` may be any iterable, a generator
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

    for company_id in _bulk_rows(envelopes, chunk, write):
        summarise_company(connection, company_id)
    return counts


def _bulk_rows(envelopes, chunk, write):
    """Map the events to their rows by the event handlers' own mapping, and hand them to ``write(name, rows)`` table
    by table (named as in BULK_TABLES; the list is reused afterwards) every ``chunk`` events; returns the companies
    the events were of."""
    tables = {name: [] for name in BULK_TABLES}
    customers, choices, purchases, lines = tables["customer"], tables["choice"], tables["purchase"], tables["line"]
    mails, activities, versions = tables["mail"], tables["mail_activity"], tables["version"]
    companies = set()
    for event in envelopes:
        entity = event["entity"]
        companies.add(event["company_id"])
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
    return companies


def _write_all(tables, write):
    for name, rows in tables.items():
        if rows:
            write(name, rows)
            rows.clear()


def _copy_shape(table, row):
    """The columns a COPY of rows shaped like ``row`` fills, and how to read a row's values in their order: the row's
    own, then those of the columns it leaves out that have a default in the model (what an insert would fill)."""
    unknown = set(row) - set(table.columns.keys())
    if unknown:
        raise ValueError(f"{table.name} has no column {sorted(unknown)}")
    present = [column.name for column in table.columns if column.name in row]
    defaults = {column.name: column.default.arg for column in table.columns
                if column.name not in row and column.default is not None and column.default.is_scalar}
    get, fill = operator.itemgetter(*present), tuple(defaults.values())
    if len(present) == 1:
        return present + list(defaults), lambda r: (get(r),) + fill
    return present + list(defaults), ((lambda r: get(r) + fill) if fill else get)


def _copy_bulk(connection, envelopes, chunk, rebuild_indexes, timings):
    def step(name, started):
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - started

    names = [model.__table__.name for model in BULK_TABLES.values()] + [CustomerSummary.__table__.name]
    connection.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))  # index builds
    connection.execute(text("SET LOCAL work_mem = '256MB'"))  # the summaries' sorts
    indexes = pgcopy.secondary_indexes(connection, names) if rebuild_indexes else []
    pgcopy.drop_indexes(connection, indexes)
    shapes, started = {}, time.perf_counter()

    with pgcopy.CopyStream(connection.connection.driver_connection) as stream:
        def write(name, rows):
            table = BULK_TABLES[name].__table__
            if name not in shapes:
                shapes[name] = _copy_shape(table, rows[0])
            columns, read = shapes[name]
            stream.write(table.name, columns, [read(row) for row in rows])

        companies = _bulk_rows(envelopes, chunk, write)
    step("copy", started)
    for table, seconds in stream.seconds.items():
        timings[f"copy {table}"] = seconds
    started = time.perf_counter()
    for company_id in companies:
        summarise_company(connection, company_id)
    step("summaries", started)
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


def summarise_company(connection, company_id):
    """Every customer summary of a company in one pass (what refresh_summary does one customer at a time)."""
    from sqlalchemy import text

    connection.execute(delete(CustomerSummary).where(CustomerSummary.company_id == company_id))
    connection.execute(text("""
        INSERT INTO ix_customer_summaries (customer_id, company_id, first_purchase_at, latest_purchase_at,
               latest_shipped_at, latest_order_code, latest_purchase_id, purchase_count, purchase_total, address_errors)
        SELECT customer_id, company_id, first_at, purchased_at, shipped_latest, order_code, id, n, total, 0
        FROM (SELECT id, customer_id, company_id, purchased_at, order_code, MAX(shipped_at) OVER w AS shipped_latest,
                     MIN(purchased_at) OVER w AS first_at, COUNT(*) OVER w AS n, SUM(billed_amount) OVER w AS total,
                     ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY purchased_at DESC, id DESC) AS rn
              FROM ix_purchases WHERE company_id = :company AND counted
              WINDOW w AS (PARTITION BY customer_id)) ranked
        WHERE rn = 1"""), {"company": company_id})
