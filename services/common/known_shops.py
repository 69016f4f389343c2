"""The shops a scope may name, remembered between the batches of an import.

A batch write checks that every record names a shop of the caller's (``shop_ids``, from the shops service's
``list_shops``). An import sends a batch a second or more, all naming the same shop, and asking each time cost the
shops service a query of the company's shops with their accounts and the writer a round trip. A company's shops are
never deleted nor moved to another company (the shops service offers neither), so a shop once listed for a scope stays
listed for it: a batch naming only shops seen before is answered from what was listed, and one naming any other shop
asks again (a shop added since is then found; one that does not exist is refused by the caller as before).
"""


class KnownShops:
    """The shop ids listed for each scope (company, role, shop), for one process."""

    def __init__(self):
        self._listed = {}

    def ids(self, scope, named, list_ids):
        """The ids of the shops ``scope`` may name: those listed before when they hold every id in ``named`` (the
        records' ``shop_id`` values), else ``list_ids()`` (a set of ids, the shops service asked)."""
        key = (scope.company_id, scope.role, scope.shop_id)
        listed = self._listed.get(key)
        if listed is None or not named <= listed:
            listed = self._listed[key] = frozenset(list_ids())
        return listed


def named_shop_ids(records):
    """The ``shop_id`` values of a batch's records that can name a shop (integers); anything else is the records'
    own checks' to refuse."""
    if not isinstance(records, list):
        return frozenset()
    return frozenset(record.get("shop_id") for record in records
                     if isinstance(record, dict) and type(record.get("shop_id")) is int)
