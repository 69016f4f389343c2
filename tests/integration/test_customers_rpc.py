"""The customers service over RPC on the real broker and database."""
import concurrent.futures

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.common.errors import Forbidden, NotFound, ValidationFailed
from tests.support import RPC_HUNG_SECONDS, japan_today, published_events, wait_for


def new_customer(tenant, shop=0, **fields):
    record = {"shop_id": tenant.shops[shop]["id"], "family_name": "山田", "given_name": "太郎"}
    record.update(fields)
    return record


def test_register_a_customer_with_every_field_normalised(rpc, tenant):
    before = japan_today()
    created = rpc.customers.create_customer(tenant.operator_scope(), new_customer(
        tenant, family_kana="やまだ", given_kana="ﾀﾛｳ", gender="male", birth_date="1991-01-01",
        mail_permission="pc", pc_email="ｙｔｔｅｓｔ@ltv-x.jp", pc_is_smartphone=True, dm_permission=False,
        mobile_phone="０９０１２３４５６７８", home_phone="03 1234 5678", fax="0312345679", postal_code="1050001",
        address="東京都　港区  虎ノ門", remark1="メモ", extra2="追加", points_held=120, valid_points=100,
        points_expiry="2027-03-31", earliest_expiry="2026-12-31", last_login_at="2026-11-01T10:00:00+09:00"))
    assert created["member_number"]  # issued
    assert (created["family_kana"], created["given_kana"]) == ("ヤマダ", "タロウ")
    assert created["pc_email"] == "yttest@ltv-x.jp"
    assert created["mobile_phone"] == "090-1234-5678" and created["home_phone"] == "03-1234-5678"
    assert created["postal_code"] == "105-0001" and created["address"] == "東京都 港区 虎ノ門"
    # born on 1 January: the age is the difference of the years, on the day of the call (Japan time)
    assert created["age"] in {before.year - 1991, japan_today().year - 1991}
    assert created["remarks"][0] == "メモ" and created["extras"][1] == "追加"
    assert created["version"] == 1
    assert rpc.customers.get_customer(tenant.operator_scope(), created["id"]) == created


def test_duplicate_member_numbers_are_refused_with_a_clear_error(rpc, tenant):
    rpc.customers.create_customer(tenant.operator_scope(), new_customer(tenant, member_number="M-1"))
    with pytest.raises(ValidationFailed) as refused:
        rpc.customers.create_customer(tenant.operator_scope(), new_customer(tenant, member_number="M-1"))
    assert refused.value.fields == {"member_number": ["taken"]}


def test_concurrent_auto_issued_member_numbers_never_collide(stack, tenant):
    def register(i):
        with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=RPC_HUNG_SECONDS) as rpc:
            return rpc.customers.create_customer(tenant.operator_scope(),
                                                 new_customer(tenant, family_name=f"並行{i}"))["member_number"]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(register, range(24)))
    assert len(set(numbers)) == 24


def test_auto_issued_numbers_skip_numbers_given_by_hand(rpc, tenant):
    first = rpc.customers.create_customer(tenant.operator_scope(), new_customer(tenant))["member_number"]
    taken = str(int(first) + 1)
    rpc.customers.create_customer(tenant.operator_scope(), new_customer(tenant, member_number=taken))
    following = rpc.customers.create_customer(tenant.operator_scope(), new_customer(tenant))["member_number"]
    assert following == str(int(first) + 2)


def test_bad_fields_are_reported_by_name_and_nothing_is_saved(rpc, tenant):
    before = rpc.customers.list_customers(tenant.operator_scope())["total"]
    with pytest.raises(ValidationFailed) as refused:
        rpc.customers.create_customer(tenant.operator_scope(), new_customer(
            tenant, family_name="", family_kana="yamada", pc_email="not-mail", mail_permission="mobile",
            mobile_email="", home_phone="12", birth_date="2999-01-01", gender="x"))
    assert refused.value.fields == {
        "family_name": ["required"], "family_kana": ["invalid_kana"], "pc_email": ["invalid_email"],
        "home_phone": ["invalid_phone"], "birth_date": ["invalid_date"], "gender": ["one_of"]}
    assert rpc.customers.list_customers(tenant.operator_scope())["total"] == before


def test_mail_permission_needs_its_address(rpc, tenant):
    with pytest.raises(ValidationFailed) as refused:
        rpc.customers.create_customer(tenant.operator_scope(), new_customer(tenant, mail_permission="mobile",
                                                                            mobile_email=""))
    assert refused.value.fields == {"mobile_email": ["required_for_mail_permission"]}


