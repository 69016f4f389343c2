"""検索 finds the customers docs/rpc.md describes: small random companies, published as the owners' events, applied to
an index and loaded into a store; random condition documents over them; the customers the engine counts and lists
(and the order of a page) must be those a naive reading of the manual finds in the generated rows.

The naive reading walks the customers one by one and computes every condition from the raw rows as the manual words
it. It shares no logic with ``services/search/query.py`` or ``matching.py``: only ``fold_for_matching``, because the
manual's "folding width, kana and spaces" for names is that function's definition, not a choice of the search.
"""
import contextlib
import datetime as dt
import re
import unicodedata

import jaconv
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from bench.generate import FAMILY, GIVEN
from services.common.scope import OPERATOR, SHOP, Scope
from services.common.text import fold_for_matching
from services.search import indexer, searching
from services.search.models import Base
from tests.support import loaded_store

JST = dt.timezone(dt.timedelta(hours=9))
COMPANY, OTHER_COMPANY = 1, 2
SHOPS = (1, 2)
CATALOGUE = ("A-1", "A-2", "B-1", "C-9")
FIRST_DAY, DAY_COUNT = dt.date(2025, 3, 10), 5  # every moment falls on one of these Japan days
HOURS, MINUTES = (0, 8, 15, 23), (0, 59)  # 0:00 and 23:59 JST sit at the edges of a Japan day
# bench/generate.py's names, with a family name read ミタ and a given name written in katakana (田中エミ, タナカエミ:
# "ミタ" is in neither)
FAMILY_NAMES = tuple(FAMILY) + (("三田", "ミタ"),)
GIVEN_NAMES = tuple(GIVEN) + (("エミ", "エミ", "female"),)
MEMBER_NUMBERS = ("1", "2", "3", "7", "10", "12", "25", "100", "K7", "X10")
REMARKS = ("", "VIP", "VIP\n会員", "東京都", "50%引", "a_b", "ab", "a!b")
REMARK_QUERIES = ("VIP", "会員", "東京", "%", "_", "a_b", "!", "!b", " VIP ")  # LIKE's wildcards and escape
POINTS = (0, 10, 100, 1000)
AGES = (19, 20, 21, 39, 40, 41)
BILLED = (0, 500, 1000, 3000)
MEDIA = ("", "google", "yahoo")
ORDER_ATTRIBUTES = ({}, {"支払方法": "代引き"}, {"支払方法": "カード"}, {"支払方法": "カード", "ギフト": "あり"},
                    {"備考": '24"'}, {"備考": "C:\\temp"}, {"備考": "1行目\n2行目"})  # what JSON text escapes
ATTRIBUTE_QUERIES = ({"支払方法": "代引き"}, {"支払方法": "カード"}, {"ギフト": "あり"},
                     {"支払方法": "カード", "ギフト": "あり"}, {"備考": '24"'}, {"備考": "C:\\temp"},
                     {"備考": "1行目\n2行目"},
                     {"支払方法": "代引"}, {"備考": "1行目"})  # the last two: a value is whole
CHOICES = {"1": (None, 11, 12), "2": (None, 21)}  # attribute group → a customer's choice (None: 未選択)
MAIL_SHAPES = (  # (family, kind, scenario number, step), as mailhistory files them
    ("manual", "manual", None, None), ("manual", "scheduled", None, None), ("manual", "manual_scenario", 1, 1),
    ("automatic", "manual_scenario", 1, 2), ("automatic", "automatic", None, None),
    ("automatic", "automatic_scenario", 2, 1))
MAIL_KINDS = ("manual", "manual_scenario", "scheduled", "automatic", "automatic_scenario")
ACTIVITIES = {"sent": "delivery", "opened": "open", "clicked": "click", "qr_read": "qr_read"}
SORTS = ("purchase_total", "purchase_count", "latest_purchase_at", "member_number", "registered_at")
DOCUMENTS_PER_COMPANY = 24


def _years_ago(day, years):
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _today():
    return dt.datetime.now(JST).date()


# --- the generated company -----------------------------------------------------------------------------------------

moments = st.builds(lambda day, hour, minute: dt.datetime.combine(FIRST_DAY + dt.timedelta(days=day),
                                                                  dt.time(hour, minute), JST),
                    st.integers(0, DAY_COUNT - 1), st.sampled_from(HOURS), st.sampled_from(MINUTES))


