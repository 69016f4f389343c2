"""The options of 集計's reports (RPC ``search.report``): one document for every report, each reading the options it
names in the catalogue (``reports/catalogue.py``). Days are Japan days."""
from marshmallow import ValidationError, fields, validate, validates_schema

from services.common.contracts import Contract, id_field, max_length, number_range, one_of

from .conditions import FIRST_DAY, LAST_DAY

MAX_EXCLUDED_PRODUCTS = 100
MAX_PRODUCT_CODE = 50
MAX_DAYS_IN_A_DAILY_REPORT = 366
# The choices of the options that have them, each with the operator's word for it (the screens show these).
UNITS = {"month": "月別（月報）", "day": "日別（日報）"}
SALES_BY = {"shop": "店舗別", "media": "購入メディア別", "category": "商品カテゴリ別", "customer_class": "顧客区分別"}
PRODUCT_VIEWS = {"ranking": "商品ランキング", "first": "初回購入商品", "together": "併売"}
PRODUCT_ORDERS = {"sales": "売上金額順", "quantity": "数量順", "buyers": "購入者数順"}
TOGETHER_WITHIN = {"order": "同じ注文", "later": "その後の購入"}
CHOICES = {"unit": UNITS, "by": SALES_BY, "view": PRODUCT_VIEWS, "order_by": PRODUCT_ORDERS,
           "together": TOGETHER_WITHIN}
MAX_LAPSE_DAYS = 3650
MAX_TOP = 500


def _day():
    return fields.Date(load_default=None, allow_none=True,
                       validate=validate.Range(min=FIRST_DAY, max=LAST_DAY, error="invalid_date"))


def _code():
    return fields.String(load_default="", validate=max_length(MAX_PRODUCT_CODE))


class ReportOptions(Contract):
    """Every report's filters: the period (``date_from``〜``date_to``; each report has its default), the shops (all
    when none; a shop account's own), the products left out of the report (送料, gifts: their lines are not sales,
    and an order of only such lines is not a purchase), and what a report asks besides."""
    date_from = _day()
    date_to = _day()
    day = _day()  # 購入状況: the day it is computed on (today when none)
    shop_ids = fields.List(id_field(), load_default=list)
    excluded_products = fields.List(fields.String(validate=max_length(MAX_PRODUCT_CODE)),
                                    load_default=list,
                                    validate=validate.Length(max=MAX_EXCLUDED_PRODUCTS, error="max_items:{max}"))
    unit = fields.String(load_default="month", validate=one_of(tuple(UNITS)))  # 日報・月報, 売上: per day or per month
    by = fields.String(load_default="shop", validate=one_of(tuple(SALES_BY)))  # 売上: what the sales are split by
    view = fields.String(load_default="ranking", validate=one_of(tuple(PRODUCT_VIEWS)))  # 商品
    order_by = fields.String(load_default="sales", validate=one_of(tuple(PRODUCT_ORDERS)))  # 商品 ranking
    product = _code()  # 商品 併売: the product asked about
    together = fields.String(load_default="order", validate=one_of(tuple(TOGETHER_WITHIN)))  # 併売: same order or later
    top = fields.Integer(load_default=50, validate=number_range(1, MAX_TOP))
    lapse_days = fields.Integer(load_default=365,  # 継続・離脱: lapsed when nothing was bought for this long
                                validate=number_range(1, MAX_LAPSE_DAYS))
    first_product = _code()  # LTV推移: only customers whose first purchase held this product,
    first_category = fields.String(load_default="", validate=max_length(100))  # category,
    first_media = fields.String(load_default="", validate=max_length(100))  # or media

    @validates_schema
    def _period_in_order(self, data, **_kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError({"date_to": ["from_after_to"]})
