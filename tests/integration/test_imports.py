"""インポート機能 and the connector against the real services: each format in its real shape, the same file twice, bad
rows reported, update only / do not overwrite, cancellations, an interrupted connector resumed, a job restarted."""
import base64
import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from bench.import_data import write_eccube_members, write_eccube_orders
from tests.support import HUNG_SECONDS, ROOT, session_for, wait_for

FIXTURES = ROOT / "tests" / "fixtures" / "imports"


def connector(stack, tenant, kind, path, *extra):
    """``python -m services import`` as an operator runs it; returns (exit code, stdout, stderr)."""
    done = subprocess.run([sys.executable, "-m", "services", "import", kind, str(path), "--company",
                           str(tenant.company_id), "--shop", "103", "--quiet", *extra], cwd=ROOT, env=stack.env,
                          capture_output=True, text=True, timeout=HUNG_SECONDS)
    return done.returncode, done.stdout, done.stderr


def copy(tmp_path, name):
    target = tmp_path / name
    shutil.copy(FIXTURES / name, target)
    return target


def by_number(rpc, scope, number):
    return rpc.customers.get_customer_by_member_number(scope, number)


def purchases_of(rpc, scope, number):
    customer = by_number(rpc, scope, number)
    return sorted((p["order_code"], p["status"], p["counted"], p["sales"], p["version"])
                  for p in rpc.purchases.customer_purchases(scope, customer["id"], per_page=100)["purchases"])


def test_eccube_members_then_orders_through_the_connector_and_the_same_files_again_change_nothing(
        stack, rpc, tenant, tmp_path):
    scope = tenant.operator_scope()
    members = copy(tmp_path, "eccube4_members.csv")
    code, out, err = connector(stack, tenant, "customers", members)
    assert code == 0, err
    assert "created 2, updated 0, unchanged 0, skipped 1, failed 2, cancelled 0" in out
    hanako = by_number(rpc, scope, "1001")
    assert (hanako["family_name"], hanako["given_kana"], hanako["gender"], hanako["birth_date"],
            hanako["registered_at"], hanako["address"]) == (
        "山田", "ハナコ", "female", "1985-04-01", "2021-06-15T10:20:30+09:00", "東京都 港区虎ノ門1-1 虎ノ門ビル3F")
    assert by_number(rpc, scope, "1002")["mobile_phone"] == "090-1111-2222"
    failed = (tmp_path / "eccube4_members.csv.failed.csv").read_bytes().decode("cp932")
    rows = list(csv.reader(io.StringIO(failed)))
    assert [(row[0], row[-2], row[-1]) for row in rows[1:]] == [
        ("1003", "4", "お名前(姓): 必須項目です。"), ("1004", "5", "誕生日: 日付が正しくありません。")]

    orders = copy(tmp_path, "eccube4_orders.csv")
    code, out, err = connector(stack, tenant, "purchases", orders)
    assert code == 0, err
    assert "created 4, updated 0, unchanged 0, skipped 1, failed 1, cancelled 2" in out
    assert purchases_of(rpc, scope, "1001") == [("5001", "ordered", True, 950, 1), ("5003", "returned", False, 3000, 1)]
    assert purchases_of(rpc, scope, "1002") == [("5002", "cancelled", False, 400, 1), ("5006", "ordered", True, 1200, 1)]

    for path in (members, orders):  # a new run of each file (its state file gone): nothing changes
        os.remove(f"{path}.import-state.json")
    code, out, _ = connector(stack, tenant, "customers", members)
    assert "created 0, updated 0, unchanged 2" in out
    code, out, _ = connector(stack, tenant, "purchases", orders)
    assert "created 0, updated 0, unchanged 4" in out
    assert purchases_of(rpc, scope, "1001") == [("5001", "ordered", True, 950, 1), ("5003", "returned", False, 3000, 1)]


def test_update_only_and_keep_existing(stack, rpc, tenant, tmp_path):
    scope = tenant.operator_scope()
    shop = tenant.shops[0]["id"]
    rpc.customers.upsert_customers(scope, [{"shop_id": shop, "member_number": "1001", "family_name": "山田",
                                            "home_phone": "03-9999-0000"}])
    members = copy(tmp_path, "eccube4_members.csv")
    code, out, err = connector(stack, tenant, "customers", members, "--mode", "update_only", "--keep-existing")
    assert code == 0, err
    assert "created 0, updated 1" in out
    hanako = by_number(rpc, scope, "1001")
    assert (hanako["home_phone"], hanako["given_name"]) == ("03-9999-0000", "花子")  # kept; filled where empty
    with pytest.raises(Exception):
        by_number(rpc, scope, "1002")  # update only: never created


