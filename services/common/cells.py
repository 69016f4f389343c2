"""What the cells of an imported file say, as the RPC contracts take it: days, moments, yen, counts.

Carts and spreadsheets write ``2024-03-05 14:22:10``, ``2024/3/5 14:22``, ``2024/03/05``, ``20240305``; yen as
``1,280`` or ``￥1,280``; full-width digits where a person typed them. A moment without a zone is Japan time, as
every Japanese cart writes it. A cell that says nothing readable raises ``CellUnreadable`` with the code the import
report shows for its column.
"""
import datetime as dt
import re

from .contracts import JST
from .text import fold_width


class CellUnreadable(ValueError):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


_DAY = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_COMPACT_DAY = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$")
_ZONE = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")


def text(value):
    """A cell's text with full-width letters and digits folded and the ends stripped."""
    if value.__class__ is str and value.isascii() and value.isprintable() and "  " not in value:
        return value.strip()  # all fold_width would do: most cells hold plain half-width text
    return fold_width(value or "")


def day(value):
    """``2024/3/5`` → ``date(2024, 3, 5)``; empty → None. A moment's day is taken (``2024-03-05 00:00:00``)."""
    value = text(value)
    if not value:
        return None
    part = value.split()[0] if " " in value else value.split("T")[0]
    match = _DAY.match(part) or _COMPACT_DAY.match(part)
    if not match:
        raise CellUnreadable("invalid_date")
    try:
        return dt.date(*map(int, match.groups()))
    except ValueError:
        raise CellUnreadable("invalid_date") from None


_PLAIN_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
"""How carts write most moments (EC-CUBE's 受注日): read at once (a moment that cannot be is read the long way, which
says why)."""


def moment(value):
    """``2024-03-05 14:22:10`` (Japan time), ``2024-03-05T05:22:10Z``, ``2024/3/5`` (midnight) → an aware datetime;
    empty → None."""
    if value.__class__ is str and _PLAIN_MOMENT.fullmatch(value):
        try:
            return dt.datetime.fromisoformat(value).replace(tzinfo=JST)
        except ValueError:
            pass
    value = text(value)
    if not value:
        return None
    zone = _ZONE.search(value)
    if zone and ("T" in value or " " in value):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace(" +", "+").replace(" -", "-"))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    head, _, rest = value.replace("T", " ", 1).partition(" ")
    date = day(head)
    rest = rest.strip()
    if not rest:
        return dt.datetime.combine(date, dt.time(), JST)
    match = _TIME.match(rest)
    if not match:
        raise CellUnreadable("invalid_date")
    hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise CellUnreadable("invalid_date")
    return dt.datetime(date.year, date.month, date.day, hour, minute, second, tzinfo=JST)


def integer(value, allow_negative=True):
    """``1,280`` / ``￥1,280`` / ``1280.0`` / ``-3`` → int; empty → None."""
    if value.__class__ is str and value.isdigit() and value.isascii():
        return int(value)  # plain digits, as most cells are
    value = text(value).replace(",", "").replace("¥", "").replace("\\", "").replace("円", "").strip()
    if not value:
        return None
    try:
        number = float(value) if "." in value else int(value)
    except ValueError:
        raise CellUnreadable("not_integer") from None
    if number != int(number):
        raise CellUnreadable("not_integer")
    if number < 0 and not allow_negative:
        raise CellUnreadable("range")
    return int(number)


_TRUE = {"1", "true", "yes", "y", "on", "はい", "有", "あり", "する", "許可", "○", "〇"}
_FALSE = {"0", "false", "no", "n", "off", "いいえ", "無", "なし", "しない", "拒否", "×", ""}


def flag(value):
    """``1`` / ``true`` / ``はい`` / ``許可`` → True; ``0`` / ``false`` / ``いいえ`` / empty → False."""
    value = text(value).lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise CellUnreadable("one_of")
