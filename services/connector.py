"""The command-line connector: ``python -m services import customers|purchases FILE --company ID --shop 店舗番号``.

Streams a CSV of any size to the services in batches (each with a request id derived from the file and where the
batch starts), shows a progress bar with the rate and the time left, and keeps its place in a state file next to
the file: run the same command again after an interruption and it goes on after the last batch answered, without
duplicates. Rows the file or the services refuse are written to ``FILE.failed.csv`` (the file's own columns and
encoding, with 行番号 and エラー内容). Exit code 0 only when every row was applied or reported.
"""
import argparse
import json
import os
import sys
import time
import uuid

from nameko.exceptions import RpcTimeout
from tqdm import tqdm

from services.common import csvreading, importing, import_mapping
from services.common.config import amqp_uri
from services.common.deadlines import ClusterRpcProxy
from services.common.errors import ServiceError, Unavailable, ValidationFailed
from services.import_kinds import KINDS
from services.purchases import import_formats as purchase_files

RPC_TIMEOUT = 120  # a batch of 2,000 orders of many lines on a small machine takes seconds; this means "no answer"
RETRIES = 8


def parse(args):
    parser = argparse.ArgumentParser(prog="python -m services import", description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=sorted(KINDS), help="customers (顧客) or purchases (購入履歴)")
    parser.add_argument("file")
    parser.add_argument("--company", type=int, required=True, help="the company's id")
    parser.add_argument("--shop", required=True, help="the shop's 店舗番号")
    parser.add_argument("--format", help="a known format's key, or 'generic' with --mapping (default: recognised "
                                         "from the header)")
    parser.add_argument("--encoding", choices=sorted(csvreading.ENCODINGS), help="default: detected")
    parser.add_argument("--mapping", help="a JSON file {field: column name} for a file of no known format")
    parser.add_argument("--mode", choices=importing.MODES, default="create_update")
    parser.add_argument("--keep-existing", action="store_true",
                        help="customers: do not overwrite fields that already have a value")
    parser.add_argument("--batch", type=int, default=importing.DEFAULT_BATCH, help="records per call (≤ 10,000)")
    parser.add_argument("--state", help="the state file (default: FILE.import-state.json)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(args)


def call_with_retries(call, *args, **kwargs):
    """The call answered, trying again with the same arguments (the same request id) after a pause that doubles."""
    pause = 1.0
    for attempt in range(RETRIES):
        try:
            return call(*args, **kwargs)
        except (RpcTimeout, Unavailable, ConnectionError, OSError):
            if attempt == RETRIES - 1:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 60.0)


def _load_state(path, identity):
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as stream:
        state = json.load(stream)
    return state if state.get("identity") == identity else None


def _save_state(path, state):
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as stream:
        json.dump(state, stream, ensure_ascii=False)
    os.replace(temporary, path)  # a crash mid-write leaves the previous state whole


def _mapping(options, kind, shape):
    if options.mapping:
        with open(options.mapping, encoding="utf-8") as stream:
            return options.format or import_mapping.GENERIC, json.load(stream)
    key, mapping = import_mapping.default_mapping(shape.header, kind.fields, kind.formats)
    if options.format and options.format != key:
        found = {f.key: f for f in kind.formats}.get(options.format)
        if found is None:
            raise SystemExit(f"unknown format {options.format!r} (known: {', '.join(sorted(f.key for f in kind.formats))})")
        mapping = {field: column for field, column in found.columns.items() if column in shape.header}
        key = found.key
    return key, mapping


def _shop_id(rpc, scope, shop_number):
    for shop in rpc.shops.list_shops(scope):
        if str(shop["shop_number"]) == str(shop_number):
            return shop["id"]
    raise SystemExit(f"no shop with 店舗番号 {shop_number} in company {scope['company_id']}")


