"""集計 商品 (ranking, what first-time buyers bought, 併売) over a hand-made company, every answer written out by hand.

Products (unit prices): A 青汁 健康食品 1,000円, B 酵素 健康食品 2,000円, C 化粧水 化粧品 500円, D 3,000円 (not in
the catalogue: 未分類), SHIP 送料 600円. The purchases (Japan time; all counted but p9):

  id  customer  bought             shop  lines
  1   c1        2026-01-10 12:00   1     A1 SHIP1
  2   c1        2026-03-05 12:00   1     A2 B1 SHIP1
  3   c2        2026-03-01 00:00   1     A1 C2 SHIP1     (the period's first minute)
  4   c2        2026-03-20 12:00   1     B1
  5   c3        2026-02-28 23:59   1     C1              (a minute before the period)
  6   c3        2026-03-10 12:00   2     A1 B1 SHIP1
  7   c4        2026-03-31 23:59   2     A1 D1           (the period's last minute)
  8   c4        2026-04-01 00:00   2     B1              (a minute after the period)
  9   c5        2026-03-12 12:00   1     A3 SHIP1        not counted
  10  c5        2026-03-15 12:00   1     C1
  11  c6        2026-03-03 12:00   2     B2 C1
  12  c6        2026-03-25 12:00   2     A1
  13  c7        2026-03-08 12:00   1     SHIP1           (送料 only)
  14  c7        2026-03-18 12:00   1     A1
  15  c8        2026-03-22 12:00   2     A1 B1
  16  c9        2026-03-28 12:00   1     D2 A1
  17  c9        2026-05-10 12:00   1     A1
  18  c10       2026-03-06 12:00   2     B1 D1
  19  c10       2026-03-27 12:00   2     B1
  20  c8        2026-04-10 12:00   2     C1
  21  c1        2026-03-20 12:00   1     A1 C1
  22  c3        2026-03-29 12:00   1     D1
  23  c8        2026-03-29 12:00   2     B1

The period is 2026-03-01〜2026-03-31: its purchases are p2 3 4 6 7 10 11 12 13 14 15 16 18 19 21 22 23 (17), its
buyers c1〜c10 (10).

Ranking (数量, 売上金額, 購入者数, 受注件数; the period's line amounts 47,900円):
  A     10  10,000  8 (c1 c2 c3 c4 c6 c7 c8 c9)  9 (p2 3 6 7 12 14 15 16 21)   20.9%
  B      9  18,000  6 (c1 c2 c3 c6 c8 c10)       8 (p2 4 6 11 15 18 19 23)     37.6%
  C      5   2,500  4 (c1 c2 c5 c6)              4 (p3 10 11 21)               5.2%
  D      5  15,000  4 (c3 c4 c9 c10)             4 (p7 16 18 22)               31.3%
  SHIP   4   2,400  4 (c1 c2 c3 c7)              4 (p2 3 6 13)                 5.0%
Had p9 counted, A would be 13; had p5 or p8 fallen in the period, C would be 6 or B 10. Without SHIP the amounts are
45,500円: B 39.6%, D 33.0%, A 22.0%, C 5.5%. At shop 2 alone (p6 7 11 12 15 18 19 23; 25,100円): A 4 / 4,000 / 4 / 4
(15.9%), B 7 / 14,000 / 4 / 6 (55.8%), C 1 / 500 / 1 / 1 (2.0%), D 2 / 6,000 / 2 / 2 (23.9%), SHIP 1 / 600 / 1 / 1
(2.4%).

First-time buyers in March (today 2026-04-30): c1 and c3 first bought before March (c3 by a minute), so not them;
  c2 p3 (A C SHIP), second p4 ✓      c4 p7 (A D), second p8 on 04-01 ✓   c5 p10 (C; p9 is not counted) ✗
  c6 p11 (B C), second p12 ✓          c7 p13 (SHIP), second p14 ✓         c8 p15 (A B), second p23 ✓
  c9 p16 (D A), second p17 after today ✗                                  c10 p18 (B D), second p19 ✓
8 buyers, 6 with a second purchase (75.0%). Per product (初回購入者数, 割合, うち2回目, F2転換率): A 4 (c2 c4 c8 c9)
50.0% 3 75.0%; B 3 (c6 c8 c10) 37.5% 3 100.0%; C 3 (c2 c5 c6) 37.5% 2 66.7%; D 3 (c4 c9 c10) 37.5% 2 66.7%; SHIP 2
(c2 c7) 25.0% 2 100.0%. Without SHIP, p13 is no purchase: c7's first is p14 (A) and it has no second: 8 buyers, 5
with a second (62.5%); A 5 62.5% 3 60.0%, B, C, D as before. With today 2026-03-31, c4's second is after today: 5 of 8.
At shop 2 alone (its purchases numbered by themselves): c3 p6 (A B SHIP; p22 was at shop 1) ✗, c4 p7 ✓, c6 p11 ✓,
c8 p15 ✓, c10 p18 ✓: 5 buyers, 4 with a second; B 4 80.0% 3 75.0%, A 3 60.0% 2 66.7%, D 2 40.0% 2 100.0%, C 1 20.0% 1
100.0%, SHIP 1 20.0% 0 0.0%.

併売 of A in the same order: A's purchases p2 (+B SHIP), p3 (+C SHIP), p6 (+B SHIP), p7 (+D), p12, p14, p15 (+B), p16
(+D), p21 (+C): 9. With A (of 9) and the share of the 17 purchases holding the product:
  B 3 (33.3%, B in 8 of 17: lift (3/9)/(8/17) = 51/72 = 0.708… → 0.71), SHIP 3 (33.3%, 4 of 17: 51/36 = 1.416… →
  1.42), C 2 (22.2%, 4 of 17: 34/36 = 0.944… → 0.94), D 2 (22.2%, 0.94).
Without SHIP the period has 16 purchases (p13 is none): B 48/72 = 0.67, C and D 32/36 = 0.89.

併売 of A later: A's buyers in March and their first A: c1 p2, c2 p3, c3 p6, c4 p7, c6 p12, c7 p14, c8 p15, c9 p16
(8). After it, up to 03-31: c1 p21 (A C), c2 p4 (B), c3 p22 (D), c8 p23 (B; the B of p15 is the same purchase); c6's
B and C (p11) came before its A; c4's p8, c8's p20, c9's p17 fall after the period. Of the 10 buyers of March, B was
bought by 6, A 8, C 4, D 4:
  B 2 (25.0%, lift (2/8)/(6/10) = 20/48 = 0.416… → 0.42), A 1 (12.5%, 10/64 = 0.15625 → 0.16), C 1 (12.5%, 10/32 =
  0.3125 → 0.31), D 1 (12.5%, 0.31).
"""
import datetime as dt

