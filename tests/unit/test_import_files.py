"""What each format's rows become for their owner, and how a run batches, reports and resumes (the owner faked)."""
import csv
import io
import shutil
from pathlib import Path

import pytest

from services.common import csvreading, importing, import_mapping
from services.common.import_mapping import GENERIC
from services.import_kinds import CUSTOMERS, PURCHASES

FIXTURES = Path(__file__).parent.parent / "fixtures" / "imports"
SHOP = 7


def items_of(kind, name, mapping=None):
    path = FIXTURES / name
    shape = csvreading.inspect_file(path)
    key, default = import_mapping.default_mapping(shape.header, kind.fields, kind.formats)
    return key, shape, list(kind.items(csvreading.read_rows(path, shape), shape.header, mapping or default, SHOP))


def test_eccube_members_become_customers_with_their_registration_day_and_address():
    key, shape, items = items_of(CUSTOMERS, "eccube4_members.csv")
    assert (key, shape.encoding) == ("eccube4_members", "cp932")
    assert items[0].record == {
        "shop_id": SHOP, "member_number": "1001", "family_name": "山田", "given_name": "花子",
        "family_kana": "ヤマダ", "given_kana": "ハナコ", "postal_code": "1050001",
        "address": "東京都 港区虎ノ門1-1 虎ノ門ビル3F", "pc_email": "hanako@example.jp", "home_phone": "0312345678",
        "gender": "female", "birth_date": "1985-04-01", "registered_at": "2021-06-15T10:20:30+09:00",
        "points_held": 1200, "remark1": "=1+1 電話希望"}
    second = items[1].record
    assert (second["member_number"], second["mobile_phone"], second["gender"], second["birth_date"],
            second["registered_at"]) == ("１００２", "090-1111-2222", "male", "1990-12-24", "2022-03-01T09:00:00+09:00")
    assert "home_phone" not in second  # a mobile number in the cart's one TEL is the 携帯電話番号
    assert items[2].record["member_number"] == "1003" and "family_name" not in items[2].record  # the owner refuses
    assert items[3].record is None and items[3].problems == [{"row": 5, "column": "誕生日", "code": "invalid_date"}]
    assert items[4].skip_reason == "no_member_number"


def test_eccube_orders_group_their_lines_keep_cancellations_and_skip_guests():
    key, shape, items = items_of(PURCHASES, "eccube4_orders.csv")
    assert (key, shape.encoding) == ("eccube4_orders", "cp932")
    first = items[0]
    assert [row.row_number for row in first.rows] == [2, 3, 4]
    assert first.record == {
        "shop_id": SHOP, "order_code": "5001", "member_number": "1001", "status": "ordered",
        "purchased_at": "2024-03-05T14:22:10+09:00", "shipped_at": "2024-03-06T10:00:00+09:00",
        "lines": [{"product_code": "ROSE-RED", "product_name": "ローズ赤", "quantity": 2, "unit_price": 400},
                  {"product_code": "BOX 01", "product_name": "ギフト箱", "quantity": 1, "unit_price": 150}]}
    assert first.line_row_numbers == [2, 3]  # the 送料 row (明細区分 2) is no product
    assert (items[1].record["status"], items[1].record["member_number"]) == ("cancelled", "1002")
    assert (items[2].record["status"], items[2].record["lines"][0]["unit_price"]) == ("returned", 1000)
    assert items[3].skip_reason == "no_customer"
    assert items[4].record is None and items[4].problems == [{"row": 8, "column": "個数", "code": "not_integer"}]
    assert items[5].record["billed_amount"] == 1000  # 小計 1,200 − 値引き 200
    assert len(items) == 6


def test_shopify_orders_take_order_cells_from_the_first_line_and_read_cancelled_and_refunded():
    key, shape, items = items_of(PURCHASES, "shopify_orders.csv")
    assert (key, shape.encoding) == ("shopify_orders", "utf_8_sig")
    first = items[0].record
    assert (first["order_code"], first["customer_email"], first["status"], first["purchased_at"]) == (
        "#1001", "hanako@example.jp", "ordered", "2024-03-05T14:22:10+09:00")
    assert [(line["product_code"], line["quantity"], line["unit_price"]) for line in first["lines"]] == [
        ("ROSE-RED", 2, 400), ("LILY", 1, 300)]
    assert [item.record["status"] for item in items[1:3]] == ["cancelled", "returned"]
    assert items[3].skip_reason == "no_customer"