@st.composite
def customers_of(draw, today):
    count = draw(st.integers(3, 7))
    numbers = draw(st.lists(st.sampled_from(MEMBER_NUMBERS), min_size=count, max_size=count, unique=True))
    customers = []
    for customer_id, number in enumerate(numbers, start=1):
        family, family_kana = draw(st.sampled_from(FAMILY_NAMES))
        given, given_kana, gender = draw(st.sampled_from(GIVEN_NAMES))
        birth = draw(st.none() | st.builds(lambda age, shift: _years_ago(today, age) + dt.timedelta(days=shift),
                                           st.sampled_from(AGES), st.sampled_from((-1, 0, 1))))
        remarks = [draw(st.sampled_from(REMARKS)), draw(st.sampled_from(REMARKS))] + [""] * 8
        customers.append({
            "id": customer_id, "shop_id": draw(st.sampled_from(SHOPS)), "member_number": number,
            "family_name": family, "given_name": given, "family_kana": family_kana, "given_kana": given_kana,
            "gender": draw(st.sampled_from((gender, "unknown"))), "birth_date": birth,
            "mail_permission": draw(st.sampled_from(("mobile", "pc", "refused"))),
            "dm_permission": draw(st.booleans()), "line_permission": draw(st.booleans()), "remarks": remarks,
            "points_held": draw(st.sampled_from(POINTS)), "registered_at": draw(moments),
            "choices": {group: choice for group, options in CHOICES.items()
                        if (choice := draw(st.sampled_from(options))) is not None}})
    return customers


@st.composite
def purchases_of(draw, customers):
    purchases, taken = [], set()
    for purchase_id in range(1, draw(st.integers(3, 12)) + 1):
        customer_id = draw(st.sampled_from([c["id"] for c in customers]))
        purchased = draw(moments)
        while (customer_id, purchased) in taken:  # a customer's purchases at distinct moments: one is the latest
            purchased += dt.timedelta(seconds=1)
        taken.add((customer_id, purchased))
        shipped = draw(st.none() | st.sampled_from((0, 9, 30)).map(lambda hours: purchased + dt.timedelta(hours=hours)))
        lines = draw(st.lists(st.tuples(st.sampled_from(CATALOGUE), st.integers(1, 2)), min_size=1, max_size=3))
        purchases.append({
            "id": purchase_id, "customer_id": customer_id, "shop_id": draw(st.sampled_from(SHOPS)),
            "order_code": f"O{purchase_id}", "purchased_at": purchased, "shipped_at": shipped,
            "billed_amount": draw(st.sampled_from(BILLED)), "media": draw(st.sampled_from(MEDIA)),
            "order_attributes": draw(st.sampled_from(ORDER_ATTRIBUTES)),
            "counted": draw(st.sampled_from((True, True, True, False))),
            "lines": [{"product_code": code, "quantity": quantity} for code, quantity in lines],
            # how the owner got there: recorded once, first recorded otherwise (another customer, not counted), or
            # recorded and then deleted (the index must hold nothing of it)
            "history": draw(st.sampled_from(("once", "once", "once", "revised", "deleted")))})
    return purchases


@st.composite
def companies(draw, today):
    customers = draw(customers_of(today))
    mails = [{"id": mail_id, "family": family, "kind": kind, "scenario_number": scenario, "step": step}
             for mail_id, (family, kind, scenario, step)
             in enumerate(draw(st.lists(st.sampled_from(MAIL_SHAPES), min_size=1, max_size=4)), start=1)]
    activities = []
    for activity_id in range(1, draw(st.integers(3, 20)) + 1):
        activity = draw(st.sampled_from(("delivery", "delivery", "open", "open", "click", "qr_read")))
        activities.append({
            "id": activity_id, "mail_id": draw(st.sampled_from([m["id"] for m in mails])),
            "customer_id": draw(st.sampled_from([c["id"] for c in customers])), "activity": activity,
            "result": draw(st.sampled_from(("delivered", "failed"))) if activity == "delivery" else "",
            "occurred_at": draw(moments)})
    return {"customers": customers, "purchases": draw(purchases_of(customers)), "mails": mails,
            "activities": activities, "today": today}


# --- the owners' events (the shapes bench/generate.py yields) ------------------------------------------------------

def _text(moment, utc=False):
    return (moment.astimezone(dt.timezone.utc) if utc else moment).isoformat() if moment else None


def _customer_event(c, company_id=COMPANY):
    return {"version": 1, "company_id": company_id, "event_type": "customer_created", "entity": "customer",
            "entity_id": str(c["id"]), "data": {
                "id": c["id"], "shop_id": c["shop_id"], "member_number": c["member_number"],
                "family_name": c["family_name"], "given_name": c["given_name"], "family_kana": c["family_kana"],
                "given_kana": c["given_kana"], "gender": c["gender"],
                "birth_date": c["birth_date"].isoformat() if c["birth_date"] else None,
                "mail_permission": c["mail_permission"], "dm_permission": c["dm_permission"],
                "line_permission": c["line_permission"], "mobile_email": "", "pc_email": "", "mobile_phone": "",
                "home_phone": "", "fax": "", "remarks": c["remarks"], "extras": ["", "", "", ""],
                "points_held": c["points_held"], "valid_points": 0, "points_expiry": None, "earliest_expiry": None,
                "last_login_at": None, "registered_at": _text(c["registered_at"]), "choices": c["choices"]}}


