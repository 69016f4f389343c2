"""The admin gateway through Flask's test client, with the real services behind it."""
import logging
import re

import pytest
from flask import url_for
from sqlalchemy import MetaData, create_engine, select

from tests.gateway.conftest import csrf_token, log_in
from tests.support import RPC_HUNG_SECONDS


def post(client, path, data, token_from=None):
    return client.post(path, data=dict(data, csrf_token=csrf_token(client, token_from or path)))


def issuing_form(client, page_path, data=None):
    """The fields a form that issues passwords posts: its CSRF token and its one-time issue token."""
    page = client.get(page_path).get_data(as_text=True)
    token = re.search(r'name="issue_token" value="([^"]+)"', page)
    assert token, f"no issue token on {page_path}"
    return dict(data or {}, csrf_token=csrf_token(client, page_path), issue_token=token.group(1))


def shop_form(**overrides):
    form = {"name": "LTV-Innovation Shop", "manager_name": "", "postal_code1": "105", "postal_code2": "0001",
            "address": "東京都港区虎ノ門", "phone1": "03", "phone2": "0000", "phone3": "0000", "sender_name": "",
            "sender_address": "", "status": "active"}
    form.update(overrides)
    return form


def test_login_page_speaks_the_manuals_words(client):
    page = client.get("/login").get_data(as_text=True)
    assert "ログインID" in page and "パスワード" in page and "ログイン" in page


