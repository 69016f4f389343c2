"""RPC contract of the purchases service. Amounts are yen integers, quantities integers."""
import json

from marshmallow import fields, pre_load

from services.common.contracts import (Contract, Timestamp, at_most, id_field, max_length, not_blank, number_range,
                                       one_of, regexp)
from services.common.text import fold_width

HALF_WIDTH = r"^[\x21-\x7E]*$"  # printable half-width characters, no spaces
PRODUCT_CODE = r"^[\x20-\x7E]*$"
"""A product code as carts use them: printable half-width characters, spaces included (folded: full-width to
half-width, runs of spaces to one, none at the ends)."""

# Business limits (docs/rpc.md, "Limits"): what a mail-order shop sells, with room to spare.
MAX_PRICE = 9_999_999
"""A product's price and a line's unit price: at most 9,999,999 yen."""
MAX_QUANTITY = 9_999
"""A line's quantity: at most 9,999."""
MAX_AMOUNT = 999_999_999
"""A purchase's 売上 (the sum of its lines) and 請求金額: at most 999,999,999 yen."""

ORDERED, CANCELLED, RETURNED = "ordered", "cancelled", "returned"
STATUSES = (ORDERED, CANCELLED, RETURNED)
"""A purchase's status: a cancelled or returned order is kept but never counted (集計対象 off)."""


class _Normalised(Contract):
    CODES = ()
    """The schema's fields that hold a code."""

    @pre_load
    def fold_codes(self, data, **_kwargs):
        """The codes folded (``fold_width``), in a copy of ``data`` when one changes (most come folded already)."""
        if isinstance(data, dict):
            original = data
            for key in self.CODES:
                value = data.get(key)
                if isinstance(value, str):
                    folded = fold_width(value)
                    if folded != value:
                        data = dict(data) if data is original else data
                        data[key] = folded
        return data


# --- categories and products -----------------------------------------------------------------

class CategoryInput(Contract):
    name = fields.String(required=True, validate=[not_blank(), max_length(100)])


class Category(Contract):
    id = fields.Integer()
    shop_id = fields.Integer()
    name = fields.String()
    product_count = fields.Integer()
    version = fields.Integer()


class ProductInput(_Normalised):
    CODES = ("code",)
    code = fields.String(required=True, validate=[not_blank(), max_length(50),
                                                  regexp(PRODUCT_CODE, "half_width_printable")])
    name = fields.String(load_default="", validate=max_length(300))
    category_id = id_field(load_default=None, allow_none=True)
    price = fields.Integer(load_default=0, validate=[number_range(0), at_most(MAX_PRICE)])


class Product(Contract):
    id = fields.Integer()
    shop_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    category_id = fields.Integer()
    category_name = fields.Function(lambda p: p.category.name)
    price = fields.Integer()
    version = fields.Integer()


class ProductPage(Contract):
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    products = fields.List(fields.Nested(Product))


# --- purchases -------------------------------------------------------------------------------

class LineInput(_Normalised):
    CODES = ("product_code",)
    # Loaded only inside PurchaseInput, whose check for bad text has walked the lines already: not walked again for
    # each line (an undecorated method takes the hook's name off this schema).
    def _refuse_bad_text(self, data, **_kwargs):
        return data

    product_code = fields.String(required=True, validate=[not_blank(), max_length(50),
                                                          regexp(PRODUCT_CODE, "half_width_printable")])
    product_name = fields.String(load_default="", validate=max_length(300))
    line_remark = fields.String(load_default="", validate=max_length(300))
    quantity = fields.Integer(required=True, validate=[number_range(1), at_most(MAX_QUANTITY)])
    unit_price = fields.Integer(load_default=None, allow_none=True, validate=[number_range(0), at_most(MAX_PRICE)])


