"""メール送信履歴 in a real browser: a delivery reported by RPC, an open and a click from the tracking URLs."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot

pytestmark = pytest.mark.browser


def test_the_mail_history_tab_shows_delivery_open_and_click(page, gateway_url, tenant, rpc):
    scope = tenant.operator_scope()
    customer = rpc.customers.create_customer(scope, {"shop_id": tenant.shops[0]["id"], "family_name": "開封",
                                                     "member_number": "BR-1", "mail_permission": "pc",
                                                     "pc_email": "br1@example.jp"})
    rpc.mailhistory.upsert_mails(scope, [{"mail_number": 77, "kind": "manual", "name": "年末セールのご案内"}])
    rpc.mailhistory.record_activities(scope, [{"activity": "delivery", "mail_number": 77, "member_number": "BR-1",
                                               "result": "delivered", "address": "br1@example.jp",
                                               "occurred_at": "2026-11-20T09:00:00"}])
    links = rpc.mailhistory.tracking_links(scope, 77, "BR-1", [gateway_url + "/login"])
    to_gateway = lambda url: gateway_url + url.split("crm.example.jp", 1)[1]  # noqa: E731
    pixel = page.goto(to_gateway(links["open"]))
    assert pixel.status == 200 and pixel.headers["content-type"] == "image/gif"
    page.goto(to_gateway(links["clicks"][gateway_url + "/login"]))
    expect(page).to_have_url(gateway_url + "/login")

    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    page.goto(f"{gateway_url}/customers/{customer['id']}")
    page.click("a.tab:has-text('メール送信履歴')")
    row = page.locator("table.customer-mails tbody tr").first
    expect(row).to_contain_text("年末セールのご案内")
    expect(row).to_contain_text("2026-11-20 09:00")
    expect(row).to_contain_text("送信済")
    expect(row.get_by_test_id("opened")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d"))
    expect(row.get_by_test_id("clicked")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d"))
    screenshot(page, "customer_mails")
    page.click("a.menu-item:has-text('配信管理')")
    expect(page.locator("table.mails")).to_contain_text("年末セールのご案内")
    screenshot(page, "mails")
