"""リピート率 over a hand-made company, every answer written out by hand below.

Today is 2026-12-06 (Japan); the period 2025-11-01〜2026-06-30; 送料 (SHIP) left out unless a test says otherwise.
Purchases are counted, at shop 1, of P-1, at noon Japan time, unless written otherwise:

  customer  purchases                                                   first (cohort)  second: days after the first
  ando      2025-11-10, 2026-11-05                                      2025/11         360
  bessho    2025-11-20, 2026-11-16                                      2025/11         361
  chino     2025-12-01, 2025-12-31                                      2025/12         30
  daigo     2025-12-01, 2026-01-01                                      2025/12         31
  eto       2026-01-10, 2026-01-20 not counted, 2026-03-10              2026/01         59 (03-10 is the second)
  fuse      2026-01-15 not counted (cancelled), 2026-02-05              2026/02         -
  goda      2026-02-01 SHIP only, 2026-02-10 P-1 and SHIP               2026/02 (02-10) - (with SHIP counted: 02-01,
                                                                                        then 9)
  hino      2026-03-31T23:59+09:00, 2026-04-01T00:00+09:00              2026/03         1
  imai      2026-04-01T00:00+09:00 (still 03-31 in UTC), 2026-10-20     2026/04         202
  jin       2025-10-15, 2026-02-01                                      2025/10 (before the period: no cohort)
  kudo      2026-06-10, 06-20, 07-01, all at shop 2                     2026/06         10
  mori      2026-01-05 at shop 1, 2026-06-15 and 06-25 at shop 2        2026/01         161 (at shop 2: 2026/06, 10)
  nara      monthly on the 2nd, 2026-02-02 … 2026-12-02 (11), and
            2026-12-10 (after today)                                    2026/02         28

F2転換率 (a window shown when the cohort's last day + N ≤ today: 360 only for 2025/11, 180 not for 2026/06):

  month    customers              30     60     90     180    360
  2025/11  2 (ando, bessho)       0.0    0.0    0.0    0.0    50.0
  2025/12  2 (chino, daigo)       50.0   100.0  100.0  100.0  -
  2026/01  2 (eto, mori)          0.0    50.0   50.0   100.0  -
  2026/02  3 (fuse, goda, nara)   33.3   33.3   33.3   33.3   -
  2026/03  1 (hino)               100.0  100.0  100.0  100.0  -
  2026/04  1 (imai)               0.0    0.0    0.0    0.0    -
  2026/05  0                      -      -      -      -      -
  2026/06  1 (kudo)               100.0  100.0  100.0  -      -

期間のリピート率: the 13 customers all bought in the period, 7 of them two or more times in it (chino, daigo, eto, hino,
kudo 2 (07-01 is after the period), mori 3, nara 5) → 53.8%.

F2→F3→F4… (the 12 customers of the cohorts, purchases by today): at least 1: 12; 2: 10 (not fuse, goda); 3: 3 (kudo,
mori, nara); 4 … 10: 1 (nara, 11 by today).
"""
import datetime as dt

import pytest

from services.common.errors import Forbidden
from tests.unit.report_company import company_store, events_of, run_report, shop_scope, table_rows

NAMES = ("ando", "bessho", "chino", "daigo", "eto", "fuse", "goda", "hino", "imai", "jin", "kudo", "mori", "nara")
ID = {name: number for number, name in enumerate(NAMES, start=1)}
P1 = [("P-1", 1, 5000)]
SHIP = [("SHIP", 1, 500)]


def _noon(day):
    return f"{day}T12:00:00+09:00"


