"""The quick way through a contract's load answers exactly as marshmallow's ``Schema.load``: the same values, or the
same refusal. Every contract of every service, on input generated from its own fields (mostly what it accepts, with
wrong types, unknown keys, missing and null values, bad text mixed in)."""
import datetime as dt
import importlib
import inspect

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields, validate

from services.common import contract_loading
from services.common.contracts import JST, Contract, Timestamp, load
from services.common.errors import ValidationFailed
from services.customers import schemas as customer_schemas
from services.purchases import schemas as purchase_schemas

MODULES = ["services.purchases.schemas", "services.customers.schemas", "services.search.report_schemas",
           "services.search.schemas", "services.search.conditions", "services.common.scope",
           "services.shops.schemas", "services.mailhistory.schemas"]


def _contracts():
    found = {}
    for module in MODULES:
        for name, cls in inspect.getmembers(importlib.import_module(module), inspect.isclass):
            if issubclass(cls, Contract) and cls is not Contract and cls.__module__ == module:
                found[f"{module}.{name}"] = cls
    return found


CONTRACTS = _contracts()
_junk = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**12), st.floats(allow_nan=False),
                  st.text(max_size=5), st.just("\x00"), st.just("１２"), st.lists(st.integers(), max_size=2),
                  st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
_moments = st.one_of(
    st.tuples(st.datetimes(min_value=dt.datetime(1890, 1, 1), max_value=dt.datetime(3010, 1, 1)),
              st.sampled_from(["", "+09:00", "-05:30", "Z", "+0900", "+14:00"]), st.sampled_from(["T", " "]),
              st.sampled_from(["seconds", "minutes", "microseconds"])).map(
        lambda parts: parts[0].isoformat(sep=parts[2], timespec=parts[3]) + parts[1]),
    st.sampled_from(["2024-02-30T10:00:00+09:00", "2024-13-01 10:00:00", "2024-01-01T24:00:00", "2024-1-5T1:02:03",
                     "2024-01-01T10:00:00+25:00", "0001-01-01T00:00:00", "2024-01-01", "２０２４-01-01T10:00:00"]))
_texts = st.one_of(st.text(alphabet="abcXYZ019-_ 　ＡＢ１２ー", max_size=8), st.sampled_from(
    ["", " ", "female", "male", "ordered", "cancelled", "create_only", "include", "exclude", "a@example.jp",
     "105-0001", "03-1234-5678", "2024-03-05", "any", "all", "csv", "cp932"]))


def _value(field, depth):
    """A strategy for what a caller might send to ``field``: mostly its own kind of value."""
    if isinstance(field, fields.Nested) and depth < 3:
        own = _data(field.schema, depth + 1)
    elif isinstance(field, fields.List) and depth < 3:
        own = st.lists(_value(field.inner, depth + 1), max_size=3)
    elif isinstance(field, fields.Boolean):
        own = st.booleans()
    elif isinstance(field, fields.Integer):
        own = st.one_of(st.integers(-2, 20), st.integers(-10**10, 10**10))
    elif isinstance(field, fields.DateTime):
        own = _moments
    elif isinstance(field, fields.Date):
        own = st.dates(min_value=dt.date(1890, 1, 1)).map(dt.date.isoformat)
    elif isinstance(field, fields.Dict):
        own = st.dictionaries(_texts, st.one_of(_texts, st.integers(1, 5), st.none()), max_size=2)
    elif isinstance(field, fields.String):
        own = _texts
    else:
        own = _junk
    return st.one_of(own, own, own, own, _junk)


def _data(schema, depth=0):
    names = {(f.data_key or name): f for name, f in schema.load_fields.items()}
    return st.fixed_dictionaries({}, optional={key: _value(f, depth) for key, f in names.items()}).flatmap(
        lambda data: st.one_of(st.just(data), st.just(dict(data, unknown_key=1)), _junk))


def _answer(load, data):
    try:
        return "loaded", load(data)
    except ValidationError as exc:
        return "refused", exc.messages


@pytest.mark.parametrize("name", sorted(CONTRACTS))
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_the_quick_way_answers_as_marshmallow(name, data):
    schema = CONTRACTS[name]()
    value = data.draw(_data(schema))
    assert _answer(contract_loading.loader(schema), value) == _answer(schema.load, value)


ORDER = {"shop_id": 1, "order_code": "Ａ-1", "member_number": "M1", "purchased_at": "2024-03-05 14:22:10",
         "lines": [{"product_code": "sku　 1", "quantity": 2, "unit_price": 1200}, {"product_code": "X", "quantity": 1}]}


def test_an_order_loads_the_quick_way_with_its_defaults_and_folded_codes():
    loaded = load(purchase_schemas.PurchaseInput(), ORDER)
    assert loaded == {
        "shop_id": 1, "order_code": "A-1", "customer_id": None, "member_number": "M1",
        "purchased_at": dt.datetime(2024, 3, 5, 5, 22, 10, tzinfo=dt.timezone.utc), "shipped_at": None,
        "lines": [{"product_code": "sku 1", "product_name": "", "line_remark": "", "quantity": 2, "unit_price": 1200},
                  {"product_code": "X", "product_name": "", "line_remark": "", "quantity": 1, "unit_price": None}],
        "billed_amount": None, "media": "", "order_attributes": {}, "answers": {}, "counted": True,
        "status": "ordered"}
    # the quick way took it: marshmallow's own load was not asked
    schema = purchase_schemas.PurchaseInput()
    schema.load = None
    assert load(schema, ORDER) == loaded


