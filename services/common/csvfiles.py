"""The one CSV writer of every file the product writes (list download, purchase download, 全店PW出力, …).

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and a leading tab or carriage
return does not stop it; a customer named ``=HYPERLINK(...)`` would become a link in the operator's Excel. As OWASP
recommends, such a text cell is written with a single quote before it (``'=HYPERLINK(...)``), which a spreadsheet
shows as text. That includes a phone number given as ``-`` and any number that arrives as text ("-300"): they read
``'-`` and ``'-300``. A number the product itself computes (an ``int`` or ``float`` such as a negative 割引) is
written as it is: a number is never a formula, and it stays a number in the spreadsheet.

Rows end with CRLF (RFC 4180, and what Excel expects).
"""
import csv

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value):
    """The cell as written: text that a spreadsheet would run is prefixed with a single quote; None is empty."""
    if value is None:
        return ""
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
