"""基本設定 (the registration form and notification mail) and 備考 (remark names and visibility), per company."""
import json
import string

from sqlalchemy import select

from services.common.contracts import field_error, load

from . import events, schemas
from .fields import (DEFAULT_FORM, DEFAULT_NOTIFICATION_BODY, DEFAULT_NOTIFICATION_SUBJECT, DEFAULT_REMARKS_SHOWN,
                     FORM_FIELD_NAMES, REMARK_COUNT, TEMPLATE_KEYS)
from .models import CompanySettings, RemarkSetting

_registration_input = schemas.RegistrationSettings()
_remarks_input = schemas.RemarkSettings()


def registration_settings(session, company_id):
    """The company's 基本設定, defaults filled in."""
    row = session.get(CompanySettings, company_id)
    saved = row is not None and row.registration_version > 0
    stored = json.loads(row.fields_json) if saved else {}
    return {
        "fields": {name: stored.get(name, DEFAULT_FORM[name]) for name in FORM_FIELD_NAMES},
        "notification_subject": row.notification_subject if saved else DEFAULT_NOTIFICATION_SUBJECT,
        "notification_body": row.notification_body if saved else DEFAULT_NOTIFICATION_BODY,
        "version": row.registration_version if row else 0,
    }


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


def update_registration_settings(session, scope, data):
    scope.ensure_company_wide()
    values = load(_registration_input, data)
    missing = [name for name in FORM_FIELD_NAMES if name not in values["fields"]]
    if missing:
        raise field_error(f"fields.{missing[0]}", "required")
    _check_template(values["notification_subject"], "notification_subject")
    _check_template(values["notification_body"], "notification_body")
    row = _settings_row(session, scope.company_id)
    row.fields_json = json.dumps(values["fields"], sort_keys=True)
    row.notification_subject = values["notification_subject"]
    row.notification_body = values["notification_body"]
    row.registration_version += 1
    session.flush()
    settings = registration_settings(session, scope.company_id)
    events.settings_changed(session, scope.company_id, events.REGISTRATION_SETTINGS_UPDATED,
                            row.registration_version, settings)
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
