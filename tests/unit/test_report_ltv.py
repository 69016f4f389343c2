"""LTV推移 over a hand-made company, every answer written out by hand below.

Today is 2026-12-06 (Japan); the period 2024-11-01〜2024-12-31; 送料 (SHIP) left out unless a test says otherwise.
Products: P-A 青汁 (健康食品), P-B 酵素 (健康食品), P-C 美容液 (化粧品), SHIP 送料 (送料). Purchases at shop 1, at noon
Japan time, counted, unless written otherwise:

  customer  purchases (days after the first, amount less SHIP)                              cohort  first media
  aida      2024-11-05 P-A 10,000 + SHIP 500 (0, 10,000); 2024-12-05 P-B (30, 5,000);        2024/11 web
            2026-10-26 P-B (720, 3,000); 2026-10-27 P-B (721, 2,000)
  baba      2024-11-20 P-B (0, 4,000); 2024-12-21 P-B 6,000 not counted;                      2024/11 tel
            2025-01-20 P-A (61, 2,000)
  chida     2024-12-10 P-C (0, 8,000)                                                        2024/12 web
  doi       2024-12-01 SHIP only (no purchase); 2024-12-15 P-A (0, 3,000);                   2024/12 tel
            2025-01-14 P-A (30, 3,000)
  eno       2024-10-20 (before the period: no cohort); 2024-11-10 P-A 1,000                  -
  fuka      2024-12-20 P-B 7,000 at shop 2                                                   2024/12 web

A horizon is shown when the cohort's last day + H ≤ today: for 2024/11 (last day 11-30) all of them (11-30 + 720 =
2026-11-20), for 2024/12 (12-31) all but 720 (2026-12-21).

1人あたり累計購入金額 and リピート率 (all shops):

  2024/11  2 (aida, baba)          30, 60: (15,000 + 4,000) / 2 = 9,500; 90 … 690: (15,000 + 6,000) / 2 = 10,500;
                                   720: (18,000 + 6,000) / 2 = 12,000.  リピート率 30, 60: 50.0; 90 … 720: 100.0
  2024/12  3 (chida, doi, fuka)    30 … 690: (8,000 + 6,000 + 7,000) / 3 = 7,000; リピート率 33.3; 720 blank

Filters: first product P-A → aida (2024/11) and doi (2024/12); category 化粧品 → chida; media tel → baba and doi.
"""
import pytest

from services.common.errors import Forbidden
from tests.unit.report_company import (company_store, customer_event, events_of, purchase_event, run_report,
                                       shop_scope, table_rows)

CATALOGUE = {"P-A": ("青汁", "健康食品"), "P-B": ("酵素", "健康食品"), "P-C": ("美容液", "化粧品"), "SHIP": ("送料", "送料")}
NAMES = ("aida", "baba", "chida", "doi", "eno", "fuka")
ID = {name: number for number, name in enumerate(NAMES, start=1)}


def _noon(day):
    return f"{day}T12:00:00+09:00"


# customer → [(day, lines, shop, counted, media)]
PURCHASES = {
    "aida": [("2024-11-05", [("P-A", 1, 10000), ("SHIP", 1, 500)], 1, True, "web"),
             ("2024-12-05", [("P-B", 1, 5000)], 1, True, "web"),
             ("2026-10-26", [("P-B", 1, 3000)], 1, True, "web"),
             ("2026-10-27", [("P-B", 1, 2000)], 1, True, "web")],
    "baba": [("2024-11-20", [("P-B", 2, 2000)], 1, True, "tel"),
             ("2024-12-21", [("P-B", 1, 6000)], 1, False, "tel"),
             ("2025-01-20", [("P-A", 1, 2000)], 1, True, "web")],
    "chida": [("2024-12-10", [("P-C", 1, 8000)], 1, True, "web")],
    "doi": [("2024-12-01", [("SHIP", 1, 500)], 1, True, "web"),
            ("2024-12-15", [("P-A", 1, 3000)], 1, True, "tel"),
            ("2025-01-14", [("P-A", 1, 3000)], 1, True, "tel")],
    "eno": [("2024-10-20", [("P-A", 1, 1000)], 1, True, "web"),
            ("2024-11-10", [("P-A", 1, 1000)], 1, True, "web")],
    "fuka": [("2024-12-20", [("P-B", 1, 7000)], 2, True, "web")],
}
PERIOD = {"date_from": "2024-11-01", "date_to": "2024-12-31", "excluded_products": ["SHIP"]}
HORIZONS = [f"{days}日" for days in range(30, 721, 30)]