def test_a_shop_account_sees_and_changes_only_its_shops_customers(rpc, tenant):
    mine = rpc.customers.create_customer(tenant.operator_scope(), new_customer(tenant, shop=0))
    theirs = rpc.customers.create_customer(tenant.operator_scope(), new_customer(tenant, shop=1))
    scope = tenant.shop_scope(0)
    assert rpc.customers.get_customer(scope, mine["id"])["id"] == mine["id"]
    with pytest.raises(Forbidden):
        rpc.customers.get_customer(scope, theirs["id"])
    with pytest.raises(Forbidden):
        rpc.customers.update_customer(scope, theirs["id"], {"family_name": "改ざん"})
    with pytest.raises(Forbidden):
        rpc.customers.create_customer(scope, new_customer(tenant, shop=1))
    with pytest.raises(Forbidden):
        rpc.customers.add_support_entry(scope, theirs["id"], {"staff": "x", "entered_at": "2026-11-01T10:00:00",
                                                              "content": "x"})
    listed = rpc.customers.list_customers(scope)["customers"]
    assert {c["shop_id"] for c in listed} == {tenant.shops[0]["id"]}


def test_another_companys_shop_is_refused(rpc, tenant, stack):
    from tests.support import make_tenant

    other = make_tenant(stack.urls["shops"])
    with pytest.raises(ValidationFailed) as refused:
        rpc.customers.create_customer(tenant.operator_scope(), {"shop_id": other.shops[0]["id"], "family_name": "x"})
    assert refused.value.fields == {"shop_id": ["unknown_shop"]}


def test_update_changes_only_what_is_given_and_raises_the_version(rpc, tenant):
    created = rpc.customers.create_customer(tenant.operator_scope(), new_customer(tenant, remark2="残る"))
    updated = rpc.customers.update_customer(tenant.operator_scope(), created["id"], {"given_name": "次郎"})
    assert updated["given_name"] == "次郎" and updated["remarks"][1] == "残る"
    assert updated["version"] == 2


def test_delete_a_customer(rpc, tenant):
    created = rpc.customers.create_customer(tenant.operator_scope(), new_customer(tenant))
    rpc.customers.delete_customer(tenant.operator_scope(), created["id"])
    with pytest.raises(NotFound):
        rpc.customers.get_customer(tenant.operator_scope(), created["id"])


def test_a_batch_with_a_bad_record_applies_the_others_and_reports_it_by_index(rpc, tenant):
    shop_id = tenant.shops[0]["id"]
    rpc.customers.create_customer(tenant.operator_scope(), new_customer(tenant, member_number="B-2",
                                                                        given_name="旧"))
    result = rpc.customers.upsert_customers({"company_id": tenant.company_id, "role": "system"}, [
        {"member_number": "B-1", "shop_id": shop_id, "family_name": "一郎"},
        {"member_number": "B-2", "given_name": "新"},
        {"member_number": "B-3", "shop_id": shop_id, "family_name": "", "pc_email": "broken"},
        {"shop_id": shop_id, "family_name": "番号なし"},
        {"member_number": "B-4", "shop_id": shop_id, "family_name": "四郎", "family_kana": "しろう"},
    ])
    assert (result["created"], result["updated"]) == (2, 1)
    assert result["errors"] == [
        {"index": 2, "fields": {"family_name": ["required"], "pc_email": ["invalid_email"]}},
        {"index": 3, "fields": {"member_number": ["required"]}},
    ]
    scope = tenant.operator_scope()
    assert rpc.customers.get_customer_by_member_number(scope, "B-2")["given_name"] == "新"
    assert rpc.customers.get_customer_by_member_number(scope, "B-4")["family_kana"] == "シロウ"
    with pytest.raises(NotFound):
        rpc.customers.get_customer_by_member_number(scope, "B-3")