import pytest

from services.common.errors import Forbidden, ValidationFailed
from tests.unit.report_company import (company_store, customer_event, purchase_event, run_report, shop_scope,
                                       table_rows)

PRICES = {"A": 1000, "B": 2000, "C": 500, "D": 3000, "SHIP": 600}
CATALOGUE = {"A": ("青汁", "健康食品"), "B": ("酵素", "健康食品"), "C": ("化粧水", "化粧品"), "SHIP": ("送料", "送料")}
MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}
TODAY = dt.date(2026, 4, 30)

# id: (customer, Japan moment, shop, lines "A2 SHIP1", counted)
PURCHASES = {
    1: (1, "2026-01-10T12:00", 1, "A1 SHIP1", True),
    2: (1, "2026-03-05T12:00", 1, "A2 B1 SHIP1", True),
    3: (2, "2026-03-01T00:00", 1, "A1 C2 SHIP1", True),
    4: (2, "2026-03-20T12:00", 1, "B1", True),
    5: (3, "2026-02-28T23:59", 1, "C1", True),
    6: (3, "2026-03-10T12:00", 2, "A1 B1 SHIP1", True),
    7: (4, "2026-03-31T23:59", 2, "A1 D1", True),
    8: (4, "2026-04-01T00:00", 2, "B1", True),
    9: (5, "2026-03-12T12:00", 1, "A3 SHIP1", False),
    10: (5, "2026-03-15T12:00", 1, "C1", True),
    11: (6, "2026-03-03T12:00", 2, "B2 C1", True),
    12: (6, "2026-03-25T12:00", 2, "A1", True),
    13: (7, "2026-03-08T12:00", 1, "SHIP1", True),
    14: (7, "2026-03-18T12:00", 1, "A1", True),
    15: (8, "2026-03-22T12:00", 2, "A1 B1", True),
    16: (9, "2026-03-28T12:00", 1, "D2 A1", True),
    17: (9, "2026-05-10T12:00", 1, "A1", True),
    18: (10, "2026-03-06T12:00", 2, "B1 D1", True),
    19: (10, "2026-03-27T12:00", 2, "B1", True),
    20: (8, "2026-04-10T12:00", 2, "C1", True),
    21: (1, "2026-03-20T12:00", 1, "A1 C1", True),
    22: (3, "2026-03-29T12:00", 1, "D1", True),
    23: (8, "2026-03-29T12:00", 2, "B1", True),
}
SHOP_OF = {1: 1, 2: 1, 3: 1, 4: 2, 5: 1, 6: 2, 7: 1, 8: 2, 9: 1, 10: 2}


