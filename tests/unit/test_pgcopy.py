"""COPY's text format as the bulk loads write it (the database side: tests/unit/test_search_bulk_load.py)."""
import datetime as dt

from services.common.pgcopy import text_format


def test_plain_values_are_joined_with_tabs_and_none_is_null():
    moment = dt.datetime(2024, 5, 1, 3, 4, 5, tzinfo=dt.timezone.utc)
    rows = [(1, "佐藤", None, True, moment, dt.date(1980, 2, 29)), (2, "", 0, False, None, None)]
    assert text_format(rows, 6) == ("1\t佐藤\t\\N\tTrue\t2024-05-01 03:04:05+00:00\t1980-02-29\n"
                                    "2\t\t0\tFalse\t\\N\t\\N\n")


def test_text_that_looks_like_the_format_is_escaped():
    rows = [(1, "a\tb", "c\nd"), (2, "\\N", "e\rf\\g"), (3, None, "")]
    assert text_format(rows, 3) == "1\ta\\tb\tc\\nd\n2\t\\\\N\te\\rf\\\\g\n3\t\\N\t\n"


def test_a_nul_character_is_not_mistaken_for_null():
    assert text_format([(1, "a\x00b", None)], 3) == "1\ta\x00b\t\\N\n"  # PostgreSQL refuses it, as it refuses inserts
