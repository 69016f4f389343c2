"""The one CSV writer of every file the product writes (list download, purchase download, 全店PW出力, …).

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and a leading tab or carriage
return does not stop it; a customer named ``=HYPERLINK(...)`` would become a link in the operator's Excel. As OWASP
recommends, such a text cell is written with a single quote before it (``'=HYPERLINK(...)``), which a spreadsheet
shows as text. That includes a phone number given as ``-`` and any number that arrives as text ("-300"): they read
``'-`` and ``'-300``. A number the product itself computes (an ``int`` or ``float`` such as a negative 割引) is
written as it is: a number is never a formula, and it stays a number in the spreadsheet.

Rows end with CRLF (RFC 4180, and what Excel expects).

Moments and days are written as Excel reads them in a Japanese locale, in Japan time: ``2026/11/25 09:00`` and
``2026/11/25`` (``excel_time``, ``excel_day``). A service formats them before a row leaves it (a row crosses RPC as
JSON, where a datetime is only text); the writer formats a ``datetime`` or ``date`` it is given the same way.
"""
import csv
import datetime as dt

from .contracts import JST

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _moment(value):
    """ISO text → ``date`` (``2026-11-25``) or ``datetime``; anything else as it is."""
    if isinstance(value, str):
        if not value:
            return None
        return dt.date.fromisoformat(value) if len(value) == 10 else dt.datetime.fromisoformat(value)
    return value


def excel_time(value):
    """A moment (an aware or naive-UTC ``datetime``, or its ISO text) → ``2026/11/25 09:00`` in Japan time; None → ''.
    """
    value = _moment(value)
    if value is None:
        return ""
    if not isinstance(value, dt.datetime):
        return excel_day(value)
    if value.tzinfo is None:  # what a database without zones (SQLite) gives back is UTC
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(JST).strftime("%Y/%m/%d %H:%M")


def excel_day(value):
    """A day (``date``, ISO text, or a moment taken in Japan time) → ``2026/11/25``; None → ''."""
    value = _moment(value)
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        value = value.astimezone(JST).date()
    return value.strftime("%Y/%m/%d")


def neutralised(value):
    """The cell as written: text that a spreadsheet would run is prefixed with a single quote; None is empty; a
    moment or a day as Excel reads it (Japan time)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return excel_time(value)
    if isinstance(value, dt.date):
        return excel_day(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class Writer:
    """``csv.writer`` whose every cell goes through ``neutralised``."""

    def __init__(self, stream):
        self._writer = csv.writer(stream, lineterminator="\r\n")

    def writerow(self, row):
        self._writer.writerow([neutralised(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def writer(stream):
    return Writer(stream)
