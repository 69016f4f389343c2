"""RFM集計 and RFM設定 over a hand-made company, every answer written out by hand below.

The company (shops 1 and 2), its customers' counted purchases, and their figures on 2026-12-06 (Japan days; R is the
days from the Japan day of the latest purchase to the chosen day) with the default settings (R bands 0〜30, 31〜60,
61〜90, 91〜180, 181〜365, 366〜 days; F 1, 2, 3, 4〜5, 6〜9, 10〜; M 0〜4,999, 5,000〜9,999, 10,000〜29,999,
30,000〜49,999, 50,000〜99,999, 100,000〜 円):

  customer  shop  purchases                                               R    F   M        cell (R,F)  rank
  aoki      1     2026-08-01, 09-01, 10-01 and 11-06 00:30 at 1, 2,500 each
                  (still 5 November in UTC)                                30   4   10,000   (0,3)       A
  baba      1     2026-09-10, 10-10, 11-05 23:59:59 at 1, 3,333 each; and
                  50,000 on 12-01 not counted                              31   3   9,999    (1,2)       B
  chiba     2     2026-12-06 23:59 at 2, 4,999; and 5,000 on 12-07 00:00
                  (still 6 December in UTC) after the day                  0    1   4,999    (0,0)       C
  doi       2     2025-06-01, 2025-12-06 at 2, 2,500 each                  365  2   5,000    (4,1)       F
  endo      1     2025-03-05 … 2025-12-05 monthly at 1, 10,000 each        366  10  100,000  (5,5)       G
  fujii     1     2026-10-07 at 1, 20,000; 2026-11-20 at 2, 30,000         16   2   50,000   (0,1)       B
  goto      2     one purchase, not counted                                -    -   -        -           -
  hara      2     2026-01-07 … 2026-09-07 monthly at 2, 5,000 each but
                  the last 9,999                                           90   9   49,999   (2,4)       D
  ishii     1     2026-09-06 at 1, 0円                                      91   1   0        (3,0)       E
  kato      2     2026-02-08 … 2026-06-08 monthly at 2, 20,000 each but
                  the last 19,999                                          181  5   99,999   (4,3)       F

On 2026-09-30: aoki R 29 F 2 (B), baba R 20 F 1 (C), doi R 298 F 2 (F), endo R 299 F 10 (F), hara R 23 F 9 (A),
ishii R 24 F 1 (C), kato R 114 F 5 (D); chiba and fujii had not bought yet.
"""
import datetime as dt
import json

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from services.common.errors import Forbidden, ValidationFailed
from services.common.scope import OPERATOR, SHOP, Scope
from services.search import exports, indexer, matching, rfm_reports, rfm_settings, searching
from services.search.models import Base
from services.search.store import IndexStore

DAY = dt.date(2026, 12, 6)
OPERATOR_SCOPE = Scope(1, OPERATOR, account_id=9)
SHOP2_SCOPE = Scope(1, SHOP, shop_id=2, permissions={"may_export_customers": True})
NAMES = ("aoki", "baba", "chiba", "doi", "endo", "fujii", "goto", "hara", "ishii", "kato")
ID = {name: number for number, name in enumerate(NAMES, start=1)}
NAME = {number: name for name, number in ID.items()}
SHOP_OF = {"aoki": 1, "baba": 1, "chiba": 2, "doi": 2, "endo": 1, "fujii": 1, "goto": 2, "hara": 2, "ishii": 1,
           "kato": 2}


def _monthly(year, months, day, amounts):
    return [(f"{year}-{month:02d}-{day:02d}T12:00:00+09:00", amount) for month, amount in zip(months, amounts)]


