"""集計's reports in a browser as the operator and a shop account see them at 1366×768: each report draws its chart
above its tables, a report downloads as CP932 CSV, and a shop account without 売上 利用許可 has no 売上 tab and gets
403 on its address. The company is the RFM browser test's: 72 buyers of both shops over the year to 2026-11-30."""
import csv
import io
import re

import pytest
from playwright.sync_api import expect

from services.shops.permissions import DEFAULTS
from tests.browser.conftest import log_in, screenshot
from tests.browser.test_rfm_browser import _demo_like
from tests.support import ROOT, wait_for

pytestmark = pytest.mark.browser

PERIOD = "date_from=2025/12/01&date_to=2026/11/30"
PAGES = [  # (report, query, name of the screenshot)
    ("daily_monthly", PERIOD, "report_daily_monthly"),
    ("daily_monthly", "date_from=2026/11/01&date_to=2026/11/30&unit=day", "report_daily"),
    ("sales", PERIOD + "&by=shop", "report_sales"),
    ("repeat", "date_from=2025/01/01&date_to=2026/11/30", "report_repeat"),
    ("ltv", "date_from=2025/01/01&date_to=2026/11/30", "report_ltv"),
    ("retention", "day=2026/11/30&lapse_days=180", "report_retention"),
    ("products", PERIOD + "&excluded_products=SHIP", "report_products"),
    ("products", PERIOD + "&view=together&product=SKIN-01", "report_products_together"),
    ("purchase_status", "day=2026/11/30", "report_purchase_status"),
]


@pytest.fixture(autouse=True)
def _chart_installed():
    assert (ROOT / "gateway/static/vendor/echarts/echarts.min.js").exists(), (
        "the chart library is not installed: `make test` installs it (or `npm ci && npm run vendor`)")


PRODUCTS = [("SKIN-01", "化粧水 しっとり", 3800), ("SKIN-02", "美容液", 6200), ("FOOD-01", "青汁 30包", 2980),
            ("FOOD-02", "黒酢 720ml", 2400), ("SHIP", "送料", 500)]


def _with_products(rpc, tenant):
    """40 more orders over the year, of the products above (the ranking and 併売 have something to show)."""
    scope, shops = tenant.operator_scope(), [shop["id"] for shop in tenant.shops]
    orders = []
    for n in range(40):
        picked = [PRODUCTS[n % 4], PRODUCTS[(n * 3 + 1) % 4]] if n % 3 else [PRODUCTS[n % 4]]
        orders.append({"shop_id": shops[n % 2], "order_code": f"P-{n}", "member_number": f"D-{n % 30:03d}",
                       "purchased_at": f"2026-{1 + n % 11:02d}-{1 + n % 27:02d}T15:00:00+09:00",
                       "lines": [{"product_code": code, "product_name": name, "quantity": 1 + n % 2,
                                  "unit_price": price} for code, name, price in picked + [PRODUCTS[4]]]})
    recorded = rpc.purchases.record_orders(scope, orders)
    assert not recorded["errors"]
    wait_for(lambda: len(rpc.search.report(scope, "products", {"date_from": "2026-01-01", "date_to": "2026-11-30"})
                         ["tables"][0]["rows"]) == 6, interval=0.3, message="the orders in the search index")


def _painted(page):
    """How many pixels of the chart's canvas are coloured (neither blank nor grey)."""
    return page.evaluate("""() => {
      const canvas = document.querySelector('#report-chart canvas');
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let coloured = 0;
      for (let i = 0; i < pixels.length; i += 4)
        if (pixels[i + 3] > 0 && (pixels[i] !== pixels[i + 1] || pixels[i + 1] !== pixels[i + 2])) coloured++;
      return coloured;
    }""")


def test_every_report_draws_its_chart_above_its_tables_and_one_downloads_as_cp932(screen, gateway_url, tenant, rpc):
    page = screen
    _demo_like(rpc, tenant)
    _with_products(rpc, tenant)
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="集計").click()
    expect(page).to_have_url(re.compile(r"/reports/daily_monthly$"))
    tabs = page.get_by_role("navigation", name="集計").get_by_role("link")
    expect(tabs).to_have_text(["日報・月報", "売上", "RFM集計", "RFM集計 移動", "リピート率", "LTV推移", "継続・離脱", "商品",
                               "購入状況"])

    for kind, query, name in PAGES:
        page.goto(f"{gateway_url}/reports/{kind}?{query}")
        canvas = page.locator("#report-chart canvas").first
        expect(canvas).to_be_visible()
        table = page.get_by_test_id("report-table-0")
        expect(table).to_be_visible()
        assert _painted(page) > 2000, f"{kind}: no chart drawn"
        assert canvas.bounding_box()["y"] + canvas.bounding_box()["height"] <= table.bounding_box()["y"], kind
        assert canvas.bounding_box()["y"] < 768, f"{kind}: the chart is not on the first screen"
        screenshot(page, name)

    # 日報・月報's filters through the page: a month's days, and the download in Excel's encoding
    page.goto(f"{gateway_url}/reports/daily_monthly")
    page.fill("#date_from", "2026/11/01")
    page.fill("#date_to", "2026/11/30")
    page.select_option("select[name=unit]", "day")
    page.click("#report-filters button:has-text('表示')")
    expect(page).to_have_url(re.compile(r"unit=day"))
    rows = page.get_by_test_id("report-table-0").locator("tbody tr")
    expect(rows).to_have_count(31)  # 30 days and 合計
    expect(rows.last.locator("th")).to_have_text("合計")
    total_orders = rows.last.locator("td").first.inner_text()
    with page.expect_download() as download:
        page.click("form.report-download button:has-text('CSVダウンロード')")
    assert download.value.suggested_filename == "report_daily_monthly.csv"
    lines = list(csv.reader(io.StringIO(open(download.value.path(), "rb").read().decode("cp932"))))
    assert lines[0] == ["日報・月報 日報"] and lines[1][:3] == ["日付", "受注件数", "売上金額"]
    assert lines[2][0] == "2026/11/01" and lines[32][0] == "合計"
    assert f"{int(lines[32][1]):,}" == total_orders


def test_a_shop_account_without_sales_permission_has_no_sales_report(screen, gateway_url, tenant, rpc):
    page = screen
    _demo_like(rpc, tenant)
    shop = tenant.shops[0]
    rpc.shops.update_permissions(tenant.operator_scope(), shop["id"], dict(DEFAULTS, may_use_sales_report=False))
    log_in(page, gateway_url, shop["login_id"], tenant.password)
    page.goto(f"{gateway_url}/reports/daily_monthly?{PERIOD}")
    tabs = page.get_by_role("navigation", name="集計")
    expect(tabs.get_by_role("link", name="日報・月報")).to_be_visible()
    expect(tabs.get_by_role("link", name="売上", exact=True)).to_have_count(0)
    expect(page.locator("form.report-download")).to_have_count(0)  # 日報月報 出力許可 is off
    expect(page.locator("#report-filters select[name=shop_id]")).to_be_disabled()
    screenshot(page, "report_daily_monthly_shop")
    response = page.goto(f"{gateway_url}/reports/sales")
    assert response.status == 403
    expect(page.get_by_role("heading", name="権限がありません")).to_be_visible()
