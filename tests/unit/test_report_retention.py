"""継続・離脱 over a hand-made company, every answer written out by hand below.

The day is 2026-12-06 (today, Japan) and lapse_days 365 unless a test says otherwise; 送料 (SHIP) left out. Purchases
are counted, at shop 1, of P-1, at noon Japan time, unless written otherwise:

  customer  purchases                                                       on 2026-12-06: F, days since the latest
  abe       2025-12-06                                                      F1, 365: 継続中 (離脱 at lapse_days 364)
  ban       2025-12-05                                                      F1, 366: 離脱
  cho       2026-05-01, 2026-12-06T23:59+09:00                              F2, 0
  dan       2025-01-10, 2026-02-01 not counted                              F1, 695: 離脱
  eda       2026-03-01, 04-01, 06-01                                        F3, 188
  fuji      monthly on the 15th, 2026-01-15 … 2026-10-15 (10)               F10以上, 52
  gen       monthly on the 1st, 2024-07-01 … 2025-06-01 (12)                F10以上, 553: 離脱
  hata      2026-12-07T00:00+09:00 only (still 12-06 in UTC)                - (after the day)
  ino       2026-08-01 SHIP only, 2026-09-01                                F1, 96 (F2 with SHIP counted)
  jo        2026-02-01, 2026-03-01, at shop 2                               F2, 280 (F2 at shop 2)
  kai       2026-10-01 at shop 1, 2026-11-01 at shop 2                      F2, 35 (F1 at shop 2)

  F        reached  next  rate    now  継続中  離脱  rate
  F1       10       6     60.0    4    2      2     50.0   (abe, ban, dan, ino)
  F2       6        3     50.0    3    3      0     0.0    (cho, jo, kai)
  F3       3        2     66.7    1    1      0     0.0    (eda)
  F4…F9    2        2     100.0   0    0      0     -
  F10以上   2        -     -       2    1      1     50.0   (fuji, gen)
  合計                            10   7      3     30.0   (離脱: ban, dan, gen)

On 2026-01-31: abe (56 days), ban, fuji (1 purchase) 継続中 and dan (386 days) 離脱 at F1; gen F10以上 (244 days).
"""
import datetime as dt

import pytest

from services.common.errors import Forbidden
from tests.unit.report_company import company_store, events_of, run_report, shop_scope, table_rows

NAMES = ("abe", "ban", "cho", "dan", "eda", "fuji", "gen", "hata", "ino", "jo", "kai")
ID = {name: number for number, name in enumerate(NAMES, start=1)}
P1 = [("P-1", 1, 3000)]
SHIP = [("SHIP", 1, 500)]


def _noon(day):
    return f"{day}T12:00:00+09:00"