def _events():
    at_noon = {name: [(_noon(day), *rest) for day, *rest in bought] for name, bought in PURCHASES.items()}
    return events_of(at_noon, {name: ID[name] for name in NAMES}, {"fuka": 2})


@pytest.fixture(scope="module")
def store():
    with company_store(_events()) as loaded:
        yield loaded


def _ltv(options, **keywords):
    return run_report(keywords.pop("store"), "ltv", {**PERIOD, **options}, catalogue=CATALOGUE, **keywords)


def test_amount_per_customer_by_horizon(store):
    answer = _ltv({}, store=store)
    assert table_rows(answer, "1人あたり累計購入金額") == [
        ["2024/11", 2, 9500, 9500, *[10500] * 21, 12000],
        ["2024/12", 3, *[7000] * 23, None]]
    columns = answer["tables"][0]["columns"]
    assert [column["label"] for column in columns] == ["初回購入月", "新規顧客数", *HORIZONS]
    assert any("経過していない期間は空欄" in note for note in answer["notes"])


def test_repeat_rate_by_horizon(store):
    answer = _ltv({}, store=store)
    assert table_rows(answer, "リピート率") == [
        ["2024/11", 2, 50.0, 50.0, *[100.0] * 22],
        ["2024/12", 3, *[33.3] * 23, None]]


def test_heatmap_of_the_amounts(store):
    chart = _ltv({}, store=store)["chart"]
    assert chart["type"] == "heatmap"
    assert chart["x"] == HORIZONS
    assert chart["y"] == ["2024/11", "2024/12"]
    assert chart["cells"] == ([[0, 0, 9500], [1, 0, 9500]] + [[x, 0, 10500] for x in range(2, 23)] + [[23, 0, 12000]]
                              + [[x, 1, 7000] for x in range(23)])


def test_left_out_products_counted_when_nothing_is_left_out(store):
    """With SHIP counted: aida's first purchase is 10,500; doi first bought on 2024-12-01 (SHIP 500) and again 14 and
    44 days later (3,000 each): 2024/12 is (8,000 + 3,500 + 7,000) / 3 = 6,167 at 30 days, (8,000 + 6,500 + 7,000)
    / 3 = 7,167 from 60 days."""
    answer = _ltv({"excluded_products": []}, store=store)
    assert table_rows(answer, "1人あたり累計購入金額") == [
        ["2024/11", 2, 9750, 9750, *[10750] * 21, 12250],
        ["2024/12", 3, 6167, *[7167] * 22, None]]
    assert table_rows(answer, "リピート率")[1] == ["2024/12", 3, *[33.3] * 23, None]


def test_only_customers_whose_first_purchase_held_the_product(store):
    """P-A: aida (15,000 to 690 days, 18,000 at 720) and doi (6,000); baba bought P-A only later."""
    answer = _ltv({"first_product": "P-A"}, store=store)
    assert table_rows(answer, "1人あたり累計購入金額") == [
        ["2024/11", 1, *[15000] * 23, 18000],
        ["2024/12", 1, *[6000] * 23, None]]
    assert table_rows(answer, "リピート率") == [
        ["2024/11", 1, *[100.0] * 24],
        ["2024/12", 1, *[100.0] * 23, None]]


