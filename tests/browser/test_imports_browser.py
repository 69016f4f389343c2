"""インポート機能 in a real browser: EC-CUBE's 会員CSV, then its 受注CSV read, previewed and run, the progress bar up
to 100%, the report, and the failed rows downloaded."""
import csv
import io
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot
from tests.support import ROOT

pytestmark = pytest.mark.browser
FIXTURES = ROOT / "tests" / "fixtures" / "imports"


def upload(page, gateway_url, kind_label, name):
    page.goto(gateway_url + "/customers/imports/")
    page.get_by_label(kind_label).check()
    page.set_input_files("#file", str(FIXTURES / name))
    page.click("button:has-text('アップロード')")
    expect(page.locator("h1")).to_contain_text("取込内容の確認")


def run_to_the_end(page):
    page.click("button:has-text('取込実行')")
    expect(page.locator("[role=progressbar]")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text(re.compile("完了|中断"))  # over, either way
    expect(page.get_by_test_id("status")).to_have_text("完了")
    expect(page.get_by_test_id("percent")).to_have_text("100%")
    expect(page.get_by_test_id("report")).to_be_visible()


def test_members_then_orders_imported_with_their_report_and_failed_rows(screen, gateway_url, tenant):
    page = screen
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    page.goto(gateway_url + "/customers/")
    page.get_by_role("link", name="インポート機能").click()
    expect(page.locator("h1")).to_have_text("インポート機能")
    screenshot(page, "imports_upload")

    page.set_input_files("#file", str(FIXTURES / "eccube4_members.csv"))
    expect(page.locator("[data-file-chosen]")).to_have_text("eccube4_members.csv")
    page.set_input_files("#file", [])
    page.click("button:has-text('アップロード')")  # no file chosen
    expect(page.locator(".field-error")).to_have_text("ファイルを選択してください。")

    upload(page, gateway_url, "顧客データ", "eccube4_members.csv")
    expect(page.get_by_test_id("format")).to_have_text("EC-CUBE 4 会員CSV")
    screenshot(page, "imports_members_mapping")
    page.click("button:has-text('チェックのみ実行')")
    expect(page.locator("h1")).to_contain_text("チェック結果")
    expect(page.get_by_test_id("status")).to_have_text("完了")
    expect(page.get_by_test_id("report")).to_contain_text("会員番号がありません: 1件")
    expect(page.locator("[data-count=failed]")).to_have_text("2")
    screenshot(page, "imports_members_dry_run")
    run_to_the_end(page)  # the dry run's 取込実行: the same mapping and options
    expect(page.locator("h1")).to_contain_text("取込状況")
    expect(page.locator("[data-count=created]")).to_have_text("2")
    screenshot(page, "imports_members_report")

    upload(page, gateway_url, "購入履歴データ", "eccube4_orders.csv")
    expect(page.get_by_test_id("format")).to_have_text("EC-CUBE 4 受注CSV")
    expect(page.get_by_test_id("encoding")).to_have_text("Shift_JIS (CP932)")
    preview = page.get_by_test_id("preview")
    expect(preview).to_contain_text("ROSE-RED")
    expect(preview.locator(".problem-text").first).to_be_visible()
    screenshot(page, "imports_orders_mapping")
    run_to_the_end(page)
    for key, number in (("created", "4"), ("cancelled", "2"), ("skipped", "1"), ("failed", "1")):
        expect(page.locator(f"[data-count={key}]")).to_have_text(number)
    expect(page.get_by_test_id("problems")).to_contain_text("個数")
    screenshot(page, "imports_orders_report")

    with page.expect_download() as waiting:
        page.get_by_test_id("failed-rows").click()
    download = waiting.value
    assert download.suggested_filename == "eccube4_orders_エラー行.csv"
    rows = list(csv.reader(io.StringIO(open(download.path(), "rb").read().decode("cp932"))))
    assert rows[0][-2:] == ["行番号", "エラー内容"] and [row[-2] for row in rows[1:]] == ["8"]

    page.goto(gateway_url + "/customers/imports/")
    expect(page.get_by_test_id("import-row")).to_have_count(2)
    expect(page.get_by_test_id("import-row").first).to_contain_text("eccube4_orders.csv")
    screenshot(page, "imports_list")
    page.get_by_test_id("import-row").first.get_by_role("link", name="詳細").click()
    expect(page).to_have_url(re.compile(r"/customers/imports/purchases/\d+$"))
