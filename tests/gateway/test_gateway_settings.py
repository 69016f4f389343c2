"""各種設定 as an operator meets them first: 基本設定 per shop reaching each shop's public page, the tabs saying whose
settings they hold, 機能のご契約状況; the customer page's header; a customer registered with a shop and a name only;
the public page's errors all at once."""
import re

from services.customers.fields import FORM_FIELDS
from tests.gateway.conftest import csrf_token, log_in
from tests.support import wait_for


def post(client, path, data, token_from=None):
    return client.post(path, data=dict(data, csrf_token=csrf_token(client, token_from or path)))


def basic_form(**modes):
    form = {f"field_{name}": "shown" for name, _label in FORM_FIELDS}
    form.update({f"field_{name}": mode for name, mode in modes.items()})
    form.update({"notification_subject": "【{shop_name}】ご登録ありがとうございます",
                 "notification_body": "{family_name} 様\n会員番号 {member_number}"})
    return form


def pick_shop(client, shop_id):
    response = post(client, "/shop-picker", {"shop_id": str(shop_id), "next": "/settings/basic"},
                    token_from="/settings/basic")
    assert response.status_code == 302


def test_basic_settings_are_per_shop_and_reach_that_shops_public_page_only(operator, tenant, app):
    main, branch = tenant.shops
    page = operator.get("/settings/basic").get_data(as_text=True)
    assert "①店舗を選択して下さい。" in page and "103: テスト本店" in page and "5019: テスト支店" in page
    assert "店舗ごとの設定です（店舗: 103: テスト本店）" in page
    assert "この店舗の設定はまだ登録されていません。企業の初期値を表示しています。" in page

    saved = post(operator, "/settings/basic", basic_form(phone="required", remarks="hidden"))
    assert saved.status_code == 302
    page = operator.get("/settings/basic").get_data(as_text=True)
    assert "基本設定（店舗 103: テスト本店）を登録しました。" in page and "この店舗の設定を表示しています" in page
    pick_shop(operator, branch["id"])
    page = operator.get("/settings/basic").get_data(as_text=True)
    assert "店舗ごとの設定です（店舗: 5019: テスト支店）" in page and "まだ登録されていません" in page
    assert re.search(r'name="field_phone" value="hidden"[^>]*checked', page), "the branch still has the defaults"

    visitor = app.test_client()
    main_page = visitor.get(f"/register/{tenant.company_id}/103").get_data(as_text=True)
    branch_page = visitor.get(f"/register/{tenant.company_id}/5019").get_data(as_text=True)
    assert "■電話番号:<span class=\"req\">※</span>" in main_page and "■備考" not in main_page
    assert "■電話番号" not in branch_page
    refused = post(visitor, f"/register/{tenant.company_id}/103", {"agreed_to_terms": "1", "family_name": "鈴木",
                                                                   "given_name": "花子"})
    assert refused.status_code == 400 and "必須項目です。" in refused.get_data(as_text=True)
    done = post(visitor, f"/register/{tenant.company_id}/5019", {"agreed_to_terms": "1", "family_name": "鈴木",
                                                                 "given_name": "花子", "mail_permission": "refused"})
    assert done.status_code == 200 and "会員登録が完了しました" in done.get_data(as_text=True)


def test_the_company_defaults_are_what_a_shop_without_its_own_settings_follows(operator, tenant, app, stack):
    page = operator.get("/settings/basic?defaults=1").get_data(as_text=True)
    assert "企業の初期値です。店舗ごとの設定を登録していない店舗（新しい店舗を含む）の会員登録画面に使われます。" in page
    form = dict(basic_form(birth_date="required"), defaults="1",
                notification_subject="{shop_name}（初期値）へようこそ")
    assert post(operator, "/settings/basic?defaults=1", form).status_code == 302
    visitor = app.test_client()
    branch = visitor.get(f"/register/{tenant.company_id}/5019").get_data(as_text=True)
    assert "■生年月日:<span class=\"req\">※</span>" in branch
    address = f"defaults{tenant.company_id}@example.jp"
    done = post(visitor, f"/register/{tenant.company_id}/5019", {
        "agreed_to_terms": "1", "family_name": "鈴木", "given_name": "花子", "birth_date": "19900101",
        "mail_permission": "pc", "email": address})
    assert done.status_code == 200
    mail = wait_for(lambda: stack.mail.messages_to(address), message="the notification mail")[0]
    assert mail["Subject"] == "テスト支店（初期値）へようこそ"


def test_a_shop_account_sets_its_own_shops_basic_settings_only(shop_account, tenant, app, rpc):
    page = shop_account.get("/settings/basic").get_data(as_text=True)
    assert "103: テスト本店" in page and "5019" not in page and "企業の初期値を設定する" not in page
    assert post(shop_account, "/settings/basic", basic_form(gender="required")).status_code == 302
    # ?defaults=1 gives a shop account nothing but its own shop
    assert post(shop_account, "/settings/basic?defaults=1", dict(basic_form(gender="required", kana="required"), defaults="1")
                ).status_code == 302
    visitor = app.test_client()
    main_page = visitor.get(f"/register/{tenant.company_id}/103").get_data(as_text=True)
    assert "■性別:<span class=\"req\">※</span>" in main_page and "■フリガナ:<span class=\"req\">※</span>" in main_page
    branch_page = visitor.get(f"/register/{tenant.company_id}/5019").get_data(as_text=True)
    assert "■性別:<span" not in branch_page and "■フリガナ:<span" not in branch_page
    defaults = rpc.customers.get_registration_settings(tenant.operator_scope())
    assert defaults["fields"]["gender"] == "shown" and defaults["version"] == 0


