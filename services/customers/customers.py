"""The customer master: create, update, delete, read, batch upsert by member number."""
import datetime as dt
import uuid
from types import SimpleNamespace

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from services.common import arguments, pgcopy
from services.common.batches import MAX_RECORDS
from services.common.contracts import JST, field_error, load
from services.common.db import one_of
from services.common.errors import Forbidden, NotFound, ValidationFailed
from services.common.outbox import utcnow

from . import events, groups, numbering, schemas
from .japanese import fold
from .models import Customer, CustomerChoice, SupportEntry

_input = schemas.CustomerInput()
_options = schemas.UpsertOptions()

DEFAULTS = {"given_name": "", "family_kana": "", "given_kana": "", "gender": "unknown", "mail_permission": "refused",
            "mobile_email": "", "pc_email": "", "dm_permission": True, "line_permission": True,
            "customer_class": "new"}


def age_on(birth_date, day):
    """Age in whole years on ``day`` (derived, never stored)."""
    if birth_date is None:
        return None
    years = day.year - birth_date.year
    return years - ((day.month, day.day) < (birth_date.month, birth_date.day))


def _scoped(scope):
    query = select(Customer).where(Customer.company_id == scope.company_id)
    if scope.is_shop:
        query = query.where(Customer.shop_id == scope.shop_id)
    return query


MAX_PER_PAGE = 200
MAX_EXPORT = 5000


def get_customer(session, scope, customer_id):
    customer = session.get(Customer, arguments.entity_id(customer_id, "customer_id"))
    if customer is None:
        raise NotFound("customer not found")
    scope.ensure_shop(customer.company_id, customer.shop_id)
    return customer


def get_by_member_number(session, scope, member_number):
    member_number = schemas.compact(arguments.text(member_number, "member_number", schemas.MEMBER_NUMBER_LENGTH))
    customer = session.scalar(_scoped(scope).where(Customer.member_number == member_number))
    if customer is None:
        raise NotFound("customer not found")
    return customer


def resolve_member_numbers(session, scope, member_numbers):
    """``{member_number: {"id", "member_number", "shop_id"}}`` for the numbers that exist in scope, keyed by the
    number as given: each is folded as member numbers are stored (``schemas.compact``: ``１２３`` finds ``123``), so
    that every entrance (orders, mail reports) names a customer the way the customer master does."""
    # Callers pass on what their batches hold: anything that cannot be a member number is simply not found.
    given = {str(n) for n in arguments.sequence(member_numbers, "member_numbers", arguments.MAX_LIST)
             if isinstance(n, (str, int)) and not isinstance(n, bool) and n
             and len(str(n)) <= schemas.MEMBER_NUMBER_LENGTH and not arguments.bad_text(str(n))}
    folded = {}
    for number in given:
        folded.setdefault(schemas.compact(number), []).append(number)
    numbers = sorted(n for n in folded if n)
    found = {}
    for start in range(0, len(numbers), 500):
        # the connection's rows, not the session's: a batch's orders name a thousand members and more
        rows = session.connection().execute(
            _scoped(scope).with_only_columns(Customer.id, Customer.member_number, Customer.shop_id)
            .where(one_of(session, Customer.member_number, numbers[start:start + 500]))).all()
        for row in rows:
            for number in folded[row.member_number]:
                found[number] = {"id": row.id, "member_number": row.member_number, "shop_id": row.shop_id}
    return found


def resolve_emails(session, scope, emails):
    """``{email: member_number}`` for the addresses (as given) that name one customer in scope, PC or 携帯, compared
    folded and without case; an address two customers share names neither."""
    given = {e for e in arguments.sequence(emails, "emails", arguments.MAX_LIST)
             if isinstance(e, str) and e and len(e) <= 254 and not arguments.bad_text(e)}
    folded = {}
    for email in given:
        folded.setdefault(schemas.compact(email).lower(), []).append(email)
    keys = sorted(folded)
    owners = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        rows = session.execute(_scoped(scope).with_only_columns(Customer.member_number, Customer.pc_email,
                                                                Customer.mobile_email)
                               .where(or_(func.lower(Customer.pc_email).in_(chunk),
                                          func.lower(Customer.mobile_email).in_(chunk)))).all()
        for row in rows:
            for address in {row.pc_email.lower(), row.mobile_email.lower()} & set(chunk):
                owners.setdefault(address, set()).add(row.member_number)
    return {email: next(iter(numbers)) for key, numbers in owners.items() if len(numbers) == 1
            for email in folded[key]}


INDEX_VERSIONS = {"customer": Customer}
"""What ``index_versions`` reads for search.reconcile."""