def test_a_batch_sent_after_another_is_written_after_it_and_a_malformed_after_is_refused(rpc, tenant):
    shop_id, scope = tenant.shops[0]["id"], tenant.operator_scope()
    first = rpc.customers.upsert_customers.call_async(scope, [
        {"member_number": f"AF-{i}", "shop_id": shop_id, "family_name": "先"} for i in range(300)],
        request_id="af-customers-1")
    second = rpc.customers.upsert_customers.call_async(scope, [
        {"member_number": "AF-299", "shop_id": shop_id, "family_name": "後"}],
        request_id="af-customers-2", after="af-customers-1")
    assert (first.result()["created"], second.result()["updated"]) == (300, 1)
    assert rpc.customers.get_customer_by_member_number(scope, "AF-299")["family_name"] == "後"
    with pytest.raises(ValidationFailed) as refused:
        rpc.customers.upsert_customers(scope, [{"member_number": "AF-X", "shop_id": shop_id, "family_name": "無"}],
                                       after="has space")
    assert refused.value.fields == {"after": ["invalid"]}
    with pytest.raises(NotFound):
        rpc.customers.get_customer_by_member_number(scope, "AF-X")


def test_a_batch_matches_numbers_as_stored_and_refuses_by_index_what_the_caller_may_not_touch(rpc, tenant):
    other = rpc.customers.create_customer(tenant.operator_scope(), new_customer(tenant, shop=1, member_number="O-1",
                                                                                given_name="他店"))
    own = rpc.customers.create_customer(tenant.operator_scope(), new_customer(tenant, member_number="W-2",
                                                                              given_name="旧"))
    result = rpc.customers.upsert_customers(tenant.shop_scope(0), [
        {"member_number": "Ｗ－２ ", "given_name": "新"},  # the stored W-2, typed full-width
        {"member_number": "O-1", "given_name": "書換"},  # another shop's customer
        {"member_number": "N-1", "shop_id": tenant.shops[1]["id"], "family_name": "他店へ"},  # another shop
        {"member_number": "W-2", "given_name": "", "pc_email": "broken"},  # bad: W-2 must stay as it is
    ])
    assert (result["created"], result["updated"]) == (0, 1)
    assert result["errors"] == [{"index": 1, "fields": {"member_number": ["forbidden"]}},
                                {"index": 2, "fields": {"shop_id": ["forbidden"]}},
                                {"index": 3, "fields": {"pc_email": ["invalid_email"]}}]
    scope = tenant.operator_scope()
    kept = rpc.customers.get_customer(scope, own["id"])
    assert kept["given_name"] == "新" and kept["version"] == 2
    assert rpc.customers.get_customer(scope, other["id"])["given_name"] == "他店"
    with pytest.raises(NotFound):
        rpc.customers.get_customer_by_member_number(scope, "N-1")


def test_the_list_matches_addresses_folded(rpc, tenant):
    created = rpc.customers.create_customer(tenant.operator_scope(), new_customer(
        tenant, postal_code="105-0001", address="東京都港区虎ノ門　１－２－３ ﾋﾞﾙ5F"))
    for typed in ("港区虎ノ門1-2", "虎ノ門 １－２－３", "ビル5f"):
        found = rpc.customers.list_customers(tenant.operator_scope(), text=typed)["customers"]
        assert [c["id"] for c in found] == [created["id"]], typed


def test_a_batch_of_hundreds_in_one_call(rpc, tenant):
    shop_id = tenant.shops[0]["id"]
    records = [{"member_number": f"H{i:04d}", "shop_id": shop_id, "family_name": f"顧客{i}",
                "mail_permission": "pc" if i % 2 else "refused", "pc_email": f"c{i}@example.jp" if i % 2 else ""}
               for i in range(500)]
    result = rpc.customers.upsert_customers(tenant.operator_scope(), records)
    assert result["created"] == 500 and not result["errors"]
    counts = rpc.customers.shop_counts(tenant.operator_scope(), shop_id)
    assert counts == {"registered": 500, "with_address": 250, "pc": 250, "mobile": 0, "refused": 250}


def test_events_are_published_with_increasing_versions(rpc, tenant, amqp_uri):
    with published_events(amqp_uri, "customers") as take:
        created = rpc.customers.create_customer(tenant.operator_scope(), new_customer(tenant))
        rpc.customers.update_customer(tenant.operator_scope(), created["id"], {"given_name": "二"})
        rpc.customers.delete_customer(tenant.operator_scope(), created["id"])
        seen = take(lambda e: e["entity"] == "customer" and e["entity_id"] == str(created["id"]), 3,
                    "three customer events")
    assert [(e["event_type"], e["version"]) for e in seen] == [
        ("customer_created", 1), ("customer_updated", 2), ("customer_deleted", 3)]