def test_a_line_item_file_of_no_known_format_is_mapped_by_its_column_names():
    key, shape, items = items_of(PURCHASES, "line_items.tsv")
    assert (key, shape.delimiter) == (GENERIC, "\t")
    _, mapping = import_mapping.default_mapping(shape.header, PURCHASES.fields, PURCHASES.formats)
    assert mapping == {"order_code": "InvoiceNo", "member_number": "CustomerID", "purchased_at": "InvoiceDate",
                       "product_code": "StockCode", "product_name": "Description", "quantity": "Quantity",
                       "unit_price": "UnitPrice"}
    assert [(line["product_code"], line["unit_price"]) for line in items[0].record["lines"]] == [
        ("85123A", 255), ("71053", 339)]
    cancellation = items[1].record
    assert (cancellation["order_code"], cancellation["status"], cancellation["lines"][0]["quantity"]) == (
        "C536379", "cancelled", 1)
    assert items[2].skip_reason == "no_customer"


def test_a_mapping_naming_a_missing_column_or_leaving_a_required_field_out_is_refused():
    header = ("伝票", "品番", "数")
    with pytest.raises(Exception) as refused:
        import_mapping.check_mapping(header, {"order_code": "伝票", "product_code": "無い列"}, PURCHASES.fields)
    assert refused.value.fields == {"mapping.product_code": ["unknown_column"], "mapping.purchased_at": ["required"],
                                    "mapping.quantity": ["required"]}


class FakeOwner:
    """The owner's batch write as the RPC answers it: refuses a record whose family_name is missing, counts the
    rest created the first time and unchanged after."""

    def __init__(self):
        self.calls, self.stored, self.answers = [], {}, {}

    def __call__(self, records, request_id, options, after=None):
        if request_id in self.answers:
            return self.answers[request_id]
        self.calls.append((request_id, [r["member_number"] for r in records], options))
        answer = {"created": 0, "updated": 0, "unchanged": 0, "errors": [], "skipped": []}
        for index, record in enumerate(records):
            if not record.get("family_name"):
                answer["errors"].append({"index": index, "fields": {"family_name": ["required"]}})
            elif record["member_number"] in self.stored:
                answer["unchanged"] += 1
            else:
                self.stored[record["member_number"]] = record
                answer["created"] += 1
        self.answers[request_id] = answer
        return answer


def run_file(tmp_path, owner, checkpoint=None, stop_after=None, batch_size=1, run="run-1"):
    path = tmp_path / "members.csv"
    if not path.exists():
        shutil.copy(FIXTURES / "eccube4_members.csv", path)
    shape = csvreading.inspect_file(path)
    _, mapping = import_mapping.default_mapping(shape.header, CUSTOMERS.fields, CUSTOMERS.formats)
    checkpoint = checkpoint or importing.new_checkpoint(shape)
    saved = []

    def save(state):
        saved.append(dict(state, report=dict(state["report"])))
        if stop_after is not None and len(saved) == stop_after:
            raise KeyboardInterrupt

    failed = importing.FailedRows(tmp_path / "failed.csv", shape.header, shape.encoding)
    try:
        importing.run(path, shape, CUSTOMERS, mapping, SHOP, owner, checkpoint, save, run,
                      {"mode": "create_update"}, batch_size=batch_size, failed_rows=failed)
    except KeyboardInterrupt:
        pass
    return checkpoint, saved


