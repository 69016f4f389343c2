"""売上 over a hand-made company, every answer written out by hand below.

Products (the catalogue): A 青汁 and B 酵素 (健康食品), C 美容液 (化粧品), SHIP 送料 (送料); X is in no catalogue (未分類).
Customers c1 … c9: c1, c3, c6, c8 and c9 are new (顧客区分 new), c2, c4, c5, c7 existing; c9 never bought.

  order  customer  moment (JST)           shop  media  lines                        billed  in April?
  1      c1        2026-03-31 23:59       1     web    A 1×1,000                    1,000   no (March)
  2      c1        2026-04-01 00:00       1     web    A 2×1,000, SHIP 1×500        2,500   yes (UTC: 31 March)
  3      c2        2026-04-10 12:00       1     tel    B 1×3,000                    3,000   yes
  4      c2        2026-04-20 12:00       1     tel    SHIP 1×500                   500     yes (none without SHIP)
  5      c3        2026-04-15 12:00       2     -      C 1×5,000, X 1×1,000         6,000   yes
  6      c4        2026-04-30 23:59:59    2     web    A 1×1,000                    900     yes (a 100 discount)
  7      c4        2026-05-01 00:00       2     web    A 1×1,000                    1,000   no (May; UTC: 30 April)
  8      c5        2026-04-05 12:00       2     tel    C 2×5,000, not counted       10,000  never
  9      c6        2026-04-12 12:00       2     tel    A 1×1,000, B 1×3,000, SHIP   4,500   yes
  10     c7        2026-04-25 12:00       1     -      X 3×1,000                    3,000   yes
  11     c8        2026-03-15 12:00       1     web    B 1×3,000                    3,000   no

April 2026 (2026-04-01〜2026-04-30), all shops: shop 1 orders 2, 3, 4, 10 (9,000 to c1, c2, c7); shop 2 orders 5, 6, 9
(11,400 to c3, c4, c6). Leaving SHIP out: order 2 is 2,000, order 4 no order, order 9 4,000.
"""
import pytest

from services.common.errors import Forbidden
from services.search.reports import buyers
from tests.unit.report_company import (company_store, customer_event, purchase_event, run_report, shop_scope,
                                       table_rows)

CLASSES = {1: "new", 2: "existing", 3: "new", 4: "existing", 5: "existing", 6: "new", 7: "existing", 8: "new",
           9: "new"}
SHOP_OF = {1: 1, 2: 1, 3: 2, 4: 2, 5: 2, 6: 2, 7: 1, 8: 1, 9: 2}
SHIP = ("SHIP", 1, 500)
# (order, customer, moment, lines, shop, billed, counted, media)
ORDERS = [
    (1, 1, "2026-03-31T23:59:00+09:00", [("A", 1, 1000)], 1, None, True, "web"),
    (2, 1, "2026-04-01T00:00:00+09:00", [("A", 2, 1000), SHIP], 1, None, True, "web"),
    (3, 2, "2026-04-10T12:00:00+09:00", [("B", 1, 3000)], 1, None, True, "tel"),
    (4, 2, "2026-04-20T12:00:00+09:00", [SHIP], 1, None, True, "tel"),
    (5, 3, "2026-04-15T12:00:00+09:00", [("C", 1, 5000), ("X", 1, 1000)], 2, None, True, ""),
    (6, 4, "2026-04-30T23:59:59+09:00", [("A", 1, 1000)], 2, 900, True, "web"),
    (7, 4, "2026-05-01T00:00:00+09:00", [("A", 1, 1000)], 2, None, True, "web"),
    (8, 5, "2026-04-05T12:00:00+09:00", [("C", 2, 5000)], 2, None, False, "tel"),
    (9, 6, "2026-04-12T12:00:00+09:00", [("A", 1, 1000), ("B", 1, 3000), SHIP], 2, None, True, "tel"),
    (10, 7, "2026-04-25T12:00:00+09:00", [("X", 3, 1000)], 1, None, True, ""),
    (11, 8, "2026-03-15T12:00:00+09:00", [("B", 1, 3000)], 1, None, True, "web"),
]
CATALOGUE = {"A": ("青汁", "健康食品"), "B": ("酵素", "健康食品"), "C": ("美容液", "化粧品"), "SHIP": ("送料", "送料")}
APRIL = {"date_from": "2026-04-01", "date_to": "2026-04-30"}


