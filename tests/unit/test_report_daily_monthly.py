"""日報・月報 over a hand-made company, every answer written out by hand below; and what every report shares (the
catalogue, the permission, the options' checks).

Shops 1 and 2; products A (1,000円), B (5,000円), SHIP (送料 500円). Purchases (Japan time):

  #  customer shop  moment               lines              billed  note
  1  1        1     2026-02-27 12:00     A ×1               1,000
  2  1        1     2026-02-28 23:59     A ×2 + SHIP        2,500
  3  2        2     2026-03-01 00:00     B ×1               4,000   (UTC still 02-28; 1,000円 discount)
  4  3        1     2026-03-01 09:00     SHIP ×1              500   (only 送料: no purchase without SHIP)
  5  2        2     2026-03-02 12:00     A ×1               1,000
  6  1        1     2026-03-02 13:00     B ×1               5,000   not counted (cancelled)
  7  4        2     2026-01-15 12:00     A ×3               3,000   (before the period)
  8  4        2     2026-03-02 18:00     B ×1               5,000

日報 2026-02-28〜2026-03-02 (new: the first purchase fell on that day; repeat: bought before it):
  02/28  1 order  2,500  1 buyer (1, first on 02-27: repeat)           new 0 repeat 1  客単価 2,500
  03/01  2 orders 4,500  2 buyers (2 new, 3 new)                       new 2 repeat 0  客単価 2,250
  03/02  2 orders 6,000  2 buyers (2 again, 4 since January)           new 0 repeat 2  客単価 3,000
  合計   5 orders 13,000 4 buyers; new in the period: 2 and 3          new 2 repeat 2  客単価 2,600
Without SHIP: 02/28 2,000; 03/01 one order 4,000 (customer 3 bought nothing else) new 1; 合計 4 orders 12,000,
3 buyers, new 1, repeat 2, 客単価 3,000.
Shop 2 alone: 03/01 1 order 4,000 new 1; 03/02 2 orders 6,000, customers 2 (repeat) and 4 (repeat); 合計 3 orders
10,000, 2 buyers, new 1, repeat 1.
"""
import datetime as dt

import pytest

from services.common.errors import Forbidden, NotFound, ValidationFailed
from services.search.reports import buyers, catalogue
from tests.unit.report_company import (company_store, customer_event, purchase_event, run_report, shop_scope,
                                       table_rows)

EVENTS = [customer_event(1, 1), customer_event(2, 2), customer_event(3, 1), customer_event(4, 2)] + [
    purchase_event(1, 1, "2026-02-27T12:00:00+09:00", [("A", 1, 1000)]),
    purchase_event(2, 1, "2026-02-28T23:59:00+09:00", [("A", 2, 1000), ("SHIP", 1, 500)]),
    purchase_event(3, 2, "2026-03-01T00:00:00+09:00", [("B", 1, 5000)], shop_id=2, billed=4000),
    purchase_event(4, 3, "2026-03-01T09:00:00+09:00", [("SHIP", 1, 500)]),
    purchase_event(5, 2, "2026-03-02T12:00:00+09:00", [("A", 1, 1000)], shop_id=2),
    purchase_event(6, 1, "2026-03-02T13:00:00+09:00", [("B", 1, 5000)], counted=False),
    purchase_event(7, 4, "2026-01-15T12:00:00+09:00", [("A", 3, 1000)], shop_id=2),
    purchase_event(8, 4, "2026-03-02T18:00:00+09:00", [("B", 1, 5000)], shop_id=2),
]
DAYS = {"date_from": "2026-02-28", "date_to": "2026-03-02", "unit": "day"}


@pytest.fixture(scope="module")
def store():
    with company_store(EVENTS) as store:
        yield store


@pytest.fixture(params=["masks", "distinct"])
def buyers_counted(request, monkeypatch):
    """Buyers counted by bit masks (units and shops fit in one), or, with fewer bits than units, as distinct
    customers: the same answers."""
    if request.param == "distinct":
        monkeypatch.setattr(buyers, "MASK_BITS", 1)
    return request.param


def test_the_daily_report_counts_each_japan_day_its_orders_sales_and_new_and_repeat_buyers(store, buyers_counted):
    answer = run_report(store, "daily_monthly", DAYS)
    assert table_rows(answer) == [["2026/02/28", 1, 2500, 1, 0, 1, 2500],
                                  ["2026/03/01", 2, 4500, 2, 2, 0, 2250],
                                  ["2026/03/02", 2, 6000, 2, 0, 2, 3000],
                                  ["合計", 5, 13000, 4, 2, 2, 2600]]
    assert table_rows(answer, "店舗別") == [[1, 2, 3000, 2, 1, 1, 1500], [2, 3, 10000, 2, 1, 1, 3333]]
    assert answer["chart"]["x"] == ["2026/02/28", "2026/03/01", "2026/03/02"]
    assert [s["data"] for s in answer["chart"]["series"]] == [[2500, 4500, 6000], [0, 2, 0], [1, 0, 2]]
    assert answer["options"] == {"date_from": "2026-02-28", "date_to": "2026-03-02", "unit": "day", "shop_ids": [],
                                 "excluded_products": []}


