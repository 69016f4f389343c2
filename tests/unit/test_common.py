"""Shared infrastructure: text normalisation, error codes from schemas, scope checks."""
import pytest
from marshmallow import fields, pre_load

from services.common.contracts import Contract, load, max_length, regexp
from services.common.errors import Forbidden, ValidationFailed
from services.common.scope import OPERATOR, SHOP, SYSTEM, Scope
from services.common.text import fold_width, is_email, normalize_phone, normalize_postal_code
from services.customers.schemas import PHONE, CustomerInput


@pytest.mark.parametrize("typed, stored", [
    ("105-0001", "105-0001"), ("1050001", "105-0001"), ("１０５ー０００１", "105-0001"), ("〒105‐0001", "105-0001"),
])
def test_postal_codes_as_operators_type_them(typed, stored):
    assert normalize_postal_code(typed) == stored


@pytest.mark.parametrize("typed, stored", [
    ("03-0000-0000", "03-0000-0000"), ("０３－１２３４－５６７８", "03-1234-5678"), ("0312345678", "03-1234-5678"),
    ("03 1234 5678", "03-1234-5678"), ("（０３）１２３４－５６７８", "03-1234-5678"),
    ("0661234567", "06-6123-4567"), ("06-6123-4567", "06-6123-4567"),
    ("09012345678", "090-1234-5678"), ("090-1234-5678", "090-1234-5678"), ("０８０ー１１１１ー２２２２", "080-1111-2222"),
    ("045 123 4567", "045-123-4567"), ("0451234567", "045-123-4567"),
    # four-digit area codes, which the hand-written rule cut after three digits
    ("0422515131", "0422-51-5131"), ("0466221234", "0466-22-1234"), ("0422-12-3456", "0422-12-3456"),
    ("0120123456", "0120-123-456"), ("0120-123-456", "0120-123-456"), ("0570123456", "0570-123-456"),
    ("05012345678", "050-1234-5678"), ("050-1234-5678", "050-1234-5678"),
    ("+81 3-1234-5678", "03-1234-5678"), ("+81312345678", "03-1234-5678"), ("+81-90-1234-5678", "090-1234-5678"),
    ("+81 (0)3 1234 5678", "03-1234-5678"), ("+81 422-51-5131", "0422-51-5131"), ("＋８１　９０　１２３４　５６７８", "090-1234-5678"),
])
def test_phone_numbers_as_operators_type_them(typed, stored):
    assert normalize_phone(typed) == stored


@pytest.mark.parametrize("typed", ["12", "090-12", "03-55", "abc", "+1 650 253 0000", "03-1234-5678 内線12",
                                   "1234567890", "03-1234-5678-9", "1-0000-0000", "312345678"])
def test_what_is_no_japanese_phone_number_is_refused(typed):
    class Phones(Contract):
        phone = fields.String(validate=regexp(PHONE, "invalid_phone"))

        @pre_load
        def normalise(self, data, **_kwargs):
            return {"phone": normalize_phone(data["phone"])}

    with pytest.raises(ValidationFailed) as refused:
        load(Phones(), {"phone": typed})
    assert refused.value.fields == {"phone": ["invalid_phone"]}


def test_the_customer_schemas_store_phones_as_the_library_formats_them():
    values = load(CustomerInput(), {"shop_id": 1, "family_name": "山田", "home_phone": "0422515131",
                                    "mobile_phone": "+81 90 1234 5678", "fax": "０３１２３４５６７８"})
    assert (values["home_phone"], values["mobile_phone"], values["fax"]) == ("0422-51-5131", "090-1234-5678",
                                                                           "03-1234-5678")
    with pytest.raises(ValidationFailed) as refused:
        load(CustomerInput(), {"shop_id": 1, "family_name": "山田", "home_phone": "+1 650 253 0000"})
    assert refused.value.fields == {"home_phone": ["invalid_phone"]}


@pytest.mark.parametrize("typed, folded", [
    ("ＡＢＣ　１２３  x", "ABC 123 x"), ("", ""), (None, ""), ("  A-1 ", "A-1"), ("A\t\tB\n", "A B"), ("A  B", "A B"),
    ("ＳＫＵ－００１", "SKU-001"), ("コーヒー", "コ-ヒ-"), ("A\x7fB", "A\x7fB"), (" 山田　 太郎 ", "山田 太郎"),
])
def test_fold_width(typed, folded):
    assert fold_width(typed) == folded


def test_email_check():
    assert is_email("crm@example.jp")
    assert not is_email("crm@") and not is_email("a b@example.jp")


class Sample(Contract):
    name = fields.String(required=True, validate=max_length(5))
    count = fields.Integer()
    email = fields.Email()


def test_schema_errors_leave_as_codes_by_field():
    with pytest.raises(ValidationFailed) as refused:
        load(Sample(), {"name": "toolong", "count": "x", "email": "nope", "extra": 1})
    assert refused.value.fields == {"name": ["max_length:5"], "count": ["not_integer"], "email": ["invalid_email"],
                                    "extra": ["unknown_field"]}
    with pytest.raises(ValidationFailed) as refused:
        load(Sample(), {})
    assert refused.value.fields == {"name": ["required"]}


def test_operators_may_everything_shop_accounts_only_what_their_flags_allow():
    assert Scope(1, OPERATOR).may("may_export_customers")
    assert Scope(1, SYSTEM).may("may_export_customers")
    shop = Scope(1, SHOP, shop_id=5, permissions={"may_export_customers": True})
    assert shop.may("may_export_customers")
    assert not shop.may("may_export_purchases")
    with pytest.raises(Forbidden):
        shop.ensure_permitted("may_export_purchases")


def test_shop_scope_is_confined_to_its_shop_and_company():
    shop = Scope(1, SHOP, shop_id=5)
    shop.ensure_shop(1, 5)
    for company_id, shop_id in ((1, 6), (2, 5)):
        with pytest.raises(Forbidden):
            shop.ensure_shop(company_id, shop_id)
    with pytest.raises(Forbidden):
        shop.ensure_company_wide()
    with pytest.raises(Forbidden):
        Scope(1, SHOP)


def test_a_malformed_scope_is_forbidden_not_bad_input():
    with pytest.raises(Forbidden):
        Scope.parse({"company_id": "x", "role": "operator"})
    with pytest.raises(Forbidden):
        Scope.parse({"company_id": 1, "role": "root"})
    assert Scope.parse({"company_id": 1, "role": "shop", "shop_id": 3}).shop_id == 3


def test_a_unit_of_work_whose_first_write_sits_in_a_savepoint_leaves_nothing_when_it_fails(tmp_path):
    # pysqlite would let the savepoint open the transaction, and releasing it would commit the row.
    from sqlalchemy import text
    from sqlalchemy.orm import sessionmaker

    from services.common.db import Store, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'uow.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE things (id INTEGER PRIMARY KEY)"))
    store = Store(sessionmaker(engine))
    with pytest.raises(ValueError):
        with store.unit_of_work() as session:
            session.execute(text("SELECT count(*) FROM things"))
            with session.begin_nested():
                session.execute(text("INSERT INTO things VALUES (1)"))
            raise ValueError("a later step fails")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM things")).scalar() == 0
    engine.dispose()
