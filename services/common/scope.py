"""The caller's scope: who is asking, for which company and (for a shop account) which shop.

Every RPC that touches tenant data takes a scope as its first argument and checks it inside the
service. The gateway builds the scope from the signed session after the shops service has
confirmed the account; cart connectors and the mail system call with a ``system`` scope of one
company. Permission flags travel in the scope; ``ensure_permitted`` is the one check every feature
uses.
"""
from marshmallow import fields

from .arguments import MAX_ID
from .contracts import Contract, load, number_range, one_of
from .errors import Forbidden, ValidationFailed

OPERATOR = "operator"
SHOP = "shop"
SYSTEM = "system"


class ScopeSchema(Contract):
    company_id = fields.Integer(required=True, strict=True, validate=number_range(1, MAX_ID))
    shop_id = fields.Integer(allow_none=True, load_default=None, strict=True, validate=number_range(1, MAX_ID))
    account_id = fields.Integer(allow_none=True, load_default=None, strict=True, validate=number_range(1, MAX_ID))
    role = fields.String(required=True, validate=one_of([OPERATOR, SHOP, SYSTEM]))
    permissions = fields.Dict(keys=fields.String(), values=fields.Boolean(), load_default=dict)


_schema = ScopeSchema()


class Scope:
    def __init__(self, company_id, role, shop_id=None, account_id=None, permissions=None):
        self.company_id = company_id
        self.role = role
        self.shop_id = shop_id
        self.account_id = account_id
        self.permissions = permissions or {}
        if role == SHOP and shop_id is None:
            raise Forbidden("a shop scope needs its shop")

    @classmethod
    def parse(cls, data):
        """A Scope from an RPC payload; a malformed scope is refused as Forbidden, not as bad input."""
        try:
            return cls(**load(_schema, data))
        except ValidationFailed:
            raise Forbidden("invalid scope") from None

    def as_dict(self):
        return {"company_id": self.company_id, "shop_id": self.shop_id, "account_id": self.account_id,
                "role": self.role, "permissions": dict(self.permissions)}

    @property
    def is_shop(self):
        return self.role == SHOP

    def ensure_company(self, company_id):
        if company_id != self.company_id:
            raise Forbidden("outside the caller's company")

    def ensure_shop(self, company_id, shop_id):
        """Refuse a shop of another company, or (for a shop account) any shop but its own."""
        self.ensure_company(company_id)
        if self.is_shop and shop_id != self.shop_id:
            raise Forbidden("outside the caller's shop")

    def ensure_listed_shop(self, shop_id, shop_ids):
        """Refuse a shop that is not among ``shop_ids``, the shops the shops service lists for this scope: the one
        check for a shop id a caller names (a shop of another company, or another shop of a shop account)."""
        if shop_id not in shop_ids:
            raise Forbidden("outside the caller's shops")

    def ensure_company_wide(self):
        """Refuse shop accounts: the action concerns the whole company."""
        if self.is_shop:
            raise Forbidden("company operators only")

    def may(self, flag):
        return not self.is_shop or bool(self.permissions.get(flag, False))

    def ensure_permitted(self, flag):
        """The one permission check: company operators and systems may do everything; a shop account needs the flag."""
        if not self.may(flag):
            raise Forbidden(f"permission {flag} not granted")