def test_a_left_out_product_is_no_sale_and_an_order_of_it_alone_no_purchase(store, buyers_counted):
    answer = run_report(store, "daily_monthly", {**DAYS, "excluded_products": ["SHIP"]})
    assert table_rows(answer) == [["2026/02/28", 1, 2000, 1, 0, 1, 2000],
                                  ["2026/03/01", 1, 4000, 1, 1, 0, 4000],
                                  ["2026/03/02", 2, 6000, 2, 0, 2, 3000],
                                  ["合計", 4, 12000, 3, 1, 2, 3000]]


def test_the_monthly_report_has_every_month_of_the_period_even_without_purchases(store, buyers_counted):
    answer = run_report(store, "daily_monthly", {"date_from": "2026-01-01", "date_to": "2026-04-30"})
    assert table_rows(answer) == [["2026/01", 1, 3000, 1, 1, 0, 3000],
                                  ["2026/02", 2, 3500, 1, 1, 0, 1750],
                                  ["2026/03", 4, 10500, 3, 2, 1, 2625],
                                  ["2026/04", 0, 0, 0, 0, 0, None],
                                  ["合計", 7, 17000, 4, 4, 0, 2429]]


def test_a_shop_sees_its_own_purchases_and_its_own_new_buyers(store, buyers_counted):
    expected = [["2026/02/28", 0, 0, 0, 0, 0, None], ["2026/03/01", 1, 4000, 1, 1, 0, 4000],
                ["2026/03/02", 2, 6000, 2, 0, 2, 3000], ["合計", 3, 10000, 2, 1, 1, 3333]]
    answer = run_report(store, "daily_monthly", {**DAYS, "shop_ids": [2]})
    assert table_rows(answer) == expected and [t["name"] for t in answer["tables"]] == ["日報"]
    account = shop_scope(2, may_use_daily_monthly_report=True)
    assert table_rows(run_report(store, "daily_monthly", DAYS, scope=account)) == expected
    with pytest.raises(Forbidden):
        run_report(store, "daily_monthly", {**DAYS, "shop_ids": [1]}, scope=account)
    with pytest.raises(Forbidden):
        run_report(store, "daily_monthly", DAYS, scope=shop_scope(2))


def test_the_period_defaults_to_the_year_up_to_today_and_is_checked(store):
    answer = run_report(store, "daily_monthly", {}, today=dt.date(2026, 3, 2))
    assert answer["options"]["date_from"] == "2025-03-03" and answer["options"]["date_to"] == "2026-03-02"
    assert table_rows(answer)[0][0] == "2025/03" and table_rows(answer)[-2][0] == "2026/03"
    with pytest.raises(ValidationFailed) as refused:
        run_report(store, "daily_monthly", {"date_from": "2026-03-02", "date_to": "2026-03-01"})
    assert refused.value.fields == {"date_to": ["from_after_to"]}
    with pytest.raises(ValidationFailed) as refused:
        run_report(store, "daily_monthly", {"date_from": "2025-02-28", "date_to": "2026-03-01", "unit": "day"})
    assert refused.value.fields == {"date_from": ["max_days:366"]}
    with pytest.raises(ValidationFailed) as refused:
        run_report(store, "daily_monthly", {"unit": "week", "excluded_products": ["x" * 51], "shop_ids": ["a"]})
    assert set(refused.value.fields) == {"unit", "excluded_products.0", "shop_ids.0"}
    with pytest.raises(NotFound):
        run_report(store, "no_such_report")


def test_the_catalogue_names_each_report_with_its_permissions_and_options():
    listed = {entry["kind"]: entry for entry in catalogue.catalogue()}
    assert list(listed) == ["daily_monthly", "sales", "repeat", "ltv", "retention", "products", "purchase_status"]
    assert (listed["sales"]["use_permission"], listed["sales"]["export_permission"]) == (
        "may_use_sales_report", "may_export_sales_report")
    assert listed["purchase_status"]["use_permission"] is None  # 権限設定 has only its 出力許可
    assert {listed[kind]["use_permission"] for kind in ("repeat", "ltv", "retention")} == {
        "may_use_repeat_rate_report"}
