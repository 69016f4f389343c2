"""Nameko wiring of the shops service: RPC entrypoints and the database. Logic lives in the modules beside it."""

from services.common import arguments
from services.common.db import Database
from services.common.entrypoints import rpc
from services.common.errors import EXPECTED_ERRORS, AuthenticationFailed
from services.common.health import health_report
from services.common.requests import HandledRequests
from services.common.scope import Scope

from . import accounts, companies, qr, schemas, shops
from .models import HandledRequest, OutboxEvent

rpc_method = rpc(expected_exceptions=EXPECTED_ERRORS)

_company = schemas.Company()
_shop = schemas.Shop()
_shops = schemas.Shop(many=True)
_generated = schemas.GeneratedPassword()
_generated_many = schemas.GeneratedPassword(many=True)
handled = HandledRequests(HandledRequest)


class ShopsService:
    name = "shops"

    db = Database(OutboxEvent)

    @rpc_method
    def health(self):
        """Returns {service, status, database, outbox_pending, uptime_seconds}."""
        return health_report(self.name, self.db)

    # --- login -------------------------------------------------------------------------------

    @rpc_method
    def authenticate(self, login_id, password, ip):
        """Log in. Returns {account, session_generation, scope, company_name, shops}. Raises AuthenticationFailed,
        ValidationFailed."""
        with self.db.unit_of_work() as session:
            context, refusal = accounts.authenticate(session, {"login_id": login_id, "password": password, "ip": ip})
        if refusal:
            raise AuthenticationFailed(refusal)
        return context

    @rpc_method
    def session_context(self, account_id, ip, session_generation):
        """Re-check a logged-in account for one request, opened at ``session_generation`` (what authenticate
        returned). Returns what authenticate returns. Raises AuthenticationFailed (session_ended after a logout, a
        new password, a lock or 待機)."""
        with self.db.read() as session:
            return accounts.session_context(session, arguments.entity_id(account_id, "account_id"),
                                            arguments.text(ip, "ip", 100, allow_none=True),
                                            arguments.optional_entity_id(session_generation, "session_generation"))

    @rpc_method
    def end_sessions(self, account_id, session_generation):
        """Logout: every open session of the account ends (when ``session_generation`` is still current)."""
        with self.db.unit_of_work() as session:
            accounts.end_sessions(session, arguments.entity_id(account_id, "account_id"),
                                  arguments.optional_entity_id(session_generation, "session_generation"))
        return {"ended": account_id}

    # --- company -----------------------------------------------------------------------------

    @rpc_method
    def get_company(self, scope):
        """企業情報 of the caller's company. Raises NotFound."""
        with self.db.read() as session:
            return _company.dump(companies.get_company(session, Scope.parse(scope)))

    @rpc_method
    def company_functions(self, scope):
        """機能のご契約状況 of the caller's company (operators only): [{key, label, covers, contracted}] in the order
        企業情報 shows them. Raises Forbidden."""
        return companies.company_functions(Scope.parse(scope))

    @rpc_method
    def update_company(self, scope, company):
        """Edit 企業情報 (operators only). Raises ValidationFailed, Forbidden."""
        with self.db.unit_of_work() as session:
            return _company.dump(companies.update_company(session, Scope.parse(scope), company))

    @rpc_method
    def get_allowlist(self, scope):
        """IP設定: the company's allowed networks as CIDR strings; empty allows every address."""
        scope = Scope.parse(scope)
        scope.ensure_company_wide()
        with self.db.read() as session:
            return {"networks": companies.allowlist(session, scope.company_id)}

    @rpc_method
    def update_allowlist(self, scope, networks, current_ip=None):
        """Replace the allowlist. Raises ValidationFailed (bad entries by index; excludes_current_ip), Forbidden."""
        with self.db.unit_of_work() as session:
            return {"networks": companies.replace_allowlist(session, Scope.parse(scope), {"networks": networks},
                                                            current_ip)}

    # --- shops -------------------------------------------------------------------------------

    @rpc_method
    def list_shops(self, scope, include_standby=True):
        """Shops in scope (a shop account sees only its own), by shop number."""
        with self.db.read() as session:
            return _shops.dump(shops.list_shops(session, Scope.parse(scope), include_standby))

    @rpc_method
    def public_shop(self, company_id, shop_number):
        """What public pages may know of an active shop: {id, company_id, shop_number, name, sender_name,
        sender_address}. Raises NotFound for an unknown or standby shop."""
        with self.db.read() as session:
            return shops.public_shop(session, company_id, shop_number)

    @rpc_method
    def get_shop(self, scope, shop_id):
        """One shop. Raises NotFound, Forbidden."""
        with self.db.read() as session:
            return _shop.dump(shops.get_shop(session, Scope.parse(scope), shop_id))

    @rpc_method
    def create_shop(self, scope, shop, request_id=None):
        """Add a shop and its account. Returns {shop, password}; the password is shown this once: a repeated
        request_id returns the first shop with password None (passwords are not kept)."""
        scope = Scope.parse(scope)
        with self.db.unit_of_work() as session:
            def create():
                created, password = shops.create_shop(session, scope, shop)
                return {"shop": _shop.dump(created), "password": password}

            return handled.once(session, request_id, "create_shop", scope, create,
                                stored=lambda result: {**result, "password": None})

    @rpc_method
    def update_shop(self, scope, shop_id, shop):
        """Edit 店舗情報. Raises ValidationFailed, NotFound, Forbidden."""
        with self.db.unit_of_work() as session:
            return _shop.dump(shops.update_shop(session, Scope.parse(scope), shop_id, shop))

    @rpc_method
    def update_permissions(self, scope, shop_id, permissions):
        """権限設定: every flag, true or false. Raises ValidationFailed, NotFound, Forbidden."""
        with self.db.unit_of_work() as session:
            return _shop.dump(shops.update_permissions(session, Scope.parse(scope), shop_id, permissions))

    @rpc_method
    def regenerate_password(self, scope, shop_id):
        """再生成. Returns {shop_id, shop_number, shop_name, login_id, password}, shown once."""
        with self.db.unit_of_work() as session:
            return _generated.dump(accounts.regenerate_password(session, Scope.parse(scope), shop_id))

    @rpc_method
    def regenerate_all_passwords(self, scope):
        """全店PW再生成 / 全店PW出力. Returns a list of generated passwords, shown once."""
        with self.db.unit_of_work() as session:
            return _generated_many.dump(accounts.regenerate_all_passwords(session, Scope.parse(scope)))

    @rpc_method
    def shop_qr_code(self, scope, shop_id, kind="png"):
        """QRコード of the shop's member-registration URL. Returns {content_type, encoding, data, url}."""
        with self.db.read() as session:
            shop = shops.get_shop(session, Scope.parse(scope), shop_id)
            return qr.render(qr.registration_url(shop.company_id, shop.shop_number), "svg" if kind == "svg" else "png")


SERVICE = ShopsService