def customers_after(session, company_id, after_id, limit):
    """Customers of the company with id > after_id, by id: a page of the index rebuild (at most MAX_EXPORT)."""
    after_id, limit = arguments.after_id(after_id), min(arguments.integer(limit, "limit", 1), MAX_EXPORT)
    return list(session.scalars(select(Customer).where(Customer.company_id == company_id, Customer.id > after_id)
                                .order_by(Customer.id).limit(limit)))


def list_customers(session, scope, page=1, per_page=50, text=""):
    """A plain list, newest first (the search service offers the real conditions); per_page at most MAX_PER_PAGE."""
    page = arguments.integer(page, "page", 1, arguments.MAX_PAGE)
    per_page = min(arguments.integer(per_page, "per_page", 1), MAX_PER_PAGE)
    text = arguments.text(text, "text", 200, allow_none=True) or ""
    query = _scoped(scope)
    if text.strip():
        # Matching folds width, kana and spaces: "やまだ たろう" finds ヤマダ タロウ and 山田 too when typed so, and
        # "港区１－２" finds 東京都港区 1-2-3.
        key = fold(text).replace(" ", "")
        query = query.where(or_(Customer.member_number == text.strip(),
                                func.replace(Customer.name_key, " ", "").like(f"%{key}%"),
                                Customer.address_key.like(f"%{key}%")))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Customer.id.desc()).offset((page - 1) * per_page).limit(per_page)).all()
    return {"total": total, "page": page, "per_page": per_page, "customers": rows}


def validate(session, scope, data, customer=None, shop_ids=None):
    """Check a customer payload as create (or update of ``customer``) would, changing nothing; returns clean values.

    ``shop_ids``: the company's shops (from the shops service); a shop outside them is refused.
    """
    values = load(_input, data, partial=customer is not None)
    shop_id = values.get("shop_id", customer.shop_id if customer else None)
    scope.ensure_shop(scope.company_id, shop_id)
    if shop_ids is not None and shop_id not in shop_ids:
        raise field_error("shop_id", "unknown_shop")
    number = values.get("member_number")
    if number and numbering.number_taken(session, scope.company_id, number, customer.id if customer else None):
        raise field_error("member_number", "taken")
    if "choices" in values:
        values["choices"] = groups.check_choices(session, scope.company_id, values["choices"])
    return values


def _fill_keys(customer):
    """The folded name and address (for matching) and the member number's place in the sequence (numbering.py)."""
    customer.name_key = " ".join(fold(part) for part in (customer.family_name, customer.given_name,
                                                          customer.family_kana, customer.given_kana))
    customer.address_key = fold(customer.address or "").replace(" ", "")
    customer.member_number_value = numbering.issuable_value(customer.member_number)


def _apply(customer, values):
    choices = values.pop("choices", None)
    for key, value in values.items():
        setattr(customer, key, value)
    _fill_keys(customer)
    if choices is not None:
        existing = {c.group_id: c for c in customer.choices}
        for group_id, choice_id in choices.items():
            if choice_id is None:
                if group_id in existing:
                    customer.choices.remove(existing[group_id])
            elif group_id in existing:
                existing[group_id].choice_id = choice_id
            else:
                customer.choices.append(CustomerChoice(group_id=group_id, choice_id=choice_id))


def create_customer(session, scope, data, shop_ids=None, event_type=events.CUSTOMER_CREATED):
    values = validate(session, scope, data, shop_ids=shop_ids)
    if not values.get("member_number"):
        values["member_number"] = numbering.issue_member_number(session, scope.company_id)
    customer = Customer(company_id=scope.company_id, version=1, **DEFAULTS)
    _apply(customer, values)
    session.add(customer)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise field_error("member_number", "taken") from None
    events.customer_changed(session, customer, event_type)
    return customer


def update_customer(session, scope, customer_id, data, shop_ids=None):
    customer = get_customer(session, scope, customer_id)
    values = validate(session, scope, data, customer, shop_ids)
    if values.get("member_number") is None:
        values.pop("member_number", None)
    _apply(customer, values)
    customer.version += 1
    session.flush()
    events.customer_changed(session, customer)
    return customer


def delete_customer(session, scope, customer_id):
    """The customer goes with its 対応履歴 (each entry's deletion announced as when deleted one by one)."""
    from . import support  # which builds on this module

    customer = get_customer(session, scope, customer_id)
    for entry in session.scalars(select(SupportEntry).where(SupportEntry.customer_id == customer.id)):
        support.remove(session, entry)
    customer.version += 1
    events.customer_deleted(session, customer)
    session.delete(customer)
    session.flush()


