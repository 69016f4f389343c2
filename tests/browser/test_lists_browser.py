"""Lists that hold real data, in a real browser at 1366×768: the pager, the 購入履歴 tab with 履歴グループ answers,
the search panels' product and mail pickers, the shop of each hit, customers who never bought sorted last, a category
of 1,200 products."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot
from tests.support import HUNG_SECONDS, add_products, some_never_bought, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture
def screen(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ja-JP")
    page = context.new_page()
    page.set_default_timeout(HUNG_SECONDS * 1000)
    yield page
    context.close()


def test_the_purchases_tab_pages_and_shows_each_cards_answers(screen, gateway_url, tenant, rpc):
    page, scope, shop = screen, tenant.operator_scope(), tenant.shops[0]["id"]
    group = rpc.purchases.add_history_group(scope, {"name": "管理ステイタス"})
    group = rpc.purchases.add_history_choice(scope, group["id"], {"label": "発送済"})
    customer = rpc.customers.create_customer(scope, {"shop_id": shop, "family_name": "常連", "member_number": "T-1"})
    for n in range(1, 46):
        rpc.purchases.create_purchase(scope, {
            "customer_id": customer["id"], "shop_id": shop, "purchased_at": f"2026-{1 + (n - 1) // 28:02d}-"
            f"{1 + (n - 1) % 28:02d}T10:00:00", "answers": {str(group["id"]): group["choices"][0]["id"]},
            "lines": [{"product_code": f"G-{n:02d}", "product_name": f"ギフト{n}", "quantity": 1, "unit_price": 1000}]})
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    page.goto(f"{gateway_url}/customers/{customer['id']}/purchases/")
    expect(page.locator("article.purchase")).to_have_count(20)
    expect(page.locator("article.purchase").first.locator("dl.answers")).to_have_text(re.compile("管理ステイタス.*発送済"))
    expect(page.locator("nav.pager").first).to_contain_text("45件中 1〜20件")
    screenshot(page, "purchases_tab_paged")
    page.locator("nav.pager").first.get_by_role("link", name="最後 »").click()
    expect(page.locator("article.purchase")).to_have_count(5)
    expect(page.locator("nav.pager").first.locator("[aria-current=page]")).to_have_text("3")
    expect(page.locator("article.purchase").last).to_contain_text("ギフト1")


def test_the_search_panels_pick_products_and_mails_and_hits_show_their_shop(screen, gateway_url, tenant, rpc, stack):
    page, scope, shop1, shop2 = screen, tenant.operator_scope(), tenant.shops[0]["id"], tenant.shops[1]["id"]
    add_products(stack.urls["purchases"], tenant, shop1, [
        {"code": f"TEA-{i:03d}", "name": f"{('煎茶', 'ほうじ茶', '玄米茶')[i % 3]} {i}g", "price": 500} for i in range(300)])
    rpc.mailhistory.upsert_mails(scope, [{"mail_number": n, "kind": "manual", "name": f"{n}月号 メルマガ"}
                                         for n in range(1, 41)])
    rpc.customers.upsert_customers(scope, [{"member_number": f"{i}", "shop_id": shop1 if i % 2 else shop2,
                                            "family_name": "検索", "given_name": f"{i}番"} for i in range(1, 61)])
    wait_for(lambda: rpc.search.count(scope, {})["total"] == 60, message="the index")
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    page.goto(gateway_url + "/customers/search/")
    page.locator("summary", has_text="最新購入情報 RFM分析").click()
    page.locator("details", has_text="最新購入情報 RFM分析").locator("input[name=l_shop_ids]").first.check()
    box = page.get_by_role("combobox", name="購入商品 1行目 商品を検索")
    box.fill("ほうじ茶 12")
    candidates = page.get_by_role("listbox", name="購入商品 1行目の候補").get_by_role("option")
    expect(candidates).to_have_count(4)  # ほうじ茶 is every third from TEA-001: 112, 121, 124 and 127 hold 12
    screenshot(page, "search_product_picker")
    candidates.filter(has_text="TEA-121").click()
    box.fill("ほうじ茶 13")
    page.get_by_role("listbox", name="購入商品 1行目の候補").get_by_role("option").filter(has_text="TEA-013").click()
    expect(page.locator("#l_row1_codes")).to_have_value("TEA-121, TEA-013")

    mails = page.locator("details", has_text="手動・手動シナリオ(一通目のみ)")
    mails.locator("summary").click()
    mails.get_by_role("searchbox", name="履歴選択 絞り込み").fill("12月")
    expect(mails.locator(".filter-entry:visible")).to_have_count(1)
    mails.locator(".filter-entry:visible input").check()
    expect(mails.locator(".filter-count")).to_have_text("1件選択中")
    screenshot(page, "search_mail_picker")

    page.goto(gateway_url + "/customers/search/?search=1&name=検索&page=2")
    hits = page.locator("table.hits tbody tr")
    expect(hits).to_have_count(10)
    expect(page.get_by_test_id("hit-shop").first).to_have_text("103: テスト本店")  # member 51
    expect(page.get_by_test_id("hit-shop").nth(1)).to_have_text("5019: テスト支店")
    expect(page.locator("nav.pager")).to_contain_text("60件中 51〜60件")
    screenshot(page, "search_results_shop_pager")


def test_a_category_of_1200_products_pages_to_the_last(screen, gateway_url, tenant, stack):
    page = screen
    add_products(stack.urls["purchases"], tenant, tenant.shops[0]["id"], [
        {"code": f"BIG-{i:04d}", "name": f"大量商品 {i:04d}", "price": i} for i in range(1, 1201)])
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    page.goto(gateway_url + "/settings/products/")
    page.locator("table.categories tbody tr").first.get_by_role("link", name="編集").click()
    expect(page.get_by_test_id("product-total")).to_have_text("1,200件")
    page.get_by_role("link", name="24ページ").click()
    expect(page.locator("table.products tbody tr").last).to_contain_text("BIG-1200")
    screenshot(page, "products_category_paged")


def test_sorting_the_hits_by_total_puts_who_never_bought_last_both_ways(screen, gateway_url, tenant, rpc):
    page = screen
    some_never_bought(rpc, tenant)
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    page.goto(gateway_url + "/customers/search/?search=1&name=並び")
    numbers = page.locator("table.hits tbody tr td:first-child")
    totals = page.locator("table.hits tbody tr td:nth-child(9)")
    expect(numbers).to_have_text(["NB1", "NB2", "NB3", "NB4"])  # by 会員番号
    page.locator("table.hits thead").get_by_role("link", name="累計購入金額").click()
    expect(page.locator("table.hits thead")).to_contain_text("累計購入金額 ▲")
    expect(numbers).to_have_text(["NB3", "NB2", "NB1", "NB4"])
    page.locator("table.hits thead").get_by_role("link", name="累計購入金額").click()
    expect(page.locator("table.hits thead")).to_contain_text("累計購入金額 ▼")
    expect(numbers).to_have_text(["NB1", "NB2", "NB3", "NB4"])
    expect(totals).to_have_text(["655,145円", "100,000円", "30,000円", "0円"])
    screenshot(page, "search_sorted_by_total_never_bought_last")