def _lines(text):
    return [(item.rstrip("0123456789"), int(item[len(item.rstrip("0123456789")):]),
             PRICES[item.rstrip("0123456789")]) for item in text.split()]


@pytest.fixture(scope="module")
def store():
    events = [customer_event(number, SHOP_OF[number]) for number in range(1, 11)]
    events += [purchase_event(number, customer, f"{moment}:00+09:00", _lines(items), shop_id=shop, counted=counted)
               for number, (customer, moment, shop, items, counted) in PURCHASES.items()]
    with company_store(events) as built:
        yield built


def products(store, scope=None, today=TODAY, **options):
    extra = {"scope": scope} if scope is not None else {}
    return run_report(store, "products", {**MARCH, **options}, today=today, catalogue=CATALOGUE, **extra)


# --- ranking ----------------------------------------------------------------------------------------------------------

A_ROW = ["A", "青汁", "健康食品", 10, 10000, 8, 9, 20.9]
B_ROW = ["B", "酵素", "健康食品", 9, 18000, 6, 8, 37.6]
C_ROW = ["C", "化粧水", "化粧品", 5, 2500, 4, 4, 5.2]
D_ROW = ["D", "", "未分類", 5, 15000, 4, 4, 31.3]
SHIP_ROW = ["SHIP", "送料", "送料", 4, 2400, 4, 4, 5.0]


def _ranked(*rows):
    return [[rank, *row] for rank, row in enumerate(rows, start=1)]


def test_ranking_by_sales_names_the_products_and_charts_the_sales(store):
    answer = products(store, view="ranking", order_by="sales")
    assert [c["label"] for c in answer["tables"][0]["columns"]] == [
        "順位", "商品番号", "商品名", "商品カテゴリ", "数量", "売上金額", "購入者数", "受注件数", "売上構成比"]
    assert table_rows(answer) == _ranked(B_ROW, D_ROW, A_ROW, C_ROW, SHIP_ROW)
    assert answer["chart"]["type"] == "bar"
    assert answer["chart"]["x"] == ["酵素", "D", "青汁", "化粧水", "送料"]
    assert [(s["name"], s["data"]) for s in answer["chart"]["series"]] == [
        ("売上金額", [18000, 15000, 10000, 2500, 2400])]


def test_ranking_by_quantity_and_by_buyers_break_ties_by_code(store):
    by_quantity = products(store, view="ranking", order_by="quantity")
    assert table_rows(by_quantity) == _ranked(A_ROW, B_ROW, C_ROW, D_ROW, SHIP_ROW)
    assert by_quantity["chart"]["series"][0]["data"] == [10, 9, 5, 5, 4]
    by_buyers = products(store, view="ranking", order_by="buyers")
    assert table_rows(by_buyers) == _ranked(A_ROW, B_ROW, C_ROW, D_ROW, SHIP_ROW)
    assert by_buyers["chart"]["series"][0]["data"] == [8, 6, 4, 4, 4]


def test_ranking_leaves_out_excluded_products_and_keeps_the_top(store):
    answer = products(store, view="ranking", order_by="sales", excluded_products=["SHIP"])
    assert [row[1] for row in table_rows(answer)] == ["B", "D", "A", "C"]
    assert [row[-1] for row in table_rows(answer)] == [39.6, 33.0, 22.0, 5.5]
    top = products(store, view="ranking", order_by="sales", top=2)
    assert table_rows(top) == _ranked(B_ROW, D_ROW)
    assert top["chart"]["x"] == ["酵素", "D"]


def test_ranking_period_ends_on_japan_days(store):
    """A period of one day, 03-31: p7 at 23:59 is in, p8 at 04-01 00:00 is not."""
    answer = products(store, view="ranking", order_by="sales", date_from="2026-03-31", date_to="2026-03-31")
    assert table_rows(answer) == _ranked(["D", "", "未分類", 1, 3000, 1, 1, 75.0],
                                         ["A", "青汁", "健康食品", 1, 1000, 1, 1, 25.0])
    first_day = products(store, view="ranking", order_by="sales", date_from="2026-02-28", date_to="2026-02-28")
    assert table_rows(first_day) == _ranked(["C", "化粧水", "化粧品", 1, 500, 1, 1, 100.0])


