"""購入状況 over a hand-made company, every answer written out by hand below.

Products A (1,000), B (2,000), C (3,000 or 5,000) and SHIP (送料, 500). Purchases at 12:00 Japan time unless written;
days: from the Japan day of the latest purchase to 2026-12-06.

  customer  purchases                                                   times  amount  latest      days  band
  c1        A on the 10th of 2026-01 … 2026-10 (January at shop 2,
            the rest at shop 1)                                          10     10,000  2026-10-10  57    31〜60
  c2        A on the 5th of 2026-02 … 2026-10 at shop 1                  9      9,000   2026-10-05  62    61〜90
  c3        C 5,000 at 2026-11-06 00:30 (UTC: 5 November) at shop 2      1      5,000   2026-11-06  30    0〜30
  c4        C 3,000 at 2026-11-05 23:59 at shop 2                        1      3,000   2026-11-05  31    31〜60
  c5        B on 2024-06-01 and 2024-12-06 at shop 2                     2      4,000   2024-12-06  730   366〜730
  c6        B at 2024-12-05 23:59 at shop 1                              1      2,000   2024-12-05  731   731日〜
  c7        A 2×1,000 at 2026-12-06 23:59 at shop 2; A at 2026-12-07
            00:00 (UTC: 6 December), after the day                       1      2,000   2026-12-06  0     0〜30
  c8        C 5,000 on 2026-12-01 at shop 1, not counted                 -      -       -           -     -
  c9        A + SHIP (1,500) on 2026-06-09, SHIP alone on 2026-11-20
            at shop 1                                                    2      2,000   2026-11-20  16    0〜30
  c10       SHIP alone on 2026-03-01 at shop 2                           1      500     2026-03-01  280   181〜365
  c11       B on 2025-10-06, 2025-11-06, 2025-12-06 at shop 2            3      6,000   2025-12-06  365   181〜365
  c12       A on 2026-09-06 at shop 1                                    1      1,000   2026-09-06  91    91〜180

Leaving SHIP out: c9 has 1 purchase of 1,000 on 2026-06-09 (180 days: 91〜180) and c10 none.
"""
import pytest

from services.common.errors import Forbidden
from tests.unit.report_company import (company_store, customer_event, purchase_event, run_report, shop_scope,
                                       table_rows)

A, B, SHIP = ("A", 1, 1000), ("B", 1, 2000), ("SHIP", 1, 500)
# customer → [(moment, lines, shop, counted)]
PURCHASES = {
    1: [("2026-01-10T12:00:00+09:00", [A], 2, True)]
       + [(f"2026-{month:02d}-10T12:00:00+09:00", [A], 1, True) for month in range(2, 11)],
    2: [(f"2026-{month:02d}-05T12:00:00+09:00", [A], 1, True) for month in range(2, 11)],
    3: [("2026-11-06T00:30:00+09:00", [("C", 1, 5000)], 2, True)],
    4: [("2026-11-05T23:59:00+09:00", [("C", 1, 3000)], 2, True)],
    5: [("2024-06-01T12:00:00+09:00", [B], 2, True), ("2024-12-06T12:00:00+09:00", [B], 2, True)],
    6: [("2024-12-05T23:59:00+09:00", [B], 1, True)],
    7: [("2026-12-06T23:59:00+09:00", [("A", 2, 1000)], 2, True), ("2026-12-07T00:00:00+09:00", [A], 2, True)],
    8: [("2026-12-01T12:00:00+09:00", [("C", 1, 5000)], 1, False)],
    9: [("2026-06-09T12:00:00+09:00", [A, SHIP], 1, True), ("2026-11-20T12:00:00+09:00", [SHIP], 1, True)],
    10: [("2026-03-01T12:00:00+09:00", [SHIP], 2, True)],
    11: [(f"2025-{month:02d}-06T12:00:00+09:00", [B], 2, True) for month in (10, 11, 12)],
    12: [("2026-09-06T12:00:00+09:00", [A], 1, True)],
}
COUNT_LABELS = ["1回", "2回", "3回", "4回", "5回", "6回", "7回", "8回", "9回", "10回以上"]
DAY_LABELS = ["0〜30日", "31〜60日", "61〜90日", "91〜180日", "181〜365日", "366〜730日", "731日〜"]


