"""集計's reports in the gateway (日報・月報 as the example of every catalogue report): the chart drawn above the
tables, the filters, the CSV in CP932 or UTF-8 with BOM, and who may see and download which report.

Shops 103 (S1) and 5019 (S2). Orders (Japan time; G-1 3,000円, G-2 8,000円, SHIP 送料 500円):
  U-1 ueda  S1 2026-04-10 12:00  G-1 ×2                6,000
  U-2 ueda  S1 2026-05-10 12:00  G-1 ×1 + SHIP         3,500
  K-1 kubo  S1 2026-05-31 23:30  G-2                   8,000
  M-1 mori  S2 2026-03-15 12:00  G-2                   8,000   (before the period)
  M-2 mori  S2 2026-06-01 00:10  G-1                   3,000
  X-1 kubo  S1 2026-05-20 12:00  G-2, not counted (集計対象 off)

月報 2026-04-01〜2026-06-30 (new: the first purchase fell in the month; repeat: bought before it):
  2026/04  1 order   6,000  1 buyer  new 1 repeat 0  客単価 6,000
  2026/05  2 orders 11,500  2 buyers new 1 repeat 1  客単価 5,750
  2026/06  1 order   3,000  1 buyer  new 0 repeat 1  客単価 3,000
  合計     4 orders 20,500  3 buyers new 2 repeat 1  客単価 5,125
  by shop: S1 3 orders 17,500, 2 buyers, new 2, 客単価 5,833; S2 1 order 3,000, 1 buyer, repeat 1
Without SHIP: 2026/05 11,000 (客単価 5,500), 合計 20,000 (客単価 5,000).
"""
import codecs
import csv
import io
import re

import pytest

from services.shops.permissions import DEFAULTS
from tests.gateway.conftest import log_in
from tests.support import make_tenant, wait_for

PERIOD = "date_from=2026/04/01&date_to=2026/06/30&unit=month"


@pytest.fixture(scope="module")
def company(rpc, stack):
    tenant = make_tenant(stack.urls["shops"])
    scope = tenant.operator_scope()
    s1, s2 = tenant.shops[0]["id"], tenant.shops[1]["id"]
    for name, shop in (("ueda", s1), ("kubo", s1), ("mori", s2)):
        rpc.customers.create_customer(scope, {"shop_id": shop, "member_number": f"R-{name}", "family_name": name})

    def order(name, code, shop, purchased, lines, counted=True):
        return {"shop_id": shop, "order_code": code, "member_number": f"R-{name}", "purchased_at": purchased,
                "counted": counted,
                "lines": [{"product_code": product, "quantity": quantity, "unit_price": price}
                          for product, quantity, price in lines]}

    recorded = rpc.purchases.record_orders(scope, [
        order("ueda", "U-1", s1, "2026-04-10T12:00:00", [("G-1", 2, 3000)]),
        order("ueda", "U-2", s1, "2026-05-10T12:00:00", [("G-1", 1, 3000), ("SHIP", 1, 500)]),
        order("kubo", "K-1", s1, "2026-05-31T23:30:00", [("G-2", 1, 8000)]),
        order("mori", "M-1", s2, "2026-03-15T12:00:00", [("G-2", 1, 8000)]),
        order("mori", "M-2", s2, "2026-06-01T00:10:00", [("G-1", 1, 3000)]),
        order("kubo", "X-1", s1, "2026-05-20T12:00:00", [("G-2", 1, 8000)], counted=False)])
    assert not recorded["errors"]
    wait_for(lambda: rpc.search.report(scope, "daily_monthly", {"date_from": "2026-03-01", "date_to": "2026-06-30"})
             ["tables"][0]["rows"][-1][1] == 5, interval=0.3, message="the purchases in the search index")
    return tenant


def _rows(page, testid):
    table = re.search(rf'data-testid="{testid}">(.*?)</table>', page, re.S).group(1)
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.split("<tbody>")[1], re.S)]