def test_support_history_add_edit_delete_and_list_by_period(rpc, tenant):
    customer = rpc.customers.create_customer(tenant.operator_scope(), new_customer(tenant))
    scope = tenant.operator_scope()
    first = rpc.customers.add_support_entry(scope, customer["id"], {
        "staff": "LTV-X", "entered_at": "2022-09-10T19:50:00", "content": "対応済み。"})
    rpc.customers.add_support_entry(scope, customer["id"], {
        "staff": "テスト", "entered_at": "2022-09-18T19:50:00", "content": "対応中"})
    listed = rpc.customers.list_support_entries(scope, customer["id"])
    assert [e["content"] for e in listed] == ["対応中", "対応済み。"]
    assert listed[1]["entered_at"] == "2022-09-10T19:50:00+09:00", "a time without an offset is Japan time"
    ranged = rpc.customers.list_support_entries(scope, customer["id"], "2022-09-01T00:00:00", "2022-09-15T00:00:00")
    assert [e["id"] for e in ranged] == [first["id"]]
    edited = rpc.customers.update_support_entry(scope, first["id"], {
        "staff": "LTV-X", "entered_at": "2022-09-10T19:50:00", "content": "対応済み（追記）"})
    assert edited["version"] == 2
    with pytest.raises(ValidationFailed) as refused:
        rpc.customers.update_support_entry(scope, first["id"], {"staff": "", "entered_at": "x", "content": ""})
    assert refused.value.fields == {"staff": ["required"], "entered_at": ["invalid"], "content": ["required"]}
    rpc.customers.delete_support_entry(scope, first["id"])
    assert len(rpc.customers.list_support_entries(scope, customer["id"])) == 1


def test_settings_remarks_groups(rpc, tenant):
    scope = tenant.operator_scope()
    remarks = rpc.customers.get_remark_settings(scope)
    assert [r["shown"] for r in remarks] == [True] * 8 + [False] * 2
    remarks[0]["name"] = "好きな色"
    remarks[9]["shown"] = True
    saved = rpc.customers.update_remark_settings(scope, remarks)
    assert saved[0]["name"] == "好きな色" and saved[9]["shown"]
    with pytest.raises(Forbidden):
        rpc.customers.update_remark_settings(tenant.shop_scope(0), remarks)

    group = rpc.customers.add_group(scope, {"name": "会員ステータス", "in_use": True})
    group = rpc.customers.add_choice(scope, group["id"], {"label": "プラチナ"})
    group = rpc.customers.add_choice(scope, group["id"], {"label": "ゴールド"})
    with pytest.raises(ValidationFailed) as refused:
        rpc.customers.add_choice(scope, group["id"], {"label": "長" * 126})
    assert refused.value.fields == {"label": ["max_length:125"]}
    platinum, gold = group["choices"][0]["id"], group["choices"][1]["id"]
    group = rpc.customers.reorder_choices(scope, group["id"], [gold, platinum])
    assert [c["label"] for c in group["choices"]] == ["ゴールド", "プラチナ"]
    second = rpc.customers.add_group(scope, {"name": "職業", "in_use": True})
    rpc.customers.reorder_groups(scope, [second["id"], group["id"]])
    assert [g["name"] for g in rpc.customers.list_groups(scope)] == ["職業", "会員ステータス"]

    customer = rpc.customers.create_customer(scope, new_customer(tenant, choices={str(group["id"]): platinum}))
    assert customer["choices"] == {str(group["id"]): platinum}
    with pytest.raises(ValidationFailed):
        rpc.customers.update_customer(scope, customer["id"], {"choices": {str(second["id"]): platinum}})
    cleared = rpc.customers.update_customer(scope, customer["id"], {"choices": {str(group["id"]): None}})
    assert cleared["choices"] == {}
    rpc.customers.retire_group(scope, second["id"])
    assert [g["name"] for g in rpc.customers.list_groups(scope)] == ["会員ステータス"]


def test_registration_settings(rpc, tenant):
    scope = tenant.operator_scope()
    settings = rpc.customers.get_registration_settings(scope)
    assert settings["fields"]["mail_permission"] == "required"
    settings["fields"]["phone"] = "required"
    settings["notification_subject"] = "{shop_name} 登録完了"
    saved = rpc.customers.update_registration_settings(scope, {k: settings[k] for k in
                                                              ("fields", "notification_subject", "notification_body")})
    assert saved["fields"]["phone"] == "required" and saved["version"] == 1
    with pytest.raises(ValidationFailed) as refused:
        rpc.customers.update_registration_settings(scope, {"fields": settings["fields"],
                                                           "notification_subject": "{unknown}",
                                                           "notification_body": "x"})
    assert refused.value.fields == {"notification_subject": ["invalid_template"]}


