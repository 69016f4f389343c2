"""Date fields in a browser set to American English: the admin's dates read and are typed as Japanese dates,
yyyy/mm/dd, with a calendar in Japanese to pick them from (its own date fields would say mm/dd/yyyy)."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot
from tests.support import ROOT, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _picker_installed():
    assert (ROOT / "gateway/static/vendor/flatpickr/flatpickr.min.js").exists(), (
        "the date picker is not installed: `make test` installs it (or `npm ci && npm run vendor`)")


def test_a_date_picked_from_the_calendar_and_one_typed_find_the_customers_registered_between(
        english_screen, gateway_url, tenant, rpc):
    page, scope, shop = english_screen, tenant.operator_scope(), tenant.shops[0]["id"]
    registered = {"D1": "2026-11-30T23:00:00+09:00", "D2": "2026-12-01T09:00:00+09:00",
                  "D3": "2026-12-06T23:30:00+09:00", "D4": "2026-12-07T00:10:00+09:00"}
    rpc.customers.upsert_customers(scope, [{"member_number": number, "shop_id": shop, "family_name": "日付",
                                            "registered_at": moment} for number, moment in registered.items()])
    wait_for(lambda: rpc.search.count(scope, {})["total"] == 4, message="the index")

    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    page.goto(gateway_url + "/customers/search/")
    since, until = page.get_by_label("登録日（から）"), page.get_by_label("登録日（まで）")
    expect(until).to_have_attribute("placeholder", "YYYY/MM/DD")
    until.press_sequentially("2026/12/06")
    until.press("Tab")
    expect(until).to_have_value("2026/12/06")

    since.click()  # empty: its calendar opens on the month of the other end
    calendar = page.locator(".flatpickr-calendar.open")
    expect(calendar).to_be_visible()
    expect(calendar.locator(".flatpickr-weekday").first).to_have_text("日")
    expect(calendar.locator(".cur-year")).to_have_value("2026")
    expect(calendar.locator(".flatpickr-monthDropdown-months")).to_have_value("11")  # December (from 0)
    screenshot(page, "search_date_picker")
    calendar.get_by_label("2026年12月1日").click()
    expect(since).to_have_value("2026/12/01")
    expect(calendar).to_be_hidden()

    page.click("#search-form button:has-text('検索')")
    expect(page.get_by_test_id("total")).to_have_text("2")
    rows = page.locator("table.hits tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("D2")
    expect(rows.nth(1)).to_contain_text("D3")
    expect(page).to_have_url(re.compile(r"registered_from=2026%2F12%2F01&registered_to=2026%2F12%2F06"))
    page.locator("summary:has-text('属性検索')").click()
    expect(since).to_have_value("2026/12/01")
    expect(until).to_have_value("2026/12/06")


def test_the_customer_form_takes_a_japanese_birth_date_and_keeps_a_wrong_one_for_its_message(
        english_screen, gateway_url, tenant):
    page = english_screen
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    page.goto(gateway_url + "/customers/new")
    page.fill("#family_name", "日付")
    birth = page.locator("#birth_date")
    birth.click()
    calendar = page.locator(".flatpickr-calendar.open")
    expect(calendar).to_be_visible()
    today = calendar.locator(".flatpickr-day.today")
    expect(today).to_have_attribute("aria-label", re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$"))  # read out in Japanese
    screenshot(page, "customer_form_date_picker")
    birth.press_sequentially("１９９１／２／３")  # full-width, as an IME may give it
    expect(calendar).to_be_hidden()  # typing puts the calendar away: it would cover the fields below
    page.check("input[name=mail_permission][value=pc]")
    page.fill("#pc_email", "date@example.jp")
    expect(birth).to_have_value("1991/02/03")  # read, once the field is left, and written as the fields write days
    screenshot(page, "customer_form_dates")

    birth.fill("1991/02/30")  # no such day: kept as typed, refused beside the field
    page.fill("#family_kana", "ひづけ")
    expect(birth).to_have_value("1991/02/30")
    page.click("button:has-text('確認')")
    expect(page.locator("#birth_date ~ .field-error")).to_have_text("入力内容が正しくありません。")
    expect(page.locator("#birth_date")).to_have_value("1991/02/30")
