"""A contract's load, the quick way for input it accepts: the schema's own declarations, without marshmallow's
bookkeeping.

``Schema.load`` spends most of its time on its own machinery (an error store, a getter and a call per field, hooks
looked up per load): about 150 µs for an order of three lines, a third of what the purchases service spends on a
batch. ``loader(schema)`` answers the same from the same declarations: it runs the schema's pre-load hooks, refuses a
key it does not know, fills each default, checks each value with the field's own validators (string, integer and
boolean fields, lists of nested contracts and nested contracts directly, marshmallow's length, range, choice and
pattern validators by their bounds rather than a call each; any other field through its own conversion and
validators, as ``Field.deserialize`` runs them for a value neither missing nor null) and runs the schema's
validators. Anything it does not take at once (a value of another type, a
refusal of any validator, a missing required field, a schema with hooks of another kind) is handed to
``schema.load`` itself, so that every answer with an error, and every input out of the ordinary, is marshmallow's
own. tests/unit/test_contract_loading.py compares both on generated input.
"""
from marshmallow import RAISE, ValidationError, fields, missing, validate
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA


class _Declined(Exception):
    """The input is not one the quick way takes: ``schema.load`` answers it."""


class _Unsupported(Exception):
    """The schema declares something the quick way does not follow."""


_TYPED = {fields.String: str, fields.Integer: int, fields.Boolean: bool}


def loader(schema):
    """``load(data)`` answering as ``schema.load(data)`` does (same result, same ValidationError)."""
    try:
        quick = _schema_loader(schema)
    except _Unsupported:
        return schema.load

    def load(data):
        try:
            return quick(data)
        except (_Declined, ValidationError):
            return schema.load(data)

    return load


def _schema_loader(schema):
    if schema.many or schema.unknown != RAISE or any(schema._hooks[tag] for tag in (POST_LOAD, VALIDATES)):
        raise _Unsupported
    hooks, checks = _hooks(schema, PRE_LOAD), _hooks(schema, VALIDATES_SCHEMA)
    plan = []
    for name, field in schema.load_fields.items():
        key = field.data_key if field.data_key is not None else name
        target = field.attribute or name
        if "." in target:  # marshmallow would nest the value
            raise _Unsupported
        default = field.load_default
        plan.append((key, target, field.required, field.allow_none, default, callable(default),
                     _field_loader(field, key)))
    known = frozenset(entry[0] for entry in plan)

    def load(data):
        for hook in hooks:  # as Schema.load calls them for one item
            data = hook(data, many=False, partial=False)
        if data.__class__ is not dict or not known.issuperset(data):
            raise _Declined
        out = {}
        for key, target, required, allow_none, default, computed, value_loader in plan:
            value = data.get(key, missing)
            if value is missing:
                if required:
                    raise _Declined
                if default is not missing:
                    out[target] = default() if computed else default
            elif value is None:
                if not allow_none:
                    raise _Declined
                out[target] = None
            else:
                out[target] = value_loader(value, data)
        for check in checks:  # as Schema.load runs a schema validator for one item
            check(out, partial=False, many=False)
        return out

    return load


def _hooks(schema, tag):
    """The schema's hooks of one kind (bound), as Schema.load calls them for one item; those that want the many
    items or the original input are not followed here."""
    found = []
    for name, pass_many, options in schema._hooks[tag]:
        if pass_many or options.get("pass_original"):
            raise _Unsupported
        found.append(getattr(schema, name))
    return found


def _checked(validators, value):
    for validator in validators:
        if validator(value) is False:  # marshmallow counts a plain function's False as a refusal
            raise _Declined
    return value


def _field_loader(field, key):
    validators = tuple(field.validators)
    kind = field.__class__
    if kind in _TYPED and not getattr(field, "strict", False):
        return _typed_loader(_TYPED[kind], validators)
    if kind is fields.List and field.inner.__class__ is fields.Nested:
        inner = field.inner
        item_loader = _nested_loader(inner)

        def listed(value, _data):
            if value.__class__ is not list:
                raise _Declined
            items = []
            for item in value:
                if item is None:  # the inner field's own answer to None (allowed or refused)
                    raise _Declined
                items.append(item_loader(item, None))
            return _checked(validators, items)

        return listed
    if kind is fields.Nested:
        nested = _nested_loader(field)
        return lambda value, data: _checked(validators, nested(value, data))

    if any(getattr(kind, step) is not getattr(fields.Field, step)
           for step in ("deserialize", "_validate_missing", "_validate", "_validate_all")):
        def own(value, data):  # the field's own deserialize: its type conversion and validators
            return field.deserialize(value, key, data, partial=False)

        return own
    convert = field._deserialize

    def converted(value, data):  # what Field.deserialize does with a value neither missing nor None
        return _checked(validators, convert(value, key, data, partial=False))

    return converted


def _typed_loader(wanted, validators):
    """A value of exactly the ``wanted`` type, checked without a call to each validator for marshmallow's commonest:
    a string's length, patterns and choices, an integer's inclusive range. Any other validator is called."""
    shortest, longest, least, most, choices, patterns, others = 0, None, None, None, None, [], []
    for validator in validators:
        kind = validator.__class__
        if wanted is str and kind is validate.Length and validator.equal is None:
            shortest = max(shortest, validator.min or 0)
            longest = _lower(longest, validator.max)
        elif wanted is str and kind is validate.Regexp:
            patterns.append(validator.regex.match)
        elif wanted is str and kind is validate.OneOf and all(c.__class__ is str for c in validator.choices):
            allowed = frozenset(validator.choices)
            choices = allowed if choices is None else choices & allowed
        elif wanted is int and kind is validate.Range and validator.min_inclusive and validator.max_inclusive:
            least = _higher(least, validator.min)
            most = _lower(most, validator.max)
        else:
            others.append(validator)
    patterns, others = tuple(patterns), tuple(others)

    def text(value, _data):
        if value.__class__ is not str or len(value) < shortest or longest is not None and len(value) > longest:
            raise _Declined
        for match in patterns:
            if match(value) is None:
                raise _Declined
        if choices is not None and value not in choices:
            raise _Declined
        return _checked(others, value) if others else value

    def number(value, _data):
        if value.__class__ is not int or least is not None and value < least or most is not None and value > most:
            raise _Declined
        return _checked(others, value) if others else value

    def other(value, _data):
        if value.__class__ is not wanted:
            raise _Declined
        return _checked(others, value) if others else value

    return text if wanted is str else number if wanted is int else other


def _lower(bound, other):
    """The lower of two upper bounds, None standing for none."""
    return other if bound is None or (other is not None and other < bound) else bound


def _higher(bound, other):
    """The higher of two lower bounds, None standing for none."""
    return other if bound is None or (other is not None and other > bound) else bound


def _nested_loader(field):
    if field.many or field.unknown is not None or field.validators:
        raise _Unsupported
    load = _schema_loader(field.schema)
    return lambda value, _data: load(value)