@pytest.fixture(scope="module")
def store():
    events = [customer_event(number, shop_id=purchases[0][2]) for number, purchases in PURCHASES.items()]
    number = 0
    for customer, purchases in PURCHASES.items():
        for moment, lines, shop, counted in purchases:
            number += 1
            events.append(purchase_event(number, customer, moment, lines, shop, counted=counted))
    with company_store(events) as loaded:
        yield loaded


def _status(store, options=None, **arguments):
    answer = run_report(store, "purchase_status", options, **arguments)
    assert answer["kind"] == "purchase_status" and answer["title"] == "購入状況"
    return answer


def test_the_customers_by_purchase_count_and_by_days_since_their_latest_purchase(store):
    """On 2026-12-06 (today, the day by default): 9 purchases (c2) is 9回 and 10 (c1) 10回以上; c8's purchase is not
    counted and c7's second is after the day; the bands' edges: 30 (c3, at 00:30 on 6 November: still 5 November in
    UTC) and 31 (c4), 730 (c5) and 731 (c6)."""
    answer = _status(store)
    assert answer["options"] == {"day": "2026-12-06", "shop_ids": [], "excluded_products": []}
    times = answer["tables"][0]
    assert times["name"] == "購入回数別"
    assert [(c["key"], c["label"], c["unit"]) for c in times["columns"]] == [
        ("times", "購入回数", "text"), ("customers", "顧客数", "count"), ("share", "構成比", "percent"),
        ("amount", "累計購入金額", "yen")]
    assert times["rows"] == [
        ["1回", 6, 54.5, 13500],  # c3 5,000, c4 3,000, c6 2,000, c7 2,000, c10 500, c12 1,000
        ["2回", 2, 18.2, 6000],  # c5 4,000, c9 2,000
        ["3回", 1, 9.1, 6000],  # c11
        ["4回", 0, 0.0, 0], ["5回", 0, 0.0, 0], ["6回", 0, 0.0, 0], ["7回", 0, 0.0, 0], ["8回", 0, 0.0, 0],
        ["9回", 1, 9.1, 9000],  # c2
        ["10回以上", 1, 9.1, 10000],  # c1
        ["合計", 11, 100.0, 44500],
    ]
    days = answer["tables"][1]
    assert days["name"] == "最新購入からの日数別"
    assert [(c["key"], c["label"], c["unit"]) for c in days["columns"]] == [
        ("days", "最新購入からの日数", "text"), ("customers", "顧客数", "count"), ("share", "構成比", "percent")]
    assert days["rows"] == [
        ["0〜30日", 3, 27.3],  # c3 (30), c7 (0), c9 (16)
        ["31〜60日", 2, 18.2],  # c1 (57), c4 (31)
        ["61〜90日", 1, 9.1],  # c2 (62)
        ["91〜180日", 1, 9.1],  # c12 (91)
        ["181〜365日", 2, 18.2],  # c10 (280), c11 (365)
        ["366〜730日", 1, 9.1],  # c5 (730)
        ["731日〜", 1, 9.1],  # c6 (731)
        ["合計", 11, 100.0],
    ]
    assert answer["chart"] == {"type": "bar", "x": COUNT_LABELS, "x_name": "購入回数", "x_unit": "text",
                               "series": [{"name": "顧客数", "type": "bar", "data": [6, 2, 1, 0, 0, 0, 0, 0, 1, 1],
                                           "axis": 0}],
                               "y_names": ["顧客数（人）"], "y": [], "cells": []}