def test_only_customers_whose_first_purchase_held_a_product_of_the_category(store):
    """化粧品: chida's first purchase held P-C; nobody of 2024/11."""
    answer = _ltv({"first_category": "化粧品"}, store=store)
    assert table_rows(answer, "1人あたり累計購入金額") == [
        ["2024/11", 0, *[None] * 24],
        ["2024/12", 1, *[8000] * 23, None]]
    assert table_rows(answer, "リピート率") == [
        ["2024/11", 0, *[None] * 24],
        ["2024/12", 1, *[0.0] * 23, None]]
    assert _ltv({"first_category": "文具"}, store=store)["chart"]["cells"] == []


def test_only_customers_whose_first_purchase_came_through_the_media(store):
    """tel: baba (2024/11: 4,000, then 6,000 from 61 days) and doi (2024/12); baba's later purchase through web
    does not matter, nor does doi's SHIP-only order through web."""
    answer = _ltv({"first_media": "tel"}, store=store)
    assert table_rows(answer, "1人あたり累計購入金額") == [
        ["2024/11", 1, 4000, 4000, *[6000] * 22],
        ["2024/12", 1, *[6000] * 23, None]]
    assert table_rows(answer, "リピート率") == [
        ["2024/11", 1, 0.0, 0.0, *[100.0] * 22],
        ["2024/12", 1, *[100.0] * 23, None]]


def test_the_filters_together(store):
    """tel and P-A: doi only."""
    answer = _ltv({"first_media": "tel", "first_product": "P-A"}, store=store)
    assert table_rows(answer, "1人あたり累計購入金額") == [
        ["2024/11", 0, *[None] * 24],
        ["2024/12", 1, *[6000] * 23, None]]


def test_a_shop_account_sees_its_shops_purchases_only(store):
    """At shop 2 only fuka, new in 2024/12 with 7,000."""
    answer = _ltv({}, store=store, scope=shop_scope(2, may_use_repeat_rate_report=True))
    assert table_rows(answer, "1人あたり累計購入金額") == [
        ["2024/11", 0, *[None] * 24],
        ["2024/12", 1, *[7000] * 23, None]]
    assert _ltv({"shop_ids": [2]}, store=store)["tables"] == answer["tables"]
    with pytest.raises(Forbidden):
        _ltv({}, store=store, scope=shop_scope(2))


def test_of_two_purchases_at_the_same_moment_the_lower_id_is_the_first():
    """One customer buys twice at 2024-11-05 12:00: purchase 1 (tel, P-A 1,000) is the first, purchase 2 (web, P-C
    2,000) the second, 0 days later."""
    events = [customer_event(1),
              purchase_event(1, 1, _noon("2024-11-05"), [("P-A", 1, 1000)], media="tel"),
              purchase_event(2, 1, _noon("2024-11-05"), [("P-C", 1, 2000)], media="web")]
    with company_store(events) as loaded:
        options = {"date_from": "2024-11-01", "date_to": "2024-11-30"}
        everyone = run_report(loaded, "ltv", options, catalogue=CATALOGUE)
        by_tel = run_report(loaded, "ltv", {**options, "first_media": "tel"}, catalogue=CATALOGUE)
        by_web = run_report(loaded, "ltv", {**options, "first_media": "web"}, catalogue=CATALOGUE)
        by_p_a = run_report(loaded, "ltv", {**options, "first_product": "P-A"}, catalogue=CATALOGUE)
        by_p_c = run_report(loaded, "ltv", {**options, "first_product": "P-C"}, catalogue=CATALOGUE)
    assert table_rows(everyone, "1人あたり累計購入金額") == [["2024/11", 1, *[3000] * 24]]
    assert table_rows(everyone, "リピート率") == [["2024/11", 1, *[100.0] * 24]]
    assert table_rows(by_tel, "1人あたり累計購入金額") == table_rows(everyone, "1人あたり累計購入金額")
    assert table_rows(by_p_a, "1人あたり累計購入金額") == table_rows(everyone, "1人あたり累計購入金額")
    assert table_rows(by_web, "1人あたり累計購入金額") == [["2024/11", 0, *[None] * 24]]
    assert table_rows(by_p_c, "1人あたり累計購入金額") == [["2024/11", 0, *[None] * 24]]
