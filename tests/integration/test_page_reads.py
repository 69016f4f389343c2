"""The read RPCs that serve a whole gateway page in one call answer what the separate calls answer."""
import pytest

from services.common.errors import Forbidden, NotFound, ValidationFailed
from tests.support import wait_for


def test_customer_view_and_form_settings_in_one_call(rpc, tenant):
    scope = tenant.operator_scope()
    remarks = [{"position": p, "name": "好きな色" if p == 1 else f"備考{p}", "shown": p != 2} for p in range(1, 11)]
    rpc.customers.update_remark_settings(scope, remarks)
    status = rpc.customers.add_group(scope, {"name": "会員ステータス", "in_use": True})
    status = rpc.customers.add_choice(scope, status["id"], {"label": "ゴールド"})
    hidden = rpc.customers.add_group(scope, {"name": "未使用グループ", "in_use": False})
    retired = rpc.customers.add_group(scope, {"name": "廃止グループ", "in_use": True})
    rpc.customers.retire_group(scope, retired["id"])
    created = rpc.customers.create_customer(scope, {
        "shop_id": tenant.shops[0]["id"], "member_number": "501", "family_name": "山田", "given_name": "花子",
        "choices": {str(status["id"]): status["choices"][0]["id"]}, "remark1": "青"})

    settings = rpc.customers.get_form_settings(scope)
    assert [(r["position"], r["name"], r["shown"]) for r in settings["remark_settings"][:3]] == [
        (1, "好きな色", True), (2, "備考2", False), (3, "備考3", True)]
    assert [(g["name"], g["in_use"]) for g in settings["groups"]] == [("会員ステータス", True), ("未使用グループ", False)]
    assert [c["label"] for c in settings["groups"][0]["choices"]] == ["ゴールド"]
    assert settings == {"remark_settings": rpc.customers.get_remark_settings(scope),
                        "groups": rpc.customers.list_groups(scope)}

    view = rpc.customers.get_customer_view(scope, created["id"])
    assert (view["customer"]["member_number"], view["customer"]["family_name"], view["customer"]["remarks"][0]) == (
        "501", "山田", "青")
    assert view["customer"]["choices"] == {str(status["id"]): status["choices"][0]["id"]}
    assert view == {"customer": rpc.customers.get_customer(scope, created["id"]), **settings}
    assert hidden["id"] in [g["id"] for g in view["groups"]]

    with pytest.raises(NotFound):
        rpc.customers.get_customer_view(scope, created["id"] + 100000)
    with pytest.raises(Forbidden):  # a shop account and a customer of the other shop
        rpc.customers.get_customer_view(tenant.shop_scope(1), created["id"])


def test_search_page_in_one_call(rpc, tenant):
    scope = tenant.operator_scope()
    for number, gender in (("601", "female"), ("602", "male"), ("603", "female")):
        rpc.customers.create_customer(scope, {"shop_id": tenant.shops[0]["id"], "member_number": number,
                                              "family_name": "検索", "gender": gender})
    wait_for(lambda: rpc.search.count(scope, {}, False)["total"] == 3, message="the customers in search")
    rpc.search.save_search(scope, "女性", {"attributes": {"genders": ["female"]}}, False)

    opened = rpc.search.search_page(scope)
    assert [s["name"] for s in opened["saved"]] == ["女性"]
    assert (opened["counts"], opened["result"]) == (None, None)

    conditions = {"attributes": {"genders": ["female"]}}
    paging = {"page": 1, "per_page": 50, "sort": "member_number", "descending": True}
    page = rpc.search.search_page(scope, conditions, paging)
    assert page["counts"] == {"total": 2, "sections": {"attributes": 2}}
    assert [c["member_number"] for c in page["result"]["customers"]] == ["603", "601"]
    assert page == {"saved": rpc.search.list_saved_searches(scope), "counts": rpc.search.count(scope, conditions),
                    "result": rpc.search.search(scope, conditions, paging)}

    everyone = rpc.search.search_page(scope, {}, {"per_page": 50})
    assert everyone["counts"]["total"] == 3
    assert [c["member_number"] for c in everyone["result"]["customers"]] == ["601", "602", "603"]

    with pytest.raises(ValidationFailed):
        rpc.search.search_page(scope, {"attributes": {"genders": ["nobody"]}}, paging)
