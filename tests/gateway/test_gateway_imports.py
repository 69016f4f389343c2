"""顧客管理 > インポート機能 through the gateway and the real services: upload EC-CUBE's 会員CSV, see it read, check it
(nothing written), run it, read the report and download the failed rows; files refused; shops kept apart."""
import csv
import io
import re

import pytest

from bench.import_data import write_eccube_members
from services.common.errors import NotFound

from tests.gateway.conftest import csrf_token, log_in
from tests.support import ROOT, wait_for

FIXTURES = ROOT / "tests" / "fixtures" / "imports"
PAGE = "/customers/imports/"


def upload(client, tenant, name, data, kind="customers", shop=0, encoding=""):
    return client.post(PAGE, data={"csrf_token": csrf_token(client, PAGE), "shop_id": str(tenant.shops[shop]["id"]),
                                   "kind": kind, "encoding": encoding, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def import_path(response):
    match = re.search(r"/customers/imports/(customers|purchases)/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(0)


def progress(client, path):
    return client.get(path + "/progress.json").get_json()


def finished(client, path):
    wait_for(lambda: progress(client, path)["done"], message="the import to finish")
    return client.get(path).get_data(as_text=True)


def count(page, key):
    return int(re.search(rf'data-count="{key}">(\d+)<', page).group(1))


def start(client, path, action, mapping_from=None, **extra):
    """Post the mapping page's form as shown (its selected columns), with ``action``."""
    page = mapping_from or client.get(path).get_data(as_text=True)
    form = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1), "action": action,
            "mode": "create_update"}
    for name, body in re.findall(r'<select id="(map_\w+)" name="\1"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        form[name] = chosen.group(1) if chosen else ""
    form.update(extra)
    return client.post(path + "/start", data=form)


def test_eccube_members_checked_then_imported_with_a_report_and_the_failed_rows(operator, tenant, rpc):
    scope = tenant.operator_scope()
    response = upload(operator, tenant, "会員.csv", (FIXTURES / "eccube4_members.csv").read_bytes())
    assert response.status_code == 302, response.get_data(as_text=True)
    path = import_path(response)

    page = operator.get(path).get_data(as_text=True)
    assert 'data-testid="format">EC-CUBE 4 会員CSV<' in page
    assert 'data-testid="encoding">Shift_JIS (CP932)<' in page and 'data-testid="delimiter">カンマ<' in page
    assert '<option value="会員ID" selected>会員ID</option>' in page  # 会員番号 ← 会員ID
    assert "<em>名前（姓）</em> 山田" in page and "<em>性別</em> 女性" in page  # stored as 女性, labelled
    assert "5行目 誕生日: 日付が正しくありません。" in page
    assert "会員番号がありません" in page  # the last row's skip reason, in the catalogue's words

    response = start(operator, path, "dry_run", mapping_from=page)
    assert response.status_code == 302, response.get_data(as_text=True)
    page = finished(operator, path)
    assert "チェック結果" in page and "データは登録・更新されていません。" in page
    assert (count(page, "created"), count(page, "failed"), count(page, "skipped")) == (2, 2, 1)
    with pytest.raises(NotFound):
        rpc.customers.get_customer_by_member_number(scope, "1001")

    response = operator.post(path + "/start", data={"csrf_token": csrf_token(operator, path), "action": "run",
                                                    "from_dry_run": "1"})
    assert response.status_code == 302
    page = finished(operator, path)
    assert progress(operator, path)["percent"] == 100
    assert (count(page, "created"), count(page, "updated"), count(page, "unchanged"), count(page, "failed"),
            count(page, "skipped")) == (2, 0, 0, 2, 1)
    assert "会員番号がありません: 1件" in page
    assert "<td class=\"num\">4</td><td>お名前(姓)</td><td class=\"problem-text\">必須項目です。</td>" in page
    assert rpc.customers.get_customer_by_member_number(scope, "1001")["family_name"] == "山田"

    download = operator.get(path + "/failed.csv")
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "text/csv; charset=Shift_JIS"
    assert "filename*=UTF-8''%E4%BC%9A%E5%93%A1_%E3%82%A8%E3%83%A9%E3%83%BC%E8%A1%8C.csv" in (
        download.headers["Content-Disposition"])  # 会員_エラー行.csv
    rows = list(csv.reader(io.StringIO(download.get_data().decode("cp932"))))
    assert rows[0][0] == "会員ID" and rows[0][-2:] == ["行番号", "エラー内容"]
    assert [(row[0], row[-2], row[-1]) for row in rows[1:]] == [
        ("1003", "4", "お名前(姓): 必須項目です。"), ("1004", "5", "誕生日: 日付が正しくありません。")]

    listing = operator.get(PAGE).get_data(as_text=True)
    assert "会員.csv" in listing and "完了" in listing and path in listing


def test_a_mapping_naming_a_column_not_in_the_file_or_leaving_a_required_field_out_is_refused_in_japanese(
        operator, tenant):
    path = import_path(upload(operator, tenant, "members.csv", (FIXTURES / "eccube4_members.csv").read_bytes()))
    response = start(operator, path, "run", map_family_name="", map_birth_date="生年月日なし")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "必須項目です。" in page and "ファイルにない列です。" in page
    assert progress(operator, path)["status"] == "ready"  # nothing started


@pytest.mark.parametrize("name, data, message", [
    ("empty.csv", b"", "ファイルが空です。"),
    ("logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01", "CSVファイルではありません。"),
])
def test_a_file_that_is_no_csv_is_refused_on_the_upload_page(operator, tenant, name, data, message):
    response = upload(operator, tenant, name, data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_an_upload_without_a_file_or_an_unknown_import_is_answered_in_japanese(operator, tenant):
    response = operator.post(PAGE, data={"csrf_token": csrf_token(operator, PAGE),
                                         "shop_id": str(tenant.shops[0]["id"]), "kind": "customers"})
    assert response.status_code == 400
    assert "ファイルを選択してください。" in response.get_data(as_text=True)
    missing = operator.get("/customers/imports/customers/999999")
    assert missing.status_code == 404 and "指定されたデータは存在しません。" in missing.get_data(as_text=True)
    assert operator.get("/customers/imports/products/1").status_code == 404


def test_an_upload_without_its_csrf_token_is_refused(operator, tenant):
    response = operator.post(PAGE, data={"shop_id": str(tenant.shops[0]["id"]), "kind": "customers",
                                         "file": (io.BytesIO(b"a,b\n1,2\n"), "x.csv")},
                             content_type="multipart/form-data")
    assert response.status_code == 400 and "不正なリクエスト" in response.get_data(as_text=True)


def test_a_shop_account_cannot_open_another_shops_import(app, operator, tenant):
    other = import_path(upload(operator, tenant, "5019.csv", (FIXTURES / "eccube4_members.csv").read_bytes(),
                               shop=1))
    shop = app.test_client()
    log_in(shop, tenant.shops[0]["login_id"], tenant.password)
    for suffix in ("", "/progress.json", "/failed.csv"):
        response = shop.get(other + suffix)
        assert response.status_code == 403, suffix
        assert "権限がありません" in response.get_data(as_text=True)
    assert "5019.csv" not in shop.get(PAGE).get_data(as_text=True)
    own = import_path(upload(shop, tenant, "103.csv", (FIXTURES / "eccube4_members.csv").read_bytes()))
    assert shop.get(own).status_code == 200


def test_the_file_read_again_with_another_encoding_or_previewed_with_another_mapping(operator, tenant):
    path = import_path(upload(operator, tenant, "members.csv", (FIXTURES / "eccube4_members.csv").read_bytes()))
    response = operator.post(path + "/encoding", data={"csrf_token": csrf_token(operator, path), "encoding": "utf_8"},
                             follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "文字コード: 指定された文字コードでは読めません。" in page
    assert 'data-testid="encoding">Shift_JIS (CP932)<' in page  # still read as it was
    response = operator.post(path + "/encoding", data={"csrf_token": csrf_token(operator, path), "encoding": "cp932"},
                             follow_redirects=True)
    assert "文字コード「Shift_JIS (CP932)」で読み直しました。" in response.get_data(as_text=True)

    page = start(operator, path, "preview", map_given_name="").get_data(as_text=True)
    assert "<em>名前（姓）</em> 山田" in page and "<em>名前（名）</em>" not in page


def test_a_file_of_several_megabytes_reaches_the_service_whole_in_chunks(operator, tenant, rpc, tmp_path):
    path = tmp_path / "members.csv"
    write_eccube_members(path, customers=20_000)
    data = path.read_bytes()
    assert len(data) > 3 * 1024 * 1024  # four chunks of 1 MB
    response = upload(operator, tenant, "members.csv", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    job = rpc.customers.get_import(tenant.operator_scope(), int(import_path(response).rsplit("/", 1)[1]))
    assert (job["status"], job["size"]) == ("ready", len(data))
    page = operator.get(import_path(response)).get_data(as_text=True)
    assert 'data-testid="format">EC-CUBE 4 会員CSV<' in page and "<em>会員番号</em> 1</li>" in page


def test_an_import_whose_file_is_not_complete_or_was_refused_cannot_be_started(operator, tenant, rpc):
    job = rpc.customers.create_import(tenant.operator_scope(), tenant.shops[0]["id"], "half.csv")
    path = f"/customers/imports/customers/{job['id']}"
    for action in ("preview", "dry_run", "run"):
        response = operator.post(path + "/start", data={"csrf_token": csrf_token(operator, path), "action": action},
                                 follow_redirects=True)
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "この取込は開始できません" in page and "ファイルのアップロードが完了していません。" in page


def test_a_file_larger_than_any_form_is_taken(operator, tenant, rpc):
    row = "1001,山田,花子," + "x" * 200 + "\r\n"
    data = ("会員ID,お名前(姓),お名前(名),ショップ用\r\n" + row * 90_000).encode("cp932")
    assert len(data) > 16 * 1024 * 1024  # the gateway's limit for every other form
    response = upload(operator, tenant, "big.csv", data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    job = rpc.customers.get_import(tenant.operator_scope(), int(import_path(response).rsplit("/", 1)[1]))
    assert (job["status"], job["size"]) == ("ready", len(data))


def test_the_import_history_pages_both_kinds_newest_first_with_page_numbers(operator, tenant, rpc):
    scope, shop = tenant.operator_scope(), tenant.shops[0]["id"]
    names = []
    for n in range(1, 27):  # 26 imports, every fourth one of purchases, in this order of time
        service = rpc.purchases if n % 4 == 0 else rpc.customers
        service.create_import(scope, shop, f"history-{n:02d}.csv")
        names.append(f"history-{n:02d}.csv")
    first = operator.get(PAGE).get_data(as_text=True)
    shown = re.findall(r"history-(\d\d)\.csv", first)
    assert shown == [f"{n:02d}" for n in range(26, 6, -1)]  # the newest 20, both kinds merged by time
    assert "26件中 1〜20件" in first and 'aria-label="2ページ"' in first and "最後 »" in first
    second = operator.get(PAGE + "?page=2").get_data(as_text=True)
    assert re.findall(r"history-(\d\d)\.csv", second) == ["06", "05", "04", "03", "02", "01"]
    assert "26件中 21〜26件" in second and 'class="current" aria-current="page">2<' in second
    beyond = operator.get(PAGE + "?page=9").get_data(as_text=True)  # past the last page: the last page
    assert re.findall(r"history-(\d\d)\.csv", beyond) == ["06", "05", "04", "03", "02", "01"]
    assert rpc.purchases.list_imports(scope)["total"] == 6 and rpc.customers.list_imports(scope)["total"] == 20