def test_every_settings_tab_says_whether_it_is_per_shop_or_per_company(operator, tenant):
    expected = {
        "/settings/basic": "店舗ごとの設定です（店舗: 103: テスト本店）",
        "/settings/remarks": "企業全体の設定です（全店舗共通）。",
        "/settings/groups": "企業全体の設定です（全店舗共通）。",
        "/settings/groups/history": "企業全体の設定です（全店舗共通）。",
        "/settings/products/": "店舗ごとの設定です（店舗: 103: テスト本店）",
        "/settings/shops/": "店舗の一覧と企業情報・IP設定は企業全体、店舗情報・QRコード・権限設定は店舗ごとです。",
        "/settings/shops/company": "店舗の一覧と企業情報・IP設定は企業全体",
    }
    for path, line in expected.items():
        response = operator.get(path)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, path
        assert re.search(r'data-testid="settings-scope">[^<]*' + re.escape(line), page), path


def test_company_info_shows_the_functions_the_company_has(operator):
    page = operator.get("/settings/shops/company").get_data(as_text=True)
    assert "機能のご契約状況" in page
    for label in ("顧客管理: 検索", "顧客管理: 登録・顧客一覧", "顧客管理: インポート機能", "配信管理", "会員登録画面",
                  "店舗管理"):
        assert f"<th>{label}</th>" in page
    assert page.count("ご契約中") == 8
    listing = operator.get("/settings/shops/").get_data(as_text=True)
    assert 'title="機能のご契約状況を表示します">企業情報</a>' in listing


def test_a_shop_and_a_name_alone_register_a_customer(operator, tenant):
    blank = operator.get("/customers/new").get_data(as_text=True)
    assert not re.search(r'name="mail_permission" value="\w+"\s+checked', blank), "送信許可 follows the addresses"
    form = {"shop_id": str(tenant.shops[0]["id"]), "family_name": "山田", "given_name": "太郎"}
    confirm = post(operator, "/customers/new", dict(form, action="confirm"))
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "顧客登録 確認" in page and "送信拒否" in page
    saved = post(operator, "/customers/new", dict(form, action="save"), token_from="/customers/new")
    assert saved.status_code == 302
    detail = operator.get(saved.headers["Location"]).get_data(as_text=True)
    assert "顧客を登録しました" in detail and "山田 太郎" in detail


def test_without_a_picked_permission_the_address_entered_decides_it(operator, tenant, rpc):
    form = {"shop_id": str(tenant.shops[0]["id"]), "family_name": "携帯", "mobile_email": "keitai@example.jp"}
    saved = post(operator, "/customers/new", dict(form, action="save"))
    assert saved.status_code == 302
    customer_id = int(re.search(r"/customers/(\d+)", saved.headers["Location"]).group(1))
    assert rpc.customers.get_customer(tenant.operator_scope(), customer_id)["mail_permission"] == "mobile"
    # a permission picked still needs its address
    refused = post(operator, "/customers/new", dict(form, family_name="PC", mail_permission="pc", action="confirm"))
    assert refused.status_code == 400
    assert "送信許可に合わせてメールアドレスを入力してください" in refused.get_data(as_text=True)


def test_the_customer_header_shows_the_latest_shop_and_mail(operator, tenant, rpc):
    scope = tenant.operator_scope()
    main, branch = tenant.shops
    customer = rpc.customers.create_customer(scope, {"shop_id": main["id"], "family_name": "履歴",
                                                     "member_number": f"H-{tenant.company_id}",
                                                     "pc_email": "rireki@example.jp", "mail_permission": "pc"})
    page = operator.get(f"/customers/{customer['id']}").get_data(as_text=True)
    assert 'data-testid="latest-shop">―<' in page and 'data-testid="latest-mail-sent">―<' in page
    for shop, day in ((branch, "2026-10-01T10:00:00"), (main, "2026-09-01T10:00:00")):
        rpc.purchases.create_purchase(scope, {"customer_id": customer["id"], "shop_id": shop["id"],
                                              "purchased_at": day,
                                              "lines": [{"product_code": "H-1", "quantity": 1, "unit_price": 500}]})
    rpc.mailhistory.upsert_mails(scope, [{"mail_number": 1, "kind": "manual", "name": "秋のご案内"},
                                         {"mail_number": 2, "kind": "manual", "name": "冬のご案内"}])
    for number, day in ((2, "2026-11-20T09:00:00"), (1, "2026-10-05T09:00:00")):
        rpc.mailhistory.record_activities(scope, [{"activity": "delivery", "mail_number": number,
                                                   "member_number": customer["member_number"], "result": "delivered",
                                                   "address": "rireki@example.jp", "occurred_at": day}])
    for path in (f"/customers/{customer['id']}", f"/customers/{customer['id']}/support",
                 f"/customers/{customer['id']}/purchases/", f"/customers/{customer['id']}/mails"):
        page = operator.get(path).get_data(as_text=True)
        assert 'data-testid="latest-shop">5019: テスト支店<' in page, path
        assert 'data-testid="latest-mail-sent">2026-11-20<' in page, path


def test_the_public_page_reports_every_error_at_once(app, tenant):
    visitor = app.test_client()
    path = f"/register/{tenant.company_id}/103"
    response = post(visitor, path, {"family_name": "", "given_name": "花子", "family_kana": "suzuki",
                                    "birth_date": "20081345", "mail_permission": "pc", "email": "hanako@"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for message in ("利用規約に同意してください。", "必須項目です。", "フリガナはカタカナまたはひらがなで入力してください。",
                    "メールアドレスの形式が正しくありません。", "日付が正しくありません。"):
        assert message in page, message
    assert page.count('role="alert"') == 6  # the banner and the five fields
