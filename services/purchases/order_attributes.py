"""An order's attributes (受注属性: the cart's own fields, name → text) as the purchases table keeps them: JSON text,
keys sorted, non-ASCII kept as it is, so that the same attributes always make the same text (``_same`` compares it).

Most orders have none: their text is ``{}`` without an encoder made for them (``json.dumps`` with options builds a
new encoder each call, a few per cent of an import's batch)."""
import json

EMPTY = "{}"


def as_text(attributes):
    return json.dumps(attributes, ensure_ascii=False, sort_keys=True) if attributes else EMPTY


def as_dict(text):
    return json.loads(text) if text and text != EMPTY else {}
