from services.purchases import order_attributes


def test_attributes_are_kept_as_json_with_sorted_keys_and_their_own_characters():
    assert order_attributes.as_text({"ラッピング": "あり", "gift": "yes"}) == '{"gift": "yes", "ラッピング": "あり"}'
    assert order_attributes.as_dict('{"gift": "yes", "ラッピング": "あり"}') == {"gift": "yes", "ラッピング": "あり"}


def test_an_order_without_attributes_is_kept_as_an_empty_object():
    assert order_attributes.as_text({}) == "{}"
    assert order_attributes.as_text(None) == "{}"
    assert order_attributes.as_dict("{}") == {}
    assert order_attributes.as_dict("") == {}
    assert order_attributes.as_dict(None) == {}
