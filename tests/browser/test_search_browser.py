"""顧客管理 > 検索 in a real browser: conditions in three panels, the count and list, a CSV download."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot
from tests.support import wait_for

pytestmark = pytest.mark.browser


def test_search_with_three_panels_and_download(page, gateway_url, tenant, rpc):
    scope = tenant.operator_scope()
    shop = tenant.shops[0]["id"]
    rpc.customers.upsert_customers(scope, [
        {"member_number": "S1", "shop_id": shop, "family_name": "検索", "given_name": "花子", "gender": "female"},
        {"member_number": "S2", "shop_id": shop, "family_name": "検索", "given_name": "太郎", "gender": "male"},
        {"member_number": "S3", "shop_id": shop, "family_name": "検索", "given_name": "桜", "gender": "female"}])
    rpc.purchases.record_orders(scope, [{"shop_id": shop, "order_code": "BS-1", "member_number": "S1",
                                         "purchased_at": "2026-06-01T10:00:00",
                                         "lines": [{"product_code": "R-1", "quantity": 1, "unit_price": 3000}]}])
    rpc.mailhistory.upsert_mails(scope, [{"mail_number": 5, "kind": "manual", "name": "夏のご案内"}])
    rpc.mailhistory.record_activities(scope, [
        {"activity": "delivery", "mail_number": 5, "member_number": m, "result": "delivered", "address": f"{m}@ex.jp",
         "occurred_at": "2026-06-02T10:00:00"} for m in ("S1", "S3")])
    wait_for(lambda: rpc.search.count(scope, {"mails": {"manual": {"sent": "include"}}})["total"] == 2
             and rpc.search.count(scope, {"latest": {"purchase_count": {"min": 1}}})["total"] == 1,
             message="the index")

    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    page.click("a.menu-item:has-text('顧客管理')")
    page.click("a.tab:has-text('検索')")
    expect(page).to_have_url(re.compile(r"/customers/search/"))
    page.check("input[name=genders][value=female]")
    page.locator("summary:has-text('最新購入情報 RFM分析')").click()
    page.fill("input[name=l_count_min]", "0")
    page.fill("input[name=l_count_max]", "0")
    page.locator("summary:has-text('手動・手動シナリオ')").click()
    page.check("input[name=m_manual_sent][value=include]")
    screenshot(page, "search_conditions")
    page.click("button:has-text('検索')")
    expect(page.get_by_test_id("total")).to_have_text("1")
    expect(page.get_by_test_id("count-attributes")).to_have_text("2")
    rows = page.locator("table.hits tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("S3")
    screenshot(page, "search_results")
    page.locator("summary:has-text('CSVダウンロード')").click()
    with page.expect_download() as download:
        page.click("form.export-form button:has-text('ダウンロード')")
    text = open(download.value.path(), "rb").read().decode("cp932")
    assert text.splitlines()[0].startswith("会員番号,名前（姓）,名前（名）") and "S3,検索,桜" in text
