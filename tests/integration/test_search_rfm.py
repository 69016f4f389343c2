"""RFM集計 and RFM設定 through the real services: a company built through the owners, its grid and the movement between
two days asked of the search service over RPC, a shop account's grid, a cell opened in 検索, and RFM設定 saved once
for a repeated request id and refused to a shop account.

Customers (shop 103 = S1 / 5019 = S2) and their counted purchases, Japan time; the day is 2026-06-30:
  ueda S1: 2026-04-01 at S2, 2026-05-01 and 2026-06-30 00:10 (29 June in UTC) at S1, 6,000 each
           → R 0, F 3, M 18,000: cell (0, 2), 有望顧客 (B); at S1 alone F 2, M 12,000, still B
  kubo S1: 2026-05-31 at S1, 3,000 → R 30, F 1: cell (0, 0), 新規顧客 (C)
  mori S2: 2026-01-10, 02-10, 03-10, 05-30 at S2, 5,000 each, and 06-20 not counted → R 31, F 4, M 20,000:
           cell (1, 3), 優良顧客 (A)
  noda S2: 2025-06-30 at S2, 2,000, and 2026-07-01 after the day → R 365, F 1: cell (4, 0), 離反顧客 (G)
  oka  S1: never bought.
On 2026-03-31 mori had 3 purchases (R 21: B) and noda 1 (R 274: G); ueda and kubo had not bought yet.
"""
import uuid

import pytest

from services.common.errors import Forbidden, ValidationFailed
from tests.support import make_tenant, wait_for

DAY = "2026-06-30"


class World:
    """What the tests need to know of the company built below."""


@pytest.fixture(scope="module")
def world(rpc, stack):
    tenant = make_tenant(stack.urls["shops"])
    scope = tenant.operator_scope()
    s1, s2 = tenant.shops[0]["id"], tenant.shops[1]["id"]
    people = {"ueda": s1, "kubo": s1, "mori": s2, "noda": s2, "oka": s1}
    ids = {name: rpc.customers.create_customer(scope, {"shop_id": shop, "member_number": f"RFM-{name}",
                                                       "family_name": name})["id"]
           for name, shop in people.items()}

    def order(name, code, shop, purchased, price, **extra):
        return {"shop_id": shop, "order_code": code, "member_number": f"RFM-{name}", "purchased_at": purchased,
                "lines": [{"product_code": "RFM-1", "quantity": 1, "unit_price": price}], **extra}

    recorded = rpc.purchases.record_orders(scope, [
        order("ueda", "U-1", s2, "2026-04-01T12:00:00", 6000), order("ueda", "U-2", s1, "2026-05-01T12:00:00", 6000),
        order("ueda", "U-3", s1, "2026-06-30T00:10:00", 6000),
        order("kubo", "K-1", s1, "2026-05-31T12:00:00", 3000),
        *[order("mori", f"M-{n}", s2, f"2026-{month}T12:00:00", 5000)
          for n, month in enumerate(("01-10", "02-10", "03-10", "05-30"))],
        order("mori", "M-9", s2, "2026-06-20T12:00:00", 90000, counted=False),
        order("noda", "N-1", s2, "2025-06-30T12:00:00", 2000), order("noda", "N-2", s2, "2026-07-01T12:00:00", 2000),
    ])
    assert not recorded["errors"] and recorded["created"] == 11

    def indexed():
        assert rpc.search.health()["store"]["state"] == "ready", "the replica's store is loading"
        assert rpc.search.reconcile(scope)["in_agreement"]
        # F on 2026-07-01 of every buyer: ueda 3, kubo 1, mori 4, noda 2 (mori's uncounted one left out)
        for name, count in (("ueda", 3), ("kubo", 1), ("mori", 4), ("noda", 2)):
            assert rpc.search.count(scope, {"attributes": {"member_numbers": f"RFM-{name}"}, "rfm": {
                "day": "2026-07-01", "purchase_count": {"min": count, "max": count}}}, False)["total"] == 1, name
        return True

    wait_for(indexed, interval=0.3, message="the purchases in the search index and the replica's store")
    w = World()
    w.tenant, w.scope, w.s1, w.s2, w.ids = tenant, scope, s1, s2, ids
    w.key_of = {number: name for name, number in ids.items()}
    return w


def _cells(grid):
    return {(x, y): (cell["customers"], cell["sales"], cell["rank"])
            for x, row in enumerate(grid["cells"]) for y, cell in enumerate(row) if cell["customers"]}


def _found(rpc, world, conditions, scope=None):
    listed = rpc.search.search(scope or world.scope, conditions, {"per_page": 500})["customers"]
    return {world.key_of[c["id"]] for c in listed}


