"""集計 > RFM集計 in a browser set to American English, for a company with customers in many cells: the heat map is
drawn above the table, a click on a cell of the chart opens 検索 with exactly that cell's customers; RFM設定 and
the movement between two days as the operator sees them at 1366×768."""
import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot
from tests.support import ROOT, wait_for

pytestmark = pytest.mark.browser

DAY = "2026-11-30"


@pytest.fixture(autouse=True)
def _chart_installed():
    assert (ROOT / "gateway/static/vendor/echarts/echarts.min.js").exists(), (
        "the chart library is not installed: `make test` installs it (or `npm ci && npm run vendor`)")


def _demo_like(rpc, tenant):
    """78 customers of both shops: customer i < 72 bought 1 + i % 7 times, the latest 3 + 5·i days before DAY, one
    every 20 days before that, 2,000 to 12,000円 each (a grid with most cells filled); the other six never bought."""
    scope, shops = tenant.operator_scope(), [shop["id"] for shop in tenant.shops]
    rpc.customers.upsert_customers(scope, [{"member_number": f"D-{i:03d}", "shop_id": shops[i % 2],
                                            "family_name": "顧客", "given_name": str(i)} for i in range(78)])
    orders = []
    for i in range(72):
        for n in range(1 + i % 7):
            days_before = 3 + 5 * i + 20 * n
            orders.append({"shop_id": shops[(i + n) % 2], "order_code": f"O-{i}-{n}", "member_number": f"D-{i:03d}",
                           "purchased_at": _before("2026-11-30T12:00:00+09:00", days_before),
                           "lines": [{"product_code": "P-1", "quantity": 1, "unit_price": 2000 + 1000 * (i % 11)}]})
    recorded = rpc.purchases.record_orders(scope, orders)
    assert not recorded["errors"]
    wait_for(lambda: rpc.search.rfm_grid(scope, {"day": DAY})["total"]["customers"] == 72, interval=0.3,
             message="the purchases in the search index")


def _before(moment, days):
    return (dt.datetime.fromisoformat(moment) - dt.timedelta(days=days)).isoformat()


def test_the_rfm_chart_is_drawn_above_the_table_and_a_cell_clicked_opens_its_customers(
        english_screen, gateway_url, tenant, rpc):
    page = english_screen
    _demo_like(rpc, tenant)
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="集計").click()
    expect(page).to_have_url(re.compile(r"/reports/daily_monthly$"))  # 集計 opens on its first report
    page.get_by_role("navigation", name="集計").get_by_role("link", name="RFM集計", exact=True).click()
    expect(page).to_have_url(re.compile(r"/reports/rfm$"))
    page.fill("#day", "2026/11/30")
    page.click("#rfm-filters button:has-text('表示')")
    expect(page).to_have_url(re.compile(r"day=2026%2F11%2F30"))
    expect(page.locator("#day")).to_have_value("2026/11/30")

    canvas = page.locator("#rfm-chart canvas").first
    expect(canvas).to_be_visible()
    painted = page.evaluate("""() => {
      const canvas = document.querySelector('#rfm-chart canvas');
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let coloured = 0;
      for (let i = 0; i < pixels.length; i += 4) if (pixels[i + 3] > 0 && pixels[i] !== pixels[i + 2]) coloured++;
      return coloured;
    }""")
    assert painted > 10000, "the heat map is not drawn"
    table = page.get_by_test_id("rfm-grid")
    assert canvas.bounding_box()["y"] + canvas.bounding_box()["height"] <= table.bounding_box()["y"]
    screenshot(page, "rfm_grid")

    # the fullest cell, clicked on the chart
    cells = page.locator("table.rfm-grid td.rfm-cell a")
    counts = [int(n) for n in cells.evaluate_all("links => links.map(a => a.dataset.customers)")]
    fullest = max(range(36), key=lambda k: counts[k])
    row, column = divmod(fullest, 6)
    x, y = page.evaluate(f"() => window.rfmChart.convertToPixel({{seriesIndex: 0}}, [{column}, {row}])")
    box = canvas.bounding_box()
    expected = cells.nth(fullest).get_attribute("href")
    page.mouse.click(box["x"] + x, box["y"] + y)
    expect(page).to_have_url(re.compile(r"/customers/search/\?search=1&rfm_day=2026%2F11%2F30"))
    assert page.url.endswith(expected)
    expect(page.get_by_test_id("total")).to_have_text(str(counts[fullest]))
    expect(page.get_by_test_id("rfm-condition")).to_be_visible()
    expect(page.get_by_label("RFM集計 基準日")).to_have_value("2026/11/30")
    screenshot(page, "rfm_cell_in_search")

    # a rank from the totals, through its link
    page.go_back()
    ranks = page.get_by_test_id("rfm-ranks").locator("tbody a")
    first_rank = int(ranks.first.get_attribute("data-customers"))
    ranks.first.click()
    expect(page.get_by_test_id("total")).to_have_text(str(first_rank))


def test_rfm_settings_and_movement_as_the_operator_sees_them(screen, gateway_url, tenant, rpc):
    page = screen
    _demo_like(rpc, tenant)
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    page.goto(gateway_url + "/settings/rfm")
    expect(page.get_by_test_id("settings-scope")).to_have_text("企業全体の設定です（全店舗共通）。")
    cell = page.get_by_label("R 0〜30日・F 1回のランク")
    cell.select_option("A")
    expect(cell.locator("xpath=..")).to_have_css("background-color", "rgb(247, 216, 74)")
    page.fill("input[name=recency_days_2]", "20")
    page.click("button:has-text('登録')")
    expect(page.get_by_role("alert").first).to_be_visible()
    screenshot(page, "rfm_settings_error")
    page.fill("input[name=recency_days_2]", "61")
    page.click("button:has-text('登録')")
    expect(page.locator(".flash.info")).to_have_text(re.compile("RFM設定を登録しました"))
    screenshot(page, "rfm_settings")
    assert rpc.search.rfm_settings(tenant.operator_scope())["cells"][0][0] == "A"

    page.goto(gateway_url + "/reports/rfm?day=2026/11/30")
    expect(page.locator("#rfm-chart canvas").first).to_be_visible()
    screenshot(page, "rfm_grid_screen")
    page.goto(gateway_url + "/reports/rfm?day=2026/11/30&axes=rm")
    expect(page.locator("#rfm-chart canvas").first).to_be_visible()
    screenshot(page, "rfm_grid_rm")
    page.goto(gateway_url + "/reports/rfm/movement?day_from=2026/06/30&day_to=2026/11/30")
    expect(page.get_by_test_id("movement")).to_be_visible()
    screenshot(page, "rfm_movement")
