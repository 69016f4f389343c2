"""Reconciliation's comparison: the owner's versions and the index's, both by id, walked side by side."""
from services.search.rebuild import _compare


def test_the_walk_finds_stale_missing_and_extra_entities():
    owned = iter([(1, 1), (2, 2), (4, 1), (5, 3), (9, 1)])
    held = iter([(1, 1), (2, 1), (3, 1), (5, 3), (6, 2), (9, None)])
    # 2: another version; 4: missing from the index; 9: no version noted; 3 and 6: the owner has none
    assert _compare(owned, held) == (5, 6, ["2", "4", "9"], ["3", "6"])


def test_either_side_empty():
    assert _compare(iter([]), iter([])) == (0, 0, [], [])
    assert _compare(iter([(7, 1), (8, 1)]), iter([])) == (2, 0, ["7", "8"], [])
    assert _compare(iter([]), iter([(7, 1)])) == (0, 1, [], ["7"])


def test_ids_are_compared_as_numbers_not_as_text():
    owned = iter([(9, 1), (10, 1), (100, 1)])
    held = iter([(9, 1), (10, 1), (100, 1)])
    assert _compare(owned, held) == (3, 3, [], [])