def _purchase_event(p, version=1, event_type="purchase_recorded", company_id=COMPANY, **changed):
    data = {"id": p["id"], "customer_id": p["customer_id"], "shop_id": p["shop_id"], "order_code": p["order_code"],
            "purchased_at": _text(p["purchased_at"], utc=True), "shipped_at": _text(p["shipped_at"], utc=True),
            "billed_amount": p["billed_amount"], "media": p["media"], "order_attributes": p["order_attributes"],
            "counted": p["counted"], "lines": p["lines"]}
    return {"version": version, "company_id": company_id, "event_type": event_type, "entity": "purchase",
            "entity_id": str(p["id"]), "data": {**data, **changed}}


def events_of(world):
    customers, purchases = world["customers"], world["purchases"]
    events = [_customer_event(c) for c in customers]
    later = []
    for p in purchases:
        if p["history"] == "revised":  # first under the next customer
            other = customers[p["customer_id"] % len(customers)]["id"]
            events.append(_purchase_event(p, customer_id=other, counted=not p["counted"], billed_amount=7))
            later.append(_purchase_event(p, version=2))
        elif p["history"] == "deleted":
            events.append(_purchase_event(p))
            later.append(_purchase_event(p, version=2, event_type="purchase_deleted"))
        else:
            events.append(_purchase_event(p))
    for m in world["mails"]:
        events.append({"version": 1, "company_id": COMPANY, "event_type": "mail_updated", "entity": "mail",
                       "entity_id": str(m["id"]), "data": {**m, "mail_number": m["id"], "name": f"メール{m['id']}"}})
    for a in world["activities"]:
        member_number = next(c["member_number"] for c in customers if c["id"] == a["customer_id"])
        events.append({"version": 1, "company_id": COMPANY, "event_type": "mail_activity_recorded",
                       "entity": "mail_activity", "entity_id": str(a["id"]),
                       "data": {**a, "member_number": member_number, "occurred_at": _text(a["occurred_at"])}})
    # another company's customer (a copy of the first), buying every product: never an answer here
    stranger = {**customers[0], "id": 1000, "shop_id": 3}
    events.append(_customer_event(stranger, OTHER_COMPANY))
    events.append(_purchase_event({
        "id": 1000, "customer_id": 1000, "shop_id": 3, "order_code": "O1", "purchased_at": stranger["registered_at"],
        "shipped_at": stranger["registered_at"], "billed_amount": 500, "media": "google",
        "order_attributes": ORDER_ATTRIBUTES[3], "counted": True,
        "lines": [{"product_code": code, "quantity": 1} for code in CATALOGUE]}, company_id=OTHER_COMPANY))
    return events + later


@contextlib.contextmanager
def indexed(world):
    """(a session of the index, a store loaded from it) holding the company's events."""
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    factory = sessionmaker(engine)
    with factory() as session:
        for envelope in events_of(world):
            indexer.apply(session, envelope)
        session.commit()
    try:
        with loaded_store(factory) as store, factory() as session:
            yield session, store
    finally:
        engine.dispose()


# --- condition documents, drawn from what the company holds ---------------------------------------------------------

def _day_text(offset):
    return (FIRST_DAY + dt.timedelta(days=offset)).isoformat()


def _bounds(draw, values):
    """(low, high) of the values, in order: mostly both, or one of them; now and then neither (asking nothing)."""
    low, high = sorted((draw(st.sampled_from(values)), draw(st.sampled_from(values))))
    shape = draw(st.sampled_from(("both", "low", "high", "both", "neither")))
    return (low if shape in ("both", "low") else None), (high if shape in ("both", "high") else None)


@st.composite
def day_ranges(draw, days=None):
    """{"from", "to"} over the days given (default: the company's days and one either side); either may be null."""
    days = days or [_day_text(offset) for offset in range(-1, DAY_COUNT + 1)]
    start, end = _bounds(draw, days)
    return {"from": start, "to": end}


@st.composite
def ranges(draw, values):
    low, high = _bounds(draw, values)
    return {"min": low, "max": high}


FULL_WIDTH = str.maketrans("0123456789K", "０１２３４５６７８９Ｋ")


@st.composite
def member_number_texts(draw):
    numbers = [int(n) for n in MEMBER_NUMBERS if n.isdigit()]
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            parts.append(draw(st.sampled_from(MEMBER_NUMBERS + ("999",))))
        else:
            low, high = sorted(draw(st.tuples(st.sampled_from(numbers), st.sampled_from(numbers + [10**20]))))
            parts.append(f"{low}{draw(st.sampled_from(('-', '〜', '~')))}{high}")
    text = draw(st.sampled_from((",", ", ", "、", " "))).join(parts)
    return text.translate(FULL_WIDTH) if draw(st.booleans()) else text


@st.composite
def name_queries(draw, customers):
    c = draw(st.sampled_from(customers))
    whole = draw(st.sampled_from((c["family_name"] + c["given_name"], c["family_kana"] + c["given_kana"])))
    start = draw(st.integers(0, len(whole) - 1))
    query = whole[start:draw(st.integers(start + 1, len(whole)))]
    how = draw(st.sampled_from(("as is", "hiragana", "half width", "spaced", "other")))
    if how == "hiragana":
        query = jaconv.kata2hira(query)
    elif how == "half width":
        query = jaconv.z2h(query, kana=True)
    elif how == "spaced":
        query = f" {query[:1]}　{query[1:]} "
    elif how == "other":
        query = draw(st.sampled_from(("ズ", "木", "ﾀﾛｳ", "  ", "%", "_", "!")))
    return query


