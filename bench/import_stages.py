"""Each part of an import's path measured alone, in this process: the CPU it costs per 1,000 order lines.

    python -m bench.import_stages [--lines 100000] [--batch 1000] [--repeat 3]
                                  [--server postgresql://postgres@127.0.0.1:5432]

``make bench-import`` runs the whole path (the connector, the services, the broker and PostgreSQL as processes of
their own) and its rates move by ±10 % from run to run on a shared machine: a change that saves a few per cent of
one part does not show there. Here each part runs alone, without RPC, broker or the other services, on the same
EC-CUBE 4 受注CSV in CP932 (``bench/import_data.py``), and the least of ``--repeat`` runs is printed:

- **connector**: the file read and mapped to orders (``import_formats.items``, as ``python -m services import`` does)
  and each batch encoded for the wire;
- **purchases check**: ``order_batches.check_orders`` of each batch as the service receives it (decoded from the
  wire), its members known (a guest order, named by its address only, is left out: the connector asks the
  customers service for its member number);
- **purchases write**: ``order_batches.write_orders`` of each checked batch, committed, on a fresh purchases
  database; and that database's PostgreSQL backend;
- **index**: ``indexer.apply_batch`` of each ``purchases_recorded`` event the writes left in the outbox, committed,
  on a fresh index database; and its backend while it applies them;
- **replica**: ``IndexStore.follow`` of the index after each of those events (DuckDB's own threads included; what
  its reads cost the index database is counted in neither).

After each batch the grown tables are analysed, as each service's statistics keeper does every 10 s
(``table_statistics``): without it a grown table is planned as an empty one and the figures grow with the tables.

What is left out is what a batch costs on its way between the parts (the RPC, the outbox relay, the broker, the
customers service's look-up): the difference between ``make bench-import``'s figures and these.
"""
import argparse
import os
import shutil
import tempfile
import time

from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

from bench.import_bench import backend_pids, cpu_seconds
from bench.import_data import write_eccube_orders
from services.common import csvreading, garbage, import_mapping, wire_json
from services.common.migrations import upgrade
from services.common.scope import OPERATOR, Scope
from services.common.table_statistics import analyze_grown
from services.import_kinds import KINDS
from services.purchases import order_batches
from services.purchases.events import PURCHASES_RECORDED
from services.search import indexer
from services.search.store import IndexStore
from tests.support import Databases

COMPANY_ID, SHOP_ID = 1, 1
PARTS = ("connector", "purchases check", "purchases write", "purchases database", "index", "index database",
         "replica")


def read_orders(path, batch):
    """The file's orders as the connector sends them, in batches encoded for the wire, and the member numbers they
    name."""
    kind = KINDS["purchases"]
    shape = csvreading.inspect_file(path)
    _key, mapping = import_mapping.default_mapping(shape.header, kind.fields, kind.formats)
    batches, records, members = [], [], set()
    for item in kind.items(csvreading.read_rows(path, shape), shape.header, mapping, SHOP_ID):
        if item.record is not None and item.record.get("member_number"):
            records.append(item.record)
            members.add(item.record["member_number"])
            if len(records) == batch:
                batches.append(wire_json.dumps(records))
                records = []
    if records:
        batches.append(wire_json.dumps(records))
    return batches, members


class Backend:
    """The CPU of the PostgreSQL backends serving one database."""

    def __init__(self, url):
        self.name = url.rsplit("/", 1)[1]

    def seconds(self):
        return sum(cpu_seconds(pid) for pid in backend_pids([self.name]))


def run_once(path, databases, batch):
    """{part: CPU seconds} for one pass over the file."""
    spent = dict.fromkeys(PARTS, 0.0)
    started = time.process_time()
    batches, members = read_orders(path, batch)
    spent["connector"] = time.process_time() - started

    known = {number: {"id": n, "member_number": number, "shop_id": SHOP_ID}
             for n, number in enumerate(sorted(members), start=1)}
    scope = Scope(COMPANY_ID, OPERATOR)
    purchases_url, index_url = databases.create("purchases"), databases.create("search")
    upgrade("purchases", purchases_url)
    upgrade("search", index_url)
    purchases_engine = create_engine(purchases_url, pool_size=1, max_overflow=0)
    index_engine = create_engine(index_url, pool_size=1, max_overflow=0)
    purchases_db, index_db = Backend(purchases_url), Backend(index_url)
    store_directory = tempfile.mkdtemp(prefix="tsuhan-import-stages-")
    try:
        Purchases, Index = sessionmaker(purchases_engine), sessionmaker(index_engine)
        store = IndexStore.open(store_directory)
        with Index() as session:
            store.load(session)
        garbage.freeze_startup()
        for encoded in batches:
            orders = wire_json.loads(encoded)
            started = time.process_time()
            with Purchases() as session:
                checked = order_batches.check_orders(session, scope, orders, known, {SHOP_ID})
            checked_at, backend_before = time.process_time(), purchases_db.seconds()
            with Purchases() as session:
                order_batches.write_orders(session, scope, checked)
                session.commit()
            analyze_grown(purchases_engine)  # as the service's StatisticsKeeper does every 10 s
            spent["purchases check"] += checked_at - started
            spent["purchases write"] += time.process_time() - checked_at
            spent["purchases database"] += purchases_db.seconds() - backend_before
        with Purchases() as session:
            events = [payload for payload, in session.execute(
                text("SELECT payload FROM outbox WHERE event_type = :type ORDER BY id"), {"type": PURCHASES_RECORDED})]
        for payload in events:
            envelope = wire_json.loads(payload)
            started, backend_before = time.process_time(), index_db.seconds()
            with Index() as session:
                indexer.apply_batch(session, indexer.unbatched([envelope]))
                session.commit()
            analyze_grown(index_engine)
            applied = time.process_time()
            spent["index database"] += index_db.seconds() - backend_before
            with Index() as session:
                store.follow(session)
            spent["index"] += applied - started
            spent["replica"] += time.process_time() - applied
        store.close()
    finally:
        purchases_engine.dispose()
        index_engine.dispose()
        shutil.rmtree(store_directory, ignore_errors=True)
    return spent


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000, help="orders per batch (the connector's default)")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the least CPU of each part is printed")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    garbage.tune()
    work = tempfile.mkdtemp(prefix="tsuhan-import-stages-")
    try:
        path = os.path.join(work, "orders.csv")
        write_eccube_orders(path, lines=args.lines, customers=max(1, args.lines // 10))
        with open(path, "rb") as stream:
            lines = sum(1 for _ in stream) - 1
        runs = []
        for _ in range(args.repeat):
            databases = Databases(work)
            databases.server = args.server.rstrip("/")
            try:
                runs.append(run_once(path, databases, args.batch))
            finally:
                databases.drop_all()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{lines:,} order lines, batches of {args.batch:,} orders, the least of {args.repeat} runs "
          "(CPU ms per 1,000 lines):")
    least = {part: min(run[part] for run in runs) * 1e6 / lines for part in PARTS}
    for part in PARTS:
        print(f"  {part:<20} {least[part]:6.1f}   (runs: "
              + ", ".join(f"{run[part] * 1e6 / lines:.1f}" for run in runs) + ")")
    print(f"  {'in all':<20} {sum(least.values()):6.1f}")


if __name__ == "__main__":
    main()
