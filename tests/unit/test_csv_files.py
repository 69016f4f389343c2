"""The one CSV writer: cells a spreadsheet would run as formulas come out as text (OWASP's single quote)."""
import io

import pytest

from services.common import csvfiles


def written(rows):
    buffer = io.StringIO()
    csvfiles.writer(buffer).writerows(rows)
    return buffer.getvalue()


@pytest.mark.parametrize("cell, out", [
    ('=HYPERLINK("http://evil.example","x")', '"\'=HYPERLINK(""http://evil.example"",""x"")"'),
    ("=1+1", "'=1+1"),
    ("+81-3-0000-0000", "'+81-3-0000-0000"),
    ("-", "'-"),
    ("-300", "'-300"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "\"'\r=1+1\""),
])
def test_text_that_a_spreadsheet_would_run_gets_a_single_quote(cell, out):
    assert written([[cell]]) == out + "\r\n"


@pytest.mark.parametrize("cell, out", [
    ("山田", "山田"), ("a=b", "a=b"), ("03-0000-0000", "03-0000-0000"), ("", ""), (None, ""),
    (-300, "-300"), (1.5, "1.5"), (0, "0"), ("'quoted", "'quoted"), ("カンマ,あり", '"カンマ,あり"'),
])
def test_other_cells_and_computed_numbers_are_written_as_they_are(cell, out):
    assert written([["a", cell]]) == "a," + out + "\r\n"


def test_rows_end_with_crlf():
    assert written([["会員番号", "姓"], ["1", "=x"]]) == "会員番号,姓\r\n1,'=x\r\n"