# customer → [(purchased at, billed, shop, counted)]
PURCHASES = {
    "aoki": [("2026-08-01T12:00:00+09:00", 2500, 1, True), ("2026-09-01T12:00:00+09:00", 2500, 1, True),
             ("2026-10-01T12:00:00+09:00", 2500, 1, True), ("2026-11-06T00:30:00+09:00", 2500, 1, True)],
    "baba": [("2026-09-10T12:00:00+09:00", 3333, 1, True), ("2026-10-10T12:00:00+09:00", 3333, 1, True),
             ("2026-11-05T23:59:59+09:00", 3333, 1, True), ("2026-12-01T12:00:00+09:00", 50000, 1, False)],
    "chiba": [("2026-12-06T23:59:00+09:00", 4999, 2, True), ("2026-12-07T00:00:00+09:00", 5000, 2, True)],
    "doi": [("2025-06-01T12:00:00+09:00", 2500, 2, True), ("2025-12-06T12:00:00+09:00", 2500, 2, True)],
    "endo": [(moment, amount, 1, True) for moment, amount in _monthly(2025, range(3, 13), 5, [10000] * 10)],
    "fujii": [("2026-10-07T12:00:00+09:00", 20000, 1, True), ("2026-11-20T12:00:00+09:00", 30000, 2, True)],
    "goto": [("2026-11-01T12:00:00+09:00", 8000, 2, False)],
    "hara": [(moment, amount, 2, True) for moment, amount in _monthly(2026, range(1, 10), 7, [5000] * 8 + [9999])],
    "ishii": [("2026-09-06T12:00:00+09:00", 0, 1, True)],
    "kato": [(moment, amount, 2, True) for moment, amount in _monthly(2026, range(2, 7), 8, [20000] * 4 + [19999])],
}


def _customer_event(name):
    number = ID[name]
    return {"event_type": "customer_created", "entity": "customer", "entity_id": str(number), "version": 1,
            "company_id": 1, "data": {
                "id": number, "shop_id": SHOP_OF[name], "member_number": str(number), "family_name": name,
                "given_name": "", "family_kana": "", "given_kana": "", "gender": "unknown", "birth_date": None,
                "mail_permission": "pc", "dm_permission": True, "line_permission": True, "mobile_email": "",
                "pc_email": f"{name}@example.jp", "mobile_phone": "", "home_phone": "", "fax": "",
                "remarks": [""] * 10, "extras": [""] * 4, "points_held": 0, "valid_points": 0,
                "points_expiry": None, "earliest_expiry": None, "last_login_at": None,
                "registered_at": "2025-01-01T10:00:00+09:00", "choices": {}}}


def _purchase_events():
    number = 0
    for name, purchases in PURCHASES.items():
        for moment, billed, shop, counted in purchases:
            number += 1
            yield {"event_type": "purchase_recorded", "entity": "purchase", "entity_id": str(number), "version": 1,
                   "company_id": 1, "data": {
                       "id": number, "customer_id": ID[name], "shop_id": shop, "order_code": f"O-{number}",
                       "purchased_at": moment, "shipped_at": None, "billed_amount": billed, "media": "",
                       "order_attributes": {}, "counted": counted,
                       "lines": [{"product_code": "P-1", "quantity": 1}]}}


@pytest.fixture(scope="module")
def _built():
    """The company's index (SQLite) and a store loaded from it, once for the module: the store is only read."""
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    factory = sessionmaker(engine)
    with factory() as session:
        for event in [_customer_event(name) for name in NAMES] + list(_purchase_events()):
            indexer.apply(session, event)
        session.commit()
    store = IndexStore.open(None)
    with factory() as session:
        store.load(session)
    yield engine, store
    store.close()
    engine.dispose()


@pytest.fixture
def company(_built, monkeypatch):
    """(session factory of a copy of the index database of its own, where RFM設定 is saved; the store), with "today"
    2026-12-06 in Japan."""
    monkeypatch.setattr(matching, "today_jst", lambda: DAY)
    built, store = _built
    engine = create_engine("sqlite://")
    with built.connect() as source, engine.connect() as target:
        source.connection.driver_connection.backup(target.connection.driver_connection)
    yield sessionmaker(engine), store
    engine.dispose()


