"""The condition schema is the single source of what can be asked: every leaf field it accepts changes the query the
engine runs. The leaves are derived by walking the schema (``services/search/conditions.py``), so a field added to
the schema that the query builder does not read fails here, and so does a field the builder reads under another name.
"""
import copy
import datetime as dt
import json

import pytest
from marshmallow import fields, validate
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from services.common.errors import ValidationFailed
from services.common.scope import OPERATOR, SHOP, Scope
from services.search import conditions as contract
from services.search import matching
from services.search.models import Base, SavedSearch
from services.search.store import compiled
from services.search.store_tables import customers

TODAY = dt.date(2026, 12, 6)

# What a leaf needs beside it to mean anything, by the path of the object holding it (written out here, not derived):
# products are asked at shops, a product row names its products, 購入商品の有無's flag needs products, a mail's
# choice of mails needs something to have happened to them, and the shops of 最新購入情報 only narrow its dates.
CONTEXT = {
    ("latest",): {"shop_ids": [1], "latest_purchase": {"from": "2025-01-01"}},
    ("latest", "product_rows", 0): {"product_codes": ["P-1"]},
    ("period",): {"shop_ids": [1], "bought_products": ["P-9"]},
    ("period", "product_rows", 0): {"product_codes": ["P-1"]},
    ("mails", "manual"): {"sent": "include"},
    ("mails", "automatic"): {"sent": "include"},
}


def _choices(field):
    for validator in field.validators:
        if isinstance(validator, validate.OneOf):
            return list(validator.choices)
    return None


def _values(field, name):
    """Values a leaf field may take that are not its default, each a different question."""
    if isinstance(field, contract.ChoiceValue):
        return [7, contract.UNSELECTED]
    if isinstance(field, fields.Boolean):
        return [value for value in (True, False) if value != field.load_default]
    if isinstance(field, fields.Integer):
        return [3]
    if isinstance(field, fields.Date):
        return ["2025-03-04"]
    if isinstance(field, contract.MemberNumbers):
        return ["1-5", "A-9"]
    if isinstance(field, fields.String):
        return _choices(field) or [{"phone": "0312", "fax": "0312", "email": "x@y"}.get(name, "x")]
    raise AssertionError(f"{name}: a field of a kind this test does not know ({type(field).__name__})")


def leaves(schema, path=()):
    """(path, value) for every leaf of the schema and every non-default value it can take: lists by their first
    item, dictionaries by each key their key field allows (any key when it allows any)."""
    for name, field in schema.fields.items():
        key = field.data_key or name
        yield from _leaf(field, path + (key,), name)


def _leaf(field, path, name):
    if isinstance(field, fields.Nested):
        yield from leaves(field.schema, path)
    elif isinstance(field, fields.List):
        for sub_path, value in _leaf(field.inner, path + (0,), name):
            yield sub_path, value
    elif isinstance(field, fields.Dict):
        keys = _choices(field.key_field) or ["7"]
        for key in keys:
            yield from _leaf(field.value_field, path + (key,), name)
    else:
        for value in _values(field, name):
            yield path, value


def _put(document, path, value):
    """Set ``value`` at ``path`` inside ``document``, making the objects and one-item lists on the way, with the
    context each object needs."""
    node = document
    for depth, key in enumerate(path[:-1]):
        following = path[depth + 1]
        empty = [] if isinstance(following, int) else {}
        if isinstance(node, list):
            while len(node) <= key:
                node.append(copy.deepcopy(empty))
            node = node[key]
        else:
            node = node.setdefault(key, empty)
        if isinstance(node, dict):
            for name, default in CONTEXT.get(path[:depth + 1], {}).items():
                if name != path[depth + 1]:
                    node.setdefault(name, copy.deepcopy(default))
    if isinstance(node, list):
        node.append(value)
    else:
        node[path[-1]] = value
    return document


