"""Reading the files operators bring: encodings, delimiters, refusals, and resuming at a byte offset."""
import codecs
import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.common import csvreading
from services.common.csvreading import CsvFileRefused, inspect_file, read_rows

ORDERS = "注文番号,会員ID,お名前(姓),商品コード,個数\r\n1001,12,山田,A-1,2\r\n1001,12,山田,B 2,1\r\n1002,,髙橋①,C-3,1\r\n"


def write(tmp_path, data, name="file.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("encoding, data", [
    ("cp932", ORDERS.encode("cp932")),
    ("euc_jp", ORDERS.replace("①", "").replace("髙", "高").encode("euc_jp")),
    ("utf_8", ORDERS.encode("utf-8")),
    ("utf_8_sig", codecs.BOM_UTF8 + ORDERS.encode("utf-8")),
])
def test_each_encoding_of_japanese_offices_is_recognised(tmp_path, encoding, data):
    path = write(tmp_path, data)
    shape = inspect_file(path)
    assert shape.encoding == encoding
    assert shape.header == ("注文番号", "会員ID", "お名前(姓)", "商品コード", "個数")
    rows = list(read_rows(path, shape))
    assert [row.row_number for row in rows] == [2, 3, 4]
    assert rows[0].values == ("1001", "12", "山田", "A-1", "2")
    assert rows[1].values[3] == "B 2"
    assert rows[2].values[1] == ""


def test_shift_jis_text_deep_in_an_ascii_file_is_still_found(tmp_path):
    ascii_rows = "".join(f"{n},A-{n},1\r\n" for n in range(80_000))  # more than the first megabyte
    data = ("code,product,qty\r\n" + ascii_rows + "99,ソファー,1\r\n").encode("cp932")
    assert len(data) > csvreading.SAMPLE_BYTES
    shape = inspect_file(write(tmp_path, data))
    assert shape.encoding == "cp932"


def test_the_operator_may_name_the_encoding(tmp_path):
    path = write(tmp_path, ORDERS.encode("cp932"))
    assert inspect_file(path, encoding="cp932").encoding == "cp932"
    with pytest.raises(CsvFileRefused) as refused:
        inspect_file(path, encoding="utf_8")
    assert refused.value.code == "wrong_encoding"
    with pytest.raises(CsvFileRefused) as refused:
        inspect_file(path, encoding="latin-1")
    assert refused.value.code == "unknown_encoding"


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
def test_the_delimiter_is_found_from_the_header(tmp_path, delimiter):
    text = delimiter.join(["会員ID", "お名前(姓)", '"住所,1"']) + "\r\n" + delimiter.join(["1", "佐藤", '"東京都,港区"']) + "\r\n"
    path = write(tmp_path, text.encode("cp932"))
    shape = inspect_file(path)
    assert shape.delimiter == delimiter
    assert shape.header == ("会員ID", "お名前(姓)", "住所,1")
    assert list(read_rows(path, shape))[0].values == ("1", "佐藤", "東京都,港区")


def test_a_quoted_line_break_stays_in_its_record_and_rows_are_numbered_as_excel_does(tmp_path):
    text = 'id,memo\r\n1,"一行目\r\n二行目"\r\n\r\n2,ok\r\n'
    path = write(tmp_path, text.encode("cp932"))
    rows = list(read_rows(path, inspect_file(path)))
    assert [(row.row_number, row.values) for row in rows] == [(2, ("1", "一行目\r\n二行目")), (4, ("2", "ok"))]


def test_reading_resumes_right_after_a_record(tmp_path):
    path = write(tmp_path, ORDERS.encode("cp932"))
    shape = inspect_file(path)
    first, second, third = read_rows(path, shape)
    again = list(read_rows(path, shape, start_offset=first.end_offset, start_row_number=first.row_number + 1))
    assert again == [second, third]
    assert third.end_offset == path.stat().st_size
    assert list(read_rows(path, shape, start_offset=third.end_offset, start_row_number=5)) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.text(st.characters(codec="cp932", exclude_characters="\x00\r¢£¬‖−〜"), max_size=8),
                         min_size=3, max_size=3), min_size=1, max_size=12),
       st.integers(0, 11))
def test_any_cp932_file_reads_back_cell_for_cell_from_any_record(tmp_path_factory, records, cut):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow(["a", "b", "c"])
    writer.writerows(records)
    path = tmp_path_factory.mktemp("csv") / "any.csv"
    path.write_bytes(buffer.getvalue().encode("cp932"))
    shape = inspect_file(path, encoding="cp932")
    rows = list(read_rows(path, shape))
    assert [list(row.values) for row in rows] == records
    cut = min(cut, len(rows) - 1)
    resumed = list(read_rows(path, shape, start_offset=rows[cut].end_offset, start_row_number=rows[cut].row_number + 1))
    assert resumed == rows[cut + 1:]


@pytest.mark.parametrize("data, code", [
    (b"", "empty"),
    (b"\r\n\r\n", "empty"),
    (b",,,\r\n1,2,3,4\r\n", "no_header"),
    (b"PK\x03\x04\x14\x00\x06\x00rest-of-an-xlsx", "excel"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old-xls", "excel"),
    ("会員ID,名前\r\n".encode("utf-16"), "not_csv"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not_csv"),
    (bytes(range(0x80, 0x100)) * 40, "undecodable"),
])
def test_a_file_that_is_no_usable_csv_is_refused_with_a_reason(tmp_path, data, code):
    with pytest.raises(CsvFileRefused) as refused:
        inspect_file(write(tmp_path, data))
    assert refused.value.code == code
    assert refused.value.message == csvreading.REFUSALS[code]


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = write(tmp_path, ORDERS.encode("cp932"))
    monkeypatch.setattr(csvreading, "MAX_FILE_BYTES", 10)
    with pytest.raises(CsvFileRefused) as refused:
        inspect_file(path)
    assert refused.value.code == "too_large"
    assert "2GB" in refused.value.message


def test_the_documented_limit_is_two_gigabytes():
    assert csvreading.MAX_FILE_BYTES == 2 * 1024 ** 3


def test_bytes_the_encoding_does_not_know_mark_their_record(tmp_path):
    data = "id,name\r\n1,佐藤\r\n".encode("cp932") + b"2,\x82\r\n" + "3,鈴木\r\n".encode("cp932")
    path = write(tmp_path, data)
    rows = list(read_rows(path, inspect_file(path, encoding="cp932")))
    assert [(row.row_number, row.undecodable) for row in rows] == [(2, False), (3, True), (4, False)]
    assert rows[2].values == ("3", "鈴木")
