"""Company info (企業情報) with its functions (機能のご契約状況), and its IP allowlist (IP設定)."""
from sqlalchemy import select

from services.common import arguments
from services.common.contracts import field_error, load
from services.common.errors import NotFound, ValidationFailed

from . import events, functions, networks, schemas
from .models import AllowedNetwork, Company

_company_input = schemas.Company()
_allowlist_input = schemas.AllowlistInput()


def get_company(session, scope):
    company = session.get(Company, scope.company_id)
    if company is None:
        raise NotFound("company not found")
    return company


def company_functions(scope):
    """機能のご契約状況: every function the system offers, each contracted (no company goes without one yet)."""
    scope.ensure_company_wide()
    return [{"key": key, "label": label, "covers": covers, "contracted": True}
            for key, label, covers in functions.FUNCTIONS]


def update_company(session, scope, data):
    scope.ensure_company_wide()
    values = load(_company_input, data)
    company = get_company(session, scope)
    for key, value in values.items():
        setattr(company, key, value)
    company.version += 1
    session.flush()
    events.company_changed(session, company)
    return company


def create_company(session, company_id, data):
    """Provision a tenant (used by set-up and the demo loader, not by operators)."""
    values = load(_company_input, data)
    if session.get(Company, company_id) is not None:
        raise field_error("id", "taken")
    company = Company(id=company_id, version=1, **values)
    session.add(company)
    session.flush()
    events.company_changed(session, company, events.COMPANY_CREATED)
    return company


def allowlist(session, company_id):
    return list(session.scalars(
        select(AllowedNetwork.network).where(AllowedNetwork.company_id == company_id).order_by(AllowedNetwork.id)))


def replace_allowlist(session, scope, data, current_ip=None):
    """Replace the company's allowlist; every bad entry is reported by its index and nothing changes.

    With ``current_ip``, a list that would refuse that address is refused (excludes_current_ip).
    """
    scope.ensure_company_wide()
    current_ip = arguments.text(current_ip, "current_ip", 100, allow_none=True)
    entries = load(_allowlist_input, data)["networks"]
    normalized, errors = [], {}
    for index, entry in enumerate(entries):
        if not entry.strip():
            continue
        try:
            value = networks.normalize(entry)
        except ValueError:
            errors[f"networks.{index}"] = ["invalid_network"]
            continue
        if value not in normalized:
            normalized.append(value)
    if errors:
        raise ValidationFailed("invalid input", errors)
    if current_ip is not None and not networks.is_allowed(current_ip, normalized):
        # Saving this list would lock out the operator who is saving it.
        raise field_error("networks", "excludes_current_ip")
    company = get_company(session, scope)
    existing = {row.network: row for row in session.scalars(
        select(AllowedNetwork).where(AllowedNetwork.company_id == company.id))}
    for network, row in existing.items():
        if network not in normalized:
            session.delete(row)
    for network in normalized:
        if network not in existing:
            session.add(AllowedNetwork(company_id=company.id, network=network))
    company.version += 1
    session.flush()
    events.allowlist_changed(session, company, normalized)
    return normalized
