"""RPC results of the search service (the condition document is in conditions.py)."""
from marshmallow import fields

from services.common.contracts import Contract, Timestamp


class Hit(Contract):
    id = fields.Integer()
    member_number = fields.String()
    family_name = fields.String()
    given_name = fields.String()
    family_kana = fields.String()
    given_kana = fields.String()
    gender = fields.String()
    shop_id = fields.Integer()
    mail_permission = fields.String()
    registered_at = Timestamp(allow_none=True)
    purchase_count = fields.Integer()
    purchase_total = fields.Integer()
    latest_purchase_at = Timestamp(allow_none=True)


class SearchPage(Contract):
    page = fields.Integer()
    per_page = fields.Integer()
    customers = fields.List(fields.Nested(Hit))