def test_public_registration_enforces_basic_settings_and_sends_the_notification_mail(rpc, tenant, stack):
    scope = tenant.operator_scope()
    settings = rpc.customers.get_registration_settings(scope)
    settings["fields"]["birth_date"] = "required"
    rpc.customers.update_registration_settings(scope, {k: settings[k] for k in
                                                      ("fields", "notification_subject", "notification_body")})
    form = rpc.customers.registration_form(tenant.company_id, 103)
    assert form["shop"]["name"] == "テスト本店" and form["fields"]["birth_date"] == "required"
    member = {"agreed_to_terms": True, "family_name": "鈴木", "given_name": "花子", "family_kana": "すずき",
              "given_kana": "はなこ", "gender": "female", "mail_permission": "mobile",
              "email": f"hanako{tenant.company_id}@example.jp"}
    with pytest.raises(ValidationFailed) as refused:
        rpc.customers.register_member(tenant.company_id, 103, member)
    assert refused.value.fields == {"birth_date": ["required"]}
    with pytest.raises(ValidationFailed) as refused:
        rpc.customers.register_member(tenant.company_id, 103, dict(member, agreed_to_terms=False,
                                                                   birth_date="20080101"))
    assert refused.value.fields == {"agreed_to_terms": ["must_agree"]}
    result = rpc.customers.register_member(tenant.company_id, 103, dict(member, birth_date="２００８０１０１"))
    customer = rpc.customers.get_customer_by_member_number(scope, result["member_number"])
    assert customer["family_kana"] == "スズキ" and customer["birth_date"] == "2008-01-01"
    assert customer["mobile_email"] == member["email"] and customer["shop_id"] == tenant.shops[0]["id"]
    mails = wait_for(lambda: stack.mail.messages_to(member["email"]), message="the notification mail")
    assert len(mails) == 1
    assert "テスト本店" in mails[0]["Subject"]
    assert "鈴木 花子 様" in mails[0].get_content() and result["member_number"] in mails[0].get_content()
    with pytest.raises(NotFound):
        rpc.customers.registration_form(tenant.company_id, 999)


def test_address_lookup_from_japan_post_data(rpc):
    assert rpc.customers.lookup_address("105-0001")["address"] == "東京都港区虎ノ門"
    with pytest.raises(ValidationFailed):
        rpc.customers.lookup_address("999-9999")


def test_names_match_whatever_width_and_kana_are_typed(rpc, tenant):
    rpc.customers.create_customer(tenant.operator_scope(), new_customer(tenant, family_name="ﾔﾏｸﾞﾁ", given_name="花子",
                                                                        family_kana="やまぐち"))
    for typed in ("ヤマグチ", "やまぐち", "ﾔﾏｸﾞﾁ", "やまぐち 花子"):
        found = rpc.customers.list_customers(tenant.operator_scope(), 1, 50, typed)["customers"]
        assert [c["family_kana"] for c in found] == ["ヤマグチ"], typed


def test_line_permission_is_allowed_by_default_stored_returned_and_published(rpc, tenant, amqp_uri):
    scope = tenant.operator_scope()
    assert rpc.customers.create_customer(scope, new_customer(tenant))["line_permission"] is True
    with published_events(amqp_uri, "customers") as take:
        created = rpc.customers.create_customer(scope, new_customer(tenant, line_permission=False, dm_permission=True))
        assert (created["line_permission"], created["dm_permission"]) == (False, True)
        assert rpc.customers.get_customer(scope, created["id"])["line_permission"] is False
        updated = rpc.customers.update_customer(scope, created["id"], {"given_name": "二"})
        assert updated["line_permission"] is False, "an update that leaves it out keeps it"
        assert rpc.customers.update_customer(scope, created["id"], {"line_permission": True})["line_permission"]
        seen = take(lambda e: e["entity"] == "customer" and e["entity_id"] == str(created["id"]), 3,
                    "three customer events")
    assert [e["data"]["line_permission"] for e in seen] == [False, False, True]
    with pytest.raises(ValidationFailed) as refused:
        rpc.customers.create_customer(scope, new_customer(tenant, line_permission="maybe"))
    assert list(refused.value.fields) == ["line_permission"]