def upsert_options(options):
    """``(mode, keep_existing)`` of upsert options (None: the defaults); refused by field under ``options``."""
    try:
        values = load(_options, options)
    except ValidationFailed as failure:
        raise ValidationFailed("invalid input", {("options" if path == "_schema" else f"options.{path}"): codes
                                                 for path, codes in failure.fields.items()}) from None
    return values["mode"], values["keep_existing"]


def _has_value(value):
    return value is not None and value != ""


def kept_values(values, customer, held_choices):
    """With keep_existing: only the values of fields ``customer`` has none for (an empty string or null), and the
    choices of groups it has no choice in (``held_choices``: its group ids)."""
    kept = {key: value for key, value in values.items()
            if key != "choices" and not _has_value(getattr(customer, key))}
    if "choices" in values:
        kept["choices"] = {group: choice for group, choice in values["choices"].items() if group not in held_choices}
    return kept


def _utc(value):
    # SQLite hands stored moments back without their zone: they are UTC.
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value


def changes_anything(values, customer, choices):
    """Whether applying ``values`` would change ``customer``, whose choices are ``choices`` ({group: choice})."""
    for key, value in values.items():
        if key == "choices":
            if any(choices.get(group) != choice for group, choice in value.items()):
                return True
        elif _utc(getattr(customer, key)) != _utc(value):
            return True
    return False


def batch_upsert(session, scope, records, shop_ids=None, options=None):
    """Create or update customers by member number; each record stands alone, in the order given (a number twice:
    the second record updates what the first made).

    ``options``: ``{"mode": "create_update" | "update_only" | "create_only", "keep_existing": bool}`` (see
    docs/rpc.md). Returns ``{"created": n, "updated": n, "unchanged": n, "skipped": [{"index", "reason"}], "errors":
    [{"index": i, "fields": {...}}], "customers": [{"index", "id", "member_number", "version"}]}``. A bad record
    changes nothing; the good ones are applied. Raises ValidationFailed (bad options, or not a list).

    Set-wise: every record is checked in memory against the batch's stored customers (read in one query per
    BATCH_CHUNK numbers), then the new ones are inserted, the changed ones updated and their events recorded, each
    in one statement.
    """
    mode, keep_existing = upsert_options(options)
    records = arguments.sequence(records, "customers", MAX_RECORDS)
    batch = _Batch(session, scope, shop_ids, keep_existing)
    numbers, errors, outcomes = {}, {}, {}
    for index, record in enumerate(records):
        try:
            arguments.clean(record, "")
            numbers[index] = _member_number(record)
        except ValidationFailed as failure:
            errors[index] = failure.fields
    # On SQLite the savepoint takes the write lock first (services/common/db.py), so the stored customers read
    # stay as read until the commit; on PostgreSQL they are read FOR UPDATE.
    with session.begin_nested():
        drafts = _stored_drafts(session, scope.company_id, set(numbers.values()))
        for index, number in numbers.items():
            draft = drafts.get(number)
            if draft is None and mode == "update_only":
                outcomes[index] = ("skipped", "not_stored")
            elif draft is not None and mode == "create_only":
                outcomes[index] = ("skipped", "already_stored")
            else:
                try:
                    if draft is None:
                        draft = drafts[number] = batch.create(records[index])
                        outcomes[index] = ("created", draft)
                    else:
                        outcomes[index] = (batch.update(draft, records[index]), draft)
                except ValidationFailed as failure:
                    errors[index] = failure.fields
        batch.write(list(drafts.values()))
    for index, (outcome, draft) in list(outcomes.items()):
        if outcome != "skipped" and draft.id is None:  # its number was registered meanwhile by another call
            del outcomes[index]
            errors[index] = {"member_number": ["taken"]}
    kinds = [outcome for outcome, _ in outcomes.values()]
    return {"created": kinds.count("created"), "updated": kinds.count("updated"),
            "unchanged": kinds.count("unchanged"),
            "skipped": [{"index": index, "reason": draft} for index, (outcome, draft) in sorted(outcomes.items())
                        if outcome == "skipped"],
            "errors": [{"index": index, "fields": errors[index]} for index in sorted(errors)],
            "customers": [{"index": index, "id": draft.id, "member_number": draft.member_number,
                           "version": draft.version}
                          for index, (outcome, draft) in sorted(outcomes.items()) if outcome != "skipped"]}


BATCH_CHUNK = 500
"""Member numbers (or ids) per IN list when a batch reads what is stored."""

_customers = Customer.__table__
_customer_choices = CustomerChoice.__table__
_COLUMNS = tuple(c.name for c in _customers.columns if c.name != "id")


