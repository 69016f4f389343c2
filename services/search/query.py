"""Conditions → one SQL query over the index (bound parameters only), counts and pages."""
import datetime as dt

from sqlalchemy import and_, case, exists, func, literal, not_, or_, select

from services.common.contracts import JST

from .conditions import UNSELECTED, product_row_bounds, zero_fits
from .models import (CustomerSummary, IndexedChoice, IndexedCustomer, IndexedLine, IndexedMail, IndexedMailActivity,
                     IndexedPurchase)

C, S, P, L = IndexedCustomer, CustomerSummary, IndexedPurchase, IndexedLine


def _day_bounds(days):
    """A DateRange of days (Japan time) → (start, end) moments in UTC, end exclusive; either may be None."""
    if not days:
        return None, None
    start = dt.datetime.combine(days["start"], dt.time(), JST).astimezone(dt.timezone.utc) if days.get("start") else None
    end = (dt.datetime.combine(days["end"] + dt.timedelta(days=1), dt.time(), JST).astimezone(dt.timezone.utc)
           if days.get("end") else None)
    return start, end


def _moment_between(column, days):
    start, end = _day_bounds(days)
    clauses = []
    if start is not None:
        clauses.append(column >= start)
    if end is not None:
        clauses.append(column < end)
    return clauses


def _date_between(column, days):
    clauses = []
    if days and days.get("start"):
        clauses.append(column >= days["start"])
    if days and days.get("end"):
        clauses.append(column <= days["end"])
    return clauses


def _in_range(expression, bounds):
    clauses = []
    if bounds and bounds.get("min") is not None:
        clauses.append(expression >= bounds["min"])
    if bounds and bounds.get("max") is not None:
        clauses.append(expression <= bounds["max"])
    return clauses


def _exists(*clauses):
    """EXISTS correlated to the customer only (the summary table may also be joined for sorting)."""
    return exists().where(*clauses).correlate(C)


def _like(text):
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _years_before(day, years):
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# --- 属性検索 --------------------------------------------------------------------------------

def attribute_clauses(a, today):
    from services.common.text import fold_for_matching, normalize_phone

    clauses = []
    if a["name"].strip():
        clauses.append(C.name_key.like(_like(fold_for_matching(a["name"])), escape="\\"))
    if a["member_numbers"]:
        options = []
        for part in a["member_numbers"]:
            if part[0] == "range":
                options.append(C.member_number_value.between(part[1], part[2]))
            else:
                options.append(C.member_number == part[1])
        clauses.append(or_(*options))
    if a["genders"]:
        clauses.append(C.gender.in_(a["genders"]))
    clauses += _date_between(C.birth_date, a["birth_date"])
    if a["age"]:
        if a["age"].get("min") is not None:
            clauses.append(C.birth_date <= _years_before(today, a["age"]["min"]))
        if a["age"].get("max") is not None:
            clauses.append(C.birth_date > _years_before(today, a["age"]["max"] + 1))
    if a["mail_permissions"]:
        clauses.append(C.mail_permission.in_(a["mail_permissions"]))
    if a["dm_permission"] is not None:
        clauses.append(C.dm_permission.is_(a["dm_permission"]))
    if a["line_permission"] is not None:
        clauses.append(C.line_permission.is_(a["line_permission"]))
    if a["address_error"] is not None:
        in_error = _exists(S.customer_id == C.id, S.address_errors > 0)
        clauses.append(in_error if a["address_error"] else not_(in_error))
    if a["email"].strip():
        pattern = _like(a["email"].strip().lower())
        clauses.append(or_(func.lower(C.mobile_email).like(pattern, escape="\\"),
                           func.lower(C.pc_email).like(pattern, escape="\\")))
    if a["phone"].strip():
        digits = normalize_phone(a["phone"]).replace("-", "")
        pattern = _like(digits)
        clauses.append(or_(func.replace(C.mobile_phone, "-", "").like(pattern, escape="\\"),
                           func.replace(C.home_phone, "-", "").like(pattern, escape="\\")))
    for group_id, wanted in a["choices"].items():
        chosen = [int(c) for c in wanted if str(c).isdigit()]
        options = []
        if chosen:
            options.append(exists().where(IndexedChoice.customer_id == C.id, IndexedChoice.group_id == int(group_id),
                                          IndexedChoice.choice_id.in_(chosen)))
        if UNSELECTED in wanted:  # 未選択: no choice in this group
            options.append(not_(exists().where(IndexedChoice.customer_id == C.id,
                                               IndexedChoice.group_id == int(group_id))))
        if options:
            clauses.append(or_(*options))
    for position, text in a["remarks"].items():
        if text.strip():
            clauses.append(getattr(C, f"remark{position}").like(_like(text.strip()), escape="\\"))
    for position, text in a["extras"].items():
        if text.strip():
            clauses.append(getattr(C, f"extra{position}").like(_like(text.strip()), escape="\\"))
    if a["fax"].strip():
        digits = normalize_phone(a["fax"]).replace("-", "")
        clauses.append(func.replace(C.fax, "-", "").like(_like(digits), escape="\\"))
    clauses += _in_range(C.points_held, a["points_held"])
    clauses += _in_range(C.valid_points, a["valid_points"])
    clauses += _date_between(C.points_expiry, a["points_expiry"])
    clauses += _date_between(C.earliest_expiry, a["earliest_expiry"])
    clauses += _moment_between(C.last_login_at, a["last_login"])
    if a["shop_ids"]:
        clauses.append(C.shop_id.in_(a["shop_ids"]))
    clauses += _moment_between(C.registered_at, a["registered"])
    return clauses