def _print_report(report, failed_path, out):
    skipped = sum(report["skipped"].values())
    print(f"created {report['created']}, updated {report['updated']}, unchanged {report['unchanged']}, "
          f"skipped {skipped}, failed {report['failed']}, cancelled {report['cancelled']}", file=out)
    for reason, count in sorted(report["skipped"].items()):
        print(f"  skipped {count}: {importing.SKIP_REASONS.get(reason, reason)}", file=out)
    for problem in report["problems"][:20]:
        print(f"  {problem['row']}行目 {problem['column']}: {problem['message']}", file=out)
    if report["failed"]:
        print(f"failed rows: {failed_path}", file=out)


def run(args, out=sys.stdout):
    options = parse(args)
    kind = KINDS[options.kind]
    try:
        shape = csvreading.inspect_file(options.file, options.encoding)
    except csvreading.CsvFileRefused as refused:
        print(f"{options.file}: {refused.message}", file=sys.stderr)
        return 2
    key, mapping = _mapping(options, kind, shape)
    try:
        import_mapping.check_mapping(shape.header, mapping, kind.fields)
    except ValidationFailed as failure:
        print(f"{options.file}: the columns do not map ({key}): {failure.fields}", file=sys.stderr)
        return 2
    batch_options = {"mode": options.mode}
    if options.kind == "customers":
        batch_options["keep_existing"] = options.keep_existing
    state_path = options.state or options.file + ".import-state.json"
    failed_path = options.file + ".failed.csv"
    scope = {"company_id": options.company, "role": "system"}
    with ClusterRpcProxy({"AMQP_URI": amqp_uri()}, timeout=RPC_TIMEOUT) as rpc:
        shop_id = _shop_id(rpc, scope, options.shop)
        file_identity = importing.fingerprint(options.file, kind.name, shop_id, mapping, batch_options)
        state = _load_state(state_path, file_identity)
        if state is None:
            if os.path.exists(failed_path):
                os.remove(failed_path)  # a new run of the file: its failed rows are written again
            state = {"identity": file_identity, "run": uuid.uuid4().hex[:8], "format": key,
                     "checkpoint": importing.new_checkpoint(shape)}
        if state["checkpoint"]["finished"]:
            print(f"{options.file} was imported before (remove {state_path} to import it again):", file=out)
            _print_report(state["checkpoint"]["report"], failed_path, out)
            return 0
        def send(records, request_id, batch_options, after):
            """Sent at once; the answer is waited for when the next batch has been sent (``importing.run``)."""
            if kind.name == "customers":
                method = rpc.customers.upsert_customers
            else:
                method = rpc.purchases.record_orders
                records = purchase_files.named_by_number(
                    records, lambda emails: call_with_retries(rpc.customers.resolve_emails, scope, emails))
            arguments = (scope, records)
            keywords = {"request_id": request_id, "options": batch_options, "after": after}
            try:
                reply = method.call_async(*arguments, **keywords)
            except (Unavailable, ConnectionError, OSError):
                return call_with_retries(method, *arguments, **keywords)

            def answer():
                try:
                    return reply.result()
                except (RpcTimeout, Unavailable, ConnectionError, OSError):  # sent again: the same request id
                    return call_with_retries(method, *arguments, **keywords)

            return answer

        bar = tqdm(total=shape.size, initial=state["checkpoint"]["offset"], unit="B", unit_scale=True,
                   disable=options.quiet, file=sys.stderr, desc=os.path.basename(options.file))

        def save(checkpoint):
            bar.update(checkpoint["offset"] - bar.n)
            bar.set_postfix_str(f"{checkpoint['report']['rows_done']:,}行")
            _save_state(state_path, state)

        try:
            importing.run(options.file, shape, kind, mapping, shop_id, send, state["checkpoint"], save,
                          identity=f"{file_identity[:16]}-{state['run']}", options=batch_options,
                          batch_size=options.batch,
                          failed_rows=importing.FailedRows(failed_path, shape.header, shape.encoding))
        except (ServiceError, RpcTimeout, OSError) as failure:
            bar.close()
            print(f"stopped: {type(failure).__name__}: {failure}; run the same command again to go on", file=sys.stderr)
            return 1
        bar.close()
    _print_report(state["checkpoint"]["report"], failed_path, out)
    return 0
