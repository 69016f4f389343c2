"""顧客管理 > 検索 through the gateway (Flask's client, real services and index)."""
import re

from tests.support import some_never_bought, wait_for


def test_search_page_counts_and_lists(operator, tenant, rpc):
    scope = tenant.operator_scope()
    for number, (name, gender) in enumerate((("検索 花子", "female"), ("検索 太郎", "male")), start=1):
        family, given = name.split()
        rpc.customers.create_customer(scope, {"shop_id": tenant.shops[0]["id"], "family_name": family,
                                              "given_name": given, "gender": gender, "member_number": f"Q{number}"})
    wait_for(lambda: rpc.search.count(scope, {})["total"] == 2, message="the index")
    page = operator.get("/customers/search/").get_data(as_text=True)
    for word in ("属性検索", "最新購入情報 RFM分析", "期間設定", "手動・手動シナリオ(一通目のみ)・曜日日時 送信履歴",
                 "自動・自動シナリオ(手動シナリオの2通目以降含む) 送信履歴", "検索", "クリア"):
        assert word in page
    everyone = operator.get("/customers/search/?search=1").get_data(as_text=True)
    assert re.search(r'data-testid="total">2<', everyone)
    women = operator.get("/customers/search/?search=1&genders=female&l_count_min=0&l_count_max=0")
    text = women.get_data(as_text=True)
    assert re.search(r'data-testid="total">1<', text) and "検索 花子" in text and "検索 太郎" not in text
    assert re.search(r'data-testid="count-attributes">1<', text) and re.search(r'data-testid="count-latest">2<', text)
    bad = operator.get("/customers/search/?search=1&age_min=50&age_max=20")
    assert bad.status_code == 400 and "下限が上限を超えています。" in bad.get_data(as_text=True)


def test_list_download_is_permission_gated_streamed_and_logged(operator, tenant, rpc, app, stack):
    from services.shops.permissions import DEFAULTS
    from tests.gateway.conftest import log_in

    scope = tenant.operator_scope()
    rpc.customers.upsert_customers(scope, [{"member_number": f"DL{i}", "shop_id": tenant.shops[0]["id"],
                                            "family_name": "出力", "given_name": f"{i}番"} for i in range(12)])
    wait_for(lambda: rpc.search.count(scope, {})["total"] == 12, message="the index")
    download = operator.get("/customers/search/export.csv?search=1&name=出力&columns=member_number&columns=family_name"
                            "&encoding=cp932")
    assert download.status_code == 200 and download.is_streamed
    lines = download.get_data().decode("cp932").strip().split("\r\n")
    assert lines[0] == "会員番号,名前（姓）" and len(lines) == 13 and "DL0,出力" in lines
    logs = rpc.search.export_logs(scope)
    assert logs[0]["rows"] == 12 and logs[0]["columns"] == ["member_number", "family_name"]
    assert logs[0]["conditions"]["attributes"]["name"] == "出力" and logs[0]["completed"]

    shop = app.test_client()
    log_in(shop, tenant.shops[0]["login_id"], tenant.password)
    assert shop.get("/customers/search/export.csv?search=1").status_code == 403
    rpc.shops.update_permissions(scope, tenant.shops[0]["id"], dict(DEFAULTS, may_export_customers=True))
    allowed = shop.get("/customers/search/export.csv?search=1&encoding=utf8bom")
    assert allowed.status_code == 200 and allowed.get_data().startswith(b"\xef\xbb\xbf")


