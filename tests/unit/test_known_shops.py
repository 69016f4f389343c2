"""A batch naming only shops listed before asks the shops service nothing; any other shop has it asked again."""
from services.common.known_shops import KnownShops, named_shop_ids
from services.common.scope import OPERATOR, SHOP, Scope


class Listing:
    def __init__(self, ids):
        self.ids, self.asked = set(ids), 0

    def __call__(self):
        self.asked += 1
        return set(self.ids)


def test_shops_seen_before_are_not_asked_for_again():
    known, listing, scope = KnownShops(), Listing({3, 4}), Scope(7, OPERATOR)
    assert known.ids(scope, frozenset({3}), listing) == {3, 4}
    assert known.ids(scope, frozenset({3, 4}), listing) == {3, 4}
    assert known.ids(scope, frozenset(), listing) == {3, 4}
    assert listing.asked == 1


def test_a_shop_not_seen_yet_is_asked_for_and_found_once_added():
    known, listing, scope = KnownShops(), Listing({3}), Scope(7, OPERATOR)
    known.ids(scope, frozenset({3}), listing)
    assert known.ids(scope, frozenset({5}), listing) == {3}  # not a shop of the company: the caller refuses it
    listing.ids.add(5)  # 店舗追加
    assert known.ids(scope, frozenset({5}), listing) == {3, 5}
    assert known.ids(scope, frozenset({3, 5}), listing) == {3, 5}
    assert listing.asked == 3


def test_each_scope_has_its_own_shops():
    known = KnownShops()
    operator, shop = Listing({3, 4}), Listing({4})
    assert known.ids(Scope(7, OPERATOR), frozenset({4}), operator) == {3, 4}
    assert known.ids(Scope(7, SHOP, shop_id=4), frozenset({4}), shop) == {4}
    assert known.ids(Scope(8, OPERATOR), frozenset({4}), Listing(set())) == set()
    assert (operator.asked, shop.asked) == (1, 1)


def test_only_integer_shop_ids_are_named():
    records = [{"shop_id": 3}, {"shop_id": "3"}, {"shop_id": True}, {"shop_id": [3]}, {}, "x", {"shop_id": 9}]
    assert named_shop_ids(records) == {3, 9}
    assert named_shop_ids("not a list") == frozenset()
