"""Mails and what happened to them: registration of mails, batch ingestion of reports, address errors, lookups."""
import hashlib

from sqlalchemy import func, select

from services.common import arguments
from services.common.batches import MAX_RECORDS, apply_each
from services.common.contracts import field_error, load, moment_text
from services.common.db import add_unless_present
from services.common.errors import NotFound, ValidationFailed
from services.common.index_versions import constant

from . import events, kinds, schemas
from .kinds import AUTOMATIC_FAMILY, MANUAL_FAMILY, family, parse_mail_reference
from .models import AddressState, Mail, MailActivity

ADDRESS_ERROR_FAILURES = 3

_mail_input = schemas.MailInput()
_activity_input = schemas.ActivityInput()
_mail = schemas.Mail()


def upsert_mails(session, scope, mails, shop_ids):
    """Register mails by the mail system's mail number; each stands alone. Returns {saved, errors}.

    ``shop_ids``: the caller's shops (from the shops service); a mail of another shop is refused by its index."""
    scope.ensure_company_wide()
    def save(data):
        values = load(_mail_input, data)
        if values.get("shop_id") is not None and values["shop_id"] not in shop_ids:
            raise field_error("shop_id", "unknown_shop")
        mail = session.scalar(select(Mail).where(Mail.company_id == scope.company_id,
                                                 Mail.mail_number == values["mail_number"]))
        if mail is None:
            mail = Mail(company_id=scope.company_id, version=0)
            session.add(mail)
        for key, value in values.items():
            setattr(mail, key, value)
        mail.version += 1
        session.flush()
        events.mail_changed(session, mail)

    applied, errors = apply_each(session, mails, save, "mails")
    return {"saved": len(applied), "errors": errors}


def find_mails(session, scope, reference="", kind=None, mail_family=None):
    """Mails by reference ('123', 'S12' for every step of scenario 12, 'S12-2'), kind, or family."""
    reference = arguments.text(reference, "reference", 50, allow_none=True)
    kind = arguments.text(kind, "kind", 50, allow_none=True)
    mail_family = arguments.text(mail_family, "family", 50, allow_none=True)
    query = select(Mail).where(Mail.company_id == scope.company_id)
    if scope.is_shop:
        query = query.where((Mail.shop_id == scope.shop_id) | Mail.shop_id.is_(None))
    parsed = parse_mail_reference(reference) if reference else None
    if reference and parsed is None:
        return []
    if parsed and parsed[0] == "scenario":
        query = query.where(Mail.scenario_number == parsed[1])
        if parsed[2]:
            query = query.where(Mail.step == parsed[2])
    elif parsed:
        query = query.where(Mail.mail_number == parsed[1], Mail.scenario_number.is_(None))
    if kind:
        query = query.where(Mail.kind == kind)
    mails = list(session.scalars(query.order_by(Mail.mail_number)))
    if mail_family in (MANUAL_FAMILY, AUTOMATIC_FAMILY):
        mails = [m for m in mails if family(m.kind, m.step) == mail_family]
    return mails


def _report_key(company_id, mail_id, customer_id, values):
    raw = "|".join(str(part) for part in (company_id, mail_id, customer_id, values["activity"], values["result"],
                                          values["address"].lower(), values["url"], values["occurred_at"].isoformat()))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _count_failure(session, company_id, customer_id, address):
    address = address.strip().lower()

    def find():  # locked: failures of one address reported at once are counted one after another
        return session.scalar(select(AddressState).where(AddressState.company_id == company_id,
                                                         AddressState.customer_id == customer_id,
                                                         AddressState.address == address).with_for_update())

    state = find()
    if state is None:
        state, _created = add_unless_present(session, AddressState(
            company_id=company_id, customer_id=customer_id, address=address, failed_count=0, version=0), find)
    state.failed_count += 1
    state.version += 1
    session.flush()
    # every counted failure is a new version of the state, and goes out: the index keeps the same versions
    events.address_state_changed(session, state, state.failed_count >= ADDRESS_ERROR_FAILURES)


