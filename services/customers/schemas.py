"""RPC contract of the customers service."""
import datetime as dt

from marshmallow import ValidationError, fields, pre_load, validates_schema

from services.common.contracts import (Contract, Timestamp, at_most, id_field, max_length, not_blank, number_range,
                                       one_of, regexp)
from services.common.text import fold_width, is_email, normalize_phone, normalize_postal_code

from .fields import CUSTOMER_CLASSES, DISPLAY_MODES, FORM_FIELD_NAMES, GENDERS, MAIL_PERMISSIONS, REMARK_COUNT
from .japanese import clean_name, is_katakana, to_katakana

PHONE = r"^(0\d{1,4}-\d{1,4}-\d{3,4})?$"
POSTAL = r"^(\d{3}-\d{4})?$"
MEMBER_NUMBER_LENGTH = 50
MEMBER_NUMBER = r"^[0-9A-Za-z_\-]{1,50}$"


def compact(value):
    """A compact field (member number, email) as stored: width-folded, no spaces."""
    return fold_width(value).replace(" ", "")


def normalise_typed(data, phones, compact_fields):
    """Names and addresses with spaces folded, furigana as katakana, phones and postal code normalised, and the
    ``compact`` fields (addresses, numbers) width-folded without spaces — as operators and members type them."""
    data = dict(data)
    for key in ("family_name", "given_name", "address"):
        if isinstance(data.get(key), str):
            data[key] = clean_name(data[key])
    for key in ("family_kana", "given_kana"):
        if isinstance(data.get(key), str):
            data[key] = to_katakana(data[key])
    for key in phones:
        if isinstance(data.get(key), str):
            data[key] = normalize_phone(data[key])
    if isinstance(data.get("postal_code"), str):
        data["postal_code"] = normalize_postal_code(data["postal_code"])
    for key in compact_fields:
        if isinstance(data.get(key), str):
            data[key] = compact(data[key])
    return data


def optional_email(value):
    if value and not is_email(value):
        raise ValidationError("invalid_email")


def katakana(value):
    if value and not is_katakana(value):
        raise ValidationError("invalid_kana")


def past_date(value):
    if value and (value > dt.date.today() or value.year < 1900):
        raise ValidationError("invalid_date")


def _text(n, **kwargs):
    return fields.String(validate=max_length(n), **kwargs)


MAX_POINTS = 99_999_999
"""保有ポイント and 有効ポイント: at most 99,999,999 points (eight digits, as carts keep them)."""


