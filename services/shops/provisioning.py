"""System administration: a new company (tenant) with its first operator, whose password is shown once.

Not an operator's action (no scope reaches it): ``python -m services create-company`` runs it on the shops
database, the way migrations run. The company's event goes out through the outbox when the shops service runs.
"""
from sqlalchemy import func, select

from services.common.contracts import field_error
from services.common.errors import ValidationFailed

from . import accounts, companies, passwords
from .models import Company

LOGIN_ID_LENGTH = 64
FIRST_COMPANY_ID = 101
"""Company ids are handed out from here on, one above the highest in use (the demo company is 102)."""


def next_company_id(session):
    highest = session.scalar(select(func.max(Company.id)))
    return max(FIRST_COMPANY_ID, (highest or 0) + 1)


def create_company(session, company, operator_login, operator_name):
    """Create the company (企業情報 fields as ``shops.update_company`` takes them) and its first operator. Returns
    ``{"company_id", "login_id", "password"}``; the password exists only in this answer. Raises ValidationFailed
    (fields of the company, ``login_id: required | taken``)."""
    login_id = (operator_login or "").strip()
    if not login_id:
        raise ValidationFailed("invalid input", {"login_id": ["required"]})
    if len(login_id) > LOGIN_ID_LENGTH:
        raise field_error("login_id", f"max_length:{LOGIN_ID_LENGTH}")
    created = companies.create_company(session, next_company_id(session), company)
    password = passwords.generate()
    accounts.create_operator(session, created.id, login_id, (operator_name or "").strip() or login_id, password)
    return {"company_id": created.id, "login_id": login_id, "password": password}