def test_ranking_of_shop_2_alone_and_of_a_shop_account(store):
    expected = _ranked(["B", "酵素", "健康食品", 7, 14000, 4, 6, 55.8], ["D", "", "未分類", 2, 6000, 2, 2, 23.9],
                       ["A", "青汁", "健康食品", 4, 4000, 4, 4, 15.9], ["SHIP", "送料", "送料", 1, 600, 1, 1, 2.4],
                       ["C", "化粧水", "化粧品", 1, 500, 1, 1, 2.0])
    assert table_rows(products(store, view="ranking", order_by="sales", shop_ids=[2])) == expected
    account = shop_scope(2, may_use_product_report=True)
    assert table_rows(products(store, scope=account, view="ranking", order_by="sales")) == expected
    with pytest.raises(Forbidden):
        products(store, scope=shop_scope(2), view="ranking")
    with pytest.raises(Forbidden):
        products(store, scope=account, view="ranking", shop_ids=[1])


# --- first-time buyers ------------------------------------------------------------------------------------------------

def test_first_purchases_of_the_periods_first_time_buyers(store):
    answer = products(store, view="first")
    assert [c["label"] for c in answer["tables"][0]["columns"]] == [
        "順位", "商品番号", "商品名", "商品カテゴリ", "初回購入者数", "初回購入者に占める割合", "うち2回目購入あり",
        "F2転換率"]
    assert table_rows(answer) == _ranked(["A", "青汁", "健康食品", 4, 50.0, 3, 75.0],
                                         ["B", "酵素", "健康食品", 3, 37.5, 3, 100.0],
                                         ["C", "化粧水", "化粧品", 3, 37.5, 2, 66.7],
                                         ["D", "", "未分類", 3, 37.5, 2, 66.7],
                                         ["SHIP", "送料", "送料", 2, 25.0, 2, 100.0])
    assert table_rows(answer, "初回購入者") == [[8, 6, 75.0]]
    assert answer["chart"]["x"] == ["青汁", "酵素", "化粧水", "D", "送料"]
    assert [(s["name"], s["type"], s["axis"], s["data"]) for s in answer["chart"]["series"]] == [
        ("初回購入者数", "bar", 0, [4, 3, 3, 3, 2]), ("F2転換率", "line", 1, [75.0, 100.0, 66.7, 66.7, 100.0])]
    assert answer["chart"]["y_names"] == ["初回購入者数（人）", "F2転換率（%）"]


def test_first_purchases_without_shipping_and_seconds_after_today(store):
    answer = products(store, view="first", excluded_products=["SHIP"])
    assert table_rows(answer) == _ranked(["A", "青汁", "健康食品", 5, 62.5, 3, 60.0],
                                         ["B", "酵素", "健康食品", 3, 37.5, 3, 100.0],
                                         ["C", "化粧水", "化粧品", 3, 37.5, 2, 66.7],
                                         ["D", "", "未分類", 3, 37.5, 2, 66.7])
    assert table_rows(answer, "初回購入者") == [[8, 5, 62.5]]
    on_the_31st = products(store, view="first", today=dt.date(2026, 3, 31), top=1)
    assert table_rows(on_the_31st, "初回購入者") == [[8, 5, 62.5]]
    assert table_rows(on_the_31st) == _ranked(["A", "青汁", "健康食品", 4, 50.0, 2, 50.0])


def test_first_purchases_at_shop_2_are_numbered_there(store):
    answer = products(store, view="first", shop_ids=[2])
    assert table_rows(answer) == _ranked(["B", "酵素", "健康食品", 4, 80.0, 3, 75.0],
                                         ["A", "青汁", "健康食品", 3, 60.0, 2, 66.7],
                                         ["D", "", "未分類", 2, 40.0, 2, 100.0],
                                         ["C", "化粧水", "化粧品", 1, 20.0, 1, 100.0],
                                         ["SHIP", "送料", "送料", 1, 20.0, 0, 0.0])
    assert table_rows(answer, "初回購入者") == [[5, 4, 80.0]]


def test_first_purchases_of_a_period_without_first_time_buyers(store):
    answer = products(store, view="first", date_from="2026-04-01", date_to="2026-04-30")
    assert table_rows(answer) == []
    assert table_rows(answer, "初回購入者") == [[0, 0, None]]
    assert answer["chart"]["x"] == []