@st.composite
def attribute_sections(draw, world):
    customers, section = world["customers"], {}
    for key in draw(st.lists(st.sampled_from(
            ("name", "member_numbers", "genders", "birth_date", "age", "mail_permissions", "dm_permission",
             "line_permission", "choices", "remarks", "points_held", "shop_ids", "registered")),
            min_size=1, max_size=2, unique=True)):
        if key == "name":
            section[key] = draw(name_queries(customers))
        elif key == "member_numbers":
            section[key] = draw(member_number_texts())
        elif key == "genders":
            section[key] = draw(st.lists(st.sampled_from(("female", "male", "unknown")), max_size=2, unique=True))
        elif key == "birth_date":
            births = sorted({(c["birth_date"] + dt.timedelta(days=shift)).isoformat()
                             for c in customers if c["birth_date"] for shift in (-1, 0, 1)}) or ["2000-01-01"]
            section[key] = draw(day_ranges(births))
        elif key == "age":  # the ages the customers are, or are about to be
            ages = {_age(c["birth_date"], world["today"]) + d for c in customers if c["birth_date"] for d in (0, 1)}
            section[key] = draw(ranges(sorted(ages) or AGES))
        elif key == "mail_permissions":
            section[key] = draw(st.lists(st.sampled_from(("mobile", "pc", "refused")), min_size=1, max_size=2,
                                         unique=True))
        elif key in ("dm_permission", "line_permission"):
            section[key] = draw(st.booleans())
        elif key == "choices":
            section[key] = draw(st.dictionaries(st.sampled_from(("1", "2")), st.lists(
                st.sampled_from((11, 12, "12", 21, "unselected")), max_size=2, unique=True), min_size=1))
        elif key == "remarks":
            section[key] = draw(st.dictionaries(st.sampled_from(("1", "2")), st.sampled_from(REMARK_QUERIES),
                                                min_size=1))
        elif key == "points_held":
            section[key] = draw(ranges(sorted({p + d for p in POINTS for d in (-1, 0, 1)})))
        elif key == "shop_ids":
            section[key] = draw(st.lists(st.sampled_from(SHOPS), min_size=1, max_size=2, unique=True))
        else:
            section[key] = draw(day_ranges())
    return section


def _totals(world):
    """Figures near the company's own: each customer's total, each amount, and one above and below."""
    figures = set(BILLED)
    for c in world["customers"]:
        figures.add(sum(p["billed_amount"] for p in world["purchases"]
                        if p["customer_id"] == c["id"] and p["counted"]))
    return sorted(figures | {f + 1 for f in figures} | {f - 1 for f in figures})


@st.composite
def product_rows(draw):
    rows = []
    for _ in range(draw(st.integers(1, 3))):
        # now and then a row naming no product: it asks nothing
        row = {"product_codes": draw(st.lists(st.sampled_from(CATALOGUE), min_size=draw(st.sampled_from((1, 1, 0))),
                                              max_size=2, unique=True))}
        if draw(st.booleans()):
            row["count"] = draw(ranges((0, 1, 2)))
        rows.append(row)
    return rows


def _order_codes(world):
    """Codes of the purchases that count, and one no purchase has."""
    return [p["order_code"] for p in world["purchases"] if p["counted"] and p["history"] != "deleted"] + ["O999"]


@st.composite
def latest_sections(draw, world):
    section = {}
    keys = draw(st.lists(st.sampled_from(
        ("shop_ids", "first_purchase", "latest_purchase", "latest_shipped", "purchase_count", "purchase_total",
         "order_code", "order_attributes", "product_rows")), min_size=1, max_size=2, unique=True))
    if "product_rows" in keys or draw(st.booleans()):  # shops narrow the dates (and are what products need)
        keys.insert(0, "shop_ids")
    for key in keys:
        if key == "shop_ids" and "shop_ids" not in section:
            section["shop_ids"] = draw(st.sampled_from(([1], [2], [2, 1])))
        if key in ("first_purchase", "latest_purchase", "latest_shipped"):
            section[key] = draw(day_ranges())
        elif key == "purchase_count":
            section[key] = draw(ranges((0, 1, 2, 3)))
        elif key == "purchase_total":
            section[key] = draw(ranges(_totals(world)))
        elif key == "order_code":
            section[key] = draw(st.sampled_from(_order_codes(world)))
        elif key == "order_attributes":
            section[key] = draw(st.sampled_from(ATTRIBUTE_QUERIES))
        elif key == "product_rows":
            section[key] = draw(product_rows())
    return section