def _member_number(record):
    if not isinstance(record, dict) or not isinstance(record.get("member_number"), str) \
            or not record["member_number"].strip():
        raise field_error("member_number", "required")
    number = schemas.compact(record["member_number"])  # as the number is stored
    if not number:
        raise field_error("member_number", "required")
    return number


class _Draft:
    """A customer as the batch leaves it: its columns as attributes (read, or a new customer's), its choices
    ({group id: choice id}) and whether it must be written."""

    def __init__(self, columns, is_new):
        self.id = None
        self.__dict__.update(columns)
        self.chosen, self.stored_chosen, self.is_new, self.changed = {}, {}, is_new, is_new

    @property
    def choices(self):  # as the Customer schema reads a customer's choices
        return [SimpleNamespace(group_id=group, choice_id=choice) for group, choice in self.chosen.items()]

    def columns(self):
        return {name: getattr(self, name) for name in _COLUMNS}

    def as_now(self):
        """A copy of the customer as it is now, for its event (its id filled in once known)."""
        return SimpleNamespace(**self.columns(), chosen=dict(self.chosen))


def _stored_drafts(session, company_id, numbers):
    """{member number: _Draft} of the company's stored customers holding the numbers, locked until the commit."""
    numbers, drafts = sorted(numbers), {}
    for start in range(0, len(numbers), BATCH_CHUNK):
        query = (select(_customers).where(_customers.c.company_id == company_id,
                                          _customers.c.member_number.in_(numbers[start:start + BATCH_CHUNK]))
                 .order_by(_customers.c.id).with_for_update())
        for row in session.execute(query).mappings():
            drafts[row["member_number"]] = _Draft(dict(row), False)
    by_id = {draft.id: draft for draft in drafts.values()}
    ids = sorted(by_id)
    for start in range(0, len(ids), BATCH_CHUNK):
        rows = session.execute(select(_customer_choices.c.customer_id, _customer_choices.c.group_id,
                                      _customer_choices.c.choice_id)
                               .where(_customer_choices.c.customer_id.in_(ids[start:start + BATCH_CHUNK]))
                               .order_by(_customer_choices.c.id))
        for customer_id, group_id, choice_id in rows:
            by_id[customer_id].chosen[group_id] = choice_id
            by_id[customer_id].stored_chosen[group_id] = choice_id
    return drafts


class _Batch:
    """The checks and changes of one batch, as create_customer and update_customer make them one by one."""

    def __init__(self, session, scope, shop_ids, keep_existing):
        self.session, self.scope, self.shop_ids, self.keep_existing = session, scope, shop_ids, keep_existing
        self._checked_choices = {}
        # (draft, the customer as the batch event carries it after that change), in the order of the records
        self.events = []

    def create(self, record):
        values = load(_input, record)
        try:
            self.scope.ensure_shop(self.scope.company_id, values["shop_id"])
        except Forbidden:  # a shop outside the caller's scope
            raise field_error("shop_id", "forbidden") from None
        self._check_listed(values["shop_id"])
        if "choices" in values:
            values["choices"] = self._choices(values["choices"])
        now = utcnow()
        columns = dict.fromkeys(_COLUMNS)
        columns.update(_NEW_DEFAULTS, **DEFAULTS)
        columns.update(company_id=self.scope.company_id, version=1, registered_at=now, updated_at=now)
        draft = _Draft(columns, True)
        _apply_to_draft(draft, values)
        self.events.append((draft, draft.as_now()))
        return draft

    def update(self, draft, record):
        """``updated`` or ``unchanged``."""
        try:
            self.scope.ensure_shop(draft.company_id, draft.shop_id)
        except Forbidden:  # another shop's customer
            raise field_error("member_number", "forbidden") from None
        values = load(_input, record, partial=True)
        shop_id = values.get("shop_id", draft.shop_id)
        try:
            self.scope.ensure_shop(self.scope.company_id, shop_id)
        except Forbidden:  # moved to a shop outside the caller's scope
            raise field_error("member_number", "forbidden") from None
        self._check_listed(shop_id)
        if values.get("member_number") is None:
            values.pop("member_number", None)
        if "choices" in values:
            values["choices"] = self._choices(values["choices"])
        if self.keep_existing:
            values = kept_values(values, draft, draft.chosen)
        if not changes_anything(values, draft, draft.chosen):
            return "unchanged"
        _apply_to_draft(draft, values)
        draft.version += 1
        draft.updated_at = utcnow()
        draft.changed = True
        self.events.append((draft, draft.as_now()))
        return "updated"

    def _check_listed(self, shop_id):
        if self.shop_ids is not None and shop_id not in self.shop_ids:
            raise field_error("shop_id", "unknown_shop")

    def _choices(self, answers):
        # One check per distinct set of answers in the batch: a cart sends the same few again and again.
        key = tuple(sorted(answers.items(), key=lambda item: str(item[0])))
        if key not in self._checked_choices:
            try:
                self._checked_choices[key] = groups.check_choices(self.session, self.scope.company_id, answers)
            except ValidationFailed as failure:
                self._checked_choices[key] = failure
        checked = self._checked_choices[key]
        if isinstance(checked, ValidationFailed):
            raise ValidationFailed("invalid input", checked.fields)
        return dict(checked)

    def write(self, drafts):
        """Insert the new customers, update the changed ones, then their choices and events. A new customer whose
        number another call registered meanwhile is left without an id: the unique key refuses it once that call
        commits. Batches insert in the order of the numbers, so two of them never wait for each other in a cycle."""
        session = self.session
        new = sorted((d for d in drafts if d.is_new), key=lambda d: d.member_number)
        if new:
            ids = {number: customer_id for customer_id, number in pgcopy.upsert_rows(
                session.connection(), _customers, [d.columns() for d in new], keys=("company_id", "member_number"),
                returning=("id", "member_number"), order_by=("member_number",))}
            for draft in new:
                draft.id = ids.get(draft.member_number)
        changed = sorted((d for d in drafts if d.changed and not d.is_new), key=lambda d: d.id)
        if changed:
            # executemany: the SET clause is every column, from each row's parameters
            session.execute(update(_customers).where(_customers.c.id == bindparam("b_id")),
                            [dict(d.columns(), b_id=d.id) for d in changed])
        written = [d for d in drafts if d.changed and d.id is not None]
        _write_choices(session, written)
        events.customers_recorded(session, self.scope.company_id, uuid.uuid4().hex, [
            SimpleNamespace(**vars(then), id=d.id, choices=[
                SimpleNamespace(group_id=group, choice_id=choice) for group, choice in then.chosen.items()])
            for d, then in self.events if d.id is not None])