class CustomerInput(Contract):
    """A customer as the admin form or a cart connector sends it. On update, omitted fields stay as they are."""

    shop_id = id_field(required=True)
    member_number = fields.String(validate=regexp(MEMBER_NUMBER, "invalid_member_number"), allow_none=True)
    family_name = fields.String(required=True, validate=[not_blank(), max_length(50)])
    given_name = _text(50)
    family_kana = fields.String(validate=[max_length(100), katakana])
    given_kana = fields.String(validate=[max_length(100), katakana])
    gender = fields.String(validate=one_of(GENDERS))
    birth_date = fields.Date(allow_none=True, validate=past_date)
    mail_permission = fields.String(validate=one_of(MAIL_PERMISSIONS))
    mobile_email = fields.String(validate=[max_length(254), optional_email])
    mobile_is_smartphone = fields.Boolean()
    pc_email = fields.String(validate=[max_length(254), optional_email])
    pc_is_smartphone = fields.Boolean()
    dm_permission = fields.Boolean()
    line_permission = fields.Boolean()
    test_recipient = fields.Boolean()
    mobile_phone = fields.String(validate=regexp(PHONE, "invalid_phone"))
    home_phone = fields.String(validate=regexp(PHONE, "invalid_phone"))
    fax = fields.String(validate=regexp(PHONE, "invalid_phone"))
    postal_code = fields.String(validate=regexp(POSTAL, "invalid_postal_code"))
    address = _text(300)
    customer_class = fields.String(validate=one_of(CUSTOMER_CLASSES))
    remark1 = _text(1000)
    remark2 = _text(1000)
    remark3 = _text(1000)
    remark4 = _text(1000)
    remark5 = _text(1000)
    remark6 = _text(1000)
    remark7 = _text(1000)
    remark8 = _text(1000)
    remark9 = _text(1000)
    remark10 = _text(1000)
    extra1 = _text(1000)
    extra2 = _text(1000)
    extra3 = _text(1000)
    extra4 = _text(1000)
    points_held = fields.Integer(validate=[number_range(0), at_most(MAX_POINTS)])
    valid_points = fields.Integer(validate=[number_range(0), at_most(MAX_POINTS)])
    points_expiry = fields.Date(allow_none=True)
    earliest_expiry = fields.Date(allow_none=True)
    last_login_at = Timestamp(allow_none=True)
    registered_at = Timestamp()  # 登録日 as a cart or a file has it; omitted, a new customer's is now
    choices = fields.Dict(keys=fields.String(validate=max_length(20)), values=id_field(allow_none=True))

    @pre_load
    def normalise(self, data, **_kwargs):
        if not isinstance(data, dict):
            return data
        data = normalise_typed(data, phones=("mobile_phone", "home_phone", "fax"),
                               compact_fields=("mobile_email", "pc_email", "member_number"))
        if data.get("member_number") == "":
            data["member_number"] = None
        for key in ("birth_date", "points_expiry", "earliest_expiry", "last_login_at"):
            if data.get(key) == "":
                data[key] = None
        if data.get("registered_at") in ("", None):
            data.pop("registered_at", None)
        return data

    @validates_schema
    def mail_needs_its_address(self, data, partial=False, **_kwargs):
        permission = data.get("mail_permission")
        if permission == "mobile" and "mobile_email" in data and not data["mobile_email"]:
            raise ValidationError("required_for_mail_permission", field_name="mobile_email")
        if permission == "pc" and "pc_email" in data and not data["pc_email"]:
            raise ValidationError("required_for_mail_permission", field_name="pc_email")


UPSERT_MODES = ("create_update", "update_only", "create_only")


class UpsertOptions(Contract):
    """How ``upsert_customers`` treats member numbers stored and not stored yet, and the stored values."""

    mode = fields.String(load_default="create_update", validate=one_of(UPSERT_MODES))
    keep_existing = fields.Boolean(load_default=False)


class Customer(Contract):
    id = fields.Integer()
    company_id = fields.Integer()
    shop_id = fields.Integer()
    member_number = fields.String()
    family_name = fields.String()
    given_name = fields.String()
    family_kana = fields.String()
    given_kana = fields.String()
    gender = fields.String()
    birth_date = fields.Date(allow_none=True)
    age = fields.Method("get_age")
    mail_permission = fields.String()
    mobile_email = fields.String()
    mobile_is_smartphone = fields.Boolean()
    pc_email = fields.String()
    pc_is_smartphone = fields.Boolean()
    dm_permission = fields.Boolean()
    line_permission = fields.Boolean()
    test_recipient = fields.Boolean()
    mobile_phone = fields.String()
    home_phone = fields.String()
    fax = fields.String()
    postal_code = fields.String()
    address = fields.String()
    customer_class = fields.String()
    remarks = fields.Method("get_remarks")
    extras = fields.Method("get_extras")
    points_held = fields.Integer()
    valid_points = fields.Integer()
    points_expiry = fields.Date(allow_none=True)
    earliest_expiry = fields.Date(allow_none=True)
    last_login_at = Timestamp(allow_none=True)
    registered_at = Timestamp()
    choices = fields.Method("get_choices")
    version = fields.Integer()

    def get_age(self, customer):
        from .customers import age_on, today_jst

        return age_on(customer.birth_date, today_jst())

    def get_remarks(self, customer):
        return [getattr(customer, f"remark{i}") for i in range(1, REMARK_COUNT + 1)]

    def get_extras(self, customer):
        return [getattr(customer, f"extra{i}") for i in range(1, 5)]

    def get_choices(self, customer):
        return {str(c.group_id): c.choice_id for c in customer.choices}


