"""Shops (店舗情報) and their permission flags (権限設定)."""
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from services.common import arguments
from services.common.contracts import field_error, load
from services.common.errors import NotFound

from . import events, passwords, schemas
from .models import Account, Shop
from .permissions import NAMES as PERMISSION_NAMES

_shop_input = schemas.ShopInput()
_new_shop = schemas.NewShop()
_permissions_input = schemas.Permissions()

SHOP_ROLE = "shop"


def shop_login_id(company_id, shop_number):
    """The manual's shop login ID: company id followed by shop number (102 + 103 = 102103)."""
    return f"{company_id}{shop_number}"


def list_shops(session, scope, include_standby=True):
    """The company's shops (a shop account: its own) with their accounts and company, in one query: every request's
    session check and every customer or purchase write asks for them."""
    include_standby = arguments.flag(include_standby, "include_standby")
    query = (select(Shop).options(joinedload(Shop.account), joinedload(Shop.company))
             .where(Shop.company_id == scope.company_id).order_by(Shop.shop_number))
    if scope.is_shop:
        query = query.where(Shop.id == scope.shop_id)
    if not include_standby:
        query = query.where(Shop.status == "active")
    return list(session.scalars(query))


def get_shop(session, scope, shop_id):
    shop = session.get(Shop, arguments.entity_id(shop_id, "shop_id"))
    if shop is None:
        raise NotFound("shop not found")
    scope.ensure_shop(shop.company_id, shop.id)
    return shop


def public_shop(session, company_id, shop_number):
    company_id = arguments.entity_id(company_id, "company_id")
    shop_number = arguments.integer(shop_number, "shop_number", 1, schemas.MAX_SHOP_NUMBER)
    shop = session.scalar(select(Shop).where(Shop.company_id == company_id, Shop.shop_number == shop_number,
                                             Shop.status == "active"))
    if shop is None:
        raise NotFound("shop not found")
    return {"id": shop.id, "company_id": shop.company_id, "shop_number": shop.shop_number, "name": shop.name,
            "sender_name": shop.sender_name, "sender_address": shop.sender_address}


def create_shop(session, scope, data):
    """Add a shop with its account; returns (shop, generated password shown once)."""
    scope.ensure_company_wide()
    values = load(_new_shop, data)
    if session.scalar(select(Shop.id).where(Shop.company_id == scope.company_id,
                                            Shop.shop_number == values["shop_number"])):
        raise field_error("shop_number", "taken")
    login_id = shop_login_id(scope.company_id, values["shop_number"])
    if session.scalar(select(Account.id).where(Account.login_id == login_id)):
        raise field_error("shop_number", "login_id_taken")
    values["registered_on"] = values.get("registered_on") or dt.date.today()
    shop = Shop(company_id=scope.company_id, version=1, **values)
    session.add(shop)
    session.flush()
    password = passwords.generate()
    session.add(Account(company_id=shop.company_id, shop_id=shop.id, login_id=login_id, role=SHOP_ROLE,
                        display_name=shop.name, password_hash=passwords.hash_password(password)))
    session.flush()
    session.refresh(shop)
    events.shop_changed(session, shop, events.SHOP_CREATED)
    return shop, password


def update_shop(session, scope, shop_id, data):
    scope.ensure_company_wide()
    shop = get_shop(session, scope, shop_id)
    values = load(_shop_input, data)
    to_standby = shop.status == "active" and values.get("status") != "active"
    for key, value in values.items():
        setattr(shop, key, value)
    if shop.account is not None:
        shop.account.display_name = shop.name
        if to_standby:  # 待機 ends the shop account's sessions: back to active, they stay ended
            shop.account.end_sessions()
    shop.version += 1
    session.flush()
    events.shop_changed(session, shop)
    return shop


def update_permissions(session, scope, shop_id, data):
    scope.ensure_company_wide()
    shop = get_shop(session, scope, shop_id)
    values = load(_permissions_input, data)
    for name in PERMISSION_NAMES:
        setattr(shop, name, values[name])
    shop.version += 1
    session.flush()
    events.shop_changed(session, shop)
    return shop


def permissions_of(shop):
    return {name: getattr(shop, name) for name in PERMISSION_NAMES}