def member_numbers_of(reports):
    """The member numbers a batch of reports names, to be resolved by the customers service."""
    return [r.get("member_number") for r in arguments.sequence(reports, "reports", MAX_RECORDS) if isinstance(r, dict)]


def record_activities(session, scope, reports, customers_by_number):
    """Ingest reports (thousands per call). A report already recorded counts once; bad ones are reported by index.

    ``customers_by_number``: ``{member_number: {"id", ...}}`` from the customers service.
    Returns {"recorded", "duplicates", "errors": [{"index", "fields"}]}.
    """
    result = {"recorded": 0, "duplicates": 0, "errors": []}
    mails = {m.mail_number: m for m in session.scalars(select(Mail).where(Mail.company_id == scope.company_id))}
    for index, data in enumerate(arguments.sequence(reports, "reports", MAX_RECORDS)):
        try:
            arguments.clean(data, "")
            values = load(_activity_input, data)
            mail = mails.get(values["mail_number"])
            customer = customers_by_number.get(values["member_number"])
            errors = {}
            if mail is None:
                errors["mail_number"] = ["unknown_mail"]
            if customer is None:
                errors["member_number"] = ["unknown_customer"]
            if errors:
                raise ValidationFailed("invalid input", errors)
        except ValidationFailed as failure:
            result["errors"].append({"index": index, "fields": failure.fields})
            continue
        key = _report_key(scope.company_id, mail.id, customer["id"], values)
        if session.scalar(select(MailActivity.id).where(MailActivity.company_id == scope.company_id,
                                                        MailActivity.report_key == key)):
            result["duplicates"] += 1
            continue
        activity = MailActivity(company_id=scope.company_id, mail_id=mail.id, customer_id=customer["id"],
                                member_number=customer["member_number"], activity=values["activity"],
                                result=values["result"], address=values["address"], url=values["url"],
                                occurred_at=values["occurred_at"], report_key=key)
        session.add(activity)
        session.flush()
        events.activity_recorded(session, activity)
        if values["activity"] == "delivery" and values["result"] == "failed":
            _count_failure(session, scope.company_id, customer["id"], values["address"])
        result["recorded"] += 1
    return result


def address_errors(session, scope, customer_id):
    """The customer's addresses with their failure totals and whether each is in アドレスエラー."""
    rows = session.scalars(select(AddressState).where(AddressState.company_id == scope.company_id,
                                                      AddressState.customer_id == customer_id))
    return [{"address": r.address, "failed_count": r.failed_count,
             "address_error": r.failed_count >= ADDRESS_ERROR_FAILURES} for r in rows]


def customer_history(session, scope, customer_id):
    """Per mail sent to the customer: when sent, to which address, result, and first open / click / QR read."""
    rows = session.execute(
        select(MailActivity.mail_id, MailActivity.activity, MailActivity.result, MailActivity.address,
               MailActivity.url, MailActivity.occurred_at)
        .where(MailActivity.company_id == scope.company_id, MailActivity.customer_id == customer_id)
        .order_by(MailActivity.occurred_at)).all()
    by_mail = {}
    for row in rows:
        entry = by_mail.setdefault(row.mail_id, {"sent_at": None, "address": "", "result": "",
                                                 "opened_at": None, "clicked_at": None, "clicked_urls": [],
                                                 "qr_read_at": None})
        if row.activity == "delivery":
            entry["sent_at"] = entry["sent_at"] or row.occurred_at
            entry["address"], entry["result"] = row.address, row.result
        elif row.activity == "open":
            entry["opened_at"] = entry["opened_at"] or row.occurred_at
        elif row.activity == "click":
            entry["clicked_at"] = entry["clicked_at"] or row.occurred_at
            if row.url not in entry["clicked_urls"]:
                entry["clicked_urls"].append(row.url)
        elif row.activity == "qr_read":
            entry["qr_read_at"] = entry["qr_read_at"] or row.occurred_at
    mails = {m.id: m for m in session.scalars(select(Mail).where(Mail.id.in_(list(by_mail))))} if by_mail else {}
    history = []
    for mail_id, entry in by_mail.items():
        entry["mail"] = schemas.Mail().dump(mails[mail_id])
        history.append(entry)
    first_seen = lambda e: min(t for t in (e["sent_at"], e["opened_at"], e["clicked_at"], e["qr_read_at"]) if t)  # noqa: E731
    return sorted(history, key=first_seen, reverse=True)


