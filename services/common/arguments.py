"""The shape of RPC arguments that do not come through a schema: ids, paging, bounded integers, text, flags.

Every check raises ValidationFailed with a code under the argument's name (``{"customer_id": ["not_integer"]}``),
so that malformed input never reaches the database as an unexpected exception. What is checked here is only what
any argument of that kind must be; business limits (the largest price, the most points) live in each service's
schemas. The same rules are applied to every string a schema loads (``contracts.Contract``).
"""
import orjson

from .errors import ValidationFailed

MAX_ID = 2**31 - 1
"""Ids are database integers (PostgreSQL ``integer``); nothing above is ever handed out."""

MAX_PAGE = 100_000
MAX_LIST = 10_000
"""The most entries a list argument (ids to reorder, member numbers to resolve) may hold."""
MAX_DEPTH = 8
"""Arrays and objects nested deeper than this in one argument are refused (no payload of the project needs more)."""


def refuse(path, code):
    raise ValidationFailed("invalid input", {path: [code]})


def integer(value, path, lo=None, hi=None):
    """An int (a bool is not one; neither is "12") within [lo, hi]: ``not_integer`` or ``range``."""
    if isinstance(value, bool) or not isinstance(value, int):
        refuse(path, "not_integer")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        refuse(path, "range")
    return value


def entity_id(value, path="id"):
    """The id of a row: a positive integer the database can hold."""
    return integer(value, path, 1, MAX_ID)


def optional_entity_id(value, path="id"):
    return None if value is None else entity_id(value, path)


def after_id(value, path="after_id"):
    """Where a page by ids starts: 0 (from the first) or an id."""
    return integer(value, path, 0, MAX_ID)


def limit(value, most, path="limit"):
    """How many rows to return: 1..``most``."""
    return integer(value, path, 1, most)


def paging(page, per_page, most_per_page):
    """``(page, per_page)``: page ≥ 1 (and not absurdly far), per_page 1..most_per_page."""
    return integer(page, "page", 1, MAX_PAGE), integer(per_page, "per_page", 1, most_per_page)


def flag(value, path):
    """A boolean; 1 or "yes" are not."""
    if not isinstance(value, bool):
        refuse(path, "invalid")
    return value


def bad_text(value):
    """True when ``value`` holds a NUL or a lone surrogate (neither can be stored nor sent on as UTF-8)."""
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def text(value, path, max_length=None, allow_none=False):
    """A string without NUL or lone surrogates (``invalid_text``), at most ``max_length`` characters."""
    if value is None and allow_none:
        return None
    if not isinstance(value, str):
        refuse(path, "invalid")
    if bad_text(value):
        refuse(path, "invalid_text")
    if max_length is not None and len(value) > max_length:
        refuse(path, f"max_length:{max_length}")
    return value


def _plainly_clean(value):
    """True when ``value`` is JSON holding no NUL, no lone surrogate and no nesting deeper than MAX_DEPTH, found
    without a walk of every string: JSON text escapes a NUL as \\u0000 and cannot encode a lone surrogate to UTF-8.
    False means "walk it" (a backslash-u0000 typed as text, a value JSON does not know), not that it is bad."""
    try:
        encoded = orjson.dumps(value)  # refuses a lone surrogate (and a key that is no string)
    except (TypeError, RecursionError):  # orjson.JSONEncodeError is a TypeError
        return False
    if b"\\u0000" in encoded:
        return False
    # Containers nest no deeper than there are containers: counted in the text (a bracket inside a string only adds
    # to the count), most values need no walk.
    return encoded.count(b"[") + encoded.count(b"{") <= MAX_DEPTH or _depth(value) <= MAX_DEPTH


def _depth(value):
    """How deep containers nest in ``value`` (0 for a plain value); a leaf costs its parent one isinstance."""
    if isinstance(value, dict):
        value = value.values()
    elif not isinstance(value, (list, tuple)):
        return 0
    deepest = 0
    for item in value:
        if isinstance(item, (dict, list, tuple)):
            deepest = max(deepest, _depth(item))
    return 1 + deepest


def problems(value, path="", depth=0):
    """``{path: [code]}`` of every string holding a NUL or a lone surrogate (keys included) and of nesting deeper
    than MAX_DEPTH, anywhere inside ``value``. Empty when the value is clean."""
    if depth == 0 and _plainly_clean(value):
        return {}
    found = {}
    here = path or "_schema"
    if isinstance(value, str):
        if bad_text(value):
            found[here] = ["invalid_text"]
    elif isinstance(value, (dict, list, tuple)):
        if depth >= MAX_DEPTH:
            return {here: ["too_deep"]}
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and bad_text(key):
                found[here] = ["invalid_text"]
                continue
            found.update(problems(item, f"{path}.{key}" if path else str(key), depth + 1))
    return found


def clean(value, path):
    """``value`` unchanged when it holds no bad text and no deep nesting; ValidationFailed by path otherwise."""
    found = problems(value, path)
    if found:
        raise ValidationFailed("invalid input", found)
    return value


def mapping(value, path):
    """A JSON object (or None, read as empty), checked with ``clean``."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        refuse(path, "invalid")
    return clean(value, path)


def sequence(value, path, most):
    """A list (None read as empty) of at most ``most`` entries; the entries are left to the caller."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        refuse(path, "invalid")
    if len(value) > most:
        refuse(path, f"max_items:{most}")
    return list(value)


def items(value, path, most):
    """A list of at most ``most`` entries, checked with ``clean``."""
    return clean(sequence(value, path, most), path)


def id_list(value, path, most=10_000):
    """A list of entity ids (for reorderings and the like)."""
    return [entity_id(v, f"{path}.{i}") for i, v in enumerate(items(value, path, most))]
