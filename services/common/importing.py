"""Running an import: a file's records to their owner in batches, with a checkpoint after each, and a report.

The same run serves the connector (``python -m services import``, records sent by RPC) and the インポート機能's
background job (records applied by the owning service): ``send(records, request_id, options)`` is the owner's batch
write either way. After each batch the checkpoint holds the byte offset after its last record; a run started again
from a checkpoint reads on from there. A batch's request id is derived from the file and the offset it starts at,
so a batch sent again after an interruption (its answer lost) is applied once.

What the report counts, by the owner's answers: created, updated, unchanged, skipped (with why), failed (a row the
file or the owner refused: its row number, column and reason, and the row itself in the failed-rows file), and
cancelled (orders kept with a status that is never counted).
"""
import dataclasses
import hashlib
import json
import os

from . import csvfiles, csvreading
from .field_messages import field_message

MODES = ("create_update", "update_only", "create_only")
MODE_LABELS = {"create_update": "新規登録と更新", "update_only": "更新のみ（未登録は登録しない）",
               "create_only": "新規登録のみ（登録済みは更新しない）"}
SKIP_REASONS = {
    "no_member_number": "会員番号がありません",
    "no_customer": "顧客が指定されていません",
    "not_stored": "未登録のため更新しませんでした（更新のみ）",
    "already_stored": "登録済みのため更新しませんでした（新規登録のみ）",
}
SHOWN_PROBLEMS = 200
"""How many bad rows the report lists (the failed-rows file holds them all)."""
DEFAULT_BATCH = 2000
"""Records per batch call of an import. Each call costs its owner the same whatever its size (the RPC, the look-ups
of the batch's customers, a transaction, an event, the index's batch): at 2,000 a million-line import cost 109
against 118 ms of CPU per 1,000 order lines at 1,000 (5,000 saved little more), and the search replica, which hands
back what each step freed (``allocator.trim``), stays within 500 MB at 2,000,000 lines (446–453 MB;
docs/performance.md). One call takes well under a second."""


def message(code):
    return field_message(code)


@dataclasses.dataclass(frozen=True)
class Kind:
    """A file kind as its owner reads it (customers, purchases)."""

    name: str
    fields: tuple
    formats: tuple
    items: object  # (rows, header, mapping, shop_id) → ImportItems
    column_of: object  # (mapping, error path) → column name
    row_of: object  # (item, error path) → row number
    record_labels: tuple = ()  # (key, label) of what a record holds beyond the fields (an order's 請求金額)


def fingerprint(path, *parts):
    """What identifies an import: the file (size, first and last 64 KB) and how it is read."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode())
    size = os.path.getsize(path)
    digest.update(str(size).encode())
    with open(path, "rb") as stream:
        digest.update(stream.read(65536))
        stream.seek(max(0, size - 65536))
        digest.update(stream.read(65536))
    return digest.hexdigest()[:24]


def new_report():
    return {"rows_done": 0, "records": 0, "created": 0, "updated": 0, "unchanged": 0, "skipped": {}, "failed": 0,
            "cancelled": 0, "problems": []}


def new_checkpoint(shape):
    return {"offset": shape.data_offset, "row_number": 2, "report": new_report(), "finished": False,
            "failed_bytes": 0}


class FailedRows:
    """The failed-rows file: the file's own header and rows, in its own encoding (a BOM kept), with 行番号 and
    エラー内容 added. Written through the one CSV writer, so no cell starts a formula."""

    def __init__(self, path, header, encoding):
        self.path, self.header, self.encoding = path, header, encoding

    def size(self):
        return os.path.getsize(self.path) if os.path.exists(self.path) else 0

    def restore(self, size):
        """Back to ``size`` bytes: what a batch interrupted before its checkpoint wrote is written again on resume."""
        if os.path.exists(self.path) and os.path.getsize(self.path) > size:
            with open(self.path, "r+b") as stream:
                stream.truncate(size)

    def append(self, rows_with_reasons):
        if not rows_with_reasons:
            return
        new = not os.path.exists(self.path) or os.path.getsize(self.path) == 0
        encoding = self.encoding if new else self.encoding.replace("utf_8_sig", "utf_8")  # one BOM, at the start
        with open(self.path, "a", encoding=encoding, errors="replace", newline="") as stream:
            out = csvfiles.writer(stream)
            if new:
                out.writerow(list(self.header) + ["行番号", "エラー内容"])
            for row, reason in rows_with_reasons:
                out.writerow(list(row.values) + [row.row_number, reason])


def _reason(problems):
    return " / ".join(f"{p['column']}: {message(p['code'])}" if p["column"] else message(p["code"])
                      for p in problems)


def _note_failed(report, failed, item, problems):
    report["failed"] += 1
    for problem in problems:
        report["problems"].append({"row": problem["row"], "column": problem["column"],
                                   "message": message(problem["code"])})
    failed.extend((row, _reason(problems)) for row in item.rows)


def _owner_problems(kind, mapping, item, fields):
    """A refusal of the owner (``{"birth_date": ["invalid_date"]}``) as problems of the item's rows and columns."""
    return [{"row": kind.row_of(item, path), "column": kind.column_of(mapping, path), "code": code}
            for path, codes in fields.items() for code in codes]


