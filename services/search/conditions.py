"""The condition language of 顧客管理 > 検索: a JSON document, validated here, every error reported by path.

Sections combine with AND: ``attributes`` (属性検索), ``latest`` (最新購入情報 RFM分析), ``period`` (期間設定),
``mails`` (メール履歴, ``manual`` and ``automatic`` families), ``rfm`` (a cell or a rank of RFM集計). An empty document
matches every customer in scope.
"""
import datetime as dt
import re

from marshmallow import ValidationError, fields, pre_load, validate, validates_schema

from services.common.arguments import MAX_ID, MAX_PAGE
from services.common.contracts import Contract, id_field, max_length, number_range, one_of, regexp
from services.common.text import fold_width
from services.customers.fields import GENDERS, MAIL_PERMISSIONS

SECTIONS = ("attributes", "latest", "period", "mails", "rfm")
INCLUDE = ("include", "exclude")
UNSELECTED = "unselected"
# the mail kinds of the mail-history service (手動, 手動シナリオ, 曜日日時, 自動, 自動シナリオ)
MAIL_KINDS = ("manual", "manual_scenario", "scheduled", "automatic", "automatic_scenario")
RANKS = ("A", "B", "C", "D", "E", "F", "G")
"""The seven ranks of RFM集計, best first (優良顧客 … 離反顧客 by default; each company names them, RFM設定)."""
MAX_FIGURE = 999_999_999_999
"""The bounds of a range condition (ages, points, counts, totals): at most twelve digits either way."""
MAX_MEMBER_VALUE = 10**17 - 1
"""The largest member number a range can name: the index keeps the numeric value of numbers of up to 17 digits."""
MAX_MEMBER_NUMBER_PARTS = 100
"""会員番号 conditions name at most 100 numbers or ranges."""
MAX_AGE = 150
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)
"""Days a date condition may name."""


class Range(Contract):
    min = fields.Integer(load_default=None, allow_none=True, validate=number_range(-MAX_FIGURE, MAX_FIGURE))
    max = fields.Integer(load_default=None, allow_none=True, validate=number_range(-MAX_FIGURE, MAX_FIGURE))

    @validates_schema
    def check_order(self, data, **_kwargs):
        if data.get("min") is not None and data.get("max") is not None and data["min"] > data["max"]:
            raise ValidationError("min_above_max", field_name="max")


class Ages(Range):
    min = fields.Integer(load_default=None, allow_none=True, validate=number_range(0, MAX_AGE))
    max = fields.Integer(load_default=None, allow_none=True, validate=number_range(0, MAX_AGE))


def _day(key):
    return fields.Date(data_key=key, load_default=None, allow_none=True,
                       validate=validate.Range(min=FIRST_DAY, max=LAST_DAY, error="invalid_date"))


class DateRange(Contract):
    """Days (inclusive); a date or a time may be given, the day is what counts (Japan time)."""

    start = _day("from")
    end = _day("to")

    @validates_schema
    def check_order(self, data, **_kwargs):
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise ValidationError("from_after_to", field_name="to")


def zero_fits(bounds):
    """Is 0 (no purchase) inside a Range? An absent range takes anything."""
    return not bounds or ((bounds.get("min") is None or bounds["min"] <= 0)
                          and (bounds.get("max") is None or bounds["max"] >= 0))


def product_row_bounds(row):
    """(min, max) purchases of a product row; a row naming products without a count asks for at least one."""
    bounds = row.get("count") or {}
    low, high = bounds.get("min"), bounds.get("max")
    return (1, None) if low is None and high is None else (low, high)


def member_numbers(value):
    """'1-100, 5,8' → [("range", 1, 100), ("one", "5"), ("one", "8")]; any width, folded as member numbers are stored."""
    parts = []
    for piece in re.split(r"[,、，\s]+", fold_width(value)):
        if not piece:
            continue
        if len(parts) == MAX_MEMBER_NUMBER_PARTS:
            raise ValidationError(f"max_items:{MAX_MEMBER_NUMBER_PARTS}")
        match = re.fullmatch(r"(\d+)\s*[-〜~]\s*(\d+)", piece)
        if match:
            low, high = int(match.group(1)), int(match.group(2))
            if low > high or low > MAX_MEMBER_VALUE:
                raise ValidationError("invalid_range")
            high = min(high, MAX_MEMBER_VALUE)  # no member number lies beyond: "1-99999999999999999999" is all
            parts.append(("range", low, high))
        else:
            parts.append(("one", piece))
    return parts