def test_an_order_cancelled_in_the_cart_after_its_import_stops_counting(stack, rpc, tenant, tmp_path):
    scope = tenant.operator_scope()
    connector(stack, tenant, "customers", copy(tmp_path, "eccube4_members.csv"))
    orders = copy(tmp_path, "eccube4_orders.csv")
    connector(stack, tenant, "purchases", orders)
    text = orders.read_bytes().decode("cp932").replace(",5006,1002,", ",5006,1002,", 1)
    lines = text.split("\r\n")
    header = lines[0].split(",")
    status_id, status_name = header.index("対応状況(ID)"), header.index("対応状況(名称)")
    changed = []
    for line in lines:
        cells = next(csv.reader([line])) if line else []
        if cells and cells[1] == "5006":
            cells[status_id], cells[status_name] = "3", "注文取消し"
        changed.append(cells)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([c for c in changed if c])
    later = tmp_path / "later.csv"
    later.write_bytes(buffer.getvalue().encode("cp932"))
    code, out, err = connector(stack, tenant, "purchases", later)
    assert code == 0, err
    assert "updated 1, unchanged 3" in out
    assert ("5006", "cancelled", False, 1200, 2) in purchases_of(rpc, scope, "1002")


def test_shopify_orders_find_their_customers_by_address(stack, rpc, tenant, tmp_path):
    scope = tenant.operator_scope()
    connector(stack, tenant, "customers", copy(tmp_path, "eccube4_members.csv"))
    code, out, err = connector(stack, tenant, "purchases", copy(tmp_path, "shopify_orders.csv"))
    assert code == 0, err
    assert "created 3, updated 0, unchanged 0, skipped 1, failed 0, cancelled 2" in out
    assert purchases_of(rpc, scope, "1001") == [("#1001", "ordered", True, 1100, 1), ("#1003", "returned", False, 300, 1)]


def test_a_line_item_file_with_a_mapping(stack, rpc, tenant, tmp_path):
    scope = tenant.operator_scope()
    shop = tenant.shops[0]["id"]
    rpc.customers.upsert_customers(scope, [{"shop_id": shop, "member_number": n, "family_name": "顧客"}
                                           for n in ("17850", "14527")])
    code, out, err = connector(stack, tenant, "purchases", copy(tmp_path, "line_items.tsv"))
    assert code == 0, err
    assert "created 2, updated 0, unchanged 0, skipped 1, failed 0, cancelled 1" in out
    assert purchases_of(rpc, scope, "17850") == [("536365", "ordered", True, 6 * 255 + 6 * 339, 1)]
    assert purchases_of(rpc, scope, "14527") == [("C536379", "cancelled", False, 28, 1)]


def generated_orders(tmp_path, lines):
    members, orders = tmp_path / "members.csv", tmp_path / "orders.csv"
    write_eccube_members(members, customers=300, seed=3)
    write_eccube_orders(orders, lines=lines, customers=300, products=50, seed=3)
    with open(orders, encoding="cp932", newline="") as stream:
        rows = list(csv.DictReader(stream))
    member_orders = {row["注文番号"] for row in rows if row["会員ID"]}
    return members, orders, len(member_orders)


def purchase_count(stack, tenant):
    engine, factory = session_for(stack.urls["purchases"])
    with factory() as session:
        counted = session.execute(text("SELECT count(*), count(DISTINCT order_code), max(version) FROM purchases "
                                       "WHERE company_id = :c"), {"c": tenant.company_id}).one()
    engine.dispose()
    return tuple(counted)