# customer → [(moment, lines, shop, counted)]
PURCHASES = {
    "abe": [(_noon("2025-12-06"), P1, 1, True)],
    "ban": [(_noon("2025-12-05"), P1, 1, True)],
    "cho": [(_noon("2026-05-01"), P1, 1, True), ("2026-12-06T23:59:00+09:00", P1, 1, True)],
    "dan": [(_noon("2025-01-10"), P1, 1, True), (_noon("2026-02-01"), P1, 1, False)],
    "eda": [(_noon(day), P1, 1, True) for day in ("2026-03-01", "2026-04-01", "2026-06-01")],
    "fuji": [(_noon(f"2026-{month:02d}-15"), P1, 1, True) for month in range(1, 11)],
    "gen": [(_noon(f"2024-{month:02d}-01"), P1, 1, True) for month in range(7, 13)]
           + [(_noon(f"2025-{month:02d}-01"), P1, 1, True) for month in range(1, 7)],
    "hata": [("2026-12-07T00:00:00+09:00", P1, 1, True)],
    "ino": [(_noon("2026-08-01"), SHIP, 1, True), (_noon("2026-09-01"), P1, 1, True)],
    "jo": [(_noon("2026-02-01"), P1, 2, True), (_noon("2026-03-01"), P1, 2, True)],
    "kai": [(_noon("2026-10-01"), P1, 1, True), (_noon("2026-11-01"), P1, 2, True)],
}
OPTIONS = {"excluded_products": ["SHIP"]}
STAGES = ["F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "F10以上"]
ON_THE_DAY = [
    ["F1", 10, 6, 60.0, 4, 2, 2, 50.0],
    ["F2", 6, 3, 50.0, 3, 3, 0, 0.0],
    ["F3", 3, 2, 66.7, 1, 1, 0, 0.0],
    *[[f"F{n}", 2, 2, 100.0, 0, 0, 0, None] for n in range(4, 10)],
    ["F10以上", 2, None, None, 2, 1, 1, 50.0],
    ["合計", None, None, None, 10, 7, 3, 30.0]]


def _events():
    return events_of(PURCHASES, {name: ID[name] for name in NAMES}, {"jo": 2})


@pytest.fixture(scope="module")
def store():
    with company_store(_events()) as loaded:
        yield loaded


def test_continued_and_lapsed_by_purchases(store):
    answer = run_report(store, "retention", OPTIONS)
    assert table_rows(answer, "継続・離脱") == ON_THE_DAY
    assert [column["label"] for column in answer["tables"][0]["columns"]] == [
        "購入回数", "到達顧客数", "次回購入へ継続", "継続率", "現在の顧客数", "うち継続中", "うち離脱", "離脱率"]


def test_the_chart(store):
    chart = run_report(store, "retention", OPTIONS)["chart"]
    assert chart["type"] == "bar"
    assert chart["x"] == STAGES
    assert chart["y_names"] == ["顧客数（人）", "継続率（%）"]
    assert chart["series"] == [
        {"name": "継続中", "type": "bar", "data": [2, 3, 1, 0, 0, 0, 0, 0, 0, 1], "axis": 0},
        {"name": "離脱", "type": "bar", "data": [2, 0, 0, 0, 0, 0, 0, 0, 0, 1], "axis": 0},
        {"name": "継続率", "type": "line", "data": [60.0, 50.0, 66.7, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, None],
         "axis": 1}]


def test_lapse_days_exactly_is_still_continuing(store):
    """abe's latest purchase is 365 days before the day: 継続中 at 365, 離脱 at 364."""
    at_365 = run_report(store, "retention", {**OPTIONS, "lapse_days": 365})
    at_364 = run_report(store, "retention", {**OPTIONS, "lapse_days": 364})
    assert table_rows(at_365, "継続・離脱") == ON_THE_DAY
    assert table_rows(at_364, "継続・離脱")[0] == ["F1", 10, 6, 60.0, 4, 1, 3, 75.0]
    assert table_rows(at_364, "継続・離脱")[-1] == ["合計", None, None, None, 10, 6, 4, 40.0]


def test_on_an_earlier_day(store):
    answer = run_report(store, "retention", {**OPTIONS, "day": "2026-01-31"})
    assert table_rows(answer, "継続・離脱") == [
        ["F1", 5, 1, 20.0, 4, 3, 1, 25.0],
        *[[f"F{n}", 1, 1, 100.0, 0, 0, 0, None] for n in range(2, 10)],
        ["F10以上", 1, None, None, 1, 1, 0, 0.0],
        ["合計", None, None, None, 5, 4, 1, 20.0]]


def test_an_order_of_only_a_left_out_product_is_a_purchase_when_nothing_is_left_out(store):
    """With SHIP counted ino is F2: F1 3 (abe, ban, dan), F2 4."""
    rows = table_rows(run_report(store, "retention", {}), "継続・離脱")
    assert rows[:3] == [["F1", 10, 7, 70.0, 3, 1, 2, 66.7], ["F2", 7, 3, 42.9, 4, 4, 0, 0.0],
                        ["F3", 3, 2, 66.7, 1, 1, 0, 0.0]]


SHOP2 = [
    ["F1", 2, 1, 50.0, 1, 1, 0, 0.0],
    ["F2", 1, 0, 0.0, 1, 1, 0, 0.0],
    *[[f"F{n}", 0, 0, None, 0, 0, 0, None] for n in range(3, 10)],
    ["F10以上", 0, None, None, 0, 0, 0, None],
    ["合計", None, None, None, 2, 2, 0, 0.0]]


def test_only_the_chosen_shops_purchases(store):
    """At shop 2: jo F2 and kai F1 (11-01)."""
    assert table_rows(run_report(store, "retention", {**OPTIONS, "shop_ids": [2]}), "継続・離脱") == SHOP2


def test_a_shop_account_sees_its_shops_purchases_only(store):
    answer = run_report(store, "retention", OPTIONS, scope=shop_scope(2, may_use_repeat_rate_report=True),
                        today=dt.date(2026, 12, 6))
    assert table_rows(answer, "継続・離脱") == SHOP2
    with pytest.raises(Forbidden):
        run_report(store, "retention", OPTIONS, scope=shop_scope(2))
