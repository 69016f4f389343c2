"""集計 > RFM集計 and 各種設定 > RFM設定 in the gateway: the grid of a day drawn as a chart and a table whose cells open
検索 with their customers, the movement between two days, RFM設定 saved with its errors beside the fields, and who
may see them (RFM設定: company operators; RFM集計: shop accounts with 集計:リピート率 利用許可).

Customers of shop 103 (S1) and 5019 (S2), on 2026-06-30: ueda S1 R 0 F 3 (有望顧客), kubo S1 R 30 F 1 (新規顧客),
mori S2 R 31 F 4 (優良顧客); oka never bought."""
import html
import re
from urllib.parse import parse_qsl, urlsplit

import pytest

from services.shops.permissions import DEFAULTS
from tests.gateway.conftest import csrf_token, log_in
from tests.support import make_tenant, wait_for

DAY = "2026-06-30"


@pytest.fixture(scope="module")
def company(rpc, stack):
    tenant = make_tenant(stack.urls["shops"])
    scope = tenant.operator_scope()
    s1, s2 = tenant.shops[0]["id"], tenant.shops[1]["id"]
    for name, shop in (("ueda", s1), ("kubo", s1), ("mori", s2), ("oka", s1)):
        rpc.customers.create_customer(scope, {"shop_id": shop, "member_number": f"G-{name}", "family_name": name})

    def order(name, code, shop, purchased, price):
        return {"shop_id": shop, "order_code": code, "member_number": f"G-{name}", "purchased_at": purchased,
                "lines": [{"product_code": "G-1", "quantity": 1, "unit_price": price}]}

    recorded = rpc.purchases.record_orders(scope, [
        order("ueda", "U-1", s2, "2026-04-01T12:00:00", 6000), order("ueda", "U-2", s1, "2026-05-01T12:00:00", 6000),
        order("ueda", "U-3", s1, "2026-06-30T00:10:00", 6000), order("kubo", "K-1", s1, "2026-05-31T12:00:00", 3000),
        *[order("mori", f"M-{n}", s2, f"2026-{day}T12:00:00", 5000)
          for n, day in enumerate(("01-10", "02-10", "03-10", "05-30"))]])
    assert not recorded["errors"]
    wait_for(lambda: rpc.search.rfm_grid(scope, {"day": DAY})["total"]["customers"] == 3, interval=0.3,
             message="the purchases in the search index")
    return tenant


def _links(page):
    return [html.unescape(href) for href in re.findall(r'<a href="(/customers/search/\?[^"]+)"', page)]


def test_rfm_grid_shows_the_chart_before_the_table_and_each_cell_opens_its_customers_in_search(app, company):
    client = app.test_client()
    log_in(client, company.operator_login, company.password)
    response = client.get("/reports/rfm?day=2026/06/30")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.index('id="rfm-chart"') < page.index('data-testid="rfm-grid"') < page.index('data-testid="rfm-ranks"')
    assert "vendor/echarts/echarts.min.js" in page and 'id="rfm-data"' in page
    assert 'value="2026/06/30"' in page  # the day as the date fields write it
    for words in ("0〜30日", "31〜60日", "1回", "10回〜", "優良顧客", "有望顧客", "新規顧客", "離反顧客", "3人", "100.0%"):
        assert words in page, words
    assert re.search(r'<a class="menu-item active" href="/reports/">集計</a>', page)

    links = _links(page)
    assert len(links) == 36 + 7
    ueda_cell = next(link for link in links if ("rfm_f_min", "3") in parse_qsl(urlsplit(link).query)
                     and ("rfm_r_max", "30") in parse_qsl(urlsplit(link).query))
    found = client.get(ueda_cell).get_data(as_text=True)
    assert re.search(r'data-testid="total">1</strong>', found) and "G-ueda" in found
    assert 'data-testid="rfm-condition"' in found and 'value="2026/06/30"' in found
    # a rank: 有望顧客 is ueda alone; the saved form of the search keeps the section
    rank_b = next(link for link in links if ("rfm_ranks", "B") in parse_qsl(urlsplit(link).query))
    found = client.get(rank_b).get_data(as_text=True)
    assert re.search(r'data-testid="total">1</strong>', found) and "G-ueda" in found
    every_buyer = client.get("/customers/search/?search=1&rfm_day=2026/06/30").get_data(as_text=True)
    assert re.search(r'data-testid="total">3</strong>', every_buyer) and "G-oka" not in every_buyer


def test_a_cell_opened_in_search_is_downloaded_and_saved_with_its_rfm_condition(app, company, rpc):
    client = app.test_client()
    log_in(client, company.operator_login, company.password)
    links = _links(client.get("/reports/rfm?day=2026-06-30").get_data(as_text=True))
    mori_cell = next(link for link in links if ("rfm_f_min", "4") in parse_qsl(urlsplit(link).query)
                     and ("rfm_r_min", "31") in parse_qsl(urlsplit(link).query))
    query = urlsplit(mori_cell).query
    download = client.get("/customers/search/export.csv?" + query + "&encoding=utf8bom")
    assert download.status_code == 200
    lines = download.get_data().decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 2 and "G-mori" in lines[1]
    saved = client.post("/customers/search/saved", data={
        "query": query, "name": "RFM 31〜60日 4〜5回", "frozen": "0",
        "csrf_token": csrf_token(client, "/customers/search/?" + query)})
    assert saved.status_code == 302
    mine = [s for s in rpc.search.list_saved_searches(company.operator_scope()) if s["name"] == "RFM 31〜60日 4〜5回"]
    assert len(mine) == 1 and rpc.search.count(company.operator_scope(), {
        "saved_search_id": mine[0]["id"]}, False)["total"] == 1


