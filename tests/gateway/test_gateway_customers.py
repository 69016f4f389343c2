"""顧客管理 and its settings through the gateway (Flask's client, real services)."""
import re

import pytest

from services.common.errors import NotFound
from services.customers.fields import FORM_FIELDS
from tests.gateway.conftest import csrf_token, log_in
from tests.support import wait_for


def post(client, path, data, token_from=None):
    return client.post(path, data=dict(data, csrf_token=csrf_token(client, token_from or path)))


def customer_form(tenant, **overrides):
    form = {"shop_id": str(tenant.shops[0]["id"]), "family_name": "山田", "given_name": "太郎",
            "family_kana": "やまだ", "given_kana": "たろう", "gender": "male", "birth_date": "1991-01-01",
            "mail_permission": "pc", "pc_email": "yttest@example.jp", "dm_permission": "1",
            "postal_code1": "105", "postal_code2": "0001", "address": "東京都港区虎ノ門", "customer_class": "new"}
    form.update(overrides)
    return form


def test_register_a_customer_with_confirmation(operator, tenant):
    confirm = post(operator, "/customers/new", dict(customer_form(tenant), action="confirm"))
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "顧客登録 確認" in page
    assert "ヤマダ タロウ" in page and "（自動発番）" in page
    saved = post(operator, "/customers/new", dict(customer_form(tenant), action="save"), token_from="/customers/new")
    assert saved.status_code == 302
    detail = operator.get(saved.headers["Location"]).get_data(as_text=True)
    assert "顧客を登録しました" in detail and "山田 太郎" in detail and "yttest@example.jp" in detail
    for tab in ("属性情報", "購入履歴", "メール送信履歴", "行動履歴", "対応履歴"):
        assert tab in detail