def _grid(company, options=None, scope=OPERATOR_SCOPE):
    factory, store = company
    with factory() as session:
        return rfm_reports.grid(session, scope, options or {}, store)


def _cells(grid):
    """{(row band, column band): (customers, sales, rank)} of the cells that hold anyone."""
    return {(x, y): (cell["customers"], cell["sales"], cell["rank"])
            for x, row in enumerate(grid["cells"]) for y, cell in enumerate(row) if cell["customers"]}


def _ranks(report):
    return {entry["rank"]: (entry["customers"], entry["share"], entry["sales"]) for entry in report["ranks"]}


def _found(company, conditions, scope=OPERATOR_SCOPE):
    factory, store = company
    with factory() as session:
        listed = searching.page(session, scope, conditions, {"per_page": 500}, store)["customers"]
        assert searching.count(session, scope, conditions, True, store)["total"] == len(listed)
    return {NAME[c["id"]] for c in listed}


# --- the grid -------------------------------------------------------------------------------------------------------

def test_the_rf_grid_puts_each_buyer_in_the_cell_of_its_band_edges(company):
    """R 30 is the first band and 31 the second, 90 the third and 91 the fourth, 365 the fifth and 366 the sixth;
    F 3 and 4, 9 and 10 likewise; a purchase not counted (baba's 50,000) and one after the day (chiba's, 00:00 of
    the next Japan day, the same day in UTC) are left out; goto, who bought only uncounted, is in no cell."""
    grid = _grid(company, {"day": "2026-12-06"})
    assert grid["day"] == "2026-12-06" and grid["shop_ids"] == [] and grid["axes"] == "rf"
    assert _cells(grid) == {
        (0, 0): (1, 4999, "C"),  # chiba
        (0, 1): (1, 50000, "B"),  # fujii
        (0, 3): (1, 10000, "A"),  # aoki
        (1, 2): (1, 9999, "B"),  # baba
        (2, 4): (1, 49999, "D"),  # hara
        (3, 0): (1, 0, "E"),  # ishii
        (4, 1): (1, 5000, "F"),  # doi
        (4, 3): (1, 99999, "F"),  # kato
        (5, 5): (1, 100000, "G"),  # endo
    }
    assert all(cell["share"] == 11.1 for row in grid["cells"] for cell in row if cell["customers"])
    assert grid["cells"][5][0] == {"customers": 0, "share": 0.0, "sales": 0, "rank": "G", "conditions": {
        "rfm": {"day": "2026-12-06", "shop_ids": [], "recency_days": {"min": 366, "max": None},
                "purchase_count": {"min": None, "max": 1}}}}
    assert _ranks(grid) == {"A": (1, 11.1, 10000), "B": (2, 22.2, 59999), "C": (1, 11.1, 4999),
                            "D": (1, 11.1, 49999), "E": (1, 11.1, 0), "F": (2, 22.2, 104999),
                            "G": (1, 11.1, 100000)}
    assert grid["total"] == {"customers": 9, "sales": 329996}
    assert [band["label"] for band in grid["rows"]["bands"]] == [
        "0〜30日", "31〜60日", "61〜90日", "91〜180日", "181〜365日", "366日〜"]
    assert [band["label"] for band in grid["columns"]["bands"]] == ["1回", "2回", "3回", "4〜5回", "6〜9回", "10回〜"]
    assert grid["rows"]["axis"] == "recency_days" and grid["columns"]["axis"] == "purchase_count"
    assert grid["columns"]["bands"][3] == {"band": 3, "label": "4〜5回", "min": 4, "max": 5}
    assert [(r["rank"], r["name"], r["colour"]) for r in grid["ranks"]] == [
        ("A", "優良顧客", "yellow"), ("B", "有望顧客", "pink"), ("C", "新規顧客", "green"), ("D", "浮気予備軍顧客", "red"),
        ("E", "悩み顧客", "light_blue"), ("F", "浮気・不満顧客", "light_brown"), ("G", "離反顧客", "purple")]