# --- purchases ---------------------------------------------------------------------------------

def _product_row_clause(row, purchase_filter):
    """OR within a row: bought any of these products, the number of purchases in the count range."""
    codes = [c.strip() for c in row["product_codes"] if c.strip()]
    if not codes:
        return None
    buying = (select(L.customer_id).join(P, P.id == L.purchase_id)
              .where(L.product_code.in_(codes), P.counted.is_(True), *purchase_filter)
              .group_by(L.customer_id))
    times = func.count(func.distinct(L.purchase_id))
    low, high = product_row_bounds(row)
    if low is None or low <= 0:
        if high is None:
            return literal(True)
        return C.id.not_in(buying.having(times > high))
    having = [times >= low] + ([times <= high] if high is not None else [])
    return C.id.in_(buying.having(and_(*having)))


def _attributes_clause(attributes, purchase_filter):
    clauses = []
    for key, value in attributes.items():
        if key.strip():
            pattern = _like(f'"{key.strip()}": "{value.strip()}"')
            clauses.append(P.order_attributes.like(pattern, escape="\\"))
    return clauses


def _summary_range(column, bounds):
    """A range on a summary figure where a customer without a summary counts as 0 (never bought).

    Written as IN / NOT IN over the summary table rather than a per-customer subquery, so the database can answer
    it with one pass over an index.
    """
    if not bounds or (bounds.get("min") is None and bounds.get("max") is None):
        return []
    low, high = bounds.get("min"), bounds.get("max")
    if low is not None and low > 0:
        return [C.id.in_(select(S.customer_id).where(*_in_range(column, bounds)))]
    if high is None:
        return []  # 0 or more: everyone
    return [C.id.not_in(select(S.customer_id).where(column > high))]


def latest_clauses(r):
    """最新購入情報 (RFM): first / latest purchase over the chosen shops, company-wide count and total."""
    clauses = []
    shops = r["shop_ids"]
    if shops:
        per_customer = (select(P.customer_id, func.min(P.purchased_at).label("first"),
                               func.max(P.purchased_at).label("latest"), func.max(P.shipped_at).label("shipped"))
                        .where(P.counted.is_(True), P.shop_id.in_(shops)).group_by(P.customer_id).subquery())
        first, latest, shipped = per_customer.c.first, per_customer.c.latest, per_customer.c.shipped
        date_clauses = (_moment_between(first, r["first_purchase"]) + _moment_between(latest, r["latest_purchase"])
                        + _moment_between(shipped, r["latest_shipped"]))
        if date_clauses:
            clauses.append(C.id.in_(select(per_customer.c.customer_id).where(*date_clauses)))
    else:
        date_clauses = (_moment_between(S.first_purchase_at, r["first_purchase"])
                        + _moment_between(S.latest_purchase_at, r["latest_purchase"])
                        + _moment_between(S.latest_shipped_at, r["latest_shipped"]))
        if date_clauses:
            clauses.append(_exists(S.customer_id == C.id, *date_clauses))
    clauses += _summary_range(S.purchase_count, r["purchase_count"])
    clauses += _summary_range(S.purchase_total, r["purchase_total"])
    if r["order_code"].strip():
        clauses.append(_exists(S.customer_id == C.id, S.latest_order_code == r["order_code"].strip()))
    attributes = _attributes_clause(r["order_attributes"], [])
    if attributes:
        clauses.append(_exists(S.customer_id == C.id, P.id == S.latest_purchase_id, *attributes))
    purchase_filter = [P.shop_id.in_(shops)] if shops else []
    for row in r["product_rows"]:
        clause = _product_row_clause(row, purchase_filter)
        if clause is not None:
            clauses.append(clause)
    return clauses