@st.composite
def period_sections(draw, world):
    section = {}
    keys = draw(st.lists(st.sampled_from(
        ("shop_ids", "purchased", "shipped", "purchase_count", "purchase_total", "order_code", "media",
         "order_attributes", "bought_products", "product_rows")), min_size=1, max_size=2, unique=True))
    # the manual does not say whether 受注番号, 媒体 and 受注属性 must hold of one and the same purchase: one at a time
    of_a_purchase = [k for k in keys if k in ("order_code", "media", "order_attributes")]
    keys = [k for k in keys if k not in of_a_purchase[1:]]
    for key in keys:
        if key == "shop_ids" or (key in ("bought_products", "product_rows") and "shop_ids" not in section):
            section["shop_ids"] = draw(st.lists(st.sampled_from(SHOPS), min_size=1, max_size=2, unique=True))
        if key in ("purchased", "shipped"):
            section[key] = draw(day_ranges())
        elif key == "purchase_count":
            section[key] = draw(ranges((0, 1, 2)))
        elif key == "purchase_total":
            section[key] = draw(ranges(_totals(world)))
        elif key == "order_code":
            section[key] = draw(st.sampled_from(_order_codes(world)))
        elif key == "media":
            section[key] = draw(st.sampled_from(("google", "yahoo", "line")))
        elif key == "order_attributes":
            section[key] = draw(st.sampled_from(ATTRIBUTE_QUERIES))
        elif key == "bought_products":
            section[key] = draw(st.lists(st.sampled_from(CATALOGUE), min_size=1, max_size=2, unique=True))
            section["bought"] = draw(st.booleans())
        elif key == "product_rows":
            section[key] = draw(product_rows())
    return section


@st.composite
def mail_families(draw, world):
    family = {}
    for key in draw(st.lists(st.sampled_from(("mail_ids", "kinds")), max_size=1)):
        if key == "mail_ids":
            family[key] = draw(st.lists(st.sampled_from([m["id"] for m in world["mails"]] + [99]), min_size=1,
                                        max_size=2, unique=True))
        else:
            family[key] = draw(st.lists(st.sampled_from(MAIL_KINDS), min_size=1, max_size=2, unique=True))
    if draw(st.booleans()):
        family["period"] = draw(day_ranges())
    family.update(draw(st.dictionaries(st.sampled_from(("sent", "sent", "opened", "opened", "clicked", "qr_read")),
                                       st.sampled_from(("include", "include", "exclude")), min_size=1,
                                       max_size=draw(st.sampled_from((1, 1, 2))))))
    return family


@st.composite
def mail_sections(draw, world):
    families = [draw(st.sampled_from(("manual", "automatic")))]
    if draw(st.integers(0, 3)) == 0:
        families = ["manual", "automatic"]
    return {family: draw(mail_families(world)) for family in families}


SECTION_STRATEGIES = {"attributes": attribute_sections, "latest": latest_sections, "period": period_sections,
                      "mails": mail_sections}


@st.composite
def documents(draw, world):
    """One section mostly (each alone finds some customers more often than not), now and then two."""
    names = [draw(st.sampled_from(tuple(SECTION_STRATEGIES)))]
    if draw(st.integers(0, 3)) == 0:
        names.append(draw(st.sampled_from([name for name in SECTION_STRATEGIES if name != names[0]])))
    return {name: draw(SECTION_STRATEGIES[name](world)) for name in names}


scopes = st.sampled_from((Scope(COMPANY, OPERATOR), Scope(COMPANY, OPERATOR), Scope(COMPANY, SHOP, shop_id=1),
                          Scope(COMPANY, SHOP, shop_id=2)))
pagings = st.builds(lambda sort, descending: {"per_page": 500, "sort": sort, "descending": descending},
                    st.sampled_from(SORTS), st.booleans())


# --- the naive reading of docs/rpc.md -------------------------------------------------------------------------------

def _jst_day(moment):
    return moment.astimezone(JST).date()


def _in_days(moment, days):
    """A moment on one of the days of a range (Japan days, inclusive). A range without bounds asks nothing; a moment
    that does not exist (never bought, never shipped) is on no day."""
    start = dt.date.fromisoformat(days["from"]) if days and days.get("from") else None
    end = dt.date.fromisoformat(days["to"]) if days and days.get("to") else None
    if start is None and end is None:
        return True
    if moment is None:
        return False
    day = moment if isinstance(moment, dt.date) and not isinstance(moment, dt.datetime) else _jst_day(moment)
    return (start is None or day >= start) and (end is None or day <= end)


def _in_range(figure, bounds):
    low, high = (bounds or {}).get("min"), (bounds or {}).get("max")
    if low is None and high is None:
        return True
    if figure is None:
        return False
    return (low is None or figure >= low) and (high is None or figure <= high)


def _asks(bounds):
    return bool(bounds) and (bounds.get("min") is not None or bounds.get("max") is not None)


def _days_given(days):
    return bool(days) and bool(days.get("from") or days.get("to"))


