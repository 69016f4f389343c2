"""Logins: authentication with lock-out, the per-request session check, the end of sessions, and password
regeneration.

A session is the account id with the account's ``session_generation`` when it was opened. Logging out, a new
password, a lock and 待機 raise the generation, so every session opened before stops at its next request.
"""
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from services.common.config import env_int
from services.common.contracts import field_error, load
from services.common.errors import AuthenticationFailed
from services.common.outbox import utcnow
from services.common.scope import OPERATOR, SHOP, Scope

from . import networks, passwords, schemas, throttle
from .companies import allowlist
from .models import Account, Company
from .shops import get_shop, list_shops, permissions_of

_login = schemas.LoginRequest()
_account = schemas.Account()
_shops = schemas.Shop(many=True)


def max_failures():
    return env_int("LOGIN_MAX_FAILURES", 5)


def lock_minutes():
    return env_int("LOGIN_LOCK_MINUTES", 15)


def _aware(value):
    return value if value is None or value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def scope_of(account):
    """The scope an account acts in; a shop account carries its shop's permission flags."""
    if account.role == SHOP:
        return Scope(account.company_id, SHOP, shop_id=account.shop_id, account_id=account.id,
                     permissions=permissions_of(account.shop))
    return Scope(account.company_id, OPERATOR, account_id=account.id)


def _context(session, account):
    scope = scope_of(account)
    return {
        "account": _account.dump(account),
        "session_generation": account.session_generation,
        "scope": scope.as_dict(),
        "company_name": session.get(Company, account.company_id).name,
        "shops": _shops.dump(list_shops(session, scope, include_standby=False)),
    }


def _refuse_unless_usable(session, account, ip):
    if account.role == SHOP and (account.shop is None or account.shop.status != "active"):
        raise AuthenticationFailed("shop_standby")
    if not networks.is_allowed(ip, allowlist(session, account.company_id)):
        raise AuthenticationFailed("ip_not_allowed")


def authenticate(session, data, now=None):
    """Check a login. Returns ``(context, None)`` on success, ``(None, reason)`` on refusal.

    The reason is one of throttled, invalid_credentials, locked, shop_standby, ip_not_allowed. A refusal is
    returned, not raised, so that the caller commits the failure counts. Each wrong password counts for the
    account: at LOGIN_MAX_FAILURES it locks for LOGIN_LOCK_MINUTES; every failure counts for the client address too
    (``throttle``). An unknown ID and a locked account cost one password check like a real one; the gateway shows
    them with the same words as a wrong password, so the answer never tells which IDs exist. shop_standby and
    ip_not_allowed come only after the right password.
    """
    values = load(_login, data)
    now = now or utcnow()
    if throttle.is_throttled(session, values["ip"], now):
        return None, "throttled"
    account = session.scalar(select(Account).options(selectinload(Account.shop))
                             .where(Account.login_id == values["login_id"].strip(), Account.active.is_(True)))
    if account is None:
        passwords.verify(None, values["password"])  # same cost as a real check
        throttle.count_failure(session, values["ip"], now)
        return None, "invalid_credentials"
    locked_until = _aware(account.locked_until)
    if locked_until is not None and locked_until > now:
        passwords.verify(account.password_hash, values["password"])  # same cost as a real check
        throttle.count_failure(session, values["ip"], now)
        return None, "locked"
    if not passwords.verify(account.password_hash, values["password"]):
        account.failed_logins = 0 if locked_until is not None else account.failed_logins
        account.locked_until = None
        account.failed_logins += 1
        if account.failed_logins >= max_failures():
            account.locked_until = now + dt.timedelta(minutes=lock_minutes())
            account.failed_logins = 0
            account.end_sessions()
        throttle.count_failure(session, values["ip"], now)
        return None, "locked" if account.locked_until else "invalid_credentials"
    try:
        _refuse_unless_usable(session, account, values["ip"])
    except AuthenticationFailed as refusal:
        return None, refusal.message
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = now
    return _context(session, account), None


def session_context(session, account_id, ip, session_generation):
    """Re-check a logged-in account on every request: still active, the session not ended since it was opened
    (``session_generation``), shop not on standby, address allowed."""
    # the account with its company in one query: the context's company name then comes without another
    found = session.execute(select(Account, Company).join(Company, Company.id == Account.company_id)
                            .where(Account.id == account_id)).first()
    account = found[0] if found else None
    if account is None or not account.active:
        raise AuthenticationFailed("invalid_credentials")
    if session_generation != account.session_generation:
        raise AuthenticationFailed("session_ended")
    _refuse_unless_usable(session, account, ip)
    return _context(session, account)


def end_sessions(session, account_id, session_generation):
    """Logout: end every open session of the account, if the session logging out is still one of them."""
    account = session.get(Account, account_id)
    if account is not None and account.session_generation == session_generation:
        account.end_sessions()


def _new_password(shop):
    password = passwords.generate()
    shop.account.password_hash = passwords.hash_password(password)
    shop.account.password_changed_at = utcnow()
    shop.account.failed_logins = 0
    shop.account.locked_until = None
    shop.account.version += 1
    shop.account.end_sessions()
    return {"shop_id": shop.id, "shop_number": shop.shop_number, "shop_name": shop.name,
            "login_id": shop.account.login_id, "password": password}


def regenerate_password(session, scope, shop_id):
    """再生成: a new password for one shop account, returned once."""
    scope.ensure_company_wide()
    shop = get_shop(session, scope, shop_id)
    if shop.account is None:
        raise field_error("shop_id", "no_account")
    return _new_password(shop)


def regenerate_all_passwords(session, scope):
    """全店PW再生成 / 全店PW出力: new passwords for every shop account of the company, returned once."""
    scope.ensure_company_wide()
    return [_new_password(shop) for shop in list_shops(session, scope) if shop.account is not None]


def create_operator(session, company_id, login_id, display_name, password):
    """Provision a company operator (set-up and demo)."""
    if session.scalar(select(Account.id).where(Account.login_id == login_id)):
        raise field_error("login_id", "taken")
    account = Account(company_id=company_id, shop_id=None, login_id=login_id, display_name=display_name,
                      role=OPERATOR, password_hash=passwords.hash_password(password))
    session.add(account)
    session.flush()
    return account

