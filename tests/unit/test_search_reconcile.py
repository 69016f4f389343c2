"""Reconciliation's comparison: the owner's versions and the index's, both by id, walked side by side; the owner's
asked a page at a time, the next page asked for before the last is gone through."""
import threading

from services.search import rebuild
from services.search.rebuild import _compare
from tests.support import HUNG_SECONDS


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



class _Owner:
    """An owner of pairs (id, version) answering ``index_versions`` pages; ``asked`` holds each ``after`` asked."""

    def __init__(self, pairs):
        self.pairs, self.asked, self.asked_again = pairs, [], threading.Event()

    def index_versions(self, _scope, _entity, after, limit):
        self.asked.append(after)
        if len(self.asked) == 2:
            self.asked_again.set()
        return [pair for pair in self.pairs if pair[0] > after][:limit]


def test_the_owners_versions_come_a_page_at_a_time_the_next_asked_for_ahead(monkeypatch):
    monkeypatch.setattr(rebuild, "MAX_VERSIONS", 2)
    owner = _Owner([[1, 1], [2, 3], [5, 1], [7, 2], [8, 1]])
    versions = rebuild.owner_versions({"purchases": owner}, {"company_id": 1}, "purchase")
    taken = [next(versions)]
    # the page after id 2 is asked for while the first is still being gone through
    assert owner.asked_again.wait(HUNG_SECONDS) and owner.asked == [0, 2]
    taken.extend(versions)
    assert taken == [(1, 1), (2, 3), (5, 1), (7, 2), (8, 1)]
    assert owner.asked == [0, 2, 7]  # a short page ends it