def test_a_member_number_twice_in_one_batch_is_created_then_updated_by_its_second_record(rpc, tenant, amqp_uri):
    shop_id = tenant.shops[0]["id"]
    with published_events(amqp_uri, "customers") as take:
        result = rpc.customers.upsert_customers(tenant.operator_scope(), [
            {"member_number": "D-1", "shop_id": shop_id, "family_name": "初回", "given_name": "一"},
            {"member_number": "D-2", "shop_id": shop_id, "family_name": "別人"},
            {"member_number": "Ｄ－１", "given_name": "二"},
            {"member_number": "D-1", "given_name": "三", "pc_email": "broken"},
        ])
        (batch,) = take(lambda e: e["event_type"] == "customers_recorded" and e["company_id"] == tenant.company_id,
                        1, "the batch's event")
    customer = rpc.customers.get_customer_by_member_number(tenant.operator_scope(), "D-1")
    other = rpc.customers.get_customer_by_member_number(tenant.operator_scope(), "D-2")
    assert result == {"created": 2, "updated": 1, "unchanged": 0, "skipped": [],
                      "errors": [{"index": 3, "fields": {"pc_email": ["invalid_email"]}}],
                      "customers": [{"index": 0, "id": customer["id"], "member_number": "D-1", "version": 2},
                                    {"index": 1, "id": other["id"], "member_number": "D-2", "version": 1},
                                    {"index": 2, "id": customer["id"], "member_number": "D-1", "version": 2}]}
    assert (customer["family_name"], customer["given_name"], customer["version"]) == ("初回", "二", 2)
    # one event for the batch, each creation and change in it in the records' order (the refused record: none)
    assert batch["entity"] == "customer_batch"
    announced = batch["data"]["customers"]
    assert [(c["member_number"], c["version"], c["given_name"]) for c in announced] == [
        ("D-1", 1, "一"), ("D-2", 1, ""), ("D-1", 2, "二")]
    assert announced[2] == customer


def test_batch_options_say_whether_a_batch_creates_updates_or_only_fills_empty_fields(rpc, tenant):
    scope, shop_id = tenant.operator_scope(), tenant.shops[0]["id"]
    stored = rpc.customers.create_customer(scope, new_customer(tenant, member_number="S-1", given_name="",
                                                               remark1="残す"))

    only_updates = rpc.customers.upsert_customers(scope, [
        {"member_number": "N-1", "shop_id": shop_id, "family_name": "新規"},
        {"member_number": "S-1", "remark2": "更新のみ"}], options={"mode": "update_only"})
    assert only_updates == {"created": 0, "updated": 1, "unchanged": 0, "errors": [],
                            "skipped": [{"index": 0, "reason": "not_stored"}],
                            "customers": [{"index": 1, "id": stored["id"], "member_number": "S-1", "version": 2}]}
    with pytest.raises(NotFound):
        rpc.customers.get_customer_by_member_number(scope, "N-1")

    only_creates = rpc.customers.upsert_customers(scope, [
        {"member_number": "S-1", "remark2": "上書きしない"},
        {"member_number": "N-2", "shop_id": shop_id, "family_name": "新規"}], options={"mode": "create_only"})
    created = rpc.customers.get_customer_by_member_number(scope, "N-2")
    assert only_creates == {"created": 1, "updated": 0, "unchanged": 0, "errors": [],
                            "skipped": [{"index": 0, "reason": "already_stored"}],
                            "customers": [{"index": 1, "id": created["id"], "member_number": "N-2", "version": 1}]}
    assert rpc.customers.get_customer(scope, stored["id"])["remarks"][1] == "更新のみ"

    filled = rpc.customers.upsert_customers(scope, [
        {"member_number": "S-1", "family_name": "別姓", "given_name": "花子", "remark1": "上書き", "remark3": "追記"}],
        options={"keep_existing": True})
    assert (filled["updated"], filled["customers"][0]["version"]) == (1, 3)
    kept = rpc.customers.get_customer(scope, stored["id"])
    assert (kept["family_name"], kept["given_name"]) == ("山田", "花子")
    assert kept["remarks"][:3] == ["残す", "更新のみ", "追記"]

    again = rpc.customers.upsert_customers(scope, [
        {"member_number": "S-1", "family_name": "別姓", "remark1": "上書き"},
        {"member_number": "Ｓ－１", "family_name": "山田", "given_name": "花子", "remark3": "追記"}],
        options={"keep_existing": True})
    assert again == {"created": 0, "updated": 0, "unchanged": 2, "skipped": [], "errors": [],
                     "customers": [{"index": 0, "id": stored["id"], "member_number": "S-1", "version": 3},
                                   {"index": 1, "id": stored["id"], "member_number": "S-1", "version": 3}]}
    assert rpc.customers.get_customer(scope, stored["id"]) == kept