def test_an_interrupted_connector_run_resumed_gives_one_copy_of_each_order(stack, tenant, tmp_path):
    members, orders, expected = generated_orders(tmp_path, lines=3000)
    assert connector(stack, tenant, "customers", members)[0] == 0
    state = Path(f"{orders}.import-state.json")
    process = subprocess.Popen([sys.executable, "-m", "services", "import", "purchases", str(orders), "--company",
                                str(tenant.company_id), "--shop", "103", "--quiet", "--batch", "20"], cwd=ROOT,
                               env=stack.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def partly_done():
        if not state.exists():
            return False
        checkpoint = json.loads(state.read_text())["checkpoint"]
        return checkpoint["report"]["records"] >= 100

    wait_for(partly_done, message="a few batches of the connector")
    process.send_signal(signal.SIGKILL)
    process.wait(HUNG_SECONDS)
    assert not json.loads(state.read_text())["checkpoint"]["finished"]
    code, out, err = connector(stack, tenant, "purchases", orders, "--batch", "20")
    assert code == 0, err
    assert purchase_count(stack, tenant) == (expected, expected, 1)


def upload(rpc, scope, shop_id, path, chunk=64 * 1024):
    job = rpc.purchases.create_import(scope, shop_id, path.name)
    data = path.read_bytes()
    for offset in range(0, len(data), chunk):
        rpc.purchases.append_import_chunk(scope, job["id"], offset, base64.b64encode(data[offset:offset + chunk]).decode())
    return job["id"]


def test_a_job_interrupted_by_a_restart_of_its_service_finishes(stack, rpc, tenant, tmp_path):
    scope = tenant.operator_scope()
    members, orders, expected = generated_orders(tmp_path, lines=6000)
    assert connector(stack, tenant, "customers", members)[0] == 0
    import_id = upload(rpc, scope, tenant.shops[0]["id"], orders)
    inspected = rpc.purchases.inspect_import(scope, import_id)
    assert (inspected["status"], inspected["format"], inspected["shape"]["encoding"]) == (
        "ready", "eccube4_orders", "cp932")
    rpc.purchases.start_import(scope, import_id)
    wait_for(lambda: rpc.purchases.get_import(scope, import_id)["progress"] > 0, message="the job under way")
    stack.processes.processes["purchases"].kill()  # kill -9: no chance to finish the slice
    stack.processes.processes["purchases"].wait()
    stack.processes.start("purchases")
    wait_for(lambda: rpc.purchases.get_import(scope, import_id)["status"] == "finished", message="the job finished")
    assert purchase_count(stack, tenant) == (expected, expected, 1)
    report = rpc.purchases.get_import(scope, import_id)["report"]
    assert report["created"] == expected and report["failed"] == 0


def test_a_customers_job_dry_run_writes_nothing_then_the_run_reports_and_keeps_the_failed_rows(stack, rpc, tenant):
    scope = tenant.operator_scope()
    data = (FIXTURES / "eccube4_members.csv").read_bytes()
    job = rpc.customers.create_import(scope, tenant.shops[0]["id"], "会員.csv")
    for offset in range(0, len(data), 300):
        rpc.customers.append_import_chunk(scope, job["id"], offset, base64.b64encode(data[offset:offset + 300]).decode())
    rpc.customers.append_import_chunk(scope, job["id"], 0, base64.b64encode(data[:300]).decode())  # sent again
    inspected = rpc.customers.inspect_import(scope, job["id"])
    assert (inspected["size"], inspected["format"], inspected["shape"]["encoding"]) == (
        len(data), "eccube4_members", "cp932")
    assert [entry["record"]["member_number"] if entry["record"] else entry["skip_reason"] or "problems"
            for entry in inspected["preview"]] == ["1001", "１００２", "1003", "problems", "no_member_number"]

    rpc.customers.start_import(scope, job["id"], None, {"mode": "create_update"}, True)
    wait_for(lambda: rpc.customers.get_import(scope, job["id"])["status"] == "finished", message="the dry run")
    report = rpc.customers.get_import(scope, job["id"])["report"]
    assert (report["created"], report["failed"], report["skipped"]) == (2, 2, {"no_member_number": 1})
    assert rpc.customers.resolve_member_numbers(scope, ["1001"]) == {}  # a dry run writes nothing

    rpc.customers.start_import(scope, job["id"], None, {"mode": "create_update"}, False)
    wait_for(lambda: rpc.customers.get_import(scope, job["id"])["status"] == "finished", message="the import")
    done = rpc.customers.get_import(scope, job["id"])
    assert (done["report"]["created"], done["report"]["failed"], done["progress"], done["has_failed_rows"]) == (
        2, 2, 1.0, True)
    assert set(rpc.customers.resolve_member_numbers(scope, ["1001", "1002"])) == {"1001", "1002"}
    failed = rpc.customers.import_failed_rows(scope, job["id"])
    rows = list(csv.reader(io.StringIO(base64.b64decode(failed["data"]).decode("cp932"))))
    assert failed["last"] and [(row[0], row[-1]) for row in rows[1:]] == [
        ("1003", "お名前(姓): 必須項目です。"), ("1004", "誕生日: 日付が正しくありません。")]
    assert [entry["id"] for entry in rpc.customers.list_imports(scope)["imports"]] == [job["id"]]
    other_shop = tenant.shop_scope(1)
    with pytest.raises(Exception) as refused:
        rpc.customers.get_import(other_shop, job["id"])
    assert type(refused.value).__name__ == "Forbidden"


@pytest.mark.parametrize("data, message", [
    (b"", "ファイルが空です。"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "CSVファイルではありません。"),
])
def test_a_file_that_is_no_csv_is_refused_with_its_reason_and_nothing_runs(stack, rpc, tenant, data, message):
    scope = tenant.operator_scope()
    job = rpc.customers.create_import(scope, tenant.shops[0]["id"], "x.csv")
    if data:
        rpc.customers.append_import_chunk(scope, job["id"], 0, base64.b64encode(data).decode())
    inspected = rpc.customers.inspect_import(scope, job["id"])
    assert (inspected["status"], inspected["error"], inspected["preview"]) == ("failed", message, [])
    with pytest.raises(Exception) as refused:
        rpc.customers.start_import(scope, job["id"])
    assert type(refused.value).__name__ == "Conflict"
