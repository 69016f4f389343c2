"""The condition language → SQL over a company's store (``store_tables.py``), bound parameters only: the one
implementation of what every condition means, for counts, pages, sorts, downloads and saved searches."""
import datetime as dt
import json

from sqlalchemy import and_, case, func, literal, not_, or_, select

from services.common.text import fold_for_matching, normalize_phone

from . import rfm
from .conditions import UNSELECTED, product_row_bounds, zero_fits
from .ranges import day_start, in_range
from .store_tables import MAIL_ACTIVITIES, choices, customers, lines, mail_activities, mails, purchases

C, P, L = customers.c, purchases.c, lines.c


def _day_bounds(days):
    """A DateRange of days (Japan time) → (start, end) moments in UTC, end exclusive; either may be None."""
    if not days:
        return None, None
    start = day_start(days["start"]) if days.get("start") else None
    end = day_start(days["end"] + dt.timedelta(days=1)) if days.get("end") else None
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


def _contains(column, text):
    """The text found anywhere in the column, every character as it is (``%``, ``_`` and backslashes too): DuckDB's
    contains(), a plain substring search — a LIKE with an ESCAPE clause is not turned into one and scanned ten
    million names 15 times slower."""
    return func.contains(column, text)


def _years_before(day, years):
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# --- 属性検索 --------------------------------------------------------------------------------

def attribute_clauses(a, today):
    clauses = []
    if a["name"].strip():
        clauses.append(_contains(C.name_key, fold_for_matching(a["name"])))
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
        clauses.append(C.address_errors > 0 if a["address_error"] else C.address_errors == 0)
    if a["email"].strip():
        address = a["email"].strip().lower()
        clauses.append(or_(_contains(func.lower(C.mobile_email), address), _contains(func.lower(C.pc_email), address)))
    if a["phone"].strip():
        digits = normalize_phone(a["phone"]).replace("-", "")
        clauses.append(or_(_contains(func.replace(C.mobile_phone, "-", ""), digits),
                           _contains(func.replace(C.home_phone, "-", ""), digits)))
    for group_id, wanted in a["choices"].items():
        chosen = [int(c) for c in wanted if str(c).isdigit()]
        in_group = select(choices.c.customer_id).where(choices.c.group_id == int(group_id))
        options = []
        if chosen:
            options.append(C.id.in_(in_group.where(choices.c.choice_id.in_(chosen))))
        if UNSELECTED in wanted:  # 未選択: no choice in this group
            options.append(C.id.not_in(in_group))
        if options:
            clauses.append(or_(*options))
    for position, text in a["remarks"].items():
        if text.strip():
            clauses.append(_contains(C[f"remark{position}"], text.strip()))
    for position, text in a["extras"].items():
        if text.strip():
            clauses.append(_contains(C[f"extra{position}"], text.strip()))
    if a["fax"].strip():
        digits = normalize_phone(a["fax"]).replace("-", "")
        clauses.append(_contains(func.replace(C.fax, "-", ""), digits))
    clauses += in_range(C.points_held, a["points_held"])
    clauses += in_range(C.valid_points, a["valid_points"])
    clauses += _date_between(C.points_expiry, a["points_expiry"])
    clauses += _date_between(C.earliest_expiry, a["earliest_expiry"])
    clauses += _moment_between(C.last_login_at, a["last_login"])
    if a["shop_ids"]:
        clauses.append(C.shop_id.in_(a["shop_ids"]))
    clauses += _moment_between(C.registered_at, a["registered"])
    return clauses


# --- purchases ---------------------------------------------------------------------------------

def _purchase_filter(table, shops=None, purchased=None, shipped=None):
    """Counted purchases (or their lines: they carry the same columns) at the shops, bought and shipped on those days."""
    clauses = [table.counted.is_(True)]
    if shops:
        clauses.append(table.shop_id.in_(shops))
    return clauses + _moment_between(table.purchased_at, purchased) + _moment_between(table.shipped_at, shipped)


def _buyers(codes, line_filter, low=1, high=None):
    """The customers with between ``low`` (at least 1) and ``high`` purchases holding any of the products. At least
    one or two purchases, the commonest questions, are asked without counting distinct purchases (two hash
    aggregations over every matching line): any line, or a smallest purchase id below the largest."""
    buying = select(L.customer_id).where(L.product_code.in_(codes), *line_filter)
    if low <= 1 and high is None:
        return buying
    if low == 2 and high is None:
        return buying.group_by(L.customer_id).having(func.min(L.purchase_id) < func.max(L.purchase_id))
    times = func.count(func.distinct(L.purchase_id))
    having = [times >= low] + ([times <= high] if high is not None else [])
    return buying.group_by(L.customer_id).having(and_(*having))