def test_rm_and_fm_grids_take_the_other_axes_and_give_no_rank_to_a_cell(company):
    rm = _grid(company, {"day": "2026-12-06", "axes": "rm"})
    assert rm["rows"]["axis"] == "recency_days" and rm["columns"]["axis"] == "purchase_total"
    assert [band["label"] for band in rm["columns"]["bands"]] == [
        "0〜4,999円", "5,000〜9,999円", "10,000〜29,999円", "30,000〜49,999円", "50,000〜99,999円", "100,000円〜"]
    assert _cells(rm) == {(0, 0): (1, 4999, None), (0, 2): (1, 10000, None), (0, 4): (1, 50000, None),
                          (1, 1): (1, 9999, None), (2, 3): (1, 49999, None), (3, 0): (1, 0, None),
                          (4, 1): (1, 5000, None), (4, 4): (1, 99999, None), (5, 5): (1, 100000, None)}
    fm = _grid(company, {"day": "2026-12-06", "axes": "fm"})
    assert _cells(fm) == {(0, 0): (2, 4999, None), (1, 1): (1, 5000, None), (1, 4): (1, 50000, None),
                          (2, 1): (1, 9999, None), (3, 2): (1, 10000, None), (3, 4): (1, 99999, None),
                          (4, 3): (1, 49999, None), (5, 5): (1, 100000, None)}
    assert fm["cells"][0][0]["share"] == 22.2
    # the ranks are the customers' R×F ranks whichever axes are shown
    assert _ranks(rm) == _ranks(fm) == _ranks(_grid(company, {"day": "2026-12-06"}))


def test_the_day_defaults_to_today_in_japan_and_an_earlier_day_counts_what_was_bought_by_then(company):
    assert _grid(company)["day"] == "2026-12-06"
    earlier = _grid(company, {"day": "2026-09-30"})
    assert _cells(earlier) == {(0, 0): (2, 3333, "C"),  # baba, ishii
                               (0, 1): (1, 5000, "B"),  # aoki
                               (0, 4): (1, 49999, "A"),  # hara
                               (3, 3): (1, 99999, "D"),  # kato
                               (4, 1): (1, 5000, "F"),  # doi
                               (4, 5): (1, 100000, "F")}  # endo
    assert earlier["total"] == {"customers": 7, "sales": 263331}


def test_the_chosen_shops_purchases_alone(company):
    """At shop 1: fujii's 20,000 on 10-07 alone (R 60, F 1); chiba, doi, hara and kato bought only at shop 2."""
    grid = _grid(company, {"day": "2026-12-06", "shop_ids": [1]})
    assert grid["shop_ids"] == [1]
    assert _cells(grid) == {(0, 3): (1, 10000, "A"), (1, 0): (1, 20000, "C"), (1, 2): (1, 9999, "B"),
                            (3, 0): (1, 0, "E"), (5, 5): (1, 100000, "G")}
    assert grid["total"] == {"customers": 5, "sales": 139999}


def test_a_shop_accounts_grid_is_its_shops_purchases_of_its_customers(company):
    """Shop 2's account: chiba, doi, hara and kato; fujii bought at shop 2 but is shop 1's customer."""
    grid = _grid(company, {"day": "2026-12-06"}, SHOP2_SCOPE)
    assert grid["shop_ids"] == [2]
    assert _cells(grid) == {(0, 0): (1, 4999, "C"), (2, 4): (1, 49999, "D"), (4, 1): (1, 5000, "F"),
                            (4, 3): (1, 99999, "F")}
    assert _ranks(grid)["F"] == (2, 50.0, 104999)
    assert _grid(company, {"day": "2026-12-06", "shop_ids": [2]}, SHOP2_SCOPE) == grid
    with pytest.raises(Forbidden):
        _grid(company, {"shop_ids": [1]}, SHOP2_SCOPE)


