"""Public member registration: the form behind each shop's QR code, validated as 基本設定 says."""
import datetime as dt

from services.common.contracts import load_reporting_all
from services.common.errors import ValidationFailed
from services.common.scope import SYSTEM, Scope

from . import events, groups, schemas
from .customers import create_customer
from .fields import TEMPLATE_KEYS
from .settings import registration_settings

_form = schemas.MemberRegistration()

# 基本設定 field → the form inputs it governs
_INPUTS = {
    "kana": ("family_kana", "given_kana"),
    "birth_date": ("birth_date",),
    "gender": ("gender",),
    "mail_permission": ("mail_permission",),
    "postal_code": ("postal_code",),
    "address": ("address",),
    "phone": ("phone",),
    "email": ("email",),
    "remarks": ("remark1",),
}


def form_definition(session, company_id, shop_id):
    """What the public page of a shop shows: each field's mode as the shop's 基本設定 says, the in-use attribute
    groups (for アンケート入力)."""
    settings = registration_settings(session, company_id, shop_id)
    survey = [schemas.AttributeGroup().dump(g) for g in groups.list_groups(session, company_id) if g.in_use]
    for group in survey:
        group["choices"] = [c for c in group["choices"] if not c["retired"]]
    return {"fields": settings["fields"], "groups": survey}


def _parse_birth_date(text):
    try:
        value = dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None
    return value if dt.date(1900, 1, 1) <= value <= dt.date.today() else None


def _render(template, values):
    return template.format(**{key: values.get(key, "") for key in TEMPLATE_KEYS})


def register_member(session, company_id, shop, data):
    """Create the customer from the public form; returns (customer, notification mail or None).

    ``shop``: {"id", "name", "sender_name", "sender_address"} from the shops service; its own 基本設定 apply.
    Raises ValidationFailed with every field's error at once (a malformed address does not hide a missing name or a
    bad birth date); nothing is saved then.
    """
    modes = registration_settings(session, company_id, shop["id"])
    fields = modes["fields"]
    values, errors = load_reporting_all(_form, data)
    if not values["agreed_to_terms"]:
        errors["agreed_to_terms"] = ["must_agree"]
    for key in ("family_name", "given_name"):
        if not values[key]:
            errors.setdefault(key, ["required"])
    for field, inputs in _INPUTS.items():
        if fields[field] == "hidden":  # not on the page: whatever came is ignored, mistakes included
            for name in inputs:
                values[name] = _form.fields[name].load_default
                errors.pop(name, None)
        elif fields[field] == "required":
            for name in inputs:
                if not values[name]:
                    errors.setdefault(name, ["required"])
    birth_date = None
    if values["birth_date"]:
        birth_date = _parse_birth_date(values["birth_date"])
        if birth_date is None:
            errors.setdefault("birth_date", ["invalid_date"])
    permission = values["mail_permission"] or "refused"
    if permission in ("mobile", "pc") and not values["email"]:
        errors.setdefault("email", ["required_for_mail_permission"])
    choices = {}
    if fields["survey"] != "hidden":
        survey = [g for g in groups.list_groups(session, company_id) if g.in_use]
        for group in survey:
            chosen = (values["choices"] or {}).get(str(group.id))
            if chosen is None and fields["survey"] == "required":
                errors.setdefault(f"choices.{group.id}", ["required"])
            elif chosen is not None:
                choices[str(group.id)] = chosen
    if errors:
        raise ValidationFailed("invalid input", errors)

    record = {
        "shop_id": shop["id"], "family_name": values["family_name"], "given_name": values["given_name"],
        "family_kana": values["family_kana"], "given_kana": values["given_kana"],
        "gender": values["gender"] or "unknown", "birth_date": birth_date.isoformat() if birth_date else None,
        "mail_permission": permission, "postal_code": values["postal_code"], "address": values["address"],
        "mobile_phone": values["phone"], "remark1": values["remark1"], "choices": choices,
        "pc_email" if permission == "pc" else "mobile_email": values["email"],
    }
    scope = Scope(company_id, SYSTEM, shop_id=shop["id"])
    customer = create_customer(session, scope, record)
    mail = None
    if permission in ("mobile", "pc") and values["email"]:
        names = {"shop_name": shop["name"], "family_name": customer.family_name, "given_name": customer.given_name,
                 "member_number": customer.member_number}
        mail = {"to": values["email"], "from_name": shop.get("sender_name") or shop["name"],
                "from_address": shop.get("sender_address") or "",
                "subject": _render(modes["notification_subject"], names),
                "body": _render(modes["notification_body"], names)}
        events.member_registered(session, customer, mail)
    return customer, mail