def test_a_left_out_product(store):
    """Without SHIP: c9 bought once (1,000, 180 days ago) and c10 never."""
    answer = _status(store, {"day": "2026-12-06", "excluded_products": ["SHIP"]})
    assert table_rows(answer, "購入回数別") == [
        ["1回", 6, 60.0, 14000],  # c3, c4, c6, c7, c9 1,000, c12
        ["2回", 1, 10.0, 4000],  # c5
        ["3回", 1, 10.0, 6000],
        ["4回", 0, 0.0, 0], ["5回", 0, 0.0, 0], ["6回", 0, 0.0, 0], ["7回", 0, 0.0, 0], ["8回", 0, 0.0, 0],
        ["9回", 1, 10.0, 9000],
        ["10回以上", 1, 10.0, 10000],
        ["合計", 10, 100.0, 43000],
    ]
    assert table_rows(answer, "最新購入からの日数別") == [
        ["0〜30日", 2, 20.0], ["31〜60日", 2, 20.0], ["61〜90日", 1, 10.0], ["91〜180日", 2, 20.0],  # c9, c12
        ["181〜365日", 1, 10.0], ["366〜730日", 1, 10.0], ["731日〜", 1, 10.0], ["合計", 10, 100.0]]


def test_an_earlier_day(store):
    """On 2026-10-09: c1 had bought 9 times (the 10 October one is after the day), c2 9 times; c3, c4, c7 had not
    bought; days: c1 29, c2 4, c12 33, c9 122, c10 222, c11 307, c5 672, c6 673."""
    answer = _status(store, {"day": "2026-10-09"})
    assert table_rows(answer, "購入回数別") == [
        ["1回", 4, 50.0, 5000],  # c6 2,000, c9 1,500, c10 500, c12 1,000
        ["2回", 1, 12.5, 4000], ["3回", 1, 12.5, 6000],
        ["4回", 0, 0.0, 0], ["5回", 0, 0.0, 0], ["6回", 0, 0.0, 0], ["7回", 0, 0.0, 0], ["8回", 0, 0.0, 0],
        ["9回", 2, 25.0, 18000],
        ["10回以上", 0, 0.0, 0],
        ["合計", 8, 100.0, 33000],
    ]
    assert table_rows(answer, "最新購入からの日数別") == [
        ["0〜30日", 2, 25.0], ["31〜60日", 1, 12.5], ["61〜90日", 0, 0.0], ["91〜180日", 1, 12.5],
        ["181〜365日", 2, 25.0], ["366〜730日", 2, 25.0], ["731日〜", 0, 0.0], ["合計", 8, 100.0]]


def test_a_chosen_shop_and_a_shop_account(store):
    """At shop 2: c1 bought once there (2026-01-10, 330 days), c3, c4, c5, c7, c10, c11. A shop account needs no
    利用許可 for 購入状況 and sees its own shop only."""
    by_times = [["1回", 5, 71.4, 11500],  # c1 1,000, c3 5,000, c4 3,000, c7 2,000, c10 500
                ["2回", 1, 14.3, 4000], ["3回", 1, 14.3, 6000],
                ["4回", 0, 0.0, 0], ["5回", 0, 0.0, 0], ["6回", 0, 0.0, 0], ["7回", 0, 0.0, 0], ["8回", 0, 0.0, 0],
                ["9回", 0, 0.0, 0], ["10回以上", 0, 0.0, 0], ["合計", 7, 100.0, 21500]]
    by_days = [["0〜30日", 2, 28.6], ["31〜60日", 1, 14.3], ["61〜90日", 0, 0.0], ["91〜180日", 0, 0.0],
               ["181〜365日", 3, 42.9],  # c1 (330), c10 (280), c11 (365)
               ["366〜730日", 1, 14.3], ["731日〜", 0, 0.0], ["合計", 7, 100.0]]
    for answer in (_status(store, {"day": "2026-12-06", "shop_ids": [2]}),
                   _status(store, {"day": "2026-12-06"}, scope=shop_scope(2))):
        assert answer["options"]["shop_ids"] == [2]
        assert table_rows(answer, "購入回数別") == by_times
        assert table_rows(answer, "最新購入からの日数別") == by_days
    with pytest.raises(Forbidden):
        _status(store, {"shop_ids": [1]}, scope=shop_scope(2))


def test_a_day_before_any_purchase(store):
    answer = _status(store, {"day": "2024-01-01"})
    assert table_rows(answer, "購入回数別")[-1] == ["合計", 0, None, 0]
    assert all(row[1:] == [0, None, 0] for row in table_rows(answer, "購入回数別")[:-1])
    assert table_rows(answer, "最新購入からの日数別")[-1] == ["合計", 0, None]
    assert answer["chart"]["series"][0]["data"] == [0] * 10