@pytest.mark.parametrize("options, errors", [
    ({"axes": "rx"}, {"axes": ["one_of"]}),
    ({"day": "2026-02-30"}, {"day": ["invalid"]}),
    ({"day": "1899-12-31"}, {"day": ["invalid_date"]}),
    ({"shop_ids": [0]}, {"shop_ids.0": ["range"]}),
    ({"ranks": ["A"]}, {"ranks": ["unknown_field"]}),
])
def test_grid_options_are_refused_by_path(company, options, errors):
    with pytest.raises(ValidationFailed) as refused:
        _grid(company, options)
    assert refused.value.fields == errors


# --- the movement between two days -----------------------------------------------------------------------------------

def test_movement_between_two_days(company):
    factory, store = company
    with factory() as session:
        moved = rfm_reports.movement(session, OPERATOR_SCOPE, {"day_from": "2026-09-30", "day_to": "2026-12-06"},
                                     store)
    assert (moved["day_from"], moved["day_to"], moved["shop_ids"]) == ("2026-09-30", "2026-12-06", [])
    table = {row["from"]: {to: n for to, n in row["to"].items() if n} for row in moved["moves"]}
    assert table == {"none": {"B": 1, "C": 1},  # fujii, chiba
                     "A": {"D": 1},  # hara
                     "B": {"A": 1},  # aoki
                     "C": {"B": 1, "E": 1},  # baba, ishii
                     "D": {"F": 1},  # kato
                     "E": {}, "F": {"F": 1, "G": 1},  # doi, endo
                     "G": {}}
    assert [row["from"] for row in moved["moves"]] == ["none", "A", "B", "C", "D", "E", "F", "G"]
    assert moved["moves"][0]["name"] == "未購入" and moved["moves"][0]["customers"] == 2
    assert {entry["rank"]: (entry["from"]["customers"], entry["from"]["sales"], entry["to"]["customers"],
                            entry["to"]["sales"]) for entry in moved["ranks"]} == {
        "A": (1, 49999, 1, 10000), "B": (1, 5000, 2, 59999), "C": (2, 3333, 1, 4999), "D": (1, 99999, 1, 49999),
        "E": (0, 0, 1, 0), "F": (2, 105000, 2, 104999), "G": (0, 0, 1, 100000)}
    assert moved["ranks"][2]["from"]["share"] == 28.6  # 2 of 7
    assert moved["totals"] == {"from": {"customers": 7, "sales": 263331}, "to": {"customers": 9, "sales": 329996}}


def test_movement_of_a_shop_account_and_refused_days(company):
    factory, store = company
    with factory() as session:
        moved = rfm_reports.movement(session, SHOP2_SCOPE, {"day_from": "2026-09-30"}, store)
        assert moved["day_to"] == "2026-12-06" and moved["shop_ids"] == [2]
        table = {row["from"]: {to: n for to, n in row["to"].items() if n} for row in moved["moves"]}
        assert table == {"none": {"C": 1}, "A": {"D": 1}, "B": {}, "C": {}, "D": {"F": 1}, "E": {},
                         "F": {"F": 1}, "G": {}}
        with pytest.raises(ValidationFailed) as refused:
            rfm_reports.movement(session, OPERATOR_SCOPE, {"day_from": "2026-12-07", "day_to": "2026-12-06"}, store)
        assert refused.value.fields == {"day_to": ["from_after_to"]}
        with pytest.raises(ValidationFailed) as refused:
            rfm_reports.movement(session, OPERATOR_SCOPE, {}, store)
        assert refused.value.fields == {"day_from": ["required"]}


