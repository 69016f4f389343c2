"""The services' message codec: kombu's JSON on the wire, read and written with orjson."""
import datetime as dt
from decimal import Decimal

import kombu.serialization
import pytest
from kombu.utils import json as kombu_json
from nameko import serialization

from services.common import wire_json

BATCH = {"orders": [{"order_code": "A-1", "member_number": "123", "lines": [
    {"product_code": "SKU 01", "product_name": "緑茶 ティーバッグ", "quantity": 2, "unit_price": 540}]}],
    "request_id": "imp-1-500-0", "options": {"mode": "create_update"}}


def test_a_plain_message_reads_the_same_through_both_codecs():
    assert wire_json.loads(wire_json.dumps(BATCH)) == BATCH
    assert kombu_json.loads(wire_json.dumps(BATCH)) == BATCH
    assert wire_json.loads(kombu_json.dumps(BATCH).encode()) == BATCH
    assert wire_json.loads(kombu_json.dumps(BATCH)) == BATCH  # str as well as bytes


def test_the_values_kombu_wraps_are_wrapped_and_unwrapped_as_kombu_does():
    value = {"at": dt.datetime(2026, 12, 7, 9, 30, 5, 120, tzinfo=dt.timezone.utc), "day": dt.date(2026, 1, 31),
             "time": dt.time(23, 59), "amount": Decimal("1.10"), "blob": b"\x00\xff", "text": b"abc",
             "nested": [{"at": dt.datetime(2020, 2, 29, 0, 0)}]}
    ours = wire_json.dumps(value)
    assert b'{"__type__":"datetime","__value__":"2026-12-07T09:30:05.000120+00:00"}' in ours
    assert kombu_json.loads(ours) == value
    assert wire_json.loads(ours) == value
    assert wire_json.loads(kombu_json.dumps(value)) == value


def test_keys_that_are_not_strings_are_written_as_kombu_writes_them():
    assert wire_json.loads(wire_json.dumps({1: "a", 2: ["b"]})) == {"1": "a", "2": ["b"]}
    assert kombu_json.loads(kombu_json.dumps({1: "a", 2: ["b"]})) == {"1": "a", "2": ["b"]}


def test_what_orjson_refuses_goes_through_kombus_codec():
    huge = {"n": 2**70}
    assert wire_json.loads(wire_json.dumps(huge)) == huge
    assert wire_json.loads('{"x": NaN}')["x"] != wire_json.loads('{"x": NaN}')["x"]  # NaN, as kombu reads it
    with pytest.raises(TypeError):
        wire_json.dumps({"x": object()})


def test_a_lone_surrogate_is_carried_as_kombu_carries_it():
    value = {"name": "a\ud800b"}
    assert wire_json.loads(wire_json.dumps(value)) == value


def test_an_unknown_wrapped_type_is_refused_as_kombu_refuses_it():
    with pytest.raises(ValueError):
        wire_json.loads(b'{"x": {"__type__": "pickle", "__value__": "..."}}')


def test_outbox_text_is_utf8_json_not_ascii_escaped():
    assert wire_json.text({"name": "山田", "n": 1}) == '{"name":"山田","n":1}'


def test_nameko_installs_it_in_place_of_kombus_json():
    try:
        serializer, accept = serialization.setup({"SERIALIZERS": wire_json.SERIALIZERS})
        assert (serializer, accept) == ("json", ["json"])
        content_type, encoding, body = kombu.serialization.dumps(BATCH, serializer="json")
        assert (content_type, encoding) == ("application/json", "utf-8")
        assert body == wire_json.dumps(BATCH)
        assert kombu.serialization.loads(body, content_type, encoding) == BATCH
    finally:
        kombu.serialization.register_json()
    assert kombu.serialization.dumps(BATCH, serializer="json")[2] == kombu_json.dumps(BATCH)


def test_text_kept_in_a_column_is_kombus_json_with_its_wrapped_values():
    value = {"id": 7, "registered_at": dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.timezone.utc), "name": "佐藤"}
    kept = wire_json.dumps_text(value)
    assert isinstance(kept, str) and "佐藤" in kept
    assert kombu_json.loads(kept) == wire_json.loads(kept) == value
    assert wire_json.dumps_text({"big": 2 ** 70}) == kombu_json.dumps({"big": 2 ** 70})  # kombu's, as text