class PurchaseInput(_Normalised):
    """An order as a cart connector or the 購入履歴登録 form sends it."""

    CODES = ("order_code",)

    shop_id = id_field(required=True)
    order_code = fields.String(load_default=None, allow_none=True, validate=[max_length(100), regexp(HALF_WIDTH, "half_width_only")])
    customer_id = id_field(load_default=None, allow_none=True)
    member_number = fields.String(load_default=None, allow_none=True, validate=max_length(50))
    purchased_at = Timestamp(required=True)
    shipped_at = Timestamp(load_default=None, allow_none=True)
    lines = fields.List(fields.Nested(LineInput), required=True)
    billed_amount = fields.Integer(load_default=None, allow_none=True,
                                   validate=[number_range(0), at_most(MAX_AMOUNT)])
    media = fields.String(load_default="", validate=max_length(100))
    order_attributes = fields.Dict(keys=fields.String(validate=max_length(100)), values=fields.String(validate=max_length(1000)),
                                   load_default=dict)
    answers = fields.Dict(keys=fields.String(validate=max_length(20)), values=id_field(allow_none=True),
                          load_default=dict)
    counted = fields.Boolean(load_default=True)
    status = fields.String(load_default="ordered", validate=one_of(STATUSES))

    @pre_load
    def blanks(self, data, **kwargs):
        """Blank optional values as none, in a copy of ``data`` (the caller's own is never changed)."""
        data = self.fold_codes(data, **kwargs)
        if isinstance(data, dict):
            blank = [key for key in ("shipped_at", "billed_amount", "order_code", "member_number")
                     if data.get(key) == ""]
            if blank:
                data = dict(data, **dict.fromkeys(blank))
        return data


CREATE_UPDATE, UPDATE_ONLY, CREATE_ONLY = "create_update", "update_only", "create_only"


class RecordOptions(Contract):
    """How ``record_orders`` treats an order already stored, or not: both (default), only those stored, only new."""

    mode = fields.String(load_default=CREATE_UPDATE, validate=one_of((CREATE_UPDATE, UPDATE_ONLY, CREATE_ONLY)))


class Line(Contract):
    line_no = fields.Integer()
    product_id = fields.Integer()
    product_code = fields.String()
    product_name = fields.String()
    line_remark = fields.String()
    quantity = fields.Integer()
    unit_price = fields.Integer()
    amount = fields.Function(lambda line: line.quantity * line.unit_price)


class Purchase(Contract):
    id = fields.Integer()
    company_id = fields.Integer()
    shop_id = fields.Integer()
    customer_id = fields.Integer()
    member_number = fields.String()
    order_code = fields.String()
    purchased_at = Timestamp()
    shipped_at = Timestamp(allow_none=True)
    lines = fields.List(fields.Nested(Line))
    sales = fields.Integer()
    billed_amount = fields.Integer()
    discount = fields.Function(lambda p: p.sales - p.billed_amount)
    media = fields.String()
    order_attributes = fields.Function(lambda p: json.loads(p.order_attributes or "{}"))
    answers = fields.Function(lambda p: {str(a.group_id): a.choice_id for a in p.answers})
    counted = fields.Boolean()
    status = fields.String()
    version = fields.Integer()


class PurchasePage(Contract):
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    purchases = fields.List(fields.Nested(Purchase))


# --- history groups (履歴グループ) ------------------------------------------------------------

class HistoryChoice(Contract):
    id = fields.Integer(dump_only=True)
    label = fields.String(required=True, validate=[not_blank(), max_length(125)])
    position = fields.Integer(dump_only=True)
    retired = fields.Boolean(dump_only=True)


class HistoryGroup(Contract):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=[not_blank(), max_length(125)])
    in_use = fields.Boolean(load_default=True)
    required = fields.Boolean(load_default=False)
    position = fields.Integer(dump_only=True)
    retired = fields.Boolean(dump_only=True)
    choices = fields.List(fields.Nested(HistoryChoice), dump_only=True)
    version = fields.Integer(dump_only=True)