def test_rfm_grid_by_shop_and_by_other_axes(app, company):
    client = app.test_client()
    log_in(client, company.operator_login, company.password)
    s2 = company.shops[1]["id"]
    page = client.get(f"/reports/rfm?day=2026-06-30&shop_id={s2}&axes=fm").get_data(as_text=True)
    assert "F 購入回数 × M 購入金額" in page and "20,000円" in page
    assert re.search(r'<td class="num">1人</td>', page)  # mori alone bought at S2 by then... and ueda once
    refused = client.get("/reports/rfm?axes=xy")
    assert refused.status_code == 400 and "軸: 選択肢から選んでください。" in refused.get_data(as_text=True)
    refused = client.get("/reports/rfm?day=2026/02/30")
    assert refused.status_code == 400 and "基準日:" in refused.get_data(as_text=True)


def test_rfm_movement_shows_both_days_and_where_each_rank_went(app, company):
    client = app.test_client()
    log_in(client, company.operator_login, company.password)
    response = client.get("/reports/rfm/movement?day_from=2026/03/31&day_to=2026/06/30")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2026/03/31" in page and "2026/06/30" in page and "未購入" in page
    assert 'data-testid="movement-ranks"' in page and 'data-testid="movement"' in page
    assert client.get("/reports/rfm/movement").status_code == 200  # today against half a year ago
    refused = client.get("/reports/rfm/movement?day_from=2026/07/01&day_to=2026/06/30")
    assert refused.status_code == 400 and "開始日が終了日より後です。" in refused.get_data(as_text=True)


def test_a_shop_account_sees_rfm_grid_only_with_its_permission_and_its_own_figures(app, company, rpc):
    scope, shop = company.operator_scope(), company.shops[0]
    client = app.test_client()
    log_in(client, shop["login_id"], company.password)
    page = client.get("/reports/rfm?day=2026/06/30").get_data(as_text=True)
    shown = re.sub(r'name="csrf_token" value="[^"]*"', "", page)  # a random token may hold "G-"
    assert "G-" not in shown and "全店舗" not in shown
    assert re.search(r'<tfoot><tr><th scope="row">合計</th><td class="num">2人</td>', page)  # ueda and kubo (S1)
    assert client.get("/settings/rfm").status_code == 403
    assert "RFM設定" not in client.get("/settings/basic").get_data(as_text=True)

    rpc.shops.update_permissions(scope, shop["id"], dict(DEFAULTS, may_use_repeat_rate_report=False))
    try:
        assert client.get("/reports/rfm").status_code == 403
        assert client.get("/reports/rfm/movement").status_code == 403
        home = client.get("/").get_data(as_text=True)
        assert "/reports/rfm" not in home  # 集計 stays: 購入状況 has no 利用許可
        assert client.get("/reports/").headers["Location"].endswith("/reports/daily_monthly")
    finally:
        rpc.shops.update_permissions(scope, shop["id"], DEFAULTS)


def _settings_form(page):
    form = dict(re.findall(r'<input (?:type="hidden" )?name="([A-Za-z_0-9]+)" value="([^"]*)"', page))
    form.update(re.findall(r'<select name="(cell_\d_\d)"[^>]*>(?:\s*<option value="[A-G]"[^>]*>[^<]*</option>)*?'
                           r'\s*<option value="([A-G])"[^>]* selected', page))
    return form


def test_rfm_settings_are_the_companys_saved_once_and_refused_beside_their_fields(rpc, stack, app):
    tenant = make_tenant(stack.urls["shops"])
    client = app.test_client()
    log_in(client, tenant.operator_login, tenant.password)
    page = client.get("/settings/rfm").get_data(as_text=True)
    assert "企業全体の設定です（全店舗共通）。" in page and "企業ごとに1つの設定" in page
    assert 'name="csrf_token"' in page and 'name="request_id"' in page
    form = _settings_form(page)
    assert form["rank_name_A"] == "優良顧客" and form["recency_days_1"] == "31" and form["cell_0_3"] == "A"
    assert len([name for name in form if name.startswith("cell_")]) == 36

    refused = client.post("/settings/rfm", data=dict(form, rank_name_B="", recency_days_3="50",
                                                      purchase_count_0="2", purchase_total_2="abc"))
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "入力内容に誤りがあります。" in text
    assert "必須項目です。" in text and "前の区分より大きい値を入力してください。" in text
    assert "1を入力してください。" in text and "半角数字で入力してください。" in text
    assert 'value="50"' in text and 'value="abc"' in text  # kept as typed
    assert rpc.search.rfm_settings(tenant.operator_scope())["version"] == 0

    posted = dict(form, rank_name_A="ロイヤル顧客", recency_days_1="45", cell_0_0="A")
    saved = client.post("/settings/rfm", data=posted)
    assert saved.status_code == 302
    again = client.post("/settings/rfm", data=posted)  # the same form posted twice: applied once
    assert again.status_code == 302
    settings = rpc.search.rfm_settings(tenant.operator_scope())
    assert settings["version"] == 1 and settings["rank_names"]["A"] == "ロイヤル顧客"
    assert settings["recency_days"][1] == 45 and settings["cells"][0][0] == "A"
    page = client.get("/settings/rfm").get_data(as_text=True)
    assert "RFM設定を登録しました。" in page and "0〜44日" in page and 'value="ロイヤル顧客"' in page

    without_token = {key: value for key, value in posted.items() if key != "csrf_token"}
    assert client.post("/settings/rfm", data=without_token).status_code == 400
