"""What an imported file's cells say (services/common/cells.py and the order formats' own cells): the plain cells
most files hold are read at once, and read exactly as the general reading reads the same cell written with a space
around it (which it strips, and which the quick reading does not take)."""
import datetime as dt

import pytest
from hypothesis import given, settings, strategies as st

from services.common import cells
from services.common.contracts import JST
from services.common.text import fold_width
from services.purchases import import_formats

_moments = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 12, 31))
_digit_strings = st.text(alphabet="0123456789", min_size=1, max_size=12)
# moment-shaped text whose values may not be a moment: month 13, day 31 of a short month, hour 24, second 60
_moment_shaped = st.builds("{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}".format, st.integers(0, 9999),
                           st.integers(0, 99), st.integers(0, 99), st.integers(0, 99), st.integers(0, 99),
                           st.integers(0, 99))


def _read(reader, value):
    try:
        return reader(value)
    except cells.CellUnreadable as unreadable:
        return ("unreadable", unreadable.code)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_text_is_the_folded_cell(value):
    assert cells.text(value) == fold_width(value)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_moments.map(lambda m: m.strftime("%Y-%m-%d %H:%M:%S")), _moment_shaped))
def test_a_plain_moment_reads_as_the_same_cell_with_spaces_around(value):
    assert _read(cells.moment, value) == _read(cells.moment, f" {value} ")


def test_a_plain_moment_is_japan_time_and_an_impossible_one_is_unreadable():
    assert cells.moment("2024-03-05 14:22:10") == dt.datetime(2024, 3, 5, 14, 22, 10, tzinfo=JST)
    assert _read(cells.moment, "2024-02-30 10:00:00") == ("unreadable", "invalid_date")
    assert _read(cells.moment, "2024-03-05 24:00:00") == ("unreadable", "invalid_date")


@settings(max_examples=300, deadline=None)
@given(_digit_strings)
def test_plain_digits_read_as_the_same_cell_with_spaces_around(value):
    assert cells.integer(value) == cells.integer(f" {value} ") == int(value)
    assert import_formats._price(value) == import_formats._price(f" {value} ") == int(value)
    assert import_formats.status_of(value) == import_formats.status_of(f" {value} ")


@pytest.mark.parametrize("value, expected", [
    ("3", import_formats.CANCELLED), ("9", import_formats.RETURNED), ("1", import_formats.ORDERED),
    ("5", import_formats.ORDERED), ("３", import_formats.CANCELLED), ("キャンセル", import_formats.CANCELLED)])
def test_status_ids_and_words(value, expected):
    assert import_formats.status_of(value) == expected


def test_digits_that_are_not_ascii_are_folded_first():
    assert cells.integer("１２８０") == 1280 and import_formats._price("１２８０") == 1280
    assert cells.integer("²") == 2  # NFKC, as every cell is folded