@pytest.fixture(scope="module")
def store():
    events = [customer_event(number, SHOP_OF[number], customer_class) for number, customer_class in CLASSES.items()]
    events += [purchase_event(number, customer, moment, lines, shop, billed, counted, media)
               for number, customer, moment, lines, shop, billed, counted, media in ORDERS]
    with company_store(events) as loaded:
        yield loaded


def _sales(store, by, scope=None, **options):
    answer = run_report(store, "sales", {**APRIL, "by": by, **options}, catalogue=CATALOGUE,
                        **({"scope": scope} if scope else {}))
    assert answer["kind"] == "sales" and answer["title"] == "売上"
    return answer


@pytest.fixture(params=["masks", "distinct"])
def buyers_counted(request, monkeypatch):
    """購入者数 counted by bit masks (the groups fit in one), or, with fewer bits than groups, as distinct customers:
    the same answers."""
    if request.param == "distinct":
        monkeypatch.setattr(buyers, "MASK_BITS", 1)
    return request.param


def test_by_shop_counts_the_orders_of_the_japan_days_of_the_period(store, buyers_counted):
    """Order 1 (23:59 on 31 March) is March and order 2 (00:00 on 1 April, still March in UTC) April; order 6 (23:59:59
    on 30 April) is April and order 7 (00:00 on 1 May) May; order 8 is not counted; order 6 counts its 請求金額 900."""
    answer = _sales(store, "shop")
    assert answer["options"] == {"date_from": "2026-04-01", "date_to": "2026-04-30", "by": "shop", "shop_ids": [],
                                 "excluded_products": []}
    table = answer["tables"][0]
    assert table["name"] == "店舗別"
    assert [(c["key"], c["label"], c["unit"]) for c in table["columns"]] == [
        ("group", "店舗", "shop"), ("orders", "受注件数", "count"), ("sales", "売上金額", "yen"),
        ("customers", "購入者数", "count"), ("average", "客単価", "yen"), ("share", "構成比", "percent")]
    assert table["rows"] == [
        [2, 3, 11400, 3, 3800, 55.9],  # orders 5, 6 (900), 9
        [1, 4, 9000, 3, 2250, 44.1],  # orders 2 (1 April 00:00), 3, 4, 10
        ["合計", 7, 20400, 6, 2914, 100.0],
    ]
    assert answer["chart"] == {"type": "bar", "x": [2, 1], "x_name": "店舗", "x_unit": "shop",
                               "series": [{"name": "売上金額", "type": "bar", "data": [11400, 9000], "axis": 0}],
                               "y_names": ["売上金額（円）"], "y": [], "cells": []}


def test_by_shop_without_a_left_out_product(store):
    """Leaving SHIP out: order 2 is 2,000, order 9 4,000, and order 4 (SHIP only) is no order: c2 still bought."""
    rows = table_rows(_sales(store, "shop", excluded_products=["SHIP"]))
    assert rows == [[2, 3, 10900, 3, 3633, 57.7], [1, 3, 8000, 3, 2667, 42.3], ["合計", 6, 18900, 6, 3150, 100.0]]


def test_by_shop_at_a_chosen_shop_and_for_a_shop_account(store):
    only_2 = [[2, 3, 11400, 3, 3800, 100.0], ["合計", 3, 11400, 3, 3800, 100.0]]
    assert table_rows(_sales(store, "shop", shop_ids=[2])) == only_2
    assert table_rows(_sales(store, "shop", scope=shop_scope(2, may_use_sales_report=True))) == only_2
    with pytest.raises(Forbidden):
        _sales(store, "shop", scope=shop_scope(2))
    with pytest.raises(Forbidden):
        _sales(store, "shop", scope=shop_scope(2, may_use_sales_report=True), shop_ids=[1])


def test_by_media(store, buyers_counted):
    """An order without a media is （なし）."""
    answer = _sales(store, "media")
    assert answer["tables"][0]["name"] == "購入メディア別"
    assert answer["tables"][0]["columns"][0] == {"key": "group", "label": "購入メディア", "unit": "text"}
    assert table_rows(answer) == [
        ["（なし）", 2, 9000, 2, 4500, 44.1],  # orders 5, 10
        ["tel", 3, 8000, 2, 2667, 39.2],  # orders 3, 4 (c2), 9 (c6)
        ["web", 2, 3400, 2, 1700, 16.7],  # orders 2, 6
        ["合計", 7, 20400, 6, 2914, 100.0],
    ]
    assert answer["chart"]["x"] == ["（なし）", "tel", "web"] and answer["chart"]["x_unit"] == "text"
    assert answer["chart"]["series"][0]["data"] == [9000, 8000, 3400]


