"""基本設定 (the registration form and notification mail), per shop with the company's as defaults, and 備考 (remark
names and visibility), per company."""
import json
import string

from sqlalchemy import select

from services.common import arguments
from services.common.contracts import field_error, load

from . import events, schemas
from .fields import (DEFAULT_FORM, DEFAULT_NOTIFICATION_BODY, DEFAULT_NOTIFICATION_SUBJECT, DEFAULT_REMARKS_SHOWN,
                     FORM_FIELD_NAMES, REMARK_COUNT, TEMPLATE_KEYS)
from .models import CompanySettings, RemarkSetting, ShopRegistrationSettings

_registration_input = schemas.RegistrationSettings()
_remarks_input = schemas.RemarkSettings()


def _stored(row_fields_json, subject, body):
    stored = json.loads(row_fields_json)
    return {"fields": {name: stored.get(name, DEFAULT_FORM[name]) for name in FORM_FIELD_NAMES},
            "notification_subject": subject, "notification_body": body}


def company_registration_defaults(session, company_id):
    """The company's 基本設定 defaults (what a shop without settings of its own follows), built-in ones filled in."""
    row = session.get(CompanySettings, company_id)
    saved = row is not None and row.registration_version > 0
    values = (_stored(row.fields_json, row.notification_subject, row.notification_body) if saved else
              _stored("{}", DEFAULT_NOTIFICATION_SUBJECT, DEFAULT_NOTIFICATION_BODY))
    return dict(values, shop_id=None, uses_company_defaults=True, version=row.registration_version if row else 0)


def registration_settings(session, company_id, shop_id=None):
    """基本設定 of a shop: its own when it has saved some, else the company's defaults (``uses_company_defaults``);
    without a shop, the company's defaults themselves."""
    row = session.get(ShopRegistrationSettings, shop_id) if shop_id is not None else None
    if row is None or row.company_id != company_id:
        defaults = company_registration_defaults(session, company_id)
        return dict(defaults, shop_id=shop_id) if shop_id is not None else defaults
    return dict(_stored(row.fields_json, row.notification_subject, row.notification_body), shop_id=shop_id,
                uses_company_defaults=False, version=row.version)


def settings_shop(scope, shop_id, shop_ids):
    """Whose 基本設定 a caller means: a shop account always its own shop; an operator the shop named (one of the
    company's), or with None the company's defaults. Raises Forbidden for a shop outside the caller's shops."""
    shop_id = arguments.optional_entity_id(shop_id, "shop_id")
    if shop_id is None:
        return scope.shop_id if scope.is_shop else None
    scope.ensure_listed_shop(shop_id, shop_ids)
    return shop_id


def _settings_row(session, company_id):
    row = session.get(CompanySettings, company_id)
    if row is None:
        row = CompanySettings(company_id=company_id, fields_json="{}", notification_subject="", notification_body="",
                              registration_version=0, remarks_version=0)
        session.add(row)
    return row


def _check_template(text, path):
    """Only the 差し込み項目 themselves, as {name}: no attribute, index, conversion or format spec (a width of a
    billion characters is a format spec too)."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        raise field_error(path, "invalid_template") from None
    for _literal, name, spec, conversion in parts:
        if name is not None and (name not in TEMPLATE_KEYS or spec or conversion):
            raise field_error(path, "invalid_template")


def _registration_values(data):
    values = load(_registration_input, data)
    missing = [name for name in FORM_FIELD_NAMES if name not in values["fields"]]
    if missing:
        raise field_error(f"fields.{missing[0]}", "required")
    _check_template(values["notification_subject"], "notification_subject")
    _check_template(values["notification_body"], "notification_body")
    return values


def update_registration_settings(session, scope, data, shop_id=None, shop_ids=()):
    """Save 基本設定 of a shop (``shop_id``, one of ``shop_ids``, the caller's shops; a shop account only its own),
    or, with None, the company's defaults (operators only). Returns them as registration_settings does."""
    shop_id = settings_shop(scope, shop_id, shop_ids)
    if shop_id is None:
        scope.ensure_company_wide()
    values = _registration_values(data)
    if shop_id is None:
        row = _settings_row(session, scope.company_id)
        row.registration_version += 1
        version, entity_id = row.registration_version, scope.company_id
    else:
        row = session.get(ShopRegistrationSettings, shop_id)
        if row is None:
            row = ShopRegistrationSettings(shop_id=shop_id, company_id=scope.company_id, version=0)
            session.add(row)
        row.version += 1
        version, entity_id = row.version, shop_id
    row.fields_json = json.dumps(values["fields"], sort_keys=True)
    row.notification_subject = values["notification_subject"]
    row.notification_body = values["notification_body"]
    session.flush()
    settings = registration_settings(session, scope.company_id, shop_id)
    events.settings_changed(session, scope.company_id, events.REGISTRATION_SETTINGS_UPDATED, version, settings,
                            shop_id=shop_id, entity_id=entity_id)
    return settings


def remark_settings(session, company_id):
    """備考1〜10 with name and shown, defaults filled in (the manual: 1〜8 shown, 9〜10 hidden)."""
    stored = {r.position: r for r in session.scalars(select(RemarkSetting).where(RemarkSetting.company_id == company_id))}
    return [{"position": i, "name": stored[i].name if i in stored else f"備考{i}",
             "shown": stored[i].shown if i in stored else i <= DEFAULT_REMARKS_SHOWN}
            for i in range(1, REMARK_COUNT + 1)]


def update_remark_settings(session, scope, data):
    scope.ensure_company_wide()
    remarks = load(_remarks_input, data)["remarks"]
    if sorted(r["position"] for r in remarks) != list(range(1, REMARK_COUNT + 1)):
        raise field_error("remarks", "must_list_every_remark")
    stored = {r.position: r for r in session.scalars(select(RemarkSetting)
                                                      .where(RemarkSetting.company_id == scope.company_id))}
    for remark in remarks:
        row = stored.get(remark["position"])
        if row is None:
            row = RemarkSetting(company_id=scope.company_id, position=remark["position"])
            session.add(row)
        row.name, row.shown = remark["name"], remark["shown"]
    row = _settings_row(session, scope.company_id)
    row.remarks_version += 1
    session.flush()
    settings = remark_settings(session, scope.company_id)
    events.settings_changed(session, scope.company_id, events.REMARK_SETTINGS_UPDATED, row.remarks_version,
                            {"remarks": settings})
    return settings