def test_bad_input_shows_messages_by_the_fields_and_registers_nothing(operator, tenant):
    before = operator.get("/customers/").get_data(as_text=True)
    response = post(operator, "/customers/new", dict(customer_form(
        tenant, family_name="", family_kana="yamada", pc_email="broken", home_phone1="1"), action="confirm"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "必須項目です。" in page and "フリガナはカタカナまたはひらがなで入力してください。" in page
    assert "メールアドレスの形式が正しくありません。" in page and "電話番号の形式が正しくありません" in page
    assert re.search(r"(\d+)件", before).group(1) == re.search(r"(\d+)件", operator.get("/customers/").get_data(
        as_text=True)).group(1)


def test_remark_names_set_in_settings_appear_on_the_form(operator):
    form = {f"name{i}": f"備考{i}" for i in range(1, 11)}
    form.update({f"shown{i}": "1" if i <= 8 else "0" for i in range(1, 11)})
    form["name1"] = "好きな色"
    form["shown9"] = "1"
    assert post(operator, "/settings/remarks", form).status_code == 302
    page = operator.get("/customers/new").get_data(as_text=True)
    assert ">好きな色</label>" in page and ">備考9</label>" in page and ">備考10</label>" not in page
    form["name2"] = ""
    refused = post(operator, "/settings/remarks", form)
    assert refused.status_code == 400 and "必須項目です。" in refused.get_data(as_text=True)


def test_support_history_tab(operator, tenant):
    saved = post(operator, "/customers/new", dict(customer_form(tenant), action="save"))
    customer_url = saved.headers["Location"]
    support_url = customer_url + "/support"
    added = post(operator, support_url, {"staff": "LTV-X", "entered_at": "2022-09-28T18:00", "content": "対応済み。"},
                 token_from=support_url + "?new=1")
    assert added.status_code == 302
    page = operator.get(support_url).get_data(as_text=True)
    assert "2022-09-28 18:00" in page and "対応済み。" in page and "LTV-X" in page
    assert "対応済み。" not in operator.get(support_url + "?from=2022-09-29&to=2022-10-31").get_data(as_text=True)
    refused = post(operator, support_url, {"staff": "", "entered_at": "", "content": ""}, token_from=support_url)
    assert refused.status_code == 400 and refused.get_data(as_text=True).count("必須項目です。") == 3
    entry_id = re.search(r"/support/(\d+)/delete", page).group(1)
    deleted = post(operator, f"{support_url}/{entry_id}/delete", {}, token_from=support_url)
    assert deleted.status_code == 302
    assert "対応履歴はありません。" in operator.get(support_url).get_data(as_text=True)


def test_shop_account_sees_only_its_shops_customers(app, tenant, operator):
    other = post(operator, "/customers/new", dict(customer_form(tenant, shop_id=str(tenant.shops[1]["id"]),
                                                                family_name="支店客"), action="save"))
    own = post(operator, "/customers/new", dict(customer_form(tenant, family_name="本店客"), action="save"),
               token_from="/customers/new")
    shop = app.test_client()
    log_in(shop, tenant.shops[0]["login_id"], tenant.password)
    listed = shop.get("/customers/").get_data(as_text=True)
    assert "本店客" in listed and "支店客" not in listed
    assert shop.get(other.headers["Location"]).status_code == 403
    assert shop.get(own.headers["Location"]).status_code == 200
    assert shop.get("/settings/remarks").status_code == 403


def test_customer_groups_settings_and_their_use_on_the_form(operator, tenant):
    created = post(operator, "/settings/groups/attribute/new", {"name": "会員ステータス", "in_use": "1"})
    assert created.status_code == 302
    group_url = created.headers["Location"]
    assert post(operator, group_url + "/choices", {"label": "プラチナ"}, token_from=group_url).status_code == 302
    too_long = post(operator, group_url + "/choices", {"label": "あ" * 126}, token_from=group_url)
    assert too_long.status_code == 400 and "125文字以内で入力してください。" in too_long.get_data(as_text=True)
    page = operator.get("/customers/new").get_data(as_text=True)
    assert "会員ステータス" in page and "プラチナ" in page and "[クリア]" in page
    listing = operator.get("/settings/groups").get_data(as_text=True)
    assert "会員ステータス" in listing and "使用する" in listing


def test_basic_settings_drive_the_public_form(operator, tenant, app, stack):
    form = {f"field_{name}": "shown" for name, _label in FORM_FIELDS}
    form.update({"field_phone": "required", "field_mail_permission": "required", "field_remarks": "hidden",
                 "notification_subject": "【{shop_name}】ご登録ありがとうございます",
                 "notification_body": "{family_name} 様\n会員番号 {member_number}"})
    assert post(operator, "/settings/basic", form).status_code == 302
    bad = post(operator, "/settings/basic", dict(form, notification_subject="{oops}"))
    assert bad.status_code == 400 and "差し込み項目が正しくありません" in bad.get_data(as_text=True)

    # the public page is for anyone: a browser of its own, no session, nobody logged in
    visitor = app.test_client()
    assert visitor.get("/").status_code == 302
    path = f"/register/{tenant.company_id}/103"
    public = visitor.get(path)
    page = public.get_data(as_text=True)
    assert public.status_code == 200 and "テスト本店" in page and "利用規約に同意する" in page
    assert "■電話番号:<span class=\"req\">※</span>" in page and "■備考" not in page
    missing = post(visitor, path, {"family_name": "鈴木", "given_name": "花子"})
    text = missing.get_data(as_text=True)
    assert missing.status_code == 400
    assert "利用規約に同意してください。" in text and text.count("必須項目です。") >= 2
    address = f"gw{tenant.company_id}@example.jp"
    done = post(visitor, path, {"agreed_to_terms": "1", "family_name": "鈴木", "given_name": "花子",
                                "family_kana": "スズキ", "given_kana": "ハナコ", "phone": "09012345678",
                                "mail_permission": "mobile", "email": address})
    assert done.status_code == 200 and "会員登録が完了しました" in done.get_data(as_text=True)
    mail = wait_for(lambda: stack.mail.messages_to(address), message="the notification mail")[0]
    assert mail["Subject"] == "【テスト本店】ご登録ありがとうございます"
    assert "鈴木 様" in mail.get_content()
    assert visitor.get(f"/register/{tenant.company_id}/4242").status_code == 404


def test_address_lookup_button(operator):
    found = operator.get("/customers/address-lookup?postal_code=1050001")
    assert found.get_json()["address"] == "東京都港区虎ノ門"
    missing = operator.get("/customers/address-lookup?postal_code=9999999")
    assert missing.status_code == 400 and missing.get_json()["error"] == "該当する住所が見つかりません。"


def test_the_shop_page_counts_its_registered_customers(operator, tenant):
    shop_id = tenant.shops[1]["id"]
    for i, (permission, field) in enumerate((("pc", "pc_email"), ("mobile", "mobile_email"), ("refused", None))):
        form = customer_form(tenant, shop_id=str(shop_id), mail_permission=permission, pc_email="")
        if field:
            form[field] = f"c{i}@example.jp"
        assert post(operator, "/customers/new", dict(form, action="save")).status_code == 302
    page = operator.get(f"/settings/shops/{shop_id}").get_data(as_text=True)
    assert "登録顧客数: 3件" in page and "アドレス登録数: 2件（PC: 1件　携帯: 1件）" in page and "送信拒否: 1件" in page


def test_history_groups_have_the_required_choice(operator):
    created = post(operator, "/settings/groups/history/new", {"name": "管理ステイタス", "in_use": "1", "required": "1"})
    assert created.status_code == 302
    listing = operator.get("/settings/groups/history").get_data(as_text=True)
    assert "管理ステイタス" in listing and "必須選択" in listing and "<td>はい</td>" in listing


def test_line_permission_on_the_form_confirmation_detail_and_edit(operator, tenant, rpc):
    blank = operator.get("/customers/new").get_data(as_text=True)
    assert "LINE配信" in blank and re.search(r'name="line_permission" value="1"\s+checked', blank), "allowed by default"
    form = customer_form(tenant, family_name="線拒否", line_permission="0")
    confirm = post(operator, "/customers/new", dict(form, action="confirm")).get_data(as_text=True)
    assert "LINE拒否" in confirm and "DM許可" in confirm
    saved = post(operator, "/customers/new", dict(form, action="save"), token_from="/customers/new")
    assert saved.status_code == 302
    detail_url = saved.headers["Location"]
    assert "LINE拒否" in operator.get(detail_url).get_data(as_text=True)
    customer_id = int(re.search(r"/customers/(\d+)", detail_url).group(1))
    assert rpc.customers.get_customer(tenant.operator_scope(), customer_id)["line_permission"] is False
    edit_url = f"/customers/{customer_id}/edit"
    assert re.search(r'name="line_permission" value="0"\s+checked', operator.get(edit_url).get_data(as_text=True))
    assert post(operator, edit_url, dict(form, line_permission="1")).status_code == 302
    assert "LINE許可" in operator.get(detail_url).get_data(as_text=True)
    assert rpc.customers.get_customer(tenant.operator_scope(), customer_id)["line_permission"] is True


def _group_by_name(rpc, tenant, name, include_retired=False):
    return next(grp for grp in rpc.customers.list_groups(tenant.operator_scope(), include_retired)
                if grp["name"] == name)


def _new_group(operator, name, labels=()):
    created = post(operator, "/settings/groups/attribute/new", {"name": name, "in_use": "1"})
    assert created.status_code == 302
    group_url = created.headers["Location"]
    for label in labels:
        assert post(operator, group_url + "/choices", {"label": label}, token_from=group_url).status_code == 302
    return group_url


def _live_labels(group):
    return [c["label"] for c in group["choices"] if not c["retired"]]


def test_renaming_a_group_and_taking_it_out_of_use(operator, tenant, rpc):
    group_url = _new_group(operator, "来店頻度", ["月1回"])
    assert "来店頻度" in operator.get("/customers/new").get_data(as_text=True)
    saved = post(operator, group_url, {"name": "来店ペース", "in_use": "0"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith(group_url)
    page = operator.get(group_url).get_data(as_text=True)
    assert "グループを登録しました。" in page and 'value="来店ペース"' in page
    assert re.search(r'name="in_use" value="0" checked', page)
    listing = operator.get("/settings/groups").get_data(as_text=True)
    assert re.search(r"<td>来店ペース</td>\s*<td>使用しない</td>", listing) and "来店頻度" not in listing
    assert "来店ペース" not in operator.get("/customers/new").get_data(as_text=True)
    group = _group_by_name(rpc, tenant, "来店ペース")
    assert group["in_use"] is False and _live_labels(group) == ["月1回"]
    assert post(operator, group_url, {"name": "来店ペース", "in_use": "1"}).status_code == 302
    assert _group_by_name(rpc, tenant, "来店ペース")["in_use"] is True
    assert "来店ペース" in operator.get("/customers/new").get_data(as_text=True)


def test_editing_reordering_and_retiring_choices(operator, tenant, rpc):
    group_url = _new_group(operator, "ランク", ["ゴールド", "シルバー", "ブロンズ"])
    ids = {c["label"]: c["id"] for c in _group_by_name(rpc, tenant, "ランク")["choices"]}

    def choice(label, data):
        return post(operator, f"{group_url}/choices/{ids[label]}", data, token_from=group_url)

    assert choice("シルバー", {"action": "rename", "label": "シルバー会員"}).status_code == 302
    ids["シルバー会員"] = ids.pop("シルバー")
    assert _live_labels(_group_by_name(rpc, tenant, "ランク")) == ["ゴールド", "シルバー会員", "ブロンズ"]
    assert 'value="シルバー会員"' in operator.get(group_url).get_data(as_text=True)

    assert choice("ブロンズ", {"action": "up"}).status_code == 302
    assert _live_labels(_group_by_name(rpc, tenant, "ランク")) == ["ゴールド", "ブロンズ", "シルバー会員"]
    assert choice("ゴールド", {"action": "down"}).status_code == 302
    assert _live_labels(_group_by_name(rpc, tenant, "ランク")) == ["ブロンズ", "ゴールド", "シルバー会員"]
    page = operator.get(group_url).get_data(as_text=True)
    assert page.index('value="ブロンズ"') < page.index('value="ゴールド"') < page.index('value="シルバー会員"')

    assert choice("ゴールド", {"action": "retire"}).status_code == 302
    group = _group_by_name(rpc, tenant, "ランク")
    assert _live_labels(group) == ["ブロンズ", "シルバー会員"]
    assert [c["retired"] for c in group["choices"] if c["label"] == "ゴールド"] == [True]
    page = operator.get(group_url).get_data(as_text=True)
    assert 'value="ゴールド"' not in page and 'value="ブロンズ"' in page
    form = operator.get("/customers/new").get_data(as_text=True)
    assert "ゴールド" not in form and "シルバー会員" in form

    assert choice("シルバー会員", {"action": "up"}).status_code == 302
    assert _live_labels(_group_by_name(rpc, tenant, "ランク")) == ["シルバー会員", "ブロンズ"]
    page = operator.get(group_url).get_data(as_text=True)
    assert page.index('value="シルバー会員"') < page.index('value="ブロンズ"') and 'value="ゴールド"' not in page


def test_reordering_and_retiring_groups(operator, tenant, rpc):
    for name in ("趣味", "職業", "居住地"):
        _new_group(operator, name, [f"{name}の選択肢"])
    ids = {grp["name"]: grp["id"] for grp in rpc.customers.list_groups(tenant.operator_scope())}

    def move(name, action):
        return post(operator, f"/settings/groups/attribute/{ids[name]}/order", {"action": action},
                    token_from="/settings/groups")

    def names():
        return [grp["name"] for grp in rpc.customers.list_groups(tenant.operator_scope())]

    def listed():
        page = operator.get("/settings/groups").get_data(as_text=True)
        return re.findall(r"<tr>\s*<td>([^<]+)</td>", page)

    moved = move("居住地", "up")
    assert moved.status_code == 302 and moved.headers["Location"].endswith("/settings/groups")
    assert names() == ["趣味", "居住地", "職業"] == listed()
    assert move("趣味", "down").status_code == 302
    assert names() == ["居住地", "趣味", "職業"] == listed()

    retired = move("趣味", "retire")
    assert retired.status_code == 302
    assert "グループを廃止しました。" in operator.get(retired.headers["Location"]).get_data(as_text=True)
    assert names() == ["居住地", "職業"] == listed()
    gone = _group_by_name(rpc, tenant, "趣味", include_retired=True)
    assert gone["retired"] is True and gone["in_use"] is False
    assert "趣味" not in operator.get("/customers/new").get_data(as_text=True)
    assert operator.get(f"/settings/groups/attribute/{ids['趣味']}").status_code == 404

    assert move("職業", "up").status_code == 302
    assert names() == ["職業", "居住地"] == listed()


def test_bad_input_on_the_group_forms_changes_nothing(operator, tenant, rpc):
    group_url = _new_group(operator, "購入動機", ["広告", "紹介"])
    before = _group_by_name(rpc, tenant, "購入動機")
    choice_id = before["choices"][0]["id"]

    too_long = post(operator, f"{group_url}/choices/{choice_id}", {"action": "rename", "label": "あ" * 126},
                    token_from=group_url)
    assert too_long.status_code == 400 and "125文字以内で入力してください。" in too_long.get_data(as_text=True)
    blank = post(operator, f"{group_url}/choices/{choice_id}", {"action": "rename", "label": ""}, token_from=group_url)
    assert blank.status_code == 400 and "必須項目です。" in blank.get_data(as_text=True)
    added = post(operator, group_url + "/choices", {"label": "い" * 126}, token_from=group_url)
    assert added.status_code == 400 and "125文字以内で入力してください。" in added.get_data(as_text=True)

    unnamed = post(operator, group_url, {"name": "", "in_use": "0"})
    assert unnamed.status_code == 400 and "必須項目です。" in unnamed.get_data(as_text=True)
    long_name = post(operator, group_url, {"name": "う" * 126, "in_use": "0"})
    assert long_name.status_code == 400 and "125文字以内で入力してください。" in long_name.get_data(as_text=True)
    new_group = post(operator, "/settings/groups/attribute/new", {"name": "え" * 126, "in_use": "1"})
    assert new_group.status_code == 400 and "125文字以内で入力してください。" in new_group.get_data(as_text=True)

    after = _group_by_name(rpc, tenant, "購入動機")
    assert after["choices"] == before["choices"] and after["in_use"] is True
    assert [grp["name"] for grp in rpc.customers.list_groups(tenant.operator_scope())] == ["購入動機"]
    listing = operator.get("/settings/groups").get_data(as_text=True)
    assert re.search(r"<td>購入動機</td>\s*<td>使用する</td>", listing) and "え" * 126 not in listing
    page = operator.get(group_url).get_data(as_text=True)
    assert 'value="広告"' in page and 'value="紹介"' in page and "あ" * 126 not in page


def test_deleting_a_customer(operator, tenant, rpc):
    kept = post(operator, "/customers/new", dict(customer_form(tenant, family_name="残る客"), action="save"))
    saved = post(operator, "/customers/new", dict(customer_form(tenant, family_name="消える客"), action="save"),
                 token_from="/customers/new")
    detail_url = saved.headers["Location"]
    customer_id = int(re.search(r"/customers/(\d+)", detail_url).group(1))
    post(operator, detail_url + "/support", {"staff": "LTV-X", "entered_at": "2022-09-28T18:00", "content": "問合せ"},
         token_from=detail_url + "/support?new=1")
    listing = operator.get("/customers/").get_data(as_text=True)
    assert "消える客" in listing and "残る客" in listing and "2件" in listing

    deleted = post(operator, f"/customers/{customer_id}/delete", {}, token_from=detail_url)
    assert deleted.status_code == 302 and deleted.headers["Location"].endswith("/customers/")
    listing = operator.get(deleted.headers["Location"]).get_data(as_text=True)
    assert "顧客を削除しました。" in listing and "消える客" not in listing and "残る客" in listing
    assert re.search(r"顧客一覧 <small>1件</small>", listing)
    with pytest.raises(NotFound):
        rpc.customers.get_customer(tenant.operator_scope(), customer_id)
    with pytest.raises(NotFound):
        rpc.customers.list_support_entries(tenant.operator_scope(), customer_id)
    assert operator.get(detail_url).status_code == 404
    assert rpc.customers.list_customers(tenant.operator_scope(), 1, 50, "")["total"] == 1
    assert operator.get(kept.headers["Location"]).status_code == 200


def test_editing_a_support_entry(operator, tenant, rpc):
    saved = post(operator, "/customers/new", dict(customer_form(tenant), action="save"))
    customer_id = int(re.search(r"/customers/(\d+)", saved.headers["Location"]).group(1))
    support_url = f"/customers/{customer_id}/support"
    post(operator, support_url, {"staff": "LTV-X", "entered_at": "2022-09-28T18:00", "content": "初回の問合せ。"},
         token_from=support_url + "?new=1")
    entry = rpc.customers.list_support_entries(tenant.operator_scope(), customer_id)[0]
    edit_url = f"{support_url}/{entry['id']}/edit"
    form = operator.get(edit_url).get_data(as_text=True)
    assert 'value="LTV-X"' in form and "初回の問合せ。</textarea>" in form and 'value="2022/09/28 18:00"' in form

    edited = post(operator, edit_url, {"staff": "佐藤", "entered_at": "2022/09/29 10:30", "content": "折り返し済み。"})
    assert edited.status_code == 302 and edited.headers["Location"].endswith(support_url)
    page = operator.get(support_url).get_data(as_text=True)
    assert "対応履歴を更新しました。" in page and "折り返し済み。" in page and "佐藤" in page
    assert "2022-09-29 10:30" in page and "初回の問合せ。" not in page
    [changed] = rpc.customers.list_support_entries(tenant.operator_scope(), customer_id)
    assert (changed["id"], changed["staff"], changed["content"]) == (entry["id"], "佐藤", "折り返し済み。")
    assert changed["version"] == entry["version"] + 1

    refused = post(operator, edit_url, {"staff": "  ", "entered_at": "2022-09-30T09:00", "content": ""})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and text.count("必須項目です。") == 2
    assert rpc.customers.list_support_entries(tenant.operator_scope(), customer_id) == [changed]
    page = operator.get(support_url).get_data(as_text=True)
    assert "折り返し済み。" in page and "2022-09-29 10:30" in page
    assert operator.get(f"{support_url}/{entry['id'] + 100000}/edit").status_code == 404


def test_the_customer_list_pager_numbers_its_pages_and_keeps_the_filter(operator, tenant, rpc):
    scope = tenant.operator_scope()
    rpc.customers.upsert_customers(scope, [{"member_number": f"L{i:03d}", "shop_id": tenant.shops[0]["id"],
                                            "family_name": "一覧", "given_name": f"{i}番"} for i in range(1, 121)])
    first = operator.get("/customers/?q=一覧").get_data(as_text=True)
    nav = re.search(r'<nav class="pager".*?</nav>', first, re.S).group(0)
    assert "120件中 1〜50件" in nav and '<span class="current" aria-current="page">1</span>' in nav
    links = {re.sub(r"<[^>]+>", "", label).strip(): href.replace("&amp;", "&")
             for href, label in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', nav)}
    q = "q=%E4%B8%80%E8%A6%A7"
    assert links == {"2": f"/customers/?page=2&{q}", "3": f"/customers/?page=3&{q}",
                     "次へ ›": f"/customers/?page=2&{q}", "最後 »": f"/customers/?page=3&{q}"}
    last = operator.get(f"/customers/?page=3&{q}").get_data(as_text=True)  # newest first: the first 20 come last
    assert re.findall(r'<td><a href="/customers/\d+">(L\d+)</a></td>', last) == [f"L{i:03d}" for i in range(20, 0, -1)]
    nav = re.search(r'<nav class="pager".*?</nav>', last, re.S).group(0)
    assert "120件中 101〜120件" in nav and "« 最初" in nav and "最後 »" in nav
