"""The shape of RPC arguments (services/common/arguments.py) and the text every schema refuses."""
import pytest
from marshmallow import fields

from services.common import arguments
from services.common.contracts import Contract, Timestamp, load, max_length
from services.common.errors import ValidationFailed


def refusal(check, *args):
    with pytest.raises(ValidationFailed) as refused:
        check(*args)
    return refused.value.fields


@pytest.mark.parametrize("value, code", [
    (None, "not_integer"), ("12", "not_integer"), (True, "not_integer"), (1.0, "not_integer"), ([], "not_integer"),
    (0, "range"), (-1, "range"), (2**31, "range"), (2**63, "range"),
])
def test_an_id_is_a_positive_integer_the_database_can_hold(value, code):
    assert refusal(arguments.entity_id, value, "customer_id") == {"customer_id": [code]}


def test_ids_that_can_exist_pass():
    assert arguments.entity_id(1, "x") == 1
    assert arguments.entity_id(2**31 - 1, "x") == 2**31 - 1
    assert arguments.optional_entity_id(None, "x") is None
    assert arguments.after_id(0) == 0


def test_paging_is_bounded():
    assert arguments.paging(1, 50, 200) == (1, 50)
    assert refusal(arguments.paging, 0, 50, 200) == {"page": ["range"]}
    assert refusal(arguments.paging, 1, 201, 200) == {"per_page": ["range"]}
    assert refusal(arguments.paging, "2", 50, 200) == {"page": ["not_integer"]}


@pytest.mark.parametrize("value", ["a\x00b", "\ud800", "x\udfffy"])
def test_text_without_nul_or_lone_surrogates(value):
    assert refusal(arguments.text, value, "q") == {"q": ["invalid_text"]}


def test_text_accepts_any_real_character_and_bounds_its_length():
    assert arguments.text("山田 👍🏻", "q") == "山田 👍🏻"
    assert refusal(arguments.text, "x" * 11, "q", 10) == {"q": ["max_length:10"]}
    assert refusal(arguments.text, 5, "q") == {"q": ["invalid"]}
    assert arguments.text(None, "q", allow_none=True) is None


def test_flags_are_booleans():
    assert arguments.flag(False, "counted") is False
    assert refusal(arguments.flag, 1, "counted") == {"counted": ["invalid"]}


def test_bad_text_and_deep_nesting_are_found_by_path_anywhere():
    value = {"lines": [{"name": "ok"}, {"name": "a\x00"}], "b\ud800": 1}
    assert arguments.problems(value) == {"lines.1.name": ["invalid_text"], "_schema": ["invalid_text"]}
    deep = "x"
    for _ in range(arguments.MAX_DEPTH + 1):
        deep = [deep]
    assert arguments.problems({"a": deep}) == {"a" + ".0" * (arguments.MAX_DEPTH - 1): ["too_deep"]}
    assert arguments.problems({"a": [[["fine"]]]}) == {}


def test_nesting_is_measured_whatever_the_brackets_in_the_text():
    chain = "[{"  # brackets in a string are no nesting
    for _ in range(arguments.MAX_DEPTH):
        chain = [chain]
    assert arguments.problems(chain) == {}  # as deep as allowed
    assert arguments.problems({"lines": [{"n": i} for i in range(20)]}) == {}  # many containers, shallow
    deeper = {"lines": [{"n": i} for i in range(20)] + [chain]}
    assert arguments.problems(deeper) == {"lines.20" + ".0" * (arguments.MAX_DEPTH - 2): ["too_deep"]}


def test_id_lists_are_checked_entry_by_entry():
    assert arguments.id_list([3, 1], "group_ids") == [3, 1]
    assert refusal(arguments.id_list, [3, "x"], "group_ids") == {"group_ids.1": ["not_integer"]}
    assert refusal(arguments.id_list, 3, "group_ids") == {"group_ids": ["invalid"]}


class Note(Contract):
    title = fields.String(validate=max_length(10))
    at = Timestamp()


def test_every_schema_refuses_nul_and_lone_surrogates_by_path():
    assert refusal(load, Note(), {"title": "a\x00"}) == {"title": ["invalid_text"]}
    assert refusal(load, Note(), {"title": "\udc80"}) == {"title": ["invalid_text"]}
    assert load(Note(), {"title": "ふつう"}) == {"title": "ふつう"}


def test_a_moment_outside_the_years_of_the_business_is_invalid_not_a_crash():
    assert refusal(load, Note(), {"at": "0001-01-01T00:00:00"}) == {"at": ["invalid"]}
    assert refusal(load, Note(), {"at": "9999-12-31T23:59:59-12:00"}) == {"at": ["invalid"]}
    assert load(Note(), {"at": "2026-11-01T10:00:00"})["at"].isoformat() == "2026-11-01T01:00:00+00:00"