def test_the_monthly_report_draws_its_chart_above_its_tables_with_the_figures_of_the_period(app, company):
    client = app.test_client()
    log_in(client, company.operator_login, company.password)
    response = client.get(f"/reports/daily_monthly?{PERIOD}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.index('id="report-chart"') < page.index('data-testid="report-table-0"')
    assert "vendor/echarts/echarts.min.js" in page and 'id="report-data"' in page
    assert _rows(page, "report-table-0") == [
        ["2026/04", "1", "6,000円", "1", "1", "0", "6,000円"],
        ["2026/05", "2", "11,500円", "2", "1", "1", "5,750円"],
        ["2026/06", "1", "3,000円", "1", "0", "1", "3,000円"],
        ["合計", "4", "20,500円", "3", "2", "1", "5,125円"]]
    assert _rows(page, "report-table-1") == [
        ["103: テスト本店", "3", "17,500円", "2", "2", "0", "5,833円"],
        ["5019: テスト支店", "1", "3,000円", "1", "0", "1", "3,000円"]]
    for tab in ("日報・月報", "売上", "RFM集計", "リピート率", "LTV推移", "継続・離脱", "商品", "購入状況"):
        assert f">{tab}</a>" in page, tab
    assert 'value="2026/04/01"' in page  # the period as the date fields write it

    without_shipping = client.get(f"/reports/daily_monthly?{PERIOD}&excluded_products=SHIP").get_data(as_text=True)
    rows = _rows(without_shipping, "report-table-0")
    assert rows[1] == ["2026/05", "2", "11,000円", "2", "1", "1", "5,500円"]
    assert rows[-1] == ["合計", "4", "20,000円", "3", "2", "1", "5,000円"]


def test_a_refused_filter_is_named_in_japanese_and_no_report_is_drawn(app, company):
    client = app.test_client()
    log_in(client, company.operator_login, company.password)
    response = client.get("/reports/daily_monthly?date_from=2026/07/01&date_to=2026/06/30")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "期間（終了日）: 開始日が終了日より後です。" in page and 'id="report-chart"' not in page
    response = client.get("/reports/daily_monthly?date_from=2025/01/01&date_to=2026/06/30&unit=day")
    assert response.status_code == 400
    assert "期間は366日以内で指定してください。" in response.get_data(as_text=True)
    assert client.get("/reports/no_such_report").status_code == 404


@pytest.mark.parametrize("encoding, codec", [("cp932", "cp932"), ("utf8bom", "utf-8-sig")])
def test_the_report_downloads_as_csv_in_the_chosen_encoding_and_the_download_is_logged(app, company, rpc, encoding,
                                                                                      codec):
    client = app.test_client()
    log_in(client, company.operator_login, company.password)
    response = client.get(f"/reports/daily_monthly/report.csv?{PERIOD}&encoding={encoding}")
    assert response.status_code == 200
    body = response.get_data()
    assert body.startswith(codecs.BOM_UTF8) == (encoding == "utf8bom")
    rows = list(csv.reader(io.StringIO(body.decode(codec))))
    assert rows[:6] == [["日報・月報 月報"], ["月", "受注件数", "売上金額", "購入者数", "新規購入者数", "リピート購入者数", "客単価"],
                        ["2026/04", "1", "6000", "1", "1", "0", "6000"],
                        ["2026/05", "2", "11500", "2", "1", "1", "5750"],
                        ["2026/06", "1", "3000", "1", "0", "1", "3000"],
                        ["合計", "4", "20500", "3", "2", "1", "5125"]]
    assert rows[7][0] == "日報・月報 店舗別" and rows[9][:3] == ["103: テスト本店", "3", "17500"]
    logged = rpc.search.export_logs(company.operator_scope())[0]
    assert logged["conditions"]["report"] == "daily_monthly"
    assert logged["conditions"]["options"]["date_from"] == "2026-04-01" and logged["rows"] == 6


def test_a_shop_account_sees_a_report_only_with_its_permission_and_its_own_figures(app, company, rpc):
    scope, shop = company.operator_scope(), company.shops[0]
    client = app.test_client()
    log_in(client, shop["login_id"], company.password)
    page = client.get(f"/reports/daily_monthly?{PERIOD}").get_data(as_text=True)
    assert _rows(page, "report-table-0")[-1] == ["合計", "3", "17,500円", "2", "2", "0", "5,833円"]  # S1 alone
    assert 'data-testid="report-table-1"' not in page and "全店舗" not in page
    assert "CSVダウンロード" not in page  # 日報月報 出力許可 is off by default
    assert client.get(f"/reports/daily_monthly/report.csv?{PERIOD}").status_code == 403
    assert client.get(f"/reports/daily_monthly?{PERIOD}&shop_id={company.shops[1]['id']}").status_code == 200

    rpc.shops.update_permissions(scope, shop["id"], dict(
        DEFAULTS, may_use_sales_report=False, may_use_daily_monthly_report=False, may_use_repeat_rate_report=False,
        may_use_product_report=False, may_export_purchase_status=True))
    try:
        assert client.get("/reports/sales").status_code == 403
        assert client.get("/reports/daily_monthly").status_code == 403
        page = client.get("/reports/purchase_status").get_data(as_text=True)  # no 利用許可 of its own: always
        assert ">購入状況</a>" in page and ">売上</a>" not in page and "CSVダウンロード" in page
        assert client.get("/reports/").headers["Location"].endswith("/reports/purchase_status")
        assert client.get("/reports/purchase_status/report.csv").status_code == 200
    finally:
        rpc.shops.update_permissions(scope, shop["id"], DEFAULTS)