def _age(birth, today):
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _member_number_matches(number, text):
    """会員番号: single numbers or ranges, written in any width, separated by commas or spaces."""
    pieces = [piece for piece in re.split(r"[,、\s]+", unicodedata.normalize("NFKC", text)) if piece]
    for piece in pieces:
        bounds = re.fullmatch(r"(\d+)[-〜~](\d+)", piece)
        if bounds:
            if number.isdigit() and int(bounds[1]) <= int(number) <= int(bounds[2]):
                return True
        elif piece == number:
            return True
    return not pieces  # none named: nothing asked


class Company:
    """The generated rows, and what each customer has done, computed one customer at a time."""

    def __init__(self, world, today):
        self.world, self.today = world, today
        self.customers = world["customers"]
        self.purchases = [p for p in world["purchases"] if p["history"] != "deleted"]
        self.mails = {m["id"]: m for m in world["mails"]}

    def counted(self, customer, shops=()):
        """Counted purchases (集計対象) of a customer, at the shops (any when none)."""
        return [p for p in self.purchases if p["customer_id"] == customer["id"] and p["counted"]
                and (not shops or p["shop_id"] in shops)]

    def figures(self, customer):
        """(purchase count, total, latest purchase moment): 0, 0, None for a customer who never bought."""
        bought = self.counted(customer)
        return (len(bought), sum(p["billed_amount"] for p in bought),
                max((p["purchased_at"] for p in bought), default=None))

    # 属性検索
    def attributes(self, c, a):
        folded_name = fold_for_matching(a.get("name", ""))
        if folded_name and all(folded_name not in fold_for_matching(whole) for whole in (
                c["family_name"] + c["given_name"], c["family_kana"] + c["given_kana"])):
            return False
        if a.get("member_numbers") and not _member_number_matches(c["member_number"], a["member_numbers"]):
            return False
        if a.get("genders") and c["gender"] not in a["genders"]:
            return False
        if not _in_days(c["birth_date"], a.get("birth_date")):
            return False
        if _asks(a.get("age")) and (c["birth_date"] is None
                                    or not _in_range(_age(c["birth_date"], self.today), a["age"])):
            return False
        if a.get("mail_permissions") and c["mail_permission"] not in a["mail_permissions"]:
            return False
        for key in ("dm_permission", "line_permission"):
            if a.get(key) is not None and c[key] != a[key]:
                return False
        for group, wanted in a.get("choices", {}).items():
            chosen = c["choices"].get(group)
            if wanted and not any(chosen is None if w == "unselected" else chosen == int(w) for w in wanted):
                return False
        for position, text in a.get("remarks", {}).items():
            if text.strip() and text.strip() not in c["remarks"][int(position) - 1]:
                return False
        if not _in_range(c["points_held"], a.get("points_held")):
            return False
        if a.get("shop_ids") and c["shop_id"] not in a["shop_ids"]:
            return False
        return _in_days(c["registered_at"], a.get("registered"))

    # 最新購入情報
    def latest(self, c, r):
        at_shops = self.counted(c, r.get("shop_ids"))
        first = min((p["purchased_at"] for p in at_shops), default=None)
        latest = max((p["purchased_at"] for p in at_shops), default=None)
        shipped = max((p["shipped_at"] for p in at_shops if p["shipped_at"]), default=None)
        if not (_in_days(first, r.get("first_purchase")) and _in_days(latest, r.get("latest_purchase"))
                and _in_days(shipped, r.get("latest_shipped"))):
            return False
        count, total, _ = self.figures(c)  # over every shop of the company, whichever shops are chosen
        if not (_in_range(count, r.get("purchase_count")) and _in_range(total, r.get("purchase_total"))):
            return False
        # the latest purchase (at any shop, as the RFM figures are): its order code and order attributes
        everything = self.counted(c)
        newest = max(everything, key=lambda p: p["purchased_at"]) if everything else None
        if r.get("order_code", "").strip() and (newest is None or newest["order_code"] != r["order_code"].strip()):
            return False
        attributes = {k.strip(): v.strip() for k, v in r.get("order_attributes", {}).items() if k.strip()}
        if attributes and (newest is None or any(newest["order_attributes"].get(k) != v
                                                 for k, v in attributes.items())):
            return False
        return self._product_rows(at_shops, r.get("product_rows", []))

    @staticmethod
    def _product_rows(purchases, rows):
        """Rows AND'd; inside a row, the number of purchases holding any of its products, in the row's count
        (no count: at least one)."""
        for row in rows:
            codes = {code.strip() for code in row["product_codes"] if code.strip()}
            if not codes:
                continue
            times = sum(1 for p in purchases if any(line["product_code"] in codes for line in p["lines"]))
            bounds = row.get("count") if _asks(row.get("count")) else {"min": 1}
            if not _in_range(times, bounds):
                return False
        return True

    # 期間設定
    def period(self, c, q):
        inside = [p for p in self.counted(c, q.get("shop_ids")) if _in_days(p["purchased_at"], q.get("purchased"))
                  and _in_days(p["shipped_at"], q.get("shipped"))]
        asked = False
        for key, figure in (("purchase_count", len(inside)),
                            ("purchase_total", sum(p["billed_amount"] for p in inside))):
            if _asks(q.get(key)):
                asked = True
                if not _in_range(figure, q[key]):
                    return False
        for key in ("order_code", "media"):
            if q.get(key, "").strip():
                asked = True
                if not any(p[key] == q[key].strip() for p in inside):
                    return False
        attributes = {k.strip(): v.strip() for k, v in q.get("order_attributes", {}).items() if k.strip()}
        if attributes:
            asked = True
            if not any(all(p["order_attributes"].get(k) == v for k, v in attributes.items()) for p in inside):
                return False
        codes = {code.strip() for code in q.get("bought_products", []) if code.strip()}
        if codes:
            asked = True
            bought = any(line["product_code"] in codes for p in inside for line in p["lines"])
            if bought != q.get("bought", True):
                return False
        if any(code.strip() for row in q.get("product_rows", []) for code in row["product_codes"]):
            asked = True
            if not self._product_rows(inside, q["product_rows"]):
                return False
        narrowed = q.get("shop_ids") or _days_given(q.get("purchased")) or _days_given(q.get("shipped"))
        if narrowed and not asked:  # only shops or days: customers who bought in them
            return bool(inside)
        return True

    # メール履歴
    def mails_hold(self, c, m):
        for family, f in m.items():
            if not f:
                continue
            chosen = {mail_id for mail_id, mail in self.mails.items() if mail["family"] == family
                      and (not f.get("mail_ids") or mail_id in f["mail_ids"])
                      and (not f.get("kinds") or mail["kind"] in f["kinds"])}
            for flag, activity in ACTIVITIES.items():
                if not f.get(flag):
                    continue
                # 配信: any delivery, failed or not (as mailhistory's mail_summaries counts `sent`)
                happened = any(a["customer_id"] == c["id"] and a["mail_id"] in chosen and a["activity"] == activity
                               and _in_days(a["occurred_at"], f.get("period")) for a in self.world["activities"])
                if happened != (f[flag] == "include"):
                    return False
        return True

    SECTIONS = {"attributes": attributes, "latest": latest, "period": period, "mails": mails_hold}

    def in_scope(self, scope):
        return [c for c in self.customers if not scope.is_shop or c["shop_id"] == scope.shop_id]

    def section(self, scope, name, document):
        return [c for c in self.in_scope(scope) if self.SECTIONS[name](self, c, document[name])]

    def found(self, scope, document):
        return [c for c in self.in_scope(scope)
                if all(self.SECTIONS[name](self, c, part) for name, part in document.items())]

    def ordered(self, found, sort, descending):
        """A page's order: by the figure asked for, ties by id; a customer who never bought last in both directions
        for the purchase figures; member numbers descending the exact reverse of ascending (numbers by value, then
        those that are not numbers by their text)."""
        if sort == "member_number":
            ascending = sorted(found, key=lambda c: ((0, int(c["member_number"]), "") if c["member_number"].isdigit()
                                                     else (1, 0, c["member_number"]), c["id"]))
            return [c["id"] for c in (ascending[::-1] if descending else ascending)]
        if sort == "registered_at":
            value = lambda c: c["registered_at"]  # noqa: E731
        else:
            position = {"purchase_count": 0, "purchase_total": 1, "latest_purchase_at": 2}[sort]
            value = lambda c: self.figures(c)[position] if self.counted(c) else None  # noqa: E731
        having = sorted((c for c in found if value(c) is not None), key=lambda c: c["id"])
        having.sort(key=value, reverse=descending)  # stable: ties stay by id
        missing = sorted((c for c in found if value(c) is None), key=lambda c: c["id"])
        return [c["id"] for c in having + missing]