def test_a_purchase_without_lines_is_a_first_purchase_unless_products_are_left_out():
    """c1 bought p1 (no lines) on 03-02 and p2 (A) on 03-05; c2 bought p3 (SHIP) on 03-03 and p4 (B) on 03-04.
    Nothing left out: c1's first is p1 (no product), c2's p3 (SHIP), both with a second. SHIP left out, p1 and p3
    are no purchases (no line is kept): the firsts are p2 (A) and p4 (B), neither with a second."""
    events = [customer_event(1), customer_event(2),
              purchase_event(1, 1, "2026-03-02T12:00:00+09:00", [], billed=1000),
              purchase_event(2, 1, "2026-03-05T12:00:00+09:00", _lines("A1")),
              purchase_event(3, 2, "2026-03-03T12:00:00+09:00", _lines("SHIP1")),
              purchase_event(4, 2, "2026-03-04T12:00:00+09:00", _lines("B1"))]
    with company_store(events) as own:
        everything = products(own, view="first")
        assert table_rows(everything) == _ranked(["SHIP", "送料", "送料", 1, 50.0, 1, 100.0])
        assert table_rows(everything, "初回購入者") == [[2, 2, 100.0]]
        kept = products(own, view="first", excluded_products=["SHIP"])
        assert table_rows(kept) == _ranked(["A", "青汁", "健康食品", 1, 50.0, 0, 0.0],
                                           ["B", "酵素", "健康食品", 1, 50.0, 0, 0.0])
        assert table_rows(kept, "初回購入者") == [[2, 0, 0.0]]
        assert table_rows(products(own, view="together", product="A"), "対象商品") == [["A", "青汁", 1, 1, 4]]
        assert table_rows(products(own, view="together", product="A", excluded_products=["SHIP"]),
                          "対象商品") == [["A", "青汁", 1, 1, 2]]


# --- 併売 -------------------------------------------------------------------------------------------------------------

def test_together_in_the_same_order(store):
    answer = products(store, view="together", product="A", together="order")
    assert [c["label"] for c in answer["tables"][0]["columns"]] == [
        "順位", "商品番号", "商品名", "商品カテゴリ", "同時購入件数", "併売率", "リフト"]
    assert table_rows(answer) == _ranked(["B", "酵素", "健康食品", 3, 33.3, 0.71],
                                         ["SHIP", "送料", "送料", 3, 33.3, 1.42],
                                         ["C", "化粧水", "化粧品", 2, 22.2, 0.94],
                                         ["D", "", "未分類", 2, 22.2, 0.94])
    assert table_rows(answer, "対象商品") == [["A", "青汁", 9, 8, 17]]
    assert answer["chart"]["x"] == ["酵素", "送料", "化粧水", "D"]
    assert answer["chart"]["series"][0]["data"] == [3, 3, 2, 2]


def test_together_in_the_same_order_without_shipping_and_top(store):
    answer = products(store, view="together", product="A", excluded_products=["SHIP"])
    assert [(row[1], row[4], row[5], row[6]) for row in table_rows(answer)] == [
        ("B", 3, 33.3, 0.67), ("C", 2, 22.2, 0.89), ("D", 2, 22.2, 0.89)]
    assert table_rows(answer, "対象商品") == [["A", "青汁", 9, 8, 16]]
    top = products(store, view="together", product="A", top=1)
    assert [row[1] for row in table_rows(top)] == ["B"]


def test_together_later(store):
    answer = products(store, view="together", product="A", together="later")
    assert [c["label"] for c in answer["tables"][0]["columns"]] == [
        "順位", "商品番号", "商品名", "商品カテゴリ", "購入者数", "割合", "リフト"]
    assert table_rows(answer) == _ranked(["B", "酵素", "健康食品", 2, 25.0, 0.42],
                                         ["A", "青汁", "健康食品", 1, 12.5, 0.16],
                                         ["C", "化粧水", "化粧品", 1, 12.5, 0.31],
                                         ["D", "", "未分類", 1, 12.5, 0.31])
    assert [c["label"] for c in answer["tables"][1]["columns"]] == [
        "商品番号", "商品名", "受注件数", "購入者数", "期間の購入者数"]
    assert table_rows(answer, "対象商品") == [["A", "青汁", 9, 8, 10]]
    assert answer["chart"]["series"][0]["data"] == [2, 1, 1, 1]


def test_together_of_an_unknown_product_and_without_product(store):
    answer = products(store, view="together", product="Z")
    assert table_rows(answer) == []
    assert table_rows(answer, "対象商品") == [["Z", "", 0, 0, 17]]
    with pytest.raises(ValidationFailed) as failed:
        products(store, view="together")
    assert failed.value.fields == {"product": ["required"]}
