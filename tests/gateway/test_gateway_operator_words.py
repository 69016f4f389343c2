"""What an operator meets first: downloads in the operator's words and Japan time, refused search fields named as the
screen names them, /healthz while the index fills."""
import csv
import io

from tests.support import wait_for


def cells(data, codec="utf-8-sig"):
    return list(csv.reader(io.StringIO(data.decode(codec))))


def test_the_list_download_speaks_the_operators_language(operator, tenant, rpc):
    scope = tenant.operator_scope()
    customer = rpc.customers.create_customer(scope, {
        "shop_id": tenant.shops[0]["id"], "member_number": "W-1", "family_name": "言葉", "gender": "female",
        "birth_date": "1980-05-01", "mail_permission": "mobile", "mobile_email": "w1@example.ne.jp"})
    rpc.purchases.record_orders(scope, [{"shop_id": tenant.shops[0]["id"], "order_code": "W-ORDER-1",
                                         "member_number": "W-1", "purchased_at": "2026-11-25T09:00:00",
                                         "lines": [{"product_code": "W-P", "quantity": 1, "unit_price": 1200}]}])
    wait_for(lambda: rpc.search.count(scope, {"latest": {"purchase_count": {"min": 1}}})["total"] == 1,
             timeout=20, message="the purchase in the index")
    columns = "".join(f"&columns={c}" for c in ("member_number", "family_name", "gender", "birth_date",
                                                 "mail_permission", "purchase_count", "latest_purchase_at"))
    download = operator.get(f"/customers/search/export.csv?search=1&member_numbers=W-1{columns}&encoding=utf8bom")
    assert download.status_code == 200
    assert cells(download.get_data()) == [
        ["会員番号", "名前（姓）", "性別", "生年月日", "送信許可", "累計購入回数", "最新購入日"],
        ["W-1", "言葉", "女性", "1980/05/01", "携帯", "1", "2026/11/25"]]
    rpc.customers.update_customer(scope, customer["id"], {"mail_permission": "refused", "mobile_email": ""})
    wait_for(lambda: rpc.search.count(scope, {"attributes": {"mail_permissions": ["refused"]}})["total"] == 1,
             timeout=20, message="the change in the index")
    download = operator.get("/customers/search/export.csv?search=1&member_numbers=W-1&columns=mail_permission"
                            "&columns=registered_at&encoding=utf8bom")
    header, row = cells(download.get_data())
    assert header == ["送信許可", "登録日時"] and row[0] == "送信拒否"
    assert len(row[1]) == 16 and row[1][4] == "/" and row[1][7] == "/" and row[1][13] == ":"  # 2026/12/02 19:40


def test_the_download_panel_offers_the_search_services_columns(operator):
    page = operator.get("/customers/search/?search=1").get_data(as_text=True)
    assert 'value="family_kana" checked> フリガナ（セイ）' in page and 'value="gender" > 性別' in page


def test_the_purchase_download_speaks_the_operators_language(operator, tenant, rpc):
    scope = tenant.operator_scope()
    customer = rpc.customers.create_customer(scope, {"shop_id": tenant.shops[0]["id"], "member_number": "W-2",
                                                     "family_name": "購入"})
    recorded = rpc.purchases.record_orders(scope, [{
        "shop_id": tenant.shops[0]["id"], "order_code": "W-ORDER-2", "member_number": "W-2",
        "purchased_at": "2026-11-25T09:00:00", "shipped_at": "2026-11-26T14:30:00+09:00", "media": "instagram",
        "billed_amount": 900,
        "lines": [{"product_code": "W-Q", "product_name": "言葉の商品", "quantity": 2, "unit_price": 500}]}])
    rpc.purchases.set_counted(scope, recorded["purchases"][0]["id"], False)
    download = operator.get(f"/customers/{customer['id']}/purchases/export.csv?encoding=utf8bom")
    assert download.status_code == 200
    assert cells(download.get_data()) == [
        ["会員番号", "受注コード", "購入店舗", "購入日時", "発送日時", "商品番号", "商品名称", "商品備考", "商品数", "単価", "金額",
         "売上", "請求金額", "割引", "購入メディア", "集計対象"],
        ["W-2", "W-ORDER-2", "103: テスト本店", "2026/11/25 09:00", "2026/11/26 14:30", "W-Q", "言葉の商品", "", "2",
         "500", "1000", "1000", "900", "100", "instagram", "対象外"]]


def test_refused_search_fields_are_named_as_the_screen_names_them(operator):
    page = operator.get("/customers/search/?search=1&age_min=200&l_row1_codes=W-P")
    text = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "属性検索 年齢（下限）: " in text
    assert "最新購入情報 RFM分析 購入店舗: 購入商品を指定する場合は購入店舗を選択してください。" in text
    assert "age.min" not in text and "shop_ids" not in text.split("<form")[0]
    page = operator.get("/customers/search/?search=1&m_manual_ref=S99999&m_manual_sent=include")
    assert ("メール履歴 手動・手動シナリオ(一通目のみ)・曜日日時 送信履歴 履歴選択・メールID: 指定したメールIDのメールが見つかりません。"
            in page.get_data(as_text=True))
    assert "mail_ids" not in page.get_data(as_text=True)


def test_healthz_names_its_state_and_what_is_left_for_the_index(client):
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["status"] in ("ok", "indexing")
    assert set(body["index"]) == {"outbox_pending", "queued_events"}
    assert body["services"]["search"]["index"]["state"] in ("ready", "indexing")
    wait_for(lambda: client.get("/healthz").get_json()["status"] == "ok", timeout=30, message="the index caught up")