# --- the search condition ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("section, expected", [
    ({}, {"aoki", "baba", "chiba", "doi", "endo", "fujii", "hara", "ishii", "kato"}),
    ({"recency_days": {"max": 30}}, {"aoki", "chiba", "fujii"}),
    ({"recency_days": {"max": 29}}, {"chiba", "fujii"}),
    ({"recency_days": {"min": 31, "max": 60}}, {"baba"}),
    ({"recency_days": {"min": 90, "max": 91}}, {"hara", "ishii"}),
    ({"recency_days": {"min": 365, "max": 365}}, {"doi"}),
    ({"recency_days": {"min": 366}}, {"endo"}),
    ({"recency_days": {"min": 0, "max": 0}}, {"chiba"}),
    ({"purchase_count": {"min": 4, "max": 5}}, {"aoki", "kato"}),
    ({"purchase_count": {"min": 9, "max": 9}}, {"hara"}),
    ({"purchase_count": {"min": 10}}, {"endo"}),
    ({"purchase_count": {"max": 1}}, {"chiba", "ishii"}),
    ({"purchase_total": {"min": 10000, "max": 29999}}, {"aoki"}),
    ({"purchase_total": {"max": 4999}}, {"chiba", "ishii"}),
    ({"purchase_total": {"min": 99999, "max": 99999}}, {"kato"}),
    ({"purchase_total": {"min": 100000}}, {"endo"}),
    ({"ranks": ["B"]}, {"baba", "fujii"}),
    ({"ranks": ["F", "G"]}, {"doi", "kato", "endo"}),
    ({"ranks": ["E"], "purchase_total": {"max": 0}}, {"ishii"}),
    ({"recency_days": {"max": 30}, "purchase_count": {"min": 4, "max": 5}}, {"aoki"}),
    ({"day": "2026-09-30", "ranks": ["C"]}, {"baba", "ishii"}),
    ({"day": "2026-09-30"}, {"aoki", "baba", "doi", "endo", "hara", "ishii", "kato"}),
    ({"shop_ids": [1], "ranks": ["C"]}, {"fujii"}),
    ({"shop_ids": [2], "purchase_count": {"min": 1, "max": 1}}, {"chiba", "fujii"}),
])
def test_the_rfm_condition_finds_the_customers_of_its_ranges_and_ranks(company, section, expected):
    assert _found(company, {"rfm": section}) == expected


def test_the_rfm_condition_of_a_shop_account_reads_its_shops_purchases(company):
    assert _found(company, {"rfm": {"ranks": ["F"]}}, SHOP2_SCOPE) == {"doi", "kato"}
    assert _found(company, {"rfm": {"purchase_count": {"max": 1}}}, SHOP2_SCOPE) == {"chiba"}
    with pytest.raises(Forbidden):
        _found(company, {"rfm": {"shop_ids": [1]}}, SHOP2_SCOPE)


def test_the_rfm_condition_combines_with_the_other_sections(company):
    conditions = {"attributes": {"shop_ids": [2]}, "rfm": {"ranks": ["B", "C"]}}
    assert _found(company, conditions) == {"chiba"}
    factory, store = company
    with factory() as session:
        assert searching.count(session, OPERATOR_SCOPE, conditions, True, store) == {
            "total": 1, "sections": {"attributes": 5, "rfm": 3}}


@pytest.mark.parametrize("axes", ["rf", "rm", "fm"])
@pytest.mark.parametrize("scope", [OPERATOR_SCOPE, SHOP2_SCOPE], ids=["operator", "shop"])
@pytest.mark.parametrize("day", ["2026-12-06", "2026-09-30"])
def test_each_cell_and_rank_of_a_grid_opens_its_own_customers_in_search(company, axes, scope, day):
    """Clicking a cell or a rank: the conditions the grid gives it count exactly the customers the grid shows."""
    grid = _grid(company, {"day": day, "axes": axes}, scope)
    factory, store = company
    with factory() as session:
        def count(conditions):
            return searching.count(session, scope, conditions, False, store)["total"]

        assert [[count(cell["conditions"]) for cell in row] for row in grid["cells"]] == \
            [[cell["customers"] for cell in row] for row in grid["cells"]]
        assert [count(entry["conditions"]) for entry in grid["ranks"]] == [entry["customers"] for entry in grid["ranks"]]


# --- today's rank on the search page and in the download -----------------------------------------------------------