def fold_answer(kind, mapping, batch, answer, report, failed):
    """Fold the owner's answer to a batch of ready items into the report; refused items go to ``failed``."""
    errors = {error["index"]: error["fields"] for error in answer.get("errors", ())}
    skipped = {entry["index"]: entry["reason"] for entry in answer.get("skipped", ())}
    for index, item in enumerate(batch):
        if index in errors:
            _note_failed(report, failed, item, _owner_problems(kind, mapping, item, errors[index]))
        elif index in skipped:
            report["skipped"][skipped[index]] = report["skipped"].get(skipped[index], 0) + 1
    for key in ("created", "updated", "unchanged", "cancelled"):
        report[key] += answer.get(key, 0)


IN_FLIGHT = 2
"""Batches sent whose answers have not come: the owner checks one while it writes the one before (``after``)."""


def run(path, shape, kind, mapping, shop_id, send, checkpoint, save, identity, options=None,
        batch_size=DEFAULT_BATCH, failed_rows=None):
    """Import the file from ``checkpoint`` (``new_checkpoint(shape)`` to start) to its end.

    ``send(records, request_id, options, after)`` applies a batch and answers as the owner's batch RPC does, or
    returns a function that waits for that answer: then the next batch is read, and sent, while the owner writes this
    one, naming it (``after``: the request id of the batch sent before whose answer has not come, or None), so that
    the owner writes the batches in the file's order (services/common/request_order.py); at most IN_FLIGHT are
    unanswered. ``save(checkpoint)`` is called after every batch answered, in the file's order (the checkpoint is a
    plain dict, JSON-ready). ``identity`` names this import of this file (``fingerprint`` of the file and a run's own
    id): the request ids of its batches are made from it, so a run resumed sends the same ids (a batch applied but
    not yet answered is answered from what was kept), and importing the file again later (a new run) is answered
    afresh (unchanged). Returns the finished checkpoint; its ``report`` is the import's report.
    """
    options = dict(options or {})
    report, failed_rows = checkpoint["report"], failed_rows or FailedRows(os.devnull, shape.header, "utf_8")
    failed_rows.restore(checkpoint.get("failed_bytes", 0))
    rows = csvreading.read_rows(path, shape, start_offset=checkpoint["offset"], start_row_number=checkpoint["row_number"])
    batch, start, failed = [], checkpoint["offset"], []
    pending = []  # batches sent, oldest first: (request id or None, answer or a wait for it, batch, failed, end)

    def settle():
        """Take the answer of the oldest batch sent, fold it in and checkpoint after it."""
        _request_id, answer, sent, failed, end_item = pending.pop(0)
        if callable(answer):
            answer = answer()
        if sent:
            fold_answer(kind, mapping, sent, answer, report, failed)
        failed.sort(key=lambda entry: entry[0].row_number)
        failed_rows.append(failed)
        report["problems"] = sorted(report["problems"], key=lambda p: p["row"])[:SHOWN_PROBLEMS]
        checkpoint["failed_bytes"] = failed_rows.size()
        report["records"] += len(sent)
        checkpoint["offset"] = end_item.end_offset
        checkpoint["row_number"] = end_item.rows[-1].row_number + 1
        report["rows_done"] = checkpoint["row_number"] - 2
        save(checkpoint)

    def flush(end_item):
        nonlocal batch, failed, start
        while len(pending) >= IN_FLIGHT:
            settle()
        request_id = after = None
        if batch:
            request_id = f"imp-{identity}-{batch_size}-{start}"
            after = pending[-1][0] if pending else None  # a batch sent before and still unanswered (never empty)
            answer = send([item.record for item in batch], request_id, options, after)
        else:
            answer = None
        pending.append((request_id, answer, batch, failed, end_item))
        if not callable(answer):
            while pending:
                settle()
        batch, failed, start = [], [], end_item.end_offset

    last = None
    for item in kind.items(rows, shape.header, mapping, shop_id):
        last = item
        if item.skip_reason:
            report["skipped"][item.skip_reason] = report["skipped"].get(item.skip_reason, 0) + 1
        elif item.problems:
            _note_failed(report, failed, item, item.problems)
        else:
            batch.append(item)
        if len(batch) >= batch_size:
            flush(item)
    if last is not None and (batch or failed or checkpoint["offset"] != last.end_offset):
        flush(last)
    while pending:
        settle()
    checkpoint["finished"] = True
    save(checkpoint)
    return checkpoint