# customer → [(moment, lines, shop, counted)]
PURCHASES = {
    "ando": [(_noon("2025-11-10"), P1, 1, True), (_noon("2026-11-05"), P1, 1, True)],
    "bessho": [(_noon("2025-11-20"), P1, 1, True), (_noon("2026-11-16"), P1, 1, True)],
    "chino": [(_noon("2025-12-01"), P1, 1, True), (_noon("2025-12-31"), P1, 1, True)],
    "daigo": [(_noon("2025-12-01"), P1, 1, True), (_noon("2026-01-01"), P1, 1, True)],
    "eto": [(_noon("2026-01-10"), P1, 1, True), (_noon("2026-01-20"), P1, 1, False),
            (_noon("2026-03-10"), P1, 1, True)],
    "fuse": [(_noon("2026-01-15"), P1, 1, False), (_noon("2026-02-05"), P1, 1, True)],
    "goda": [(_noon("2026-02-01"), SHIP, 1, True), (_noon("2026-02-10"), P1 + SHIP, 1, True)],
    "hino": [("2026-03-31T23:59:00+09:00", P1, 1, True), ("2026-04-01T00:00:00+09:00", P1, 1, True)],
    "imai": [("2026-04-01T00:00:00+09:00", P1, 1, True), (_noon("2026-10-20"), P1, 1, True)],
    "jin": [(_noon("2025-10-15"), P1, 1, True), (_noon("2026-02-01"), P1, 1, True)],
    "kudo": [(_noon("2026-06-10"), P1, 2, True), (_noon("2026-06-20"), P1, 2, True),
             (_noon("2026-07-01"), P1, 2, True)],
    "mori": [(_noon("2026-01-05"), P1, 1, True), (_noon("2026-06-15"), P1, 2, True),
             (_noon("2026-06-25"), P1, 2, True)],
    "nara": [(_noon(f"2026-{month:02d}-02"), P1, 1, True) for month in range(2, 13)]
            + [(_noon("2026-12-10"), P1, 1, True)],
}
PERIOD = {"date_from": "2025-11-01", "date_to": "2026-06-30", "excluded_products": ["SHIP"]}
MONTHS = ["2025/11", "2025/12", "2026/01", "2026/02", "2026/03", "2026/04", "2026/05", "2026/06"]
F2 = [["2025/11", 2, 0.0, 0.0, 0.0, 0.0, 50.0],
      ["2025/12", 2, 50.0, 100.0, 100.0, 100.0, None],
      ["2026/01", 2, 0.0, 50.0, 50.0, 100.0, None],
      ["2026/02", 3, 33.3, 33.3, 33.3, 33.3, None],
      ["2026/03", 1, 100.0, 100.0, 100.0, 100.0, None],
      ["2026/04", 1, 0.0, 0.0, 0.0, 0.0, None],
      ["2026/05", 0, None, None, None, None, None],
      ["2026/06", 1, 100.0, 100.0, 100.0, None, None]]


def _events():
    return events_of(PURCHASES, {name: ID[name] for name in NAMES}, {"kudo": 2})


@pytest.fixture(scope="module")
def store():
    with company_store(_events()) as loaded:
        yield loaded


def test_f2_windows_per_cohort_month(store):
    answer = run_report(store, "repeat", PERIOD)
    assert answer["kind"] == "repeat"
    assert table_rows(answer, "F2転換率") == F2
    assert [column["label"] for column in answer["tables"][0]["columns"]] == [
        "初回購入月", "新規顧客数", "30日以内", "60日以内", "90日以内", "180日以内", "360日以内"]
    assert any("経過していない期間は空欄" in note for note in answer["notes"])


def test_heatmap_of_the_f2_windows(store):
    chart = run_report(store, "repeat", PERIOD)["chart"]
    assert chart["type"] == "heatmap"
    assert chart["x"] == ["30日", "60日", "90日", "180日", "360日"]
    assert chart["y"] == MONTHS
    assert chart["cells"] == [
        [0, 0, 0.0], [1, 0, 0.0], [2, 0, 0.0], [3, 0, 0.0], [4, 0, 50.0],
        [0, 1, 50.0], [1, 1, 100.0], [2, 1, 100.0], [3, 1, 100.0],
        [0, 2, 0.0], [1, 2, 50.0], [2, 2, 50.0], [3, 2, 100.0],
        [0, 3, 33.3], [1, 3, 33.3], [2, 3, 33.3], [3, 3, 33.3],
        [0, 4, 100.0], [1, 4, 100.0], [2, 4, 100.0], [3, 4, 100.0],
        [0, 5, 0.0], [1, 5, 0.0], [2, 5, 0.0], [3, 5, 0.0],
        [0, 7, 100.0], [1, 7, 100.0], [2, 7, 100.0]]