def test_the_search_page_and_the_download_show_todays_rank(company):
    factory, store = company
    with factory() as session:
        page = searching.page(session, OPERATOR_SCOPE, {}, {"per_page": 500}, store)["customers"]
        assert {NAME[c["id"]]: c["rfm_rank"] for c in page} == {
            "aoki": "A", "baba": "B", "chiba": "C", "doi": "F", "endo": "G", "fujii": "B", "goto": None,
            "hara": "D", "ishii": "E", "kato": "F"}
        shop_page = searching.page(session, SHOP2_SCOPE, {}, {"per_page": 500}, store)["customers"]
        assert {NAME[c["id"]]: c["rfm_rank"] for c in shop_page} == {
            "chiba": "C", "doi": "F", "goto": None, "hara": "D", "kato": "F"}
        rows, after = [], 0
        while after is not None:
            part = exports.export_rows(session, OPERATOR_SCOPE, {}, ["member_number", "rfm_rank"], after, 3, store)
            assert part["headers"] == ["会員番号", "RFMランク"]
            rows += part["rows"]
            after = part["last_id"]
    assert rows == [["1", "優良顧客"], ["2", "有望顧客"], ["3", "新規顧客"], ["4", "浮気・不満顧客"], ["5", "離反顧客"],
                    ["6", "有望顧客"], ["7", ""], ["8", "浮気予備軍顧客"], ["9", "悩み顧客"], ["10", "浮気・不満顧客"]]


# --- RFM設定 -------------------------------------------------------------------------------------------------------------

def test_a_company_that_never_saved_its_settings_reads_the_defaults(company):
    factory, _store = company
    with factory() as session:
        settings = rfm_settings.settings_of(session, 1).as_dict()
    assert settings["version"] == 0
    assert settings["rank_names"] == {"A": "優良顧客", "B": "有望顧客", "C": "新規顧客", "D": "浮気予備軍顧客",
                                      "E": "悩み顧客", "F": "浮気・不満顧客", "G": "離反顧客"}
    assert settings["recency_days"] == [0, 31, 61, 91, 181, 366]
    assert settings["purchase_count"] == [1, 2, 3, 4, 6, 10]
    assert settings["purchase_total"] == [0, 5000, 10000, 30000, 50000, 100000]
    assert settings["cells"] == [list("CBBAAA"), list("CBBAAA"), list("EDDDDD"), list("EEDDDD"), list("GFFFFF"),
                                 list("GGGGGG")]
    assert settings["ranks"][4] == {"rank": "E", "name": "悩み顧客", "colour": "light_blue", "hex": "#8dd3f0"}
    assert settings["labels"]["purchase_total"][0] == "0〜4,999円"


def test_saved_settings_rename_ranks_move_band_edges_and_change_cells(company):
    """F bands 1, 2, 3〜4, 5〜7, 8〜11, 12〜 and R 0〜30 / F 1 made 有望: aoki (F 4) and chiba join baba and fujii
    in B; endo (F 10) is in the fifth F band, kato (F 5) in the fourth."""
    factory, store = company
    with factory() as session:
        saved = rfm_settings.update(session, OPERATOR_SCOPE, {
            "rank_names": {"A": " VIP顧客 "}, "purchase_count": [1, 2, 3, 5, 8, 12],
            "cells": [list("BBBAAA"), list("CBBAAA"), list("EDDDDD"), list("EEDDDD"), list("GFFFFF"),
                      list("GGGGGG")]})
        session.commit()
        assert saved["version"] == 1 and saved["rank_names"]["A"] == "VIP顧客" and saved["rank_names"]["B"] == "有望顧客"
        assert saved["labels"]["purchase_count"] == ["1回", "2回", "3〜4回", "5〜7回", "8〜11回", "12回〜"]
        assert saved["recency_days"] == [0, 31, 61, 91, 181, 366], "a key left out keeps its value"
    grid = _grid(company, {"day": "2026-12-06"})
    assert _cells(grid) == {(0, 0): (1, 4999, "B"), (0, 1): (1, 50000, "B"), (0, 2): (1, 10000, "B"),
                            (1, 2): (1, 9999, "B"), (2, 4): (1, 49999, "D"), (3, 0): (1, 0, "E"),
                            (4, 1): (1, 5000, "F"), (4, 3): (1, 99999, "F"), (5, 4): (1, 100000, "G")}
    assert {rank: figures[0] for rank, figures in _ranks(grid).items()} == {
        "A": 0, "B": 4, "C": 0, "D": 1, "E": 1, "F": 2, "G": 1}
    assert grid["ranks"][0]["name"] == "VIP顧客"
    assert _found(company, {"rfm": {"ranks": ["B"]}}) == {"aoki", "baba", "chiba", "fujii"}
    with factory() as session:
        again = rfm_settings.update(session, OPERATOR_SCOPE, {"rank_names": {"G": "休眠顧客"}})
        assert again["version"] == 2 and again["rank_names"]["A"] == "VIP顧客" and again["rank_names"]["G"] == "休眠顧客"