def test_equal_sales_are_ordered_by_the_group(store):
    """At shop 1 without SHIP: order 10 (no media) and order 3 (tel) both sold 3,000: '' comes before 'tel'."""
    rows = table_rows(_sales(store, "media", shop_ids=[1], excluded_products=["SHIP"]))
    assert rows == [["（なし）", 1, 3000, 1, 3000, 37.5], ["tel", 1, 3000, 1, 3000, 37.5],
                    ["web", 1, 2000, 1, 2000, 25.0], ["合計", 3, 8000, 3, 2667, 100.0]]


def test_by_customer_class(store, buyers_counted):
    """c1, c3, c6 are new; c2, c4, c7 existing (c5's order is not counted, c8's is March)."""
    answer = _sales(store, "customer_class")
    assert answer["tables"][0]["columns"][0] == {"key": "group", "label": "顧客区分", "unit": "customer_class"}
    assert table_rows(answer) == [
        ["new", 3, 13000, 3, 4333, 63.7],  # orders 2, 5, 9
        ["existing", 4, 7400, 3, 1850, 36.3],  # orders 3, 4, 6, 10
        ["合計", 7, 20400, 6, 2914, 100.0],
    ]
    assert answer["chart"]["x"] == ["new", "existing"] and answer["chart"]["x_unit"] == "customer_class"


def test_by_category_folds_the_lines_of_the_products_into_their_categories(store, buyers_counted):
    """Lines of April: A 2 (c1), 1 (c4: its line sells 1,000 whatever the order's discount), 1 (c6); B 1 (c2), 1 (c6);
    C 1 (c3); X 1 (c3), 3 (c7); SHIP 1 each (c1, c2, c6). 健康食品 (A, B) was bought by c1, c2, c4, c6: 4, not
    3 + 2."""
    answer = _sales(store, "category")
    table = answer["tables"][0]
    assert table["name"] == "商品カテゴリ別"
    assert [(c["key"], c["label"], c["unit"]) for c in table["columns"]] == [
        ("group", "商品カテゴリ", "text"), ("quantity", "数量", "number"), ("sales", "売上金額", "yen"),
        ("customers", "購入者数", "count"), ("share", "構成比", "percent")]
    assert table["rows"] == [
        ["健康食品", 6, 10000, 4, 48.8],
        ["化粧品", 1, 5000, 1, 24.4],
        ["未分類", 4, 4000, 2, 19.5],
        ["送料", 3, 1500, 3, 7.3],
        ["合計", 14, 20500, 6, 100.0],
    ]
    assert answer["chart"]["x"] == ["健康食品", "化粧品", "未分類", "送料"]
    assert answer["chart"]["series"][0]["data"] == [10000, 5000, 4000, 1500]


def test_by_category_without_a_left_out_product_and_at_a_shop(store):
    rows = table_rows(_sales(store, "category", excluded_products=["SHIP"]))
    assert rows == [["健康食品", 6, 10000, 4, 52.6], ["化粧品", 1, 5000, 1, 26.3], ["未分類", 4, 4000, 2, 21.1],
                    ["合計", 11, 19000, 6, 100.0]]
    # shop 2: A 1 (c4), A 1 and B 1 (c6), C 1 and X 1 (c3), SHIP 1 (c6); 健康食品 and 化粧品 both 5,000
    expected = [["健康食品", 3, 5000, 2, 43.5], ["化粧品", 1, 5000, 1, 43.5], ["未分類", 1, 1000, 1, 8.7],
                ["送料", 1, 500, 1, 4.3], ["合計", 6, 11500, 3, 100.0]]
    assert table_rows(_sales(store, "category", shop_ids=[2])) == expected
    assert table_rows(_sales(store, "category", scope=shop_scope(2, may_use_sales_report=True))) == expected


def test_by_category_without_a_catalogue_is_all_unclassified(store):
    answer = run_report(store, "sales", {**APRIL, "by": "category", "excluded_products": ["SHIP"]})
    assert table_rows(answer) == [["未分類", 11, 19000, 6, 100.0], ["合計", 11, 19000, 6, 100.0]]


def test_a_period_without_sales(store, buyers_counted):
    options = {"date_from": "2026-06-01", "date_to": "2026-06-30"}
    for by in ("shop", "category"):
        answer = run_report(store, "sales", {**options, "by": by}, catalogue=CATALOGUE)
        assert answer["tables"][0]["rows"] == [["合計", 0, 0, 0, None, None] if by == "shop"
                                               else ["合計", 0, 0, 0, None]]
        assert answer["chart"]["x"] == [] and answer["chart"]["series"][0]["data"] == []
