"""RPC contract of the shops service: what goes in (load) and what comes out (dump)."""
from marshmallow import ValidationError, fields, pre_load

from services.common.contracts import Contract, Timestamp, at_most, max_length, not_blank, number_range, one_of, regexp
from services.common.text import is_email, normalize_phone, normalize_postal_code

from .permissions import NAMES as PERMISSION_NAMES

STATUSES = ("active", "standby")
PHONE = r"^0\d{1,4}-\d{1,4}-\d{3,4}$"
POSTAL = r"^\d{3}-\d{4}$"
MAX_SHOP_NUMBER = 9_999_999
"""Shop numbers have at most seven digits (they are written into login ids after the company id)."""


class _ContactFields(Contract):
    """Postal code and phone arrive as operators type them (full-width, with or without hyphens)."""

    @pre_load
    def normalise(self, data, **_kwargs):
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key, fn in (("postal_code", normalize_postal_code), ("phone", normalize_phone)):
            if isinstance(data.get(key), str):
                data[key] = fn(data[key])
        return data


def optional_email(value):
    """Empty, or a valid address."""
    if value and not is_email(value):
        raise ValidationError("invalid_email")


# --- companies -------------------------------------------------------------------------------

class Company(_ContactFields):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=[not_blank(), max_length(100)])
    name_kana = fields.String(load_default="", validate=max_length(100))
    representative = fields.String(load_default="", validate=max_length(100))
    contact_name = fields.String(load_default="", validate=max_length(100))
    postal_code = fields.String(load_default="", validate=regexp(r"^(\d{3}-\d{4})?$", "invalid_postal_code"))
    address = fields.String(load_default="", validate=max_length(300))
    phone = fields.String(load_default="", validate=regexp(r"^(0\d{1,4}-\d{1,4}-\d{3,4})?$", "invalid_phone"))
    email = fields.String(load_default="", validate=[max_length(254), optional_email])
    version = fields.Integer(dump_only=True)


# --- shops -----------------------------------------------------------------------------------

class ShopInput(_ContactFields):
    """店舗情報 as an operator edits it. * marks what the manual requires: name and phone."""

    name = fields.String(required=True, validate=[not_blank(), max_length(100)])
    manager_name = fields.String(load_default="", validate=max_length(100))
    postal_code = fields.String(load_default="", validate=regexp(r"^(\d{3}-\d{4})?$", "invalid_postal_code"))
    address = fields.String(load_default="", validate=max_length(300))
    phone = fields.String(required=True, validate=regexp(PHONE, "invalid_phone"))
    sender_name = fields.String(load_default="", validate=max_length(100))
    sender_address = fields.String(load_default="", validate=[max_length(254), optional_email])
    felica = fields.Boolean(load_default=False)
    status = fields.String(load_default="active", validate=one_of(STATUSES))


class NewShop(ShopInput):
    shop_number = fields.Integer(required=True, strict=False, validate=[number_range(1), at_most(MAX_SHOP_NUMBER)])
    registered_on = fields.Date(load_default=None)


Permissions = Contract.from_dict(
    {name: fields.Boolean(required=True) for name in PERMISSION_NAMES}, name="Permissions"
)


class Shop(Contract):
    """A shop as every caller sees it (no secrets)."""

    id = fields.Integer()
    company_id = fields.Integer()
    company_name = fields.Function(lambda shop: shop.company.name)
    shop_number = fields.Integer()
    name = fields.String()
    manager_name = fields.String()
    postal_code = fields.String()
    address = fields.String()
    phone = fields.String()
    sender_name = fields.String()
    sender_address = fields.String()
    felica = fields.Boolean()
    status = fields.String()
    registered_on = fields.Date()
    login_id = fields.Function(lambda shop: shop.account.login_id if shop.account else None)
    permissions = fields.Function(lambda shop: {name: getattr(shop, name) for name in PERMISSION_NAMES})
    version = fields.Integer()


# --- accounts and login ----------------------------------------------------------------------

class LoginRequest(Contract):
    login_id = fields.String(required=True, validate=[not_blank(), max_length(64)])
    password = fields.String(required=True, validate=[not_blank(), max_length(256)])
    ip = fields.String(required=True, validate=max_length(100))


class Account(Contract):
    id = fields.Integer()
    company_id = fields.Integer()
    shop_id = fields.Integer(allow_none=True)
    login_id = fields.String()
    display_name = fields.String()
    role = fields.String()
    last_login_at = Timestamp(allow_none=True)


class GeneratedPassword(Contract):
    """A freshly generated password: returned once, never kept in clear."""

    shop_id = fields.Integer()
    shop_number = fields.Integer()
    shop_name = fields.String()
    login_id = fields.String()
    password = fields.String()


# --- IP allowlist ----------------------------------------------------------------------------

class AllowlistInput(Contract):
    networks = fields.List(fields.String(validate=max_length(64)), required=True)


class AllowedNetwork(Contract):
    network = fields.String()
    note = fields.String()