class CustomerPage(Contract):
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    customers = fields.List(fields.Nested(Customer))


# --- settings --------------------------------------------------------------------------------

class RegistrationSettings(Contract):
    """基本設定."""

    fields_ = fields.Dict(data_key="fields", keys=fields.String(validate=one_of(FORM_FIELD_NAMES)),
                          values=fields.String(validate=one_of(DISPLAY_MODES)), required=True,
                          attribute="fields")
    notification_subject = fields.String(required=True, validate=[not_blank(), max_length(200)])
    notification_body = fields.String(required=True, validate=[not_blank(), max_length(5000)])
    version = fields.Integer(dump_only=True)


class RemarkSetting(Contract):
    position = fields.Integer(required=True, validate=number_range(1, REMARK_COUNT))
    name = fields.String(required=True, validate=[not_blank(), max_length(50)])
    shown = fields.Boolean(required=True)


class RemarkSettings(Contract):
    remarks = fields.List(fields.Nested(RemarkSetting), required=True)


class AttributeChoice(Contract):
    id = fields.Integer(dump_only=True)
    label = fields.String(required=True, validate=[not_blank(), max_length(125)])
    position = fields.Integer(dump_only=True)
    retired = fields.Boolean(dump_only=True)


class AttributeGroup(Contract):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=[not_blank(), max_length(125)])
    in_use = fields.Boolean(load_default=True)
    position = fields.Integer(dump_only=True)
    retired = fields.Boolean(dump_only=True)
    choices = fields.List(fields.Nested(AttributeChoice), dump_only=True)
    version = fields.Integer(dump_only=True)


# --- support history -------------------------------------------------------------------------

class SupportEntryInput(Contract):
    staff = fields.String(required=True, validate=[not_blank(), max_length(100)])
    entered_at = Timestamp(required=True)
    content = fields.String(required=True, validate=[not_blank(), max_length(4000)])


class SupportEntry(Contract):
    id = fields.Integer()
    customer_id = fields.Integer()
    staff = fields.String()
    entered_at = Timestamp()
    content = fields.String()
    version = fields.Integer()


class Period(Contract):
    entered_from = Timestamp(allow_none=True, load_default=None)
    entered_to = Timestamp(allow_none=True, load_default=None)


# --- public registration ---------------------------------------------------------------------

class MemberRegistration(Contract):
    """The public form. Which fields are required is decided by 基本設定, not here."""

    agreed_to_terms = fields.Boolean(load_default=False)
    family_name = fields.String(load_default="", validate=max_length(50))
    given_name = fields.String(load_default="", validate=max_length(50))
    family_kana = fields.String(load_default="", validate=[max_length(100), katakana])
    given_kana = fields.String(load_default="", validate=[max_length(100), katakana])
    gender = fields.String(load_default="", validate=one_of(("",) + GENDERS))
    birth_date = fields.String(load_default="")
    mail_permission = fields.String(load_default="", validate=one_of(("",) + MAIL_PERMISSIONS))
    email = fields.String(load_default="", validate=[max_length(254), optional_email])
    postal_code = fields.String(load_default="", validate=regexp(POSTAL, "invalid_postal_code"))
    address = fields.String(load_default="", validate=max_length(300))
    phone = fields.String(load_default="", validate=regexp(PHONE, "invalid_phone"))
    remark1 = fields.String(load_default="", validate=max_length(1000))
    choices = fields.Dict(keys=fields.String(validate=max_length(20)), values=id_field(allow_none=True),
                          load_default=dict)

    @pre_load
    def normalise(self, data, **_kwargs):
        if not isinstance(data, dict):
            return data
        data = normalise_typed(data, phones=("phone",), compact_fields=("email",))
        if isinstance(data.get("birth_date"), str):
            data["birth_date"] = fold_width(data["birth_date"]).replace("-", "").replace("/", "")
        return data