def period_clauses(q):
    """期間設定: the same measures over the purchases inside a date range (and shops)."""
    purchase_filter = [P.counted.is_(True)]
    if q["shop_ids"]:
        purchase_filter.append(P.shop_id.in_(q["shop_ids"]))
    purchase_filter += _moment_between(P.purchased_at, q["purchased"])
    purchase_filter += _moment_between(P.shipped_at, q["shipped"])
    clauses = []
    in_period = select(P.customer_id).where(*purchase_filter).group_by(P.customer_id)
    count_bounds = q["count"]
    if count_bounds or q["total"]:
        times, amount = func.count(), func.coalesce(func.sum(P.billed_amount), 0)
        having = _in_range(times, count_bounds) + _in_range(amount, q["total"])
        if having and zero_fits(count_bounds) and zero_fits(q["total"]):
            # no purchase in the period (0 times, 0 yen) qualifies: exclude only those outside the ranges
            clauses.append(C.id.not_in(in_period.having(not_(and_(*having)))))
        else:
            clauses.append(C.id.in_(in_period.having(and_(*having))))
    if q["order_code"].strip():
        clauses.append(exists().where(P.customer_id == C.id, P.order_code == q["order_code"].strip(), *purchase_filter))
    if q["media"].strip():
        clauses.append(exists().where(P.customer_id == C.id, P.media == q["media"].strip(), *purchase_filter))
    attributes = _attributes_clause(q["order_attributes"], purchase_filter)
    if attributes:
        clauses.append(exists().where(P.customer_id == C.id, *purchase_filter, *attributes))
    codes = [c.strip() for c in q["bought_products"] if c.strip()]
    if codes:
        bought = C.id.in_(select(L.customer_id).join(P, P.id == L.purchase_id)
                          .where(L.product_code.in_(codes), *purchase_filter))
        clauses.append(bought if q["bought"] else not_(bought))
    for row in q["product_rows"]:
        clause = _product_row_clause(row, purchase_filter[1:])
        if clause is not None:
            clauses.append(clause)
    if len(purchase_filter) > 1 and not clauses and not (count_bounds or q["total"]):
        # only shops or dates given: the customers who bought in them
        clauses.append(C.id.in_(in_period))
    return clauses


# --- メール履歴 ---------------------------------------------------------------------------------

ACTIVITY_OF = {"sent": "delivery", "opened": "open", "clicked": "click", "qr_read": "qr_read"}


def mail_clauses(mails, company_id):
    clauses = []
    for family in ("manual", "automatic"):
        f = mails.get(family)
        if not f:
            continue
        chosen = select(IndexedMail.id).where(IndexedMail.company_id == company_id, IndexedMail.family == family)
        if f["mail_ids"]:
            chosen = chosen.where(IndexedMail.id.in_(f["mail_ids"]))
        if f["kinds"]:
            chosen = chosen.where(IndexedMail.kind.in_(f["kinds"]))
        for flag, activity in ACTIVITY_OF.items():
            if not f[flag]:
                continue
            happened = exists().where(IndexedMailActivity.customer_id == C.id,
                                      IndexedMailActivity.activity == activity,
                                      IndexedMailActivity.mail_id.in_(chosen),
                                      *_moment_between(IndexedMailActivity.occurred_at, f["period"]))
            clauses.append(happened if f[flag] == "include" else not_(happened))
    return clauses


# --- putting it together -----------------------------------------------------------------------

def scope_clauses(scope):
    clauses = [C.company_id == scope.company_id]
    if scope.is_shop:
        clauses.append(C.shop_id == scope.shop_id)
    return clauses


def section_clauses(conditions, company_id, today):
    """{section: [clauses]} for the sections present."""
    sections = {}
    if conditions.get("attributes"):
        sections["attributes"] = attribute_clauses(conditions["attributes"], today)
    if conditions.get("latest"):
        sections["latest"] = latest_clauses(conditions["latest"])
    if conditions.get("period"):
        sections["period"] = period_clauses(conditions["period"])
    if conditions.get("mails"):
        sections["mails"] = mail_clauses(conditions["mails"], company_id)
    return sections


SORT_COLUMNS = {"member_number": (C.member_number_value, C.member_number), "registered_at": (C.registered_at,),
                "latest_purchase_at": (S.latest_purchase_at,), "purchase_count": (S.purchase_count,),
                "purchase_total": (S.purchase_total,), "name": (C.name_key,)}
# the sorts whose figure a customer who never bought (no counted purchase) does not have: 0円 is not a total
PURCHASE_SORTS = ("latest_purchase_at", "purchase_count", "purchase_total")


def sort_order(sort, descending):
    """ORDER BY of a page, the same on every database and as ``ColumnStore.ordered_page``. A customer without a value
    (never bought, for the purchase figures; no registration date) comes last in both directions. Member numbers are
    the exception: descending is the exact reverse (numbers, then the text of those that are not numbers)."""
    columns = SORT_COLUMNS[sort]
    if sort == "member_number":
        return [col.desc().nulls_first() if descending else col.asc().nulls_last() for col in columns]
    # the latest purchase moment is missing exactly when nothing was bought (a summary may remain with 0 purchases)
    missing = (S.latest_purchase_at.is_(None) if sort in PURCHASE_SORTS else columns[0].is_(None))
    value = case((missing, None), else_=columns[0])  # every customer without a value alike, then by id
    return [case((missing, 1), else_=0), value.desc() if descending else value.asc()]