class ChoiceValue(fields.Field):
    """A choice of an attribute group: its id, or ``unselected`` (未選択)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value == UNSELECTED:
            return value
        if isinstance(value, str) and value.isdigit() and len(value) <= 10:
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID:
            return value
        raise ValidationError("invalid")


class MemberNumbers(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        return member_numbers(super()._deserialize(value, attr, data, **kwargs))


class Attributes(Contract):
    name = fields.String(load_default="", validate=max_length(100))
    member_numbers = MemberNumbers(load_default=None, allow_none=True)
    genders = fields.List(fields.String(validate=one_of(GENDERS)), load_default=list)
    birth_date = fields.Nested(DateRange, load_default=None, allow_none=True)
    age = fields.Nested(Ages, load_default=None, allow_none=True)
    mail_permissions = fields.List(fields.String(validate=one_of(MAIL_PERMISSIONS)), load_default=list)
    dm_permission = fields.Boolean(load_default=None, allow_none=True)
    line_permission = fields.Boolean(load_default=None, allow_none=True)
    address_error = fields.Boolean(load_default=None, allow_none=True)
    email = fields.String(load_default="", validate=max_length(254))
    phone = fields.String(load_default="", validate=max_length(20))
    choices = fields.Dict(keys=fields.String(validate=regexp(r"^\d{1,9}$", "invalid")),
                          values=fields.List(ChoiceValue()), load_default=dict)
    remarks = fields.Dict(keys=fields.String(validate=one_of([str(i) for i in range(1, 11)])),
                          values=fields.String(validate=max_length(200)), load_default=dict)
    fax = fields.String(load_default="", validate=max_length(20))
    extras = fields.Dict(keys=fields.String(validate=one_of(["1", "2", "3", "4"])),
                         values=fields.String(validate=max_length(200)), load_default=dict)
    points_held = fields.Nested(Range, load_default=None, allow_none=True)
    valid_points = fields.Nested(Range, load_default=None, allow_none=True)
    points_expiry = fields.Nested(DateRange, load_default=None, allow_none=True)
    earliest_expiry = fields.Nested(DateRange, load_default=None, allow_none=True)
    last_login = fields.Nested(DateRange, load_default=None, allow_none=True)
    shop_ids = fields.List(id_field(), load_default=list)
    registered = fields.Nested(DateRange, load_default=None, allow_none=True)


class ProductRow(Contract):
    product_codes = fields.List(fields.String(validate=max_length(50)), required=True)
    count = fields.Nested(Range, load_default=None, allow_none=True)


class PurchaseSection(Contract):
    """What 最新購入情報 and 期間設定 both ask of purchases: at which shops, an order code, order attributes, and
    product rows (products need the shops they were bought at)."""

    shop_ids = fields.List(id_field(), load_default=list)
    order_code = fields.String(load_default="", validate=max_length(100))
    order_attributes = fields.Dict(keys=fields.String(validate=max_length(100)),
                                   values=fields.String(validate=max_length(1000)), load_default=dict)
    product_rows = fields.List(fields.Nested(ProductRow), load_default=list)

    @validates_schema
    def products_need_shops(self, data, **_kwargs):
        if len(data.get("product_rows") or []) > 3:
            raise ValidationError("at_most_three_rows", field_name="product_rows")
        if any(r["product_codes"] for r in data.get("product_rows") or []) and not data.get("shop_ids"):
            raise ValidationError("required_with_products", field_name="shop_ids")


class Latest(PurchaseSection):
    """最新購入情報 (RFM): a customer's first and latest purchase, and the purchase count and total of every counted
    purchase at every shop of the company."""

    first_purchase = fields.Nested(DateRange, load_default=None, allow_none=True)
    latest_purchase = fields.Nested(DateRange, load_default=None, allow_none=True)
    latest_shipped = fields.Nested(DateRange, load_default=None, allow_none=True)
    purchase_count = fields.Nested(Range, load_default=None, allow_none=True)
    purchase_total = fields.Nested(Range, load_default=None, allow_none=True)


PERIOD_RENAMED = {"count": "purchase_count", "total": "purchase_total"}
"""Keys 期間設定 had before it named its measures as 最新購入情報 does: documents saved with them still load."""


class Period(PurchaseSection):
    """期間設定: the purchases bought (and shipped) within days, their count and total, media and products."""

    purchased = fields.Nested(DateRange, load_default=None, allow_none=True)
    shipped = fields.Nested(DateRange, load_default=None, allow_none=True)
    purchase_count = fields.Nested(Range, load_default=None, allow_none=True)
    purchase_total = fields.Nested(Range, load_default=None, allow_none=True)
    media = fields.String(load_default="", validate=max_length(100))
    bought_products = fields.List(fields.String(validate=max_length(50)), load_default=list)
    bought = fields.Boolean(load_default=True)

    @pre_load
    def renamed_keys(self, data, **_kwargs):
        if isinstance(data, dict) and any(old in data for old in PERIOD_RENAMED):
            data = dict(data)
            for old, new in PERIOD_RENAMED.items():
                if old in data:
                    value = data.pop(old)
                    data.setdefault(new, value)
        return data

    @validates_schema
    def bought_products_need_shops(self, data, **_kwargs):
        if any(code.strip() for code in data.get("bought_products") or []) and not data.get("shop_ids"):
            raise ValidationError("required_with_products", field_name="shop_ids")


class MailFamily(Contract):
    mail_ids = fields.List(fields.Integer(validate=number_range(1, MAX_ID)), load_default=list)
    kinds = fields.List(fields.String(validate=one_of(MAIL_KINDS)), load_default=list)
    period = fields.Nested(DateRange, load_default=None, allow_none=True)
    sent = fields.String(load_default=None, allow_none=True, validate=one_of(INCLUDE))
    opened = fields.String(load_default=None, allow_none=True, validate=one_of(INCLUDE))
    clicked = fields.String(load_default=None, allow_none=True, validate=one_of(INCLUDE))
    qr_read = fields.String(load_default=None, allow_none=True, validate=one_of(INCLUDE))


class Mails(Contract):
    manual = fields.Nested(MailFamily, load_default=None, allow_none=True)
    automatic = fields.Nested(MailFamily, load_default=None, allow_none=True)


class Rfm(Contract):
    """RFM集計 as a condition: the customers of the grid of a day (those with a counted purchase bought on or before
    it, at the shops; all shops when none), narrowed by their figures on that day and by their rank. R is the days
    from the latest of those purchases to the day, F their number, M their billed total (``rfm.py``)."""

    day = _day("day")  # none: today (Japan)
    shop_ids = fields.List(id_field(), load_default=list)
    recency_days = fields.Nested(Range, load_default=None, allow_none=True)
    purchase_count = fields.Nested(Range, load_default=None, allow_none=True)
    purchase_total = fields.Nested(Range, load_default=None, allow_none=True)
    ranks = fields.List(fields.String(validate=one_of(RANKS)), load_default=list)


class Conditions(Contract):
    saved_search_id = id_field(load_default=None, allow_none=True)  # within a saved search's customers
    attributes = fields.Nested(Attributes, load_default=None, allow_none=True)
    latest = fields.Nested(Latest, load_default=None, allow_none=True)
    period = fields.Nested(Period, load_default=None, allow_none=True)
    mails = fields.Nested(Mails, load_default=None, allow_none=True)
    rfm = fields.Nested(Rfm, load_default=None, allow_none=True)


MAX_PER_PAGE = 500
SORTS = ("member_number", "registered_at", "latest_purchase_at", "purchase_count", "purchase_total", "name")


class Page(Contract):
    page = fields.Integer(load_default=1, validate=number_range(1, MAX_PAGE))
    per_page = fields.Integer(load_default=50, validate=number_range(1, MAX_PER_PAGE))
    sort = fields.String(load_default="member_number", validate=one_of(SORTS))
    descending = fields.Boolean(load_default=False)


