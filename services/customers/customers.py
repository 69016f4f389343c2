"""The customer master: create, update, delete, read, batch upsert by member number."""
import datetime as dt

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from services.common import arguments
from services.common.batches import apply_each
from services.common.contracts import JST, field_error, load
from services.common.errors import Forbidden, NotFound, ValidationFailed

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
        rows = session.execute(_scoped(scope).with_only_columns(Customer.id, Customer.member_number, Customer.shop_id)
                               .where(Customer.member_number.in_(numbers[start:start + 500]))).all()
        for row in rows:
            for number in folded[row.member_number]:
                found[number] = {"id": row.id, "member_number": row.member_number, "shop_id": row.shop_id}
    return found


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


def _apply(customer, values):
    choices = values.pop("choices", None)
    for key, value in values.items():
        setattr(customer, key, value)
    customer.name_key = " ".join(fold(part) for part in (customer.family_name, customer.given_name,
                                                          customer.family_kana, customer.given_kana))
    customer.address_key = fold(customer.address or "").replace(" ", "")
    customer.member_number_value = numbering.issuable_value(customer.member_number)
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
    """Create or update customers by member number; each record stands alone.

    ``options``: ``{"mode": "create_update" | "update_only" | "create_only", "keep_existing": bool}`` (see
    docs/rpc.md). Returns ``{"created": n, "updated": n, "unchanged": n, "skipped": [{"index", "reason"}], "errors":
    [{"index": i, "fields": {...}}], "customers": [{"index", "id", "member_number", "version"}]}``. A bad record
    changes nothing; the good ones are applied. Raises ValidationFailed (bad options).
    """
    mode, keep_existing = upsert_options(options)

    def upsert(record):
        if not isinstance(record, dict) or not isinstance(record.get("member_number"), str) \
                or not record["member_number"].strip():
            raise field_error("member_number", "required")
        number = schemas.compact(record["member_number"])  # as the number is stored
        existing = session.scalar(select(Customer).where(Customer.company_id == scope.company_id,
                                                         Customer.member_number == number))
        if existing is None and mode == "update_only":
            return None, "not_stored"
        if existing is not None and mode == "create_only":
            return None, "already_stored"
        try:
            if existing is None:
                return create_customer(session, scope, record, shop_ids), "created"
            return _update_from_batch(session, scope, existing, record, shop_ids, keep_existing)
        except Forbidden:  # another shop's customer, or a shop outside the caller's scope
            raise field_error("member_number" if existing is not None else "shop_id", "forbidden") from None

    applied, errors = apply_each(session, records, upsert, "customers")
    outcomes = [outcome for _, (_c, outcome) in applied]
    return {"created": outcomes.count("created"), "updated": outcomes.count("updated"),
            "unchanged": outcomes.count("unchanged"),
            "skipped": [{"index": index, "reason": outcome} for index, (c, outcome) in applied if c is None],
            "errors": errors,
            "customers": [{"index": index, "id": c.id, "member_number": c.member_number, "version": c.version}
                          for index, (c, _outcome) in applied if c is not None]}


def _update_from_batch(session, scope, customer, record, shop_ids, keep_existing):
    scope.ensure_shop(customer.company_id, customer.shop_id)
    values = validate(session, scope, record, customer, shop_ids)
    if values.get("member_number") is None:
        values.pop("member_number", None)
    choices = {c.group_id: c.choice_id for c in customer.choices}
    if keep_existing:
        values = kept_values(values, customer, choices)
    if not changes_anything(values, customer, choices):
        return customer, "unchanged"
    _apply(customer, values)
    customer.version += 1
    session.flush()
    events.customer_changed(session, customer)
    return customer, "updated"


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