def _product_row_clause(row, line_filter):
    """OR within a row: bought any of these products, the number of purchases in the count range."""
    codes = [c.strip() for c in row["product_codes"] if c.strip()]
    if not codes:
        return None
    low, high = product_row_bounds(row)
    if low is None or low <= 0:
        if high is None:
            return literal(True)
        return C.id.not_in(_buyers(codes, line_filter, high + 1))
    return C.id.in_(_buyers(codes, line_filter, low, high))


def _attributes_clause(attributes):
    """受注属性: each key with its value, as the purchase's attributes hold them (JSON text, written by the indexer
    with json.dumps: the pair is looked for as json.dumps writes it, a quote, backslash or line break escaped)."""
    clauses = []
    for key, value in attributes.items():
        if key.strip():
            pair = f"{json.dumps(key.strip(), ensure_ascii=False)}: {json.dumps(value.strip(), ensure_ascii=False)}"
            clauses.append(_contains(P.order_attributes, pair))
    return clauses


def _figure_range(column, bounds):
    """A range on a summary figure: a customer who never bought has 0 of it."""
    if not bounds or (bounds.get("min") is None and bounds.get("max") is None):
        return []
    return in_range(column, bounds)


def latest_clauses(r):
    """最新購入情報 (RFM): first / latest purchase over the chosen shops, company-wide count and total."""
    clauses = []
    shops = r["shop_ids"]
    if shops:
        per_customer = (select(P.customer_id, func.min(P.purchased_at).label("first"),
                               func.max(P.purchased_at).label("latest"), func.max(P.shipped_at).label("shipped"))
                        .where(*_purchase_filter(P, shops)).group_by(P.customer_id).subquery())
        first, latest, shipped = per_customer.c.first, per_customer.c.latest, per_customer.c.shipped
        date_clauses = (_moment_between(first, r["first_purchase"]) + _moment_between(latest, r["latest_purchase"])
                        + _moment_between(shipped, r["latest_shipped"]))
        if date_clauses:
            clauses.append(C.id.in_(select(per_customer.c.customer_id).where(*date_clauses)))
    else:
        clauses += (_moment_between(C.first_purchase_at, r["first_purchase"])
                    + _moment_between(C.latest_purchase_at, r["latest_purchase"])
                    + _moment_between(C.latest_shipped_at, r["latest_shipped"]))
    clauses += _figure_range(C.purchase_count, r["purchase_count"])
    clauses += _figure_range(C.purchase_total, r["purchase_total"])
    if r["order_code"].strip():
        clauses.append(C.latest_order_code == r["order_code"].strip())
    attributes = _attributes_clause(r["order_attributes"])
    if attributes:
        clauses.append(C.latest_purchase_id.in_(select(P.id).where(*attributes)))
    line_filter = _purchase_filter(L, shops)
    for row in r["product_rows"]:
        clause = _product_row_clause(row, line_filter)
        if clause is not None:
            clauses.append(clause)
    return clauses


def period_clauses(q):
    """期間設定: the same measures over the purchases inside a date range (and shops)."""
    window = (q["shop_ids"], q["purchased"], q["shipped"])
    purchase_filter = _purchase_filter(P, *window)
    clauses = []
    in_period = select(P.customer_id).where(*purchase_filter).group_by(P.customer_id)
    count_bounds, total_bounds = q["purchase_count"], q["purchase_total"]
    times, amount = func.count(), func.coalesce(func.sum(P.billed_amount), 0)
    having = in_range(times, count_bounds) + in_range(amount, total_bounds)  # a range without bounds asks nothing
    if having and zero_fits(count_bounds) and zero_fits(total_bounds):
        # no purchase in the period (0 times, 0 yen) qualifies: exclude only those outside the ranges
        clauses.append(C.id.not_in(in_period.having(not_(and_(*having)))))
    elif having:
        clauses.append(C.id.in_(in_period.having(and_(*having))))
    if q["order_code"].strip():
        clauses.append(C.id.in_(select(P.customer_id).where(P.order_code == q["order_code"].strip(),
                                                            *purchase_filter)))
    if q["media"].strip():
        clauses.append(C.id.in_(select(P.customer_id).where(P.media == q["media"].strip(), *purchase_filter)))
    attributes = _attributes_clause(q["order_attributes"])
    if attributes:
        clauses.append(C.id.in_(select(P.customer_id).where(*purchase_filter, *attributes)))
    line_filter = _purchase_filter(L, *window)
    codes = [c.strip() for c in q["bought_products"] if c.strip()]
    if codes:
        bought = C.id.in_(select(L.customer_id).where(L.product_code.in_(codes), *line_filter))
        clauses.append(bought if q["bought"] else not_(bought))
    for row in q["product_rows"]:
        clause = _product_row_clause(row, line_filter)
        if clause is not None:
            clauses.append(clause)
    if len(purchase_filter) > 1 and not clauses and not having:
        # only shops or dates given: the customers who bought in them
        clauses.append(C.id.in_(in_period))
    return clauses