def test_pages_need_a_login(client):
    response = client.get("/settings/shops/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_wrong_password_gets_a_japanese_message(client, tenant):
    response = client.post("/login", data={"login_id": tenant.operator_login, "password": "wrong",
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 401
    assert "ログインIDまたはパスワードが正しくありません。" in response.get_data(as_text=True)


def test_operator_sees_the_shop_list_with_the_manuals_columns(operator, tenant):
    page = operator.get("/settings/shops/").get_data(as_text=True)
    for word in ("店舗番号", "店舗名", "企業", "店長名", "登録日", "ステータス", "店舗情報", "QRコード", "権限設定",
                 "全店PW出力", "全店PW再生成", "IP設定", "企業情報", "テスト本店", "テスト支店"):
        assert word in page


def test_the_top_menu_and_cards_name_only_what_exists(operator):
    page = operator.get("/").get_data(as_text=True)
    for word in ("顧客管理", "配信管理", "各種設定", "検索・登録・顧客一覧・インポート機能",
                 "基本設定・備考・顧客グループ・商品・店舗管理", "集計", "RFM集計", "RFM設定"):
        assert word in page
    for word in ("準備中", "日報月報", "リピート率"):  # 集計's other reports are not built: not named
        assert word not in page
    assert 'href="/customers/search/"' in page and 'href="/reports/rfm"' in page
    # インポート機能 exists: the card names it and the 顧客管理 tabs lead to it
    tabs = operator.get("/customers/search/").get_data(as_text=True)
    assert 'href="/customers/imports/">インポート機能</a>' in tabs
    assert operator.get("/customers/imports/").status_code == 200


def test_the_settings_tabs_offer_no_screen_that_does_not_exist(operator):
    page = operator.get("/settings/remarks").get_data(as_text=True)
    assert 'href="/settings/rfm">RFM設定</a>' in page and "準備中" not in page
    assert operator.get("/settings/rfm").status_code == 200


def test_operator_edits_shop_info(operator, tenant):
    shop_id = tenant.shops[0]["id"]
    response = post(operator, f"/settings/shops/{shop_id}",
                    shop_form(manager_name="山田 太郎", phone1="０３", phone2="１２３４", phone3="５６７８", felica="1"))
    assert response.status_code == 302
    page = operator.get(f"/settings/shops/{shop_id}").get_data(as_text=True)
    assert 'value="山田 太郎"' in page and 'value="1234"' in page and "店舗情報を登録しました。" in page


def test_bad_shop_input_shows_a_message_by_the_field_and_changes_nothing(operator, tenant):
    shop_id = tenant.shops[0]["id"]
    response = post(operator, f"/settings/shops/{shop_id}", shop_form(name="", phone1="1", phone2="", phone3="",
                                                                      sender_address="not-mail"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "必須項目です。" in page
    assert "電話番号の形式が正しくありません" in page
    assert "メールアドレスの形式が正しくありません。" in page
    assert "テスト本店" in operator.get(f"/settings/shops/{shop_id}").get_data(as_text=True)


def test_operator_changes_a_permission(operator, tenant):
    shop_id = tenant.shops[1]["id"]
    form = {name: "0" for name in __import__("services.shops.permissions", fromlist=["NAMES"]).NAMES}
    form["may_export_customers"] = "1"
    assert post(operator, f"/settings/shops/{shop_id}/permissions", form).status_code == 302
    page = operator.get(f"/settings/shops/{shop_id}").get_data(as_text=True)
    assert "顧客情報 出力許可: <strong class=\"yes\">許可</strong>" in page
    assert "集計:売上 利用許可: <strong class=\"no\">不可</strong>" in page


def new_shop_form(client, **overrides):
    """The 店舗追加 form as shown (its CSRF token and request id) with a shop's fields filled in."""
    page = client.get("/settings/shops/new").get_data(as_text=True)
    request_id = re.search(r'name="request_id" value="([^"]+)"', page)
    assert request_id, "no request id on the 店舗追加 form"
    form = shop_form(shop_number="7001", name="新宿店", manager_name="佐藤 花子", felica="1")
    form.update(overrides)
    return dict(form, csrf_token=csrf_token(client, "/settings/shops/new"), request_id=request_id.group(1))


def test_operator_adds_a_shop_and_sees_its_login_id_and_password_once(operator, tenant, client):
    assert 'href="/settings/shops/new"' in operator.get("/settings/shops/").get_data(as_text=True)
    response = operator.post("/settings/shops/new", data=new_shop_form(operator))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "店舗を登録しました。" in page
    login_id = re.search(r'data-testid="login-id">([^<]+)<', page).group(1)
    password = re.search(r'data-testid="new-password">([^<]+)<', page).group(1)
    assert login_id == f"{tenant.company_id}7001"
    listed = operator.get("/settings/shops/").get_data(as_text=True)
    assert "新宿店" in listed and "佐藤 花子" in listed and ">7001<" in listed
    operator.get("/logout")
    log_in(client, login_id, password)  # the shown password is the new shop account's
    assert "新宿店" in client.get("/settings/shops/").get_data(as_text=True)


def test_a_taken_shop_number_is_refused_by_the_field_and_nothing_is_added(operator, tenant):
    response = operator.post("/settings/shops/new", data=new_shop_form(operator, shop_number="103", name="重複店"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "既に使われています。" in page and 'value="103"' in page and 'value="重複店"' in page
    assert "重複店" not in operator.get("/settings/shops/").get_data(as_text=True)


def test_bad_new_shop_input_shows_messages_by_the_field(operator):
    response = operator.post("/settings/shops/new", data=new_shop_form(operator, shop_number="abc", name="",
                                                                       phone1="", phone2="", phone3=""))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "半角数字で入力してください。" in page and "必須項目です。" in page and "電話番号の形式が正しくありません" in page
    response = operator.post("/settings/shops/new", data=new_shop_form(operator, shop_number=""))
    assert response.status_code == 400 and "必須項目です。" in response.get_data(as_text=True)
    assert "新宿店" not in operator.get("/settings/shops/").get_data(as_text=True)


def test_the_new_shop_form_posted_twice_adds_one_shop(operator, tenant, rpc):
    form = new_shop_form(operator, shop_number="7002", name="二重送信店")
    first = operator.post("/settings/shops/new", data=form)
    assert first.status_code == 200 and "店舗を登録しました。" in first.get_data(as_text=True)
    again = operator.post("/settings/shops/new", data=form)
    assert again.status_code == 302  # to the shop's page, saying it was added already and showing no password
    page = operator.get(again.headers["Location"]).get_data(as_text=True)
    assert "この店舗は登録済みです" in page and "二重送信店" in page
    names = [shop["name"] for shop in rpc.shops.list_shops(tenant.operator_scope())]
    assert names.count("二重送信店") == 1


def test_a_shop_account_never_sees_shop_adding_and_is_refused_it(shop_account, tenant, rpc):
    assert "店舗追加" not in shop_account.get("/settings/shops/").get_data(as_text=True)
    refused = shop_account.get("/settings/shops/new")
    assert refused.status_code == 403 and "権限がありません" in refused.get_data(as_text=True)
    assert "Traceback" not in refused.get_data(as_text=True)
    form = dict(shop_form(shop_number="7003", name="不正店"), csrf_token=csrf_token(shop_account, "/settings/shops/"))
    assert shop_account.post("/settings/shops/new", data=form).status_code == 403
    assert "不正店" not in [shop["name"] for shop in rpc.shops.list_shops(tenant.operator_scope())]


def test_shop_account_sees_only_its_shop_and_is_refused_the_rest(shop_account, tenant):
    own, other = tenant.shops[0]["id"], tenant.shops[1]["id"]
    page = shop_account.get("/settings/shops/").get_data(as_text=True)
    assert "テスト本店" in page and "テスト支店" not in page and "全店PW出力" not in page
    assert shop_account.get(f"/settings/shops/{other}").status_code == 403
    assert shop_account.get(f"/settings/shops/{other}/qr.png").status_code == 403
    refused = shop_account.get(f"/settings/shops/{own}/permissions")
    assert refused.status_code == 403 and "権限がありません" in refused.get_data(as_text=True)
    for path in ("/settings/shops/passwords/export", "/settings/shops/ip", "/settings/shops/company"):
        assert shop_account.get(path).status_code == 403
    assert post(shop_account, f"/settings/shops/{own}", shop_form(name="改ざん"),
                token_from="/settings/shops/").status_code == 403


def _tenant_rows(urls, company_id):
    """Every row the tenant owns in the owners' databases and its saved searches, to show a refused post changed
    nothing. Tables without a company column are taken whole (only requests change them); the outbox without its
    delivery columns, which the relay fills in on its own."""
    state = {}
    owned = {"shops": None, "customers": None, "purchases": None, "mailhistory": None,
             "search": ("saved_searches", "saved_search_members", "export_logs")}
    for service, tables in owned.items():
        engine = create_engine(urls[service])
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            for table in metadata.sorted_tables:
                if tables is not None and table.name not in tables:
                    continue
                columns = [c for c in table.columns if c.name not in ("published_at", "attempts", "last_error")]
                query = select(*columns)
                if "company_id" in table.columns:
                    query = query.where(table.columns["company_id"] == company_id)
                state[f"{service}.{table.name}"] = sorted(map(repr, connection.execute(query)))
        engine.dispose()
    return state


def _every_posting_url(app, values):
    """A URL for every POST route of the app, its arguments filled from ``values`` (by name, and by kind for the
    two kinds of 顧客グループ / 履歴グループ routes)."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        kinds = re.search(r"<any\(([^)]*)\):kind>", rule.rule)
        for kind in sorted(k.strip() for k in kinds.group(1).split(",")) if kinds else [None]:
            known = values[kind] if kind else values[None]
            missing = set(rule.arguments) - set(known) - ({"kind"} if kind else set())
            assert not missing, f"{rule.rule}: give this test a {sorted(missing)} to post to"
            arguments = {name: known[name] for name in rule.arguments if not (kind and name == "kind")}
            if kind:
                arguments["kind"] = kind
            with app.test_request_context():
                urls.append(url_for(rule.endpoint, **arguments))
    return urls


def test_every_post_without_csrf_token_is_refused_and_changes_nothing(client, app, tenant, rpc, stack):
    scope = tenant.operator_scope()
    shop_id = tenant.shops[0]["id"]
    customer = rpc.customers.create_customer(scope, {"shop_id": shop_id, "family_name": "改ざん", "given_name": "防止"})
    entry = rpc.customers.add_support_entry(scope, customer["id"], {"staff": "担当", "entered_at": "2026-11-01T10:00:00",
                                                                    "content": "対応"})
    product = rpc.purchases.add_product(scope, shop_id, {"code": "CSRF-1", "name": "商品", "price": 100})
    category = rpc.purchases.add_category(scope, shop_id, {"name": "カテゴリ"})
    purchase = rpc.purchases.create_purchase(scope, {"shop_id": shop_id, "customer_id": customer["id"],
                                                     "purchased_at": "2026-11-01T12:00:00+09:00",
                                                     "lines": [{"product_code": "CSRF-1", "quantity": 1}]})
    attribute = rpc.customers.add_group(scope, {"name": "会員ランク", "in_use": True})
    attribute = rpc.customers.add_choice(scope, attribute["id"], {"label": "ゴールド"})
    history = rpc.purchases.add_history_group(scope, {"name": "媒体", "in_use": True})
    history = rpc.purchases.add_history_choice(scope, history["id"], {"label": "電話"})
    saved = rpc.search.save_search(scope, "保存した検索", {})
    upload = rpc.customers.create_import(scope, shop_id, "会員.csv")  # インポート機能's pages take a kind of file too
    common = {"import_id": upload["id"], "kind": "customers","customer_id": customer["id"], "purchase_id": purchase["id"], "entry_id": entry["id"],
              "saved_id": saved["id"], "product_id": product["id"], "category_id": category["id"], "shop_id": shop_id,
              "company_id": tenant.company_id, "shop_number": tenant.shops[0]["shop_number"]}
    values = {None: common}
    for kind, group in (("attribute", attribute), ("history", history)):
        values[kind] = dict(common, group_id=group["id"], choice_id=group["choices"][0]["id"])
    urls = _every_posting_url(app, values)

    log_in(client, tenant.operator_login, tenant.password)
    before = _tenant_rows(stack.urls, tenant.company_id)
    accepted = {}
    for url in sorted(urls, key=lambda url: url == "/logout"):  # logging out last, should it not be refused
        response = client.post(url, data={"name": "改ざん", "label": "改ざん", "family_name": "改ざん", "action": "save",
                                          "shop_id": str(shop_id), "networks": "192.0.2.0/24"})
        if response.status_code != 400 or "不正な送信" not in response.get_data(as_text=True):
            accepted[url] = response.status_code
    assert accepted == {}, "posted without a CSRF token and not refused"
    assert _tenant_rows(stack.urls, tenant.company_id) == before
    assert client.get("/").status_code == 200, "the refused /logout left the session open"


def test_regenerate_shows_the_new_password_once_and_never_logs_it(operator, tenant, client, caplog):
    shop_id = tenant.shops[0]["id"]
    caplog.set_level(logging.DEBUG)
    form = issuing_form(operator, f"/settings/shops/{shop_id}")
    response = operator.post(f"/settings/shops/{shop_id}/password", data=form)
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    password = page.split('data-testid="new-password">')[1].split("<")[0]
    assert len(password) >= 12
    assert password not in operator.get(f"/settings/shops/{shop_id}").get_data(as_text=True)
    assert password not in caplog.text
    # reloading the answer posts the same form again: nothing more is issued, the password shown stays valid
    again = operator.post(f"/settings/shops/{shop_id}/password", data=form, follow_redirects=True)
    assert "実行済み" in again.get_data(as_text=True) and 'data-testid="new-password"' not in again.get_data(as_text=True)
    without_token = operator.post(f"/settings/shops/{shop_id}/password", data={"csrf_token": form["csrf_token"]})
    assert without_token.status_code == 302
    operator.post("/logout", data={"csrf_token": csrf_token(operator, "/")})
    log_in(client, tenant.shops[0]["login_id"], password)


def test_reloading_all_shops_regenerated_passwords_issues_none(operator, tenant, client):
    form = issuing_form(operator, "/settings/shops/passwords/regenerate")
    first = operator.post("/settings/shops/passwords/regenerate", data=form).get_data(as_text=True)
    login_id = tenant.shops[1]["login_id"]
    assert login_id in first
    again = operator.post("/settings/shops/passwords/regenerate", data=form, follow_redirects=True)
    assert "実行済み" in again.get_data(as_text=True) and login_id not in again.get_data(as_text=True)
    download = issuing_form(operator, "/settings/shops/passwords/export", {"encoding": "utf8bom"})
    assert operator.post("/settings/shops/passwords/export", data=download).mimetype == "text/csv"
    repeated = operator.post("/settings/shops/passwords/export", data=download, follow_redirects=True)
    assert repeated.mimetype == "text/html" and "実行済み" in repeated.get_data(as_text=True)


@pytest.mark.parametrize("encoding, codec", [("cp932", "cp932"), ("utf8bom", "utf-8-sig")])
def test_export_all_passwords_downloads_a_one_time_csv(operator, tenant, encoding, codec, caplog):
    caplog.set_level(logging.DEBUG)
    response = operator.post("/settings/shops/passwords/export",
                             data=issuing_form(operator, "/settings/shops/passwords/export", {"encoding": encoding}))
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data()
    if codec == "utf-8-sig":
        assert body.startswith(b"\xef\xbb\xbf")
    rows = [line.split(",") for line in body.decode(codec).strip().split("\r\n")]
    assert rows[0] == ["店舗番号", "店舗名", "ログインID", "パスワード"]
    assert [r[2] for r in rows[1:]] == [s["login_id"] for s in tenant.shops]
    assert rows[1][1] == "テスト本店"
    for row in rows[1:]:
        assert row[3] not in caplog.text
    operator.post("/logout", data={"csrf_token": csrf_token(operator, "/")})
    log_in(operator, rows[2][2], rows[2][3])


def test_ip_allowlist_is_enforced_at_login_and_on_every_request(app, tenant):
    inside = app.test_client()
    log_in(inside, tenant.operator_login, tenant.password)
    refused = post(inside, "/settings/shops/ip", {"networks": "192.0.2.0/24"})
    assert refused.status_code == 400 and "現在の接続元アドレスが含まれていません" in refused.get_data(as_text=True)
    bad = post(inside, "/settings/shops/ip", {"networks": "127.0.0.1\nexample.com"})
    assert "2行目: IPアドレスまたはCIDR" in bad.get_data(as_text=True)
    assert post(inside, "/settings/shops/ip", {"networks": "127.0.0.0/8\n2001:db8::/32"}).status_code == 302
    assert "2001:db8::/32" in inside.get("/settings/shops/ip").get_data(as_text=True)

    outside = app.test_client()
    outside.environ_base["REMOTE_ADDR"] = "203.0.113.50"
    response = outside.post("/login", data={"login_id": tenant.operator_login, "password": tenant.password,
                                            "csrf_token": csrf_token(outside)})
    assert response.status_code == 401
    assert "このIPアドレスからの接続は許可されていません" in response.get_data(as_text=True)

    # a session opened inside is refused once its requests come from outside
    inside.environ_base["REMOTE_ADDR"] = "203.0.113.50"
    assert inside.get("/settings/shops/").status_code == 302
    inside.environ_base["REMOTE_ADDR"] = "127.0.0.1"
    assert inside.get("/settings/shops/").status_code == 302, "the refused session was ended"


def test_company_info_is_edited_with_messages_by_field(operator):
    bad = post(operator, "/settings/shops/company", {"name": "", "email": "x@"})
    assert bad.status_code == 400
    page = bad.get_data(as_text=True)
    assert "必須項目です。" in page and "メールアドレスの形式が正しくありません。" in page
    good = post(operator, "/settings/shops/company", {"name": "新しい企業名", "postal_code1": "105", "postal_code2": "0001",
                                                      "phone1": "03", "phone2": "1111", "phone3": "2222"})
    assert good.status_code == 302
    assert 'value="新しい企業名"' in operator.get("/settings/shops/company").get_data(as_text=True)


def test_qr_code_images(operator, tenant):
    shop_id = tenant.shops[0]["id"]
    png = operator.get(f"/settings/shops/{shop_id}/qr.png")
    assert png.status_code == 200 and png.mimetype == "image/png" and png.data.startswith(b"\x89PNG")
    svg = operator.get(f"/settings/shops/{shop_id}/qr.svg?download=1")
    assert svg.mimetype == "image/svg+xml" and "attachment" in svg.headers["Content-Disposition"]
    page = operator.get(f"/settings/shops/{shop_id}/qr").get_data(as_text=True)
    assert f"/register/{tenant.company_id}/103" in page


def test_store_picker_switches_the_current_shop(operator, tenant):
    second = tenant.shops[1]["id"]
    response = post(operator, "/shop-picker", {"shop_id": second, "next": "/"}, token_from="/")
    assert response.status_code == 302
    assert f'<option value="{second}" selected>' in operator.get("/").get_data(as_text=True)
    assert post(operator, "/shop-picker", {"shop_id": 999999}, token_from="/").status_code == 403


def test_permission_flags_gate_features_in_one_place(tenant, stack):
    """A feature guarded by a flag: refused to a shop account without it, allowed once 権限設定 grants it."""
    from flask import Blueprint

    from gateway import create_app
    from gateway.auth import permission_required

    app = create_app({"AMQP_URI": stack.amqp_uri})
    probe = Blueprint("flag_probe", __name__)

    @probe.route("/probe/customer-export")
    @permission_required("may_export_customers")
    def customer_export():
        return "ok"

    app.register_blueprint(probe)
    client = app.test_client()
    log_in(client, tenant.shops[0]["login_id"], tenant.password)
    assert client.get("/probe/customer-export").status_code == 403
    from services.shops.permissions import DEFAULTS
    from nameko.standalone.rpc import ClusterRpcProxy

    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=RPC_HUNG_SECONDS) as rpc:
        rpc.shops.update_permissions(tenant.operator_scope(), tenant.shops[0]["id"],
                                     dict(DEFAULTS, may_export_customers=True))
    assert client.get("/probe/customer-export").status_code == 200
    app.extensions["rpc_pool"].close()


def test_healthz_reports_every_service_and_the_broker(client):
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["broker"] == "ok"
    assert set(body["services"]) == {"shops", "customers", "purchases", "mailhistory", "search"}


def test_unknown_pages_and_errors_never_show_a_traceback(operator):
    response = operator.get("/no/such/page")
    assert response.status_code == 404 and "Traceback" not in response.get_data(as_text=True)
    assert operator.get("/settings/shops/99999999").status_code == 404