def _utc(moment):
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc)


def _size(found, everyone):
    return "none" if not found else "everyone" if len(found) == len(everyone) else "some"


def _asked(document, scope):
    return f"{document} as {f'shop {scope.shop_id}' if scope.is_shop else 'operator'}"


@settings(max_examples=10, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_search_finds_the_customers_the_manual_describes(data):
    """Per company, several documents in several scopes: the count (and each section's), the customers of a page of
    500 and their order, and the RFM figures the page shows, all as the naive reading has them."""
    today = _today()
    world = data.draw(companies(today), label="company")
    company = Company(world, today)
    questions = data.draw(st.lists(st.tuples(documents(world), scopes, pagings), min_size=DOCUMENTS_PER_COMPANY,
                                   max_size=DOCUMENTS_PER_COMPANY, unique_by=lambda q: (repr(q[0]), q[1].shop_id)),
                          label="documents, scopes and pagings")
    with indexed(world) as (session, store):
        for document, scope, paging in questions:
            expected = company.found(scope, document)
            event(f"found {_size(expected, company.in_scope(scope))}")
            counted = searching.count(session, scope, document, True, store)
            page = searching.page(session, scope, document, paging, store)["customers"]
            if _today() != today:  # midnight passed meanwhile: ages are of another day
                return
            asked = _asked(document, scope)
            assert sorted(row["id"] for row in page) == sorted(c["id"] for c in expected), asked
            assert counted["total"] == len(expected), asked
            assert counted["sections"] == {name: len(company.section(scope, name, document))
                                           for name in document}, asked
            assert [row["id"] for row in page] == company.ordered(expected, paging["sort"], paging["descending"]), (
                asked, paging)
            by_id = {c["id"]: c for c in expected}
            for row in page:
                assert (row["purchase_count"], row["purchase_total"], _utc(row["latest_purchase_at"])) == (
                    company.figures(by_id[row["id"]])), row
        operator = Scope(COMPANY, OPERATOR)
        everyone = company.in_scope(operator)
        for paging in data.draw(st.lists(pagings, min_size=3, max_size=3, unique_by=str), label="orders of all"):
            assert [row["id"] for row in searching.page(session, operator, {}, paging, store)["customers"]] == (
                company.ordered(everyone, paging["sort"], paging["descending"])), paging
        paging = data.draw(pagings, label="paging by two")
        walked = []  # pages of two, one after another: each customer once, in the order of one page of all
        for number in range(1, len(everyone) // 2 + 2):
            walked += [row["id"] for row in searching.page(
                session, operator, {}, {**paging, "per_page": 2, "page": number}, store)["customers"]]
        assert walked == company.ordered(everyone, paging["sort"], paging["descending"]), paging
        # asked of every company: each customer's own age, exactly (born the day before, on, or the day after a
        # birthday of years ago); each Japan day someone registered or bought on, alone (moments at 0:00 and 23:59
        # sit at its edges, 15:00 and 14:59 UTC); LIKE's wildcards and escape character in a remark
        documents_of_all = [{"attributes": {"age": {"min": age, "max": age}}}
                            for age in sorted({_age(c["birth_date"], today) for c in everyone if c["birth_date"]})]
        documents_of_all += [{"attributes": {"registered": {"from": day, "to": day}}}
                             for day in sorted({_jst_day(c["registered_at"]).isoformat() for c in everyone})]
        documents_of_all += [{"period": {"purchased": {"from": day, "to": day}}}
                             for day in sorted({_jst_day(p["purchased_at"]).isoformat() for p in company.purchases})]
        documents_of_all += [{"attributes": {"remarks": {"1": text}}} for text in ("%", "_", "!")]
        for document in documents_of_all:
            assert searching.count(session, operator, document, False, store)["total"] == len(
                company.found(operator, document)), document


# --- two disagreements with the manual this comparison brought up, each as its smallest case ----------------------

def _one_buyer(order_attributes):
    """One customer of shop 1 who bought once, at 2025-03-10 09:00 JST, with these order attributes."""
    customer = {"id": 1, "shop_id": 1, "member_number": "1", "family_name": "山田", "given_name": "花子",
                "family_kana": "ヤマダ", "given_kana": "ハナコ", "gender": "female", "birth_date": None,
                "mail_permission": "pc", "dm_permission": True, "line_permission": True, "remarks": [""] * 10,
                "points_held": 0, "registered_at": dt.datetime(2025, 3, 1, 9, tzinfo=JST), "choices": {}}
    purchase = {"id": 1, "customer_id": 1, "shop_id": 1, "order_code": "O1",
                "purchased_at": dt.datetime(2025, 3, 10, 9, tzinfo=JST), "shipped_at": None, "billed_amount": 1000,
                "media": "", "order_attributes": order_attributes, "counted": True,
                "lines": [{"product_code": "A-1", "quantity": 1}], "history": "once"}
    return {"customers": [customer], "purchases": [purchase], "mails": [], "activities": []}


@pytest.mark.parametrize("value", ['24"', "C:\\temp", "1行目\n2行目"])
def test_an_order_attribute_value_with_a_quote_backslash_or_line_break_is_found(value):
    """受注属性 {"備考": <value>} asked exactly as the purchase holds it, in 最新購入情報 and in 期間設定: its buyer is
    found (the purchases' order attributes are any string keys and values)."""
    world, operator = _one_buyer({"備考": value}), Scope(COMPANY, OPERATOR)
    with indexed(world) as (session, store):
        for section in ("latest", "period"):
            document = {section: {"order_attributes": {"備考": value}}}
            assert searching.count(session, operator, document, False, store)["total"] == 1, document


def test_a_name_spanning_the_given_name_and_the_furigana_finds_nobody():
    """氏名 "ミタ" (as for 三田, ミタ) is in neither 田中エミ nor タナカエミ: 田中エミ is not found (the manual: name matches
    name and furigana, partially)."""
    world = _one_buyer({})
    world["customers"][0].update(family_name="田中", given_name="エミ", family_kana="タナカ", given_kana="エミ")
    document = {"attributes": {"name": "ミタ"}}
    with indexed(world) as (session, store):
        assert searching.count(session, Scope(COMPANY, OPERATOR), document, False, store)["total"] == 0