def test_saved_searches_live_and_frozen(operator, tenant, rpc):
    from tests.gateway.conftest import csrf_token

    scope = tenant.operator_scope()
    rpc.customers.create_customer(scope, {"shop_id": tenant.shops[0]["id"], "family_name": "保存", "gender": "female"})
    wait_for(lambda: rpc.search.count(scope, {})["total"] == 1, message="the index")
    query = "search=1&genders=female"
    for frozen, name in (("0", "女性（都度）"), ("1", "女性（固定）")):
        response = operator.post("/customers/search/saved", data={
            "query": query, "name": name, "frozen": frozen, "csrf_token": csrf_token(operator, "/customers/search/")})
        assert response.status_code == 302
    saved = {s["name"]: s for s in rpc.search.list_saved_searches(scope)}
    assert saved["女性（固定）"]["customer_count"] == 1 and not saved["女性（都度）"]["frozen"]
    rpc.customers.create_customer(scope, {"shop_id": tenant.shops[0]["id"], "family_name": "追加", "gender": "female"})
    wait_for(lambda: rpc.search.count(scope, {})["total"] == 2, message="the index")
    live = rpc.search.count(scope, {"saved_search_id": saved["女性（都度）"]["id"]})["total"]
    frozen = rpc.search.count(scope, {"saved_search_id": saved["女性（固定）"]["id"]})["total"]
    assert (live, frozen) == (2, 1)
    # a live search saved within the fixed list stays within it when evaluated again
    narrowed = rpc.search.save_search(scope, "固定の中の女性", {"attributes": {"genders": ["female"]},
                                                         "saved_search_id": saved["女性（固定）"]["id"]}, False)
    assert rpc.search.count(scope, {"saved_search_id": narrowed["id"]})["total"] == 1
    page = operator.get(f"/customers/search/?search=1&saved={saved['女性（固定）']['id']}").get_data(as_text=True)
    assert "保存した検索「女性（固定）」" in page and re.search(r'data-testid="total">1<', page)


def test_line_condition_in_the_attribute_panel(operator, tenant, rpc):
    scope = tenant.operator_scope()
    for number, (name, line) in enumerate((("線 許可", True), ("線 拒否", False)), start=1):
        family, given = name.split()
        rpc.customers.create_customer(scope, {"shop_id": tenant.shops[0]["id"], "family_name": family,
                                              "given_name": given, "line_permission": line,
                                              "member_number": f"L{number}"})
    wait_for(lambda: rpc.search.count(scope, {"attributes": {"line_permission": False}})["total"] == 1,
             message="the index")
    page = operator.get("/customers/search/").get_data(as_text=True)
    assert "LINE配信" in page and "LINE許可" in page and "LINE拒否" in page
    for flag, shown, hidden in (("0", "線 拒否", "線 許可"), ("1", "線 許可", "線 拒否")):
        text = operator.get(f"/customers/search/?search=1&line_permission={flag}").get_data(as_text=True)
        assert re.search(r'data-testid="total">1<', text) and shown in text and hidden not in text, flag
        assert re.search(rf'name="line_permission" value="{flag}"\s+checked', text)
    either = operator.get("/customers/search/?search=1&line_permission=").get_data(as_text=True)
    assert re.search(r'data-testid="total">2<', either)


def test_period_shops_alone_are_a_condition_of_the_form():
    from werkzeug.datastructures import MultiDict

    from gateway.views.search import conditions_from

    conditions = conditions_from(MultiDict([("p_shop_ids", "3"), ("p_bought", "1")]), [])
    assert conditions["period"]["shop_ids"] == [3]
    assert "period" not in conditions_from(MultiDict([("p_bought", "1")]), [])


def test_mails_chosen_by_typed_id_with_s_for_scenarios_and_by_kind(operator, tenant, rpc):
    scope = tenant.operator_scope()
    shop = tenant.shops[0]["id"]
    rpc.customers.upsert_customers(scope, [{"member_number": f"ML{i}", "shop_id": shop, "family_name": "配信",
                                            "given_name": f"{i}"} for i in range(1, 4)])
    rpc.mailhistory.upsert_mails(scope, [
        {"mail_number": 21, "kind": "manual", "name": "冬のご案内"},
        {"mail_number": 22, "kind": "manual_scenario", "name": "初回", "scenario_number": 7, "step": 1},
        {"mail_number": 23, "kind": "scheduled", "name": "毎週"}])
    rpc.mailhistory.record_activities(scope, [
        {"activity": "delivery", "mail_number": number, "member_number": member, "result": "delivered",
         "address": f"{member}@ex.jp", "occurred_at": "2026-11-02T10:00:00"}
        for number, member in ((21, "ML1"), (22, "ML2"), (23, "ML3"))])
    wait_for(lambda: rpc.search.count(scope, {"mails": {"manual": {"sent": "include"}}})["total"] == 3,
             message="the index")

    def found(query):
        page = operator.get(f"/customers/search/?search=1&m_manual_sent=include&{query}").get_data(as_text=True)
        return set(re.findall(r">(ML\d)<", page))

    page = operator.get("/customers/search/").get_data(as_text=True)
    assert 'name="m_manual_ref"' in page and "手動シナリオ（一通目）" in page
    assert found("m_manual_ref=S7") == {"ML2"}
    assert found("m_manual_ref=21,%EF%BC%B3%EF%BC%97") == {"ML1", "ML2"}  # 21, Ｓ７
    assert found("m_manual_kinds=scheduled") == {"ML3"}
    assert found("m_manual_kinds=manual&m_manual_kinds=manual_scenario") == {"ML1", "ML2"}
    unknown = operator.get("/customers/search/?search=1&m_manual_sent=include&m_manual_ref=S99")
    assert unknown.status_code == 400 and "指定したメールIDのメールが見つかりません。" in unknown.get_data(as_text=True)