def test_a_refusal_is_marshmallows_own_by_path():
    order = dict(ORDER, lines=[{"product_code": "ＳＫＵ", "quantity": 0}, {"product_code": "X", "quantity": "2"}])
    with pytest.raises(ValidationFailed) as refused:
        load(purchase_schemas.PurchaseInput(), order)
    assert refused.value.fields == {"lines.0.quantity": ["range"]}


class _Moment(Contract):
    at = Timestamp(required=True)


class _PlainMoment(Schema):
    at = fields.DateTime(required=True)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(text=_moments)
def test_a_timestamp_reads_a_moment_as_marshmallows_iso_parser_does(text):
    try:
        parsed = _PlainMoment().load({"at": text})["at"]
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=JST)
        expected = parsed.astimezone(dt.timezone.utc) if 1900 <= parsed.year <= 2999 else None
    except ValidationError:
        expected = None
    try:
        moment = _Moment().load({"at": text})["at"]
    except ValidationError:
        moment = None
    assert moment == expected and (moment is None or moment.tzinfo == dt.timezone.utc)


def test_a_schema_validator_runs_the_quick_way_too():
    """CustomerInput's own rule: 送信許可 PC needs the PC address (a refusal only the schema's validator makes)."""
    schema = customer_schemas.CustomerInput()
    customer = {"member_number": "M1", "shop_id": 1, "family_name": "山田", "mail_permission": "pc", "pc_email": ""}
    with pytest.raises(ValidationFailed) as refused:
        load(schema, customer)
    assert refused.value.fields == {"pc_email": ["required_for_mail_permission"]}
    assert load(schema, dict(customer, pc_email="yamada@example.jp"))["pc_email"] == "yamada@example.jp"


def _even(value):
    if value % 2:
        raise ValidationError("odd")


def _this_century(moment):
    if moment.year < 2000:
        raise ValidationError("too_early")


class _Bounded(Contract):
    """Every validator the quick way checks by its bounds, and others it calls."""

    code = fields.String(validate=[validate.Length(min=2), validate.Length(max=5), validate.Regexp(r"^[A-Z]")])
    exact = fields.String(validate=validate.Length(equal=3))
    kind = fields.String(validate=[validate.OneOf(["a", "b", "c"]), validate.OneOf(["b", "c", "d"])])
    count = fields.Integer(validate=[validate.Range(min=1), validate.Range(max=10), validate.Range(min=-5, max=8)])
    open_count = fields.Integer(validate=validate.Range(min=0, max=10, min_inclusive=False))
    even = fields.Integer(validate=_even)
    flag = fields.Boolean(validate=validate.Equal(True))
    at = Timestamp(validate=_this_century)


@pytest.mark.parametrize("data", [
    {"code": "A"}, {"code": "AB"}, {"code": "ABCDE"}, {"code": "ABCDEF"}, {"code": "aB"},
    {"exact": "ab"}, {"exact": "abc"}, {"exact": "abcd"},
    {"kind": "a"}, {"kind": "b"}, {"kind": "c"}, {"kind": "d"}, {"kind": "e"},
    {"count": 0}, {"count": 1}, {"count": 8}, {"count": 9}, {"count": 11}, {"count": True},
    {"open_count": 0}, {"open_count": 1}, {"open_count": 10}, {"open_count": 11},
    {"even": 2}, {"even": 3}, {"flag": True}, {"flag": False},
    {"at": "1999-12-31T23:00:00+09:00"}, {"at": "2024-03-05 14:22:10"}, {"at": "2024-02-30 14:22:10"},
])
def test_validators_on_their_bounds_answer_as_marshmallow(data):
    schema = _Bounded()
    assert _answer(contract_loading.loader(schema), data) == _answer(schema.load, data)


def test_an_order_is_loaded_without_changing_what_was_sent():
    """Codes are folded and blanks made none in a copy: the caller's order (a batch's, kept for its report) stays
    as it came."""
    order = dict(ORDER, shipped_at="", billed_amount="", lines=[dict(line) for line in ORDER["lines"]])
    sent = {**order, "lines": [dict(line) for line in order["lines"]]}
    loaded = load(purchase_schemas.PurchaseInput(), order)
    assert order == sent
    assert (loaded["order_code"], loaded["shipped_at"], loaded["billed_amount"]) == ("A-1", None, None)
    assert [line["product_code"] for line in loaded["lines"]] == ["sku 1", "X"]


@pytest.mark.parametrize("data", [{"code": "AB"}, {"code": "ABCDE"}, {"kind": "b"}, {"kind": "c"}, {"count": 1},
                                  {"count": 8}, {"even": 2}, {"at": "2024-03-05 14:22:10"}])
def test_a_value_on_its_bounds_is_taken_the_quick_way(data):
    schema = _Bounded()
    quick = contract_loading.loader(schema)
    expected = schema.load(data)
    schema.load = None  # marshmallow's own load is not asked
    assert quick(data) == expected


class _Shouting(fields.String):
    """A field of its own with a check of its own beside its validators (``_validate``)."""

    def _validate(self, value):
        super()._validate(value)
        if not value.isupper():
            raise ValidationError("not_upper")


class _OwnChecks(Contract):
    word = fields.Raw(validate=validate.Length(max=3))
    shout = _Shouting()


@pytest.mark.parametrize("data", [{"word": "abc"}, {"word": "abcd"}, {"shout": "HEY"},
                                  {"shout": "hey"}])
def test_a_field_with_checks_of_its_own_answers_as_marshmallow(data):
    schema = _OwnChecks()
    assert _answer(contract_loading.loader(schema), data) == _answer(schema.load, data)