@pytest.mark.parametrize("changes, errors", [
    ({"recency_days": [0, 30, 30, 90, 180, 365]}, {"recency_days.2": ["not_increasing"]}),
    ({"recency_days": [1, 31, 61, 91, 181, 366]}, {"recency_days.0": ["must_be:0"]}),
    ({"purchase_count": [0, 2, 3, 4, 6, 10]}, {"purchase_count.0": ["must_be:1"]}),
    ({"purchase_count": [1, 2, 3, 4, 6]}, {"purchase_count": ["items:6"]}),
    ({"purchase_total": [0, 5000, 4000, 30000, 20000, 100000]},
     {"purchase_total.2": ["not_increasing"], "purchase_total.4": ["not_increasing"]}),
    ({"purchase_total": [0, 5000, "1万", 30000, 50000, 100000]}, {"purchase_total.2": ["not_integer"]}),
    ({"recency_days": [0, 31, 61, 91, 181, 40000]}, {"recency_days.5": ["range"]}),
    ({"cells": [list("CBBAAA")] * 5}, {"cells": ["items:6"]}),
    ({"cells": [list("CBBAAA")] * 5 + [list("GGGGG")]}, {"cells.5": ["items:6"]}),
    ({"cells": [list("CBBAAA")] * 5 + [list("GGGGGH")]}, {"cells.5.5": ["one_of"]}),
    ({"rank_names": {"A": "  "}}, {"rank_names.A": ["required"]}),
    ({"rank_names": {"A": "あ" * 21}}, {"rank_names.A": ["max_length:20"]}),
    ({"rank_names": {"H": "新"}}, {"rank_names.H.key": ["one_of"]}),
    ({"ranks": []}, {"ranks": ["unknown_field"]}),
    ({"recency_days": [0, 31, 31, 91, 181, 366], "cells": [list("CBBAAA")] * 6, "rank_names": {"B": ""}},
     {"recency_days.2": ["not_increasing"], "rank_names.B": ["required"]}),
])
def test_settings_are_refused_with_every_error_by_path_and_nothing_is_saved(company, changes, errors):
    factory, _store = company
    with factory() as session:
        with pytest.raises(ValidationFailed) as refused:
            rfm_settings.update(session, OPERATOR_SCOPE, changes)
        assert refused.value.fields == errors
        session.rollback()
        assert rfm_settings.settings_of(session, 1) == rfm_settings.DEFAULTS


def test_settings_are_kept_per_company(company):
    factory, _store = company
    with factory() as session:
        rfm_settings.update(session, OPERATOR_SCOPE, {"rank_names": {"A": "VIP"}})
        session.commit()
        assert rfm_settings.settings_of(session, 2) == rfm_settings.DEFAULTS
        stored = json.loads(session.get(rfm_settings.RfmSetting, 1).settings)
        assert stored["rank_names"]["A"] == "VIP" and set(stored) == {
            "rank_names", "recency_days", "purchase_count", "purchase_total", "cells"}