def mail_summaries(session, scope, mail_family=None):
    """配信管理 > 履歴: every mail with its counts of customers sent, opened, clicked, QR read, and failed deliveries."""
    mails = find_mails(session, scope, mail_family=mail_family)
    counts = {}
    if mails:
        query = (select(MailActivity.mail_id, MailActivity.activity, MailActivity.result,
                        func.count(func.distinct(MailActivity.customer_id)))
                 .where(MailActivity.company_id == scope.company_id,
                        MailActivity.mail_id.in_([m.id for m in mails]))
                 .group_by(MailActivity.mail_id, MailActivity.activity, MailActivity.result))
        for mail_id, activity, result, count in session.execute(query):
            summary = counts.setdefault(mail_id, {"sent": 0, "opened": 0, "clicked": 0, "qr_read": 0, "errors": 0})
            if activity == "delivery":
                summary["sent"] += count
                if result == "failed":
                    summary["errors"] += count
            else:
                summary[{"open": "opened", "click": "clicked", "qr_read": "qr_read"}[activity]] += count
    empty = {"sent": 0, "opened": 0, "clicked": 0, "qr_read": 0, "errors": 0}
    return [dict(_mail.dump(m), **counts.get(m.id, empty)) for m in mails]


def get_mail(session, scope, mail_number):
    mail_number = arguments.integer(mail_number, "mail_number", 1, kinds.MAX_MAIL_NUMBER)
    mail = session.scalar(select(Mail).where(Mail.company_id == scope.company_id, Mail.mail_number == mail_number))
    if mail is None:
        raise NotFound("mail not found")
    return mail




MAX_EXPORT = 5000


INDEX_VERSIONS = {"mail": Mail, "mail_activity": (MailActivity, constant(1)), "address_state": AddressState}
"""What ``index_versions`` reads for search.reconcile (an activity is written once: always version 1)."""


def export_for_index(session, company_id, entity, after_id, limit):
    """Rows as the events that announced them, for rebuilding the search index."""
    after_id, limit = arguments.after_id(after_id), min(arguments.integer(limit, "limit", 1), MAX_EXPORT)
    if entity == "mail":
        rows = session.scalars(select(Mail).where(Mail.company_id == company_id, Mail.id > after_id)
                               .order_by(Mail.id).limit(limit))
        return [{"entity": "mail", "entity_id": str(m.id), "version": m.version, "event_type": "mail_updated",
                 "company_id": company_id, "data": _mail.dump(m)} for m in rows]
    if entity == "mail_activity":
        rows = session.scalars(select(MailActivity).where(MailActivity.company_id == company_id,
                                                          MailActivity.id > after_id)
                               .order_by(MailActivity.id).limit(limit))
        return [{"entity": "mail_activity", "entity_id": str(a.id), "version": 1,
                 "event_type": "mail_activity_recorded", "company_id": company_id,
                 "data": {"id": a.id, "mail_id": a.mail_id, "customer_id": a.customer_id,
                          "member_number": a.member_number, "activity": a.activity, "result": a.result,
                          "occurred_at": moment_text(a.occurred_at)}} for a in rows]
    if entity == "address_state":
        rows = session.scalars(select(AddressState).where(AddressState.company_id == company_id,
                                                          AddressState.id > after_id)
                               .order_by(AddressState.id).limit(limit))
        return [{"entity": "address_state", "entity_id": str(r.id), "version": r.version,
                 "event_type": "address_error_changed", "company_id": company_id,
                 "data": {"id": r.id, "customer_id": r.customer_id, "address": r.address,
                          "failed_count": r.failed_count, "address_error": r.failed_count >= ADDRESS_ERROR_FAILURES}}
                for r in rows]
    raise ValidationFailed("invalid input", {"entity": ["one_of"]})
