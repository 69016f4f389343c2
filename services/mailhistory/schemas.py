"""RPC contract of the mail-history service."""
from marshmallow import fields, validates_schema, ValidationError

from services.common.contracts import (Contract, Timestamp, at_most, id_field, max_length, not_blank, number_range,
                                       one_of)

from .kinds import KINDS, LABELS, MAX_MAIL_NUMBER, MAX_SCENARIO_NUMBER, MAX_STEP, SCENARIO_KINDS, display_id, family

ACTIVITIES = ("delivery", "open", "click", "qr_read")
RESULTS = ("delivered", "failed")


class MailInput(Contract):
    mail_number = fields.Integer(required=True, validate=[number_range(1), at_most(MAX_MAIL_NUMBER)])
    kind = fields.String(required=True, validate=one_of(KINDS))
    name = fields.String(required=True, validate=[not_blank(), max_length(300)])
    shop_id = id_field(load_default=None, allow_none=True)
    scenario_number = fields.Integer(load_default=None, allow_none=True,
                                     validate=[number_range(1), at_most(MAX_SCENARIO_NUMBER)])
    step = fields.Integer(load_default=None, allow_none=True, validate=[number_range(1), at_most(MAX_STEP)])

    @validates_schema
    def scenario_needs_its_number(self, data, **_kwargs):
        if data.get("kind") in SCENARIO_KINDS and not data.get("scenario_number"):
            raise ValidationError("required", field_name="scenario_number")


class Mail(Contract):
    id = fields.Integer()
    mail_number = fields.Integer()
    display_id = fields.Function(lambda m: display_id(m.kind, m.mail_number, m.scenario_number, m.step))
    kind = fields.String()
    kind_label = fields.Function(lambda m: LABELS[m.kind])
    family = fields.Function(lambda m: family(m.kind, m.step))
    name = fields.String()
    shop_id = fields.Integer(allow_none=True)
    scenario_number = fields.Integer(allow_none=True)
    step = fields.Integer(allow_none=True)
    version = fields.Integer()


class ActivityInput(Contract):
    """One report from the mail system."""

    activity = fields.String(required=True, validate=one_of(ACTIVITIES))
    mail_number = fields.Integer(required=True, validate=[number_range(1), at_most(MAX_MAIL_NUMBER)])
    member_number = fields.String(required=True, validate=[not_blank(), max_length(50)])
    occurred_at = Timestamp(required=True)
    result = fields.String(load_default="", validate=one_of(("",) + RESULTS))
    address = fields.String(load_default="", validate=max_length(254))
    url = fields.String(load_default="", validate=max_length(2000))

    @validates_schema
    def delivery_needs_result_and_address(self, data, **_kwargs):
        if data.get("activity") == "delivery":
            errors = {}
            if not data.get("result"):
                errors["result"] = ["required"]
            if not data.get("address"):
                errors["address"] = ["required"]
            if errors:
                raise ValidationError(errors)
        if data.get("activity") == "click" and not data.get("url"):
            raise ValidationError("required", field_name="url")


class CustomerMail(Contract):
    """One mail in a customer's メール送信履歴."""

    mail = fields.Dict()
    sent_at = Timestamp(allow_none=True)
    address = fields.String()
    result = fields.String()
    opened_at = Timestamp(allow_none=True)
    clicked_at = Timestamp(allow_none=True)
    clicked_urls = fields.List(fields.String())
    qr_read_at = Timestamp(allow_none=True)