def test_a_record_that_changes_nothing_is_unchanged_and_publishes_nothing(rpc, tenant, amqp_uri):
    scope, shop_id = tenant.operator_scope(), tenant.shops[0]["id"]
    record = {"member_number": "U-1", "shop_id": shop_id, "family_name": "山田", "family_kana": "やまだ",
              "registered_at": "2015-04-01T10:00:00", "birth_date": "1990-02-03", "home_phone": "0312345678"}
    first = rpc.customers.upsert_customers(scope, [record])
    # the creation's event published before listening: the outbox relay may not have sent it yet on a busy machine
    wait_for(lambda: rpc.customers.health()["outbox_pending"] == 0, interval=0.1,
             message="the customers' outbox relayed")
    with published_events(amqp_uri, "customers") as take:
        again = rpc.customers.upsert_customers(scope, [record, dict(record, given_name="次郎")])
        (batch,) = take(lambda e: e["event_type"] == "customers_recorded" and e["company_id"] == tenant.company_id,
                        1, "the update")
    customer_id = first["customers"][0]["id"]
    assert again == {"created": 0, "updated": 1, "unchanged": 1, "skipped": [], "errors": [],
                     "customers": [{"index": 0, "id": customer_id, "member_number": "U-1", "version": 2},
                                   {"index": 1, "id": customer_id, "member_number": "U-1", "version": 2}]}
    assert [(c["id"], c["version"]) for c in batch["data"]["customers"]] == [(customer_id, 2)]


@pytest.mark.parametrize("options, fields", [
    ({"mode": "replace"}, {"options.mode": ["one_of"]}),
    ({"keep_existing": "perhaps"}, {"options.keep_existing": ["invalid"]}),
    ({"colour": "red"}, {"options.colour": ["unknown_field"]}),
    ("update_only", {"options": ["invalid"]}),
])
def test_bad_batch_options_are_refused_by_field_and_nothing_is_applied(rpc, tenant, options, fields):
    with pytest.raises(ValidationFailed) as refused:
        rpc.customers.upsert_customers(tenant.operator_scope(), [new_customer(tenant, member_number="X-1")],
                                       options=options)
    assert refused.value.fields == fields
    with pytest.raises(NotFound):
        rpc.customers.get_customer_by_member_number(tenant.operator_scope(), "X-1")


def test_a_batch_repeated_with_its_request_id_returns_the_first_answer_whatever_its_options(rpc, tenant):
    scope = tenant.operator_scope()
    records = [new_customer(tenant, member_number="Q-1")]
    first = rpc.customers.upsert_customers(scope, records, request_id="batch-q-1")
    assert first["created"] == 1
    repeat = rpc.customers.upsert_customers(scope, [dict(records[0], given_name="別")], request_id="batch-q-1",
                                            options={"mode": "update_only", "keep_existing": True})
    assert repeat == first
    assert rpc.customers.get_customer_by_member_number(scope, "Q-1")["version"] == 1


def test_batches_creating_the_same_numbers_at_once_create_each_customer_once(stack, rpc, tenant):
    system = {"company_id": tenant.company_id, "role": "system"}
    numbers = [f"C{i:03d}" for i in range(300)]

    def send(order):
        with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=RPC_HUNG_SECONDS) as client:
            return client.customers.upsert_customers(system, [
                {"member_number": n, "shop_id": tenant.shops[0]["id"], "family_name": "同時"} for n in order])

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(send, [numbers, numbers[::-1], numbers[150:] + numbers[:150], numbers]))
    assert sum(answer["created"] for answer in answers) == 300
    for answer in answers:
        # a number another batch registered first: unchanged when that batch committed before, else refused
        assert answer["created"] + answer["unchanged"] + len(answer["errors"]) == 300 and answer["updated"] == 0
        assert all(error["fields"] == {"member_number": ["taken"]} for error in answer["errors"])
    assert rpc.customers.list_customers(tenant.operator_scope())["total"] == 300
