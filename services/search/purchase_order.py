"""The order of a customer's purchases, the same for the store's first purchase and for every report: by moment, then
id."""
from duckdb_engine.datatypes import HugeInteger
from sqlalchemy import cast, func, literal_column


def purchase_order(moment, purchase_id):
    """A purchase's place among its customer's purchases as one number: by moment, then id (microseconds since 1970
    × 2³² + id, a HUGEINT: cheaper to compare, and to take the least of, than a (moment, id) pair)."""
    return cast(func.epoch_us(moment), HugeInteger) * literal_column(str(2 ** 32)) + purchase_id