def test_the_grid_over_rpc(rpc, world):
    grid = rpc.search.rfm_grid(world.scope, {"day": DAY})
    assert _cells(grid) == {(0, 0): (1, 3000, "C"), (0, 2): (1, 18000, "B"), (1, 3): (1, 20000, "A"),
                            (4, 0): (1, 2000, "G")}
    assert grid["total"] == {"customers": 4, "sales": 43000}
    assert {r["rank"]: (r["name"], r["customers"], r["share"]) for r in grid["ranks"] if r["customers"]} == {
        "A": ("優良顧客", 1, 25.0), "B": ("有望顧客", 1, 25.0), "C": ("新規顧客", 1, 25.0), "G": ("離反顧客", 1, 25.0)}
    rm = rpc.search.rfm_grid(world.scope, {"day": DAY, "axes": "rm", "shop_ids": [world.s2]})
    assert _cells(rm) == {(2, 1): (1, 6000, None), (1, 2): (1, 20000, None), (4, 0): (1, 2000, None)}


def test_a_cell_and_a_rank_open_their_customers_in_search(rpc, world):
    grid = rpc.search.rfm_grid(world.scope, {"day": DAY})
    assert _found(rpc, world, grid["cells"][1][3]["conditions"]) == {"mori"}
    assert _found(rpc, world, grid["cells"][0][0]["conditions"]) == {"kubo"}
    assert _found(rpc, world, grid["ranks"][6]["conditions"]) == {"noda"}
    assert rpc.search.count(world.scope, grid["cells"][2][2]["conditions"])["total"] == 0
    assert _found(rpc, world, {"rfm": {"day": DAY, "ranks": ["A", "B"]}}) == {"ueda", "mori"}


def test_a_shop_accounts_grid_is_its_own_shops(rpc, world):
    shop1, shop2 = world.tenant.shop_scope(0), world.tenant.shop_scope(1)
    grid = rpc.search.rfm_grid(shop1, {"day": DAY})
    assert grid["shop_ids"] == [world.s1]
    assert _cells(grid) == {(0, 0): (1, 3000, "C"), (0, 1): (1, 12000, "B")}
    assert _cells(rpc.search.rfm_grid(shop2, {"day": DAY})) == {(1, 3): (1, 20000, "A"), (4, 0): (1, 2000, "G")}
    with pytest.raises(Forbidden):
        rpc.search.rfm_grid(shop1, {"day": DAY, "shop_ids": [world.s2]})
    assert _found(rpc, world, grid["cells"][0][1]["conditions"], shop1) == {"ueda"}


def test_the_movement_between_two_days_over_rpc(rpc, world):
    moved = rpc.search.rfm_movement(world.scope, {"day_from": "2026-03-31", "day_to": DAY})
    assert {row["from"]: {to: n for to, n in row["to"].items() if n} for row in moved["moves"]} == {
        "none": {"B": 1, "C": 1}, "A": {}, "B": {"A": 1}, "C": {}, "D": {}, "E": {}, "F": {}, "G": {"G": 1}}
    assert moved["totals"] == {"from": {"customers": 2, "sales": 17000}, "to": {"customers": 4, "sales": 43000}}
    with pytest.raises(ValidationFailed) as refused:
        rpc.search.rfm_movement(world.scope, {"day_from": DAY, "day_to": "2026-03-31"})
    assert refused.value.fields == {"day_to": ["from_after_to"]}


def test_settings_are_saved_once_for_a_repeated_request_id_and_refused_to_a_shop_account(rpc, tenant):
    scope = tenant.operator_scope()
    assert rpc.search.rfm_settings(scope)["version"] == 0
    request_id = str(uuid.uuid4())
    first = rpc.search.update_rfm_settings(scope, {"rank_names": {"A": "VIP顧客"}}, request_id=request_id)
    assert first["version"] == 1 and first["rank_names"]["A"] == "VIP顧客"
    repeat = rpc.search.update_rfm_settings(scope, {"rank_names": {"A": "別の名前"}}, request_id=request_id)
    assert repeat == first
    assert rpc.search.rfm_settings(scope) == first
    assert rpc.search.rfm_grid(scope)["ranks"][0]["name"] == "VIP顧客"
    again = rpc.search.update_rfm_settings(scope, {"recency_days": [0, 15, 31, 61, 91, 181]},
                                           request_id=str(uuid.uuid4()))
    assert again["version"] == 2 and again["labels"]["recency_days"][0] == "0〜14日"
    with pytest.raises(Forbidden):
        rpc.search.update_rfm_settings(tenant.shop_scope(0), {"rank_names": {"A": "店舗"}})
    with pytest.raises(ValidationFailed) as refused:
        rpc.search.update_rfm_settings(scope, {"purchase_count": [1, 3, 2, 4, 6, 10]})
    assert refused.value.fields == {"purchase_count.2": ["not_increasing"]}
    assert rpc.search.rfm_settings(tenant.shop_scope(0)) == rpc.search.rfm_settings(scope) == again