# --- メール履歴 ---------------------------------------------------------------------------------



def mail_clauses(mail_conditions):
    A, M = mail_activities.c, mails.c
    clauses = []
    for family in ("manual", "automatic"):
        f = mail_conditions.get(family)
        if not f:
            continue
        chosen = select(M.id).where(M.family == family)
        if f["mail_ids"]:
            chosen = chosen.where(M.id.in_(f["mail_ids"]))
        if f["kinds"]:
            chosen = chosen.where(M.kind.in_(f["kinds"]))
        any_mail = not (f["mail_ids"] or f["kinds"] or f["period"])
        for flag, activity in MAIL_ACTIVITIES.items():
            if not f[flag]:
                continue
            if any_mail:  # any mail of the family, any day: the customer's flag says it
                happened = C[f"{family}_{flag}"].is_(True)
            else:
                happened = C.id.in_(select(A.customer_id).where(A.activity == activity, A.mail_id.in_(chosen),
                                                                *_moment_between(A.occurred_at, f["period"])))
            clauses.append(happened if f[flag] == "include" else not_(happened))
    return clauses


# --- putting it together -----------------------------------------------------------------------

def scope_clauses(scope):
    """A company's store holds that company alone: a shop account sees its shop's customers."""
    return [C.shop_id == scope.shop_id] if scope.is_shop else []


def section_clauses(conditions, today, rfm_settings=None):
    """{section: [clauses]} for the sections present. ``rfm_settings``: the company's RFM設定, which the ranks of an
    ``rfm`` section are read with (its shops already as ``rfm.shops_for`` gives them)."""
    sections = {}
    if conditions.get("attributes"):
        sections["attributes"] = attribute_clauses(conditions["attributes"], today)
    if conditions.get("latest"):
        sections["latest"] = latest_clauses(conditions["latest"])
    if conditions.get("period"):
        sections["period"] = period_clauses(conditions["period"])
    if conditions.get("mails"):
        sections["mails"] = mail_clauses(conditions["mails"])
    if conditions.get("rfm"):
        sections["rfm"] = rfm.condition_clauses(conditions["rfm"], rfm_settings, today)
    return sections


SORT_COLUMNS = {"member_number": (C.member_number_value, C.member_number), "registered_at": (C.registered_at,),
                "latest_purchase_at": (C.latest_purchase_at,), "purchase_count": (C.purchase_count,),
                "purchase_total": (C.purchase_total,), "name": (C.name_key,)}
# the sorts whose figure a customer who never bought (no counted purchase) does not have: 0円 is not a total
PURCHASE_SORTS = ("latest_purchase_at", "purchase_count", "purchase_total")


def sort_order(sort, descending):
    """ORDER BY of a page. A customer without a value (never bought, for the purchase figures; no registration date)
    comes last in both directions. Member numbers are the exception: descending is the exact reverse (numbers, then
    the text of those that are not numbers)."""
    columns = SORT_COLUMNS[sort]
    if sort == "member_number":
        return [col.desc().nulls_first() if descending else col.asc().nulls_last() for col in columns]
    # the latest purchase moment is missing exactly when nothing was bought
    missing = (C.latest_purchase_at.is_(None) if sort in PURCHASE_SORTS else columns[0].is_(None))
    value = case((missing, None), else_=columns[0])  # every customer without a value alike, then by id
    return [case((missing, 1), else_=0), value.desc() if descending else value.asc()]