_NEW_DEFAULTS = {c.name: c.default.arg for c in Customer.__table__.columns
                 if c.default is not None and c.default.is_scalar}
"""The table's column defaults, given explicitly to the multi-row insert (a new customer's DEFAULTS aside)."""


def _apply_to_draft(draft, values):
    choices = values.pop("choices", None)
    for key, value in values.items():
        setattr(draft, key, value)
    _fill_keys(draft)
    for group_id, choice_id in (choices or {}).items():
        if choice_id is None:
            draft.chosen.pop(group_id, None)
        else:
            draft.chosen[group_id] = choice_id


def _write_choices(session, drafts):
    added, changed, removed = [], [], []
    for draft in drafts:
        for group_id, choice_id in draft.chosen.items():
            before = draft.stored_chosen.get(group_id)
            if before is None:
                added.append({"customer_id": draft.id, "group_id": group_id, "choice_id": choice_id})
            elif before != choice_id:
                changed.append({"b_customer": draft.id, "b_group": group_id, "choice_id": choice_id})
        removed.extend({"b_customer": draft.id, "b_group": group_id}
                       for group_id in draft.stored_chosen if group_id not in draft.chosen)
    c = _customer_choices.c
    if removed:
        session.execute(delete(_customer_choices).where(c.customer_id == bindparam("b_customer"),
                                                        c.group_id == bindparam("b_group")), removed)
    if changed:
        session.execute(update(_customer_choices).where(c.customer_id == bindparam("b_customer"),
                                                        c.group_id == bindparam("b_group")), changed)
    pgcopy.insert_rows(session.connection(), _customer_choices, added)


def shop_counts(session, scope, shop_id, shop_ids):
    """The shop page's 登録顧客数, アドレス登録数 (PC, 携帯) and 送信拒否 (``shop_ids``: the caller's shops)."""
    shop_id = arguments.entity_id(shop_id, "shop_id")
    scope.ensure_listed_shop(shop_id, shop_ids)
    base = select(func.count()).select_from(Customer).where(Customer.company_id == scope.company_id,
                                                             Customer.shop_id == shop_id)
    registered = session.scalar(base)
    pc = session.scalar(base.where(Customer.mail_permission == "pc", Customer.pc_email != ""))
    mobile = session.scalar(base.where(Customer.mail_permission == "mobile", Customer.mobile_email != ""))
    return {"registered": registered, "with_address": pc + mobile, "pc": pc, "mobile": mobile,
            "refused": registered - pc - mobile}


def today_jst():
    """Operators work in Japan: ages and "today" are reckoned in Asia/Tokyo."""
    return dt.datetime.now(JST).date()