def test_a_run_reports_what_it_did_and_writes_the_failed_rows_in_the_files_own_encoding(tmp_path):
    owner = FakeOwner()
    checkpoint, _ = run_file(tmp_path, owner, batch_size=2)
    report = checkpoint["report"]
    assert checkpoint["finished"]
    assert (report["created"], report["unchanged"], report["failed"], report["skipped"]) == (
        2, 0, 2, {"no_member_number": 1})
    assert report["problems"] == [{"row": 4, "column": "お名前(姓)", "message": "必須項目です。"},
                                  {"row": 5, "column": "誕生日", "message": "日付が正しくありません。"}]
    rows = list(csv.reader(io.StringIO((tmp_path / "failed.csv").read_bytes().decode("cp932"))))
    assert rows[0][-2:] == ["行番号", "エラー内容"]
    assert [(row[0], row[-2], row[-1]) for row in rows[1:]] == [
        ("1003", "4", "お名前(姓): 必須項目です。"), ("1004", "5", "誕生日: 日付が正しくありません。")]


def test_the_same_file_again_changes_nothing(tmp_path):
    owner = FakeOwner()
    run_file(tmp_path, owner)
    again, _ = run_file(tmp_path, owner, run="run-2")
    assert (again["report"]["created"], again["report"]["unchanged"]) == (0, 2)


def test_an_interrupted_run_resumed_from_its_checkpoint_sends_each_batch_once(tmp_path):
    owner = FakeOwner()
    _, saved = run_file(tmp_path, owner, stop_after=2)
    assert len(owner.calls) == 2
    resumed, _ = run_file(tmp_path, owner, checkpoint=saved[-1])
    sent = [numbers for _, numbers, _ in owner.calls]
    assert sent == [["1001"], ["１００２"], ["1003"]]  # 1004 (bad date) and the row without a number are never sent
    assert len({request_id for request_id, _, _ in owner.calls}) == 3
    assert (resumed["report"]["created"], resumed["report"]["failed"]) == (2, 2)
    failed = (tmp_path / "failed.csv").read_bytes().decode("cp932").splitlines()
    assert len(failed) == 3  # the header and each failed row once


def test_a_batch_sent_again_after_its_answer_was_lost_carries_the_same_request_id(tmp_path):
    owner = FakeOwner()
    _, saved = run_file(tmp_path, owner, stop_after=1)
    first_ids = [request_id for request_id, _, _ in owner.calls]
    owner.calls.clear()
    run_file(tmp_path, owner, checkpoint=importing.new_checkpoint(csvreading.inspect_file(tmp_path / "members.csv")))
    assert [numbers for _, numbers, _ in owner.calls] == [["１００２"], ["1003"]]


class DeferredOwner(FakeOwner):
    """The connector's owner: a batch is sent at once and its answer waited for later."""

    def __init__(self):
        super().__init__()
        self.log = []

    def __call__(self, records, request_id, options, after=None):
        self.log.append(("send", request_id.rsplit("-", 1)[1], after and after.rsplit("-", 1)[1]))

        def answer():
            self.log.append(("answer", request_id.rsplit("-", 1)[1]))
            return FakeOwner.__call__(self, records, request_id, options)
        return answer


def test_a_batch_is_sent_while_the_one_before_is_written_naming_it_and_two_at_most_are_unanswered(tmp_path):
    owner = DeferredOwner()
    checkpoint, saved = run_file(tmp_path, owner)
    offsets = [state["offset"] for state in saved]
    first, second, third = [entry[1] for entry in owner.log if entry[0] == "send"]
    assert owner.log == [("send", first, None), ("send", second, first), ("answer", first),
                         ("send", third, second), ("answer", second), ("answer", third)]
    assert offsets == sorted(offsets) and checkpoint["finished"]  # checkpoints in the file's order
    assert (checkpoint["report"]["created"], checkpoint["report"]["failed"]) == (2, 2)


def test_a_run_interrupted_with_a_batch_unanswered_sends_it_again_with_its_request_id(tmp_path):
    owner = DeferredOwner()
    _, saved = run_file(tmp_path, owner, stop_after=1)  # stopped after the first answer, the second sent
    assert [entry[0] for entry in owner.log] == ["send", "send", "answer"]
    unanswered = owner.log[1][1]
    owner.log.clear()
    resumed, _ = run_file(tmp_path, owner, checkpoint=saved[-1])
    assert owner.log[0] == ("send", unanswered, None)  # nothing in flight before it now
    assert [numbers for _, numbers, _ in owner.calls] == [["1001"], ["１００２"], ["1003"]]
    assert (resumed["report"]["created"], resumed["report"]["failed"]) == (2, 2)
