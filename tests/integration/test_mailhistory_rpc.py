"""The mail-history service over RPC, and its tracking URLs through the gateway (Flask's client)."""
import concurrent.futures

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.common.errors import Forbidden
from tests.gateway.conftest import log_in
from tests.support import RPC_HUNG_SECONDS


@pytest.fixture
def mailed(rpc, tenant):
    """A customer and two mails: a manual one and step 2 of manual scenario 5."""
    scope = tenant.operator_scope()
    customer = rpc.customers.create_customer(scope, {"shop_id": tenant.shops[0]["id"], "family_name": "配信",
                                                     "member_number": "MAIL-1", "mail_permission": "pc",
                                                     "pc_email": "mail1@example.jp"})
    saved = rpc.mailhistory.upsert_mails(scope, [
        {"mail_number": 10, "kind": "manual", "name": "冬のご案内", "shop_id": tenant.shops[0]["id"]},
        {"mail_number": 11, "kind": "manual_scenario", "name": "フォロー2通目", "scenario_number": 5, "step": 2}])
    assert saved == {"saved": 2, "errors": []}
    return customer


def test_ingestion_in_a_batch_counts_duplicates_once(rpc, tenant, mailed):
    scope = {"company_id": tenant.company_id, "role": "system"}
    reports = [{"activity": "delivery", "mail_number": 10, "member_number": "MAIL-1", "result": "delivered",
                "address": "mail1@example.jp", "occurred_at": "2026-11-20T09:00:00"},
               {"activity": "open", "mail_number": 10, "member_number": "MAIL-1", "occurred_at": "2026-11-20T12:00:00"}]
    assert rpc.mailhistory.record_activities(scope, reports)["recorded"] == 2
    assert rpc.mailhistory.record_activities(scope, reports) == {"recorded": 0, "duplicates": 2, "errors": []}
    summary = {m["display_id"]: m for m in rpc.mailhistory.mail_summaries(tenant.operator_scope())}
    assert (summary["10"]["sent"], summary["10"]["opened"]) == (1, 1)
    assert summary["S5-2"]["family"] == "automatic"
    assert [m["mail_number"] for m in rpc.mailhistory.find_mails(tenant.operator_scope(), "S5")] == [11]


def test_thousands_of_reports_in_one_call(rpc, tenant, mailed):
    reports = [{"activity": "click", "mail_number": 10, "member_number": "MAIL-1", "url": f"https://example.jp/{i}",
                "occurred_at": "2026-11-20T12:00:00"} for i in range(2000)]
    result = rpc.mailhistory.record_activities(tenant.operator_scope(), reports)
    assert result["recorded"] == 2000 and not result["errors"]


def test_address_error_after_three_failures(rpc, tenant, mailed):
    reports = [{"activity": "delivery", "mail_number": 10, "member_number": "MAIL-1", "result": "failed",
                "address": "mail1@example.jp", "occurred_at": f"2026-11-2{day}T09:00:00"} for day in range(3)]
    rpc.mailhistory.record_activities(tenant.operator_scope(), reports)
    history = rpc.mailhistory.customer_history(tenant.operator_scope(), mailed["id"])
    assert history["addresses"] == [{"address": "mail1@example.jp", "failed_count": 3, "address_error": True}]


def test_failures_of_one_address_reported_at_once_are_all_counted(stack, rpc, tenant, mailed):
    def report(day):
        with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=RPC_HUNG_SECONDS) as client:
            return client.mailhistory.record_activities(tenant.operator_scope(), [
                {"activity": "delivery", "mail_number": 10, "member_number": "MAIL-1", "result": "failed",
                 "address": "mail1@example.jp", "occurred_at": f"2026-10-{day:02d}T09:00:00"}])

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        results = list(pool.map(report, range(1, 13)))
    assert [r["errors"] for r in results] == [[]] * 12
    history = rpc.mailhistory.customer_history(tenant.operator_scope(), mailed["id"])
    assert history["addresses"] == [{"address": "mail1@example.jp", "failed_count": 12, "address_error": True}]


def test_tracking_urls_record_opens_clicks_and_qr_reads(rpc, tenant, mailed, app):
    links = rpc.mailhistory.tracking_links(tenant.operator_scope(), 10, "MAIL-1", ["https://shop.example.jp/sale"],
                                           "https://shop.example.jp/dm")
    client = app.test_client()
    path = lambda url: url.split("crm.example.jp", 1)[1]  # noqa: E731 — PUBLIC_BASE_URL of the test stack
    pixel = client.get(path(links["open"]))
    assert pixel.status_code == 200 and pixel.mimetype == "image/gif"
    click = client.get(path(links["clicks"]["https://shop.example.jp/sale"]))
    assert click.status_code == 302 and click.headers["Location"] == "https://shop.example.jp/sale"
    qr = client.get(path(links["qr_read"]))
    assert qr.status_code == 302 and qr.headers["Location"] == "https://shop.example.jp/dm"
    history = rpc.mailhistory.customer_history(tenant.operator_scope(), mailed["id"])["mails"][0]
    assert history["opened_at"] and history["clicked_at"] and history["qr_read_at"]
    assert history["clicked_urls"] == ["https://shop.example.jp/sale"]


def test_a_tampered_token_records_nothing_and_redirects_nowhere(rpc, tenant, mailed, app):
    links = rpc.mailhistory.tracking_links(tenant.operator_scope(), 10, "MAIL-1", ["https://shop.example.jp/sale"])
    click = links["clicks"]["https://shop.example.jp/sale"].split("crm.example.jp", 1)[1]
    token = click.rsplit("/", 1)[1]
    forged = click.replace(token, token[:-3] + ("abc" if not token.endswith("abc") else "xyz"))
    client = app.test_client()
    response = client.get(forged)
    assert response.status_code == 404 and "Location" not in response.headers
    pixel = client.get(links["open"].split("crm.example.jp", 1)[1].replace(".gif", "x.gif"))
    assert pixel.status_code == 200 and pixel.mimetype == "image/gif"
    assert rpc.mailhistory.customer_history(tenant.operator_scope(), mailed["id"])["mails"] == []
    with pytest.raises(Forbidden):
        rpc.mailhistory.record_tracking(token + "x", "click")


def test_mail_pages_in_the_gateway(rpc, tenant, mailed, app):
    rpc.mailhistory.record_activities(tenant.operator_scope(), [
        {"activity": "delivery", "mail_number": 10, "member_number": "MAIL-1", "result": "delivered",
         "address": "mail1@example.jp", "occurred_at": "2026-11-20T09:00:00"}])
    client = app.test_client()
    log_in(client, tenant.operator_login, tenant.password)
    listing = client.get("/mails/").get_data(as_text=True)
    assert "冬のご案内" in listing and "S5-2" in listing and "手動シナリオ" in listing
    tab = client.get(f"/customers/{mailed['id']}/mails").get_data(as_text=True)
    assert "冬のご案内" in tab and "2026-11-20 09:00" in tab and "送信済" in tab