def _without(path):
    """The document with the leaf taken away: the leaf, or the nearest object holding it when the object would not
    stand without it (a product row without products), leaving the context."""
    for depth in range(len(path), 0, -1):
        document = _put({}, path, "placeholder")
        node = document
        for key in path[:depth - 1]:
            node = node[key]
        node.pop(path[depth - 1])
        try:
            matching.parse(document)
        except ValidationFailed:
            continue
        return document
    return {}


@pytest.fixture(scope="module")
def session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    factory = sessionmaker(engine)
    with factory() as session:
        session.add(SavedSearch(id=3, company_id=1, shop_id=None, name="保存", conditions=json.dumps({}), frozen=True,
                                created_by=1, created_at=dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)))
        session.commit()
        yield session
    engine.dispose()


def _sql(session, document):
    parsed = matching.parse(document)
    statement = select(customers.c.id).where(*matching.all_clauses(session, Scope(1, OPERATOR), parsed, TODAY))
    return compiled(statement)


LEAVES = [(path, value) for path, value in leaves(contract.Conditions()) if path != ("saved_search_id",)]


def test_the_walk_finds_the_leaves_of_every_section():
    """The walk itself: a sample of leaves written out by hand, and none of 最新購入情報's dates under 期間設定."""
    paths = {path for path, _value in LEAVES}
    for expected in [("attributes", "name"), ("attributes", "age", "min"), ("attributes", "birth_date", "from"),
                     ("attributes", "remarks", "10"), ("attributes", "extras", "4"), ("attributes", "choices", "7", 0),
                     ("latest", "purchase_count", "max"), ("latest", "product_rows", 0, "count", "min"),
                     ("period", "purchase_total", "min"), ("period", "bought"), ("period", "shipped", "to"),
                     ("mails", "automatic", "qr_read"), ("mails", "manual", "kinds", 0), ("rfm", "day"),
                     ("rfm", "recency_days", "max"), ("rfm", "ranks", 0), ("rfm", "shop_ids", 0)]:
        assert expected in paths, expected
    assert not any(path[0] == "period" and path[1] in ("first_purchase", "latest_purchase", "latest_shipped")
                   for path in paths)
    assert len(paths) > 80


@pytest.mark.parametrize("path, value", LEAVES, ids=[".".join(map(str, p)) + f"={v}" for p, v in LEAVES])
def test_every_leaf_of_the_schema_changes_the_query(session, path, value):
    with_leaf, without_leaf = _put({}, path, value), _without(path)
    assert _sql(session, with_leaf) != _sql(session, without_leaf), (with_leaf, without_leaf)


def test_a_saved_search_narrows_the_query(session):
    assert _sql(session, {"saved_search_id": 3}) != _sql(session, {})


def test_period_measures_are_named_as_in_latest_and_the_earlier_names_still_load(session):
    current = {"period": {"purchased": {"from": "2025-01-01"}, "purchase_count": {"min": 2},
                          "purchase_total": {"max": 9000}}}
    earlier = {"period": {"purchased": {"from": "2025-01-01"}, "count": {"min": 2}, "total": {"max": 9000}}}
    assert _sql(session, earlier) == _sql(session, current)
    assert matching.parse(earlier)["period"]["purchase_count"] == {"min": 2, "max": None}


@pytest.mark.parametrize("field", ["first_purchase", "latest_purchase", "latest_shipped"])
def test_period_refuses_the_latest_purchase_dates_it_never_read(field):
    with pytest.raises(ValidationFailed) as refused:
        matching.parse({"period": {field: {"from": "2025-01-01"}}})
    assert f"period.{field}" in refused.value.fields


def test_a_shop_account_is_narrowed_to_its_shop(session):
    parsed = matching.parse({})
    statement = select(customers.c.id).where(*matching.all_clauses(session, Scope(1, SHOP, shop_id=5), parsed, TODAY))
    assert compiled(statement)[1] == [5]