def test_period_repeat_rate(store):
    answer = run_report(store, "repeat", PERIOD)
    assert table_rows(answer, "期間のリピート率") == [["2025/11/01〜2026/06/30", 13, 7, 53.8]]


def test_f2_f3_f4_of_the_cohorts(store):
    answer = run_report(store, "repeat", PERIOD)
    assert table_rows(answer, "F2→F3→F4…") == [
        ["1回", 12, None], ["2回", 10, 83.3], ["3回", 3, 30.0], ["4回", 1, 33.3], ["5回", 1, 100.0],
        ["6回", 1, 100.0], ["7回", 1, 100.0], ["8回", 1, 100.0], ["9回", 1, 100.0], ["10回", 1, 100.0]]


def test_an_order_of_only_a_left_out_product_is_a_purchase_when_nothing_is_left_out(store):
    """With SHIP counted, goda first bought on 02-01 and again on 02-10 (9 days): 2026/02 is 2 of 3 within 30 days."""
    answer = run_report(store, "repeat", {**PERIOD, "excluded_products": []})
    assert table_rows(answer, "F2転換率")[3] == ["2026/02", 3, 66.7, 66.7, 66.7, 66.7, None]
    assert table_rows(answer, "期間のリピート率") == [["2025/11/01〜2026/06/30", 13, 8, 61.5]]
    assert table_rows(answer, "F2→F3→F4…")[:3] == [["1回", 12, None], ["2回", 11, 91.7], ["3回", 3, 27.3]]


def test_a_window_is_shown_from_the_day_it_has_elapsed_for_the_cohorts_last_day(store):
    """A period ending 2026-06-12: kudo's cohort ends on 06-12, and 180 days after it is 2026-12-09."""
    options = {**PERIOD, "date_from": "2026-06-01", "date_to": "2026-06-12"}
    before = run_report(store, "repeat", options, today=dt.date(2026, 12, 8))
    on_the_day = run_report(store, "repeat", options, today=dt.date(2026, 12, 9))
    assert table_rows(before, "F2転換率") == [["2026/06", 1, 100.0, 100.0, 100.0, None, None]]
    assert table_rows(on_the_day, "F2転換率") == [["2026/06", 1, 100.0, 100.0, 100.0, 100.0, None]]


SHOP2_F2 = [[month, 0, None, None, None, None, None] for month in MONTHS[:-1]] + [
    ["2026/06", 2, 100.0, 100.0, 100.0, None, None]]
SHOP2_STEPS = [["1回", 2, None], ["2回", 2, 100.0], ["3回", 1, 50.0], ["4回", 0, 0.0]] + [
    [f"{n}回", 0, None] for n in range(5, 11)]


def test_only_the_chosen_shops_purchases(store):
    """At shop 2: kudo (06-10, 06-20, 07-01) and mori (06-15, 06-25) are both new in 2026/06."""
    answer = run_report(store, "repeat", {**PERIOD, "shop_ids": [2]})
    assert table_rows(answer, "F2転換率") == SHOP2_F2
    assert table_rows(answer, "期間のリピート率") == [["2025/11/01〜2026/06/30", 2, 2, 100.0]]
    assert table_rows(answer, "F2→F3→F4…") == SHOP2_STEPS


def test_a_shop_account_sees_its_shops_purchases_only(store):
    answer = run_report(store, "repeat", PERIOD, scope=shop_scope(2, may_use_repeat_rate_report=True))
    assert table_rows(answer, "F2転換率") == SHOP2_F2
    assert table_rows(answer, "F2→F3→F4…") == SHOP2_STEPS


def test_a_shop_account_needs_the_permission(store):
    with pytest.raises(Forbidden):
        run_report(store, "repeat", PERIOD, scope=shop_scope(2))