def test_each_hit_shows_its_shop_and_the_pager_numbers_its_pages(operator, tenant, rpc):
    scope = tenant.operator_scope()
    shop1, shop2 = tenant.shops[0]["id"], tenant.shops[1]["id"]
    rpc.customers.upsert_customers(scope, [{"member_number": f"{i}", "shop_id": shop1 if i <= 100 else shop2,
                                            "family_name": "店舗", "given_name": f"{i}番"} for i in range(1, 121)])
    wait_for(lambda: rpc.search.count(scope, {})["total"] == 120, message="the index")
    first = operator.get("/customers/search/?search=1&name=店舗").get_data(as_text=True)
    assert "<th>店舗</th>" in first
    shops = re.findall(r'data-testid="hit-shop">([^<]*)<', first)
    assert shops == ["103: テスト本店"] * 50
    last = operator.get("/customers/search/?search=1&name=店舗&page=3").get_data(as_text=True)
    assert re.findall(r'data-testid="hit-shop">([^<]*)<', last) == ["5019: テスト支店"] * 20
    nav = re.search(r'<nav class="pager".*?</nav>', last, re.S).group(0)
    assert "120件中 101〜120件" in nav and '<span class="current" aria-current="page">3</span>' in nav
    links = dict((re.sub(r"<[^>]+>", "", label).strip(), href.replace("&amp;", "&"))
                 for href, label in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', nav))
    assert set(links) == {"« 最初", "‹ 前へ", "1", "2"}
    assert links["« 最初"].startswith("?") and "page=1" in links["« 最初"] and "name=%E5%BA%97%E8%88%97" in links["1"]


# Member numbers of the results page in each sort (the customers of tests.support.some_never_bought: NB4 never
# bought; 累計購入金額 655,145 / 100,000 / 30,000 円, 累計購入回数 3 / 1 / 2, 最新購入日 2026-03-01 / 2026-05-01 / 2026-01-20).
NEVER_BOUGHT_ON_THE_PAGE = {
    ("purchase_total", "1"): ["NB1", "NB2", "NB3", "NB4"], ("purchase_total", "0"): ["NB3", "NB2", "NB1", "NB4"],
    ("purchase_count", "1"): ["NB1", "NB3", "NB2", "NB4"], ("purchase_count", "0"): ["NB2", "NB3", "NB1", "NB4"],
    ("latest_purchase_at", "1"): ["NB2", "NB1", "NB3", "NB4"],
    ("latest_purchase_at", "0"): ["NB3", "NB1", "NB2", "NB4"],
}


def test_customers_who_never_bought_come_last_on_the_results_page_both_ways(operator, tenant, rpc):
    """0円 never stands above the 655,145円 buyer, whichever way 累計購入金額, 累計購入回数 or 最新購入日 is sorted."""
    some_never_bought(rpc, tenant)
    for (sort, desc), expected in NEVER_BOUGHT_ON_THE_PAGE.items():
        page = operator.get(f"/customers/search/?search=1&name=並び&sort={sort}&desc={desc}").get_data(as_text=True)
        assert re.findall(r'<td><a href="/customers/\d+">(NB\d)</a></td>', page) == expected, (sort, desc)
    page = operator.get("/customers/search/?search=1&name=並び&sort=purchase_total&desc=1").get_data(as_text=True)
    assert re.findall(r'<td class="num">([\d,]+円)</td>', page) == ["655,145円", "100,000円", "30,000円", "0円"]
