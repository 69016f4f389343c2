"""Set-wise recording of a batch of orders: the parts that need no database."""
import pytest

from services.common.errors import ValidationFailed
from services.purchases import order_batches


def test_an_order_named_twice_goes_in_a_later_round_and_others_stay_in_the_first():
    orders = [(0, {"shop_id": 1, "order_code": "A"}), (1, {"shop_id": 1, "order_code": "B"}),
              (2, {"shop_id": 1, "order_code": "A"}), (3, {"shop_id": 2, "order_code": "A"}),
              (4, {"shop_id": 1, "order_code": "A"})]
    rounds = order_batches._rounds(orders)
    assert [[index for index, _values in round_] for round_ in rounds] == [[0, 1, 3], [2], [4]]


def test_options_default_to_create_and_update_and_are_refused_by_path():
    assert order_batches.record_options(None) == {"mode": "create_update"}
    assert order_batches.record_options({"mode": "create_only"}) == {"mode": "create_only"}
    with pytest.raises(ValidationFailed) as refused:
        order_batches.record_options({"mode": "never"})
    assert refused.value.fields == {"options.mode": ["one_of"]}
    with pytest.raises(ValidationFailed) as refused:
        order_batches.record_options(["update_only"])
    assert refused.value.fields == {"options": ["invalid"]}
