"""Base for the marshmallow schemas at RPC and event boundaries.

Errors leave a service as English codes per field path (``{"phone": ["required"]}``, ``"max_length:50"``),
never as prose, so that each caller words them in its own language.
"""
import datetime as dt
import re

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

from . import arguments, contract_loading
from .errors import ValidationFailed

_CODES = {
    "required": "required",
    "null": "required",
    "invalid": "invalid",
    "validator_failed": "invalid",
    "type": "invalid",
    "format": "invalid",
    "too_large": "too_large",
    "too_small": "too_small",
    "invalid_utf8": "invalid",
}
_FIELD_CODES = {fields.Email: {"invalid": "invalid_email"}, fields.Integer: {"invalid": "not_integer"}}


class Contract(Schema):
    class Meta:
        unknown = RAISE

    error_messages = {"unknown": "unknown_field", "type": "invalid"}

    @pre_load
    def _refuse_bad_text(self, data, **_kwargs):
        # A NUL or a lone surrogate can be neither stored nor sent on as UTF-8; too deep a nesting is no payload of
        # ours. Refused here once for every schema, by path, before any field sees them.
        found = arguments.problems(data)
        if found:
            raise ValidationError(found)  # already by path
        return data

    def on_bind_field(self, field_name, field_obj):
        messages = dict(field_obj.error_messages)
        for key in messages:
            if key in _CODES:
                messages[key] = _CODES[key]
        for cls, codes in _FIELD_CODES.items():
            if isinstance(field_obj, cls):
                messages.update(codes)
        field_obj.error_messages = messages
        # Email and URL fields build their validator before binding; give it the code too.
        for validator in field_obj.validators:
            if isinstance(validator, (validate.Email, validate.URL)):
                validator.error = messages["invalid"]


JST = dt.timezone(dt.timedelta(hours=9), "Asia/Tokyo")
_PLAIN_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[+-]\d{2}:\d{2})?", re.ASCII)


class Timestamp(fields.DateTime):
    """A moment in time, unambiguous at the boundary.

    In: ISO 8601; without an offset it is Japan time (operators and carts speak Asia/Tokyo); years 1900 to 2999.
    Loaded as UTC.
    Out: ISO 8601 with the +09:00 offset. A naive value from the database is UTC (SQLite keeps no zone).
    """

    def _deserialize(self, value, attr, data, **kwargs):
        moment = None
        if value.__class__ is str and _PLAIN_MOMENT.fullmatch(value):
            try:  # what marshmallow's ISO parser makes of this shape, without its regular expression's groups
                moment = dt.datetime.fromisoformat(value)
            except ValueError:  # no such day or time: marshmallow's own refusal
                pass
        if moment is None:
            moment = super()._deserialize(value, attr, data, **kwargs)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=JST)
        if not 1900 <= moment.year <= 2999:  # no moment of the business; 0001 or 9999 could not even be shifted
            raise self.make_error("invalid")
        return moment.astimezone(dt.timezone.utc)

    def _serialize(self, value, attr, obj, **kwargs):
        return moment_text(value)


def moment_text(value):
    """A moment as a Timestamp field writes it (ISO 8601 at +09:00; None stays None; naive is UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(JST).isoformat()


def max_length(n):
    return validate.Length(max=n, error="max_length:{max}")


def length_between(lo, hi):
    return validate.Length(min=lo, max=hi, error="length:{min}:{max}")


def not_blank():
    return validate.Length(min=1, error="required")


def id_field(**kwargs):
    """An integer field holding the id of a row: 1..MAX_ID, as ids are."""
    return fields.Integer(validate=number_range(1, arguments.MAX_ID), **kwargs)


def one_of(choices):
    return validate.OneOf(choices, error="one_of")


def number_range(lo=None, hi=None):
    return validate.Range(min=lo, max=hi, error="range")


def at_most(n):
    """An upper business limit, worded with the limit (``max_value:99999999``)."""
    return validate.Range(max=n, error="max_value:{max}")


def regexp(pattern, code):
    return validate.Regexp(pattern, error=code)


def _flatten(messages, prefix=""):
    out = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten(value, path))
    elif isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages):
        out[prefix or "_schema"] = list(messages)
    elif isinstance(messages, list):
        for i, value in enumerate(messages):
            out.update(_flatten(value, f"{prefix}.{i}" if prefix else str(i)))
    else:
        out[prefix or "_schema"] = [str(messages)]
    return out


def load(schema, data, partial=False):
    """Validate and deserialise ``data``; raise ValidationFailed with codes by field path. A whole load goes the quick
    way (``contract_loading``), with the same answers as ``schema.load``."""
    data = data if data is not None else {}
    try:
        if partial:
            return schema.load(data, partial=partial)
        quick = schema.__dict__.get("_quick_load")
        if quick is None:
            quick = schema._quick_load = contract_loading.loader(schema)
        return quick(data)
    except ValidationError as exc:
        raise ValidationFailed("invalid input", _flatten(exc.messages)) from None


def load_reporting_all(schema, data):
    """As ``load``, for a form that reports every mistake at once: ``(values, errors)`` where values hold what loaded
    and each field's default (``load_default``) in place of what did not, and errors the codes by field path.
    Input that could not be read at all (refused before any field, e.g. a NUL) raises ValidationFailed as ``load``."""
    try:
        return schema.load(data if data is not None else {}), {}
    except ValidationError as exc:
        if not isinstance(exc.valid_data, dict):
            raise ValidationFailed("invalid input", _flatten(exc.messages)) from None
        values = {}
        for name, field in schema.load_fields.items():
            default = field.load_default() if callable(field.load_default) else field.load_default
            values[name] = exc.valid_data.get(name, default)
        return values, _flatten(exc.messages)


def field_error(path, code):
    return ValidationFailed("invalid input", {path: [code]})
