"""JSON as the services put it on the broker and in their outboxes, written and read with orjson.

The wire format is kombu's own JSON (content type ``application/json``): a process that does not install this codec
reads and writes the same messages. kombu's codec is pure Python around the standard library: its decoder calls a
hook for every object of a message, so that a batch of 500 orders (2,000 objects and more) costs more to read than to
record. orjson does the same work in C; the few values kombu wraps (a datetime, a date, a time, a Decimal, bytes) are
wrapped and unwrapped as kombu does (``{"__type__": ..., "__value__": ...}``; a UUID, which kombu wraps too, goes
as its text: no message of the project carries one), and whatever orjson refuses (an integer
beyond 64 bits, a lone surrogate, NaN in a message) goes through kombu's codec unchanged.

Installed through Nameko's ``SERIALIZERS`` setting (``SERIALIZERS`` below, in every configuration the project
builds); it replaces kombu's ``json`` in the process that installs it.
"""
import orjson
from kombu.utils import json as kombu_json

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
_TAG = '"__type__"'
_TAG_BYTES = _TAG.encode()
_default = kombu_json.JSONEncoder().default
"""A value orjson leaves to the caller, as kombu's encoder writes it; TypeError when kombu knows none."""

SERIALIZERS = {"json": {"encoder": "services.common.wire_json.dumps", "decoder": "services.common.wire_json.loads",
                        "content_type": "application/json", "content_encoding": "utf-8"}}


def dumps(value):
    """The JSON of ``value`` as kombu's ``json`` serializer would carry it (UTF-8 bytes; str from kombu's own)."""
    try:
        return orjson.dumps(value, default=_default, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return kombu_json.dumps(value)


def dumps_text(value):
    """``dumps`` as text: kombu's JSON of ``value``, its datetimes and the like wrapped, for a column to keep."""
    data = dumps(value)
    return data.decode("utf-8") if isinstance(data, bytes) else data


def text(value):
    """The JSON text of plain data (what an outbox row holds): str, not ASCII-escaped."""
    try:
        return orjson.dumps(value, option=_OPTIONS).decode("utf-8")
    except orjson.JSONEncodeError:
        return kombu_json.dumps(value, ensure_ascii=False)


def _unwrapped(value):
    if isinstance(value, dict):
        if value.keys() == {"__type__", "__value__"}:
            return kombu_json.object_hook(value)
        return {key: _unwrapped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unwrapped(item) for item in value]
    return value


def loads(data):
    """The value of a message's JSON text (str or bytes), kombu's wrapped values unwrapped."""
    if isinstance(data, memoryview):
        data = data.tobytes()
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return kombu_json.loads(data)
    wrapped = (_TAG if isinstance(data, str) else _TAG_BYTES) in data
    return _unwrapped(value) if wrapped else value
