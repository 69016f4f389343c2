"""The import benchmark's files: an EC-CUBE 4 受注CSV and 会員CSV as the cart exports them, small here."""
import csv
import io
import itertools
from collections import Counter

import pytest

from bench.import_data import write_eccube_members, write_eccube_orders

ORDER_HEADER = (
    "注文ID,注文番号,会員ID,お名前(姓),お名前(名),お名前(セイ),お名前(メイ),会社名,郵便番号,都道府県(ID),都道府県(名称),"
    "住所1,住所2,メールアドレス,TEL,性別(ID),性別(名称),職業(ID),職業(名称),誕生日,ショップ用メモ欄,小計,値引き,送料,税金,"
    "合計,支払合計,対応状況(ID),対応状況(名称),支払方法(ID),支払方法(名称),受注日,入金日,注文詳細ID,商品ID,商品規格ID,"
    "商品名,商品コード,規格名1,規格名2,規格分類名1,規格分類名2,価格,個数,税率,税率ルール(ID),明細区分(ID),明細区分(名称),"
    "出荷ID,配送先_お名前(姓),配送先_お名前(名),配送先_お名前(セイ),配送先_お名前(メイ),配送先_会社名,配送先_郵便番号,"
    "配送先_都道府県(ID),配送先_都道府県(名称),配送先_住所1,配送先_住所2,配送先_TEL,配送業者(ID),配送業者(名称),"
    "お届け時間ID,お届け時間(名称),お届け希望日,送料,発送日,出荷伝票番号,配達用メモ,出荷メール送信日")
MEMBER_HEADER = (
    "会員ID,お名前(姓),お名前(名),お名前(セイ),お名前(メイ),会社名,郵便番号,都道府県(ID),都道府県(名称),住所1,住所2,"
    "メールアドレス,TEL,性別(ID),性別(名称),職業(ID),職業(名称),誕生日,初回購入日,最終購入日,購入回数,ショップ用メモ欄,"
    "会員ステータス(ID),会員ステータス(名称),登録日,更新日,ポイント")

LINES, CUSTOMERS, PRODUCTS = 3_000, 300, 60
# column positions in the 受注CSV (送料 appears twice, so by position, not by name)
ORDER_NO, MEMBER, FAMILY, SUBTOTAL, DISCOUNT, SHIPPING, TOTAL, PAID_TOTAL = 1, 2, 3, 21, 22, 23, 25, 26
STATUS_NAME, ORDERED, CODE, PRICE, QUANTITY = 28, 31, 37, 42, 43


def read(path):
    raw = path.read_bytes()
    text = raw.decode("cp932")  # raises unless every byte is CP932
    assert text.endswith("\r\n") and text.count("\n") == text.count("\r\n"), "every line ends with CRLF"
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("import")
    orders, members = folder / "orders.csv", folder / "members.csv"
    order_count = write_eccube_orders(orders, lines=LINES, customers=CUSTOMERS, products=PRODUCTS, seed=7)
    write_eccube_members(members, customers=CUSTOMERS, seed=7)
    return orders, members, order_count


def test_the_order_file_has_ec_cubes_header_and_one_row_per_line(files):
    orders, _members, order_count = files
    header, *rows = read(orders)
    assert ",".join(header) == ORDER_HEADER
    assert len(rows) == LINES and all(len(row) == 70 for row in rows)
    assert order_count == len({row[ORDER_NO] for row in rows})
    assert 1_000 < order_count < 1_400  # about 2.5 lines an order


def test_an_orders_rows_are_consecutive_with_1_to_8_lines_and_unique_order_numbers(files):
    rows = read(files[0])[1:]
    runs = [(number, len(list(group))) for number, group in itertools.groupby(r[ORDER_NO] for r in rows)]
    assert len(runs) == len({number for number, _ in runs}), "an order's rows are split"
    assert {size for _, size in runs} <= set(range(1, 9)) and max(size for _, size in runs) >= 6


def test_amounts_add_up_in_every_order(files):
    orders = {}
    for row in read(files[0])[1:]:
        orders.setdefault(row[ORDER_NO], []).append(row)
    for number, rows in orders.items():
        first = rows[0]
        assert all(row[:33] == first[:33] for row in rows), f"order {number}: order columns differ between rows"
        subtotal = sum(int(row[PRICE]) * int(row[QUANTITY]) for row in rows)
        assert int(first[SUBTOTAL]) == subtotal, number
        total = subtotal + int(first[SHIPPING]) - int(first[DISCOUNT])
        assert int(first[TOTAL]) == int(first[PAID_TOTAL]) == total, number
        assert all(1 <= int(row[QUANTITY]) <= 5 for row in rows)
        assert all(row[CODE].startswith("A-") and len(row[CODE]) == 7 for row in rows)


def test_statuses_guests_and_dates_look_like_a_shops_history(files):
    rows = read(files[0])[1:]
    firsts = {row[ORDER_NO]: row for row in rows}.values()
    statuses = Counter(row[STATUS_NAME] for row in firsts)
    assert statuses["キャンセル"] > 0 and statuses["返品"] > 0
    assert statuses["発送済み"] + statuses["新規受付"] > 0.9 * len(firsts)
    assert set(statuses) == {"新規受付", "発送済み", "キャンセル", "返品"}
    guests = sum(1 for row in firsts if row[MEMBER] == "")
    assert 0.01 * len(firsts) < guests < 0.06 * len(firsts)
    assert all(row[MEMBER] == "" or 1 <= int(row[MEMBER]) <= CUSTOMERS for row in firsts)
    dates = [row[ORDERED] for row in firsts]
    assert dates == sorted(dates) and len(dates[0]) == len("2024-03-05 14:22:10")
    assert dates[0] < "2022-02-01" and dates[-1] > "2024-12-01"  # three years


def test_the_member_file_matches_the_orders(files):
    orders, members, _count = files
    header, *rows = read(members)
    assert ",".join(header) == MEMBER_HEADER
    assert [int(row[0]) for row in rows] == list(range(1, CUSTOMERS + 1))
    registered = {row[0]: row[24] for row in rows}
    names = {row[0]: row[1:5] for row in rows}
    first_order = {}
    for row in read(orders)[1:]:
        if row[MEMBER]:
            first_order.setdefault(row[MEMBER], row[ORDERED])
            assert row[FAMILY:FAMILY + 4] == names[row[MEMBER]]
    assert all(registered[member] < ordered for member, ordered in first_order.items())


def test_the_files_are_the_same_for_a_seed(files, tmp_path):
    orders, members, _count = files
    write_eccube_orders(tmp_path / "orders.csv", lines=LINES, customers=CUSTOMERS, products=PRODUCTS, seed=7)
    write_eccube_members(tmp_path / "members.csv", customers=CUSTOMERS, seed=7)
    assert (tmp_path / "orders.csv").read_bytes() == orders.read_bytes()
    assert (tmp_path / "members.csv").read_bytes() == members.read_bytes()
    write_eccube_orders(tmp_path / "other.csv", lines=LINES, customers=CUSTOMERS, products=PRODUCTS, seed=8)
    assert (tmp_path / "other.csv").read_bytes() != orders.read_bytes()
