"""検索 and 集計 at ten times the benchmark company, in process: the store `make bench-search` built through the
services for 1,000,000 customers, replicated with shifted ids into one company of 10,000,000 customers, and every
count, report and RFM grid of `make bench-search` answered by the same code the search service runs
(``searching.count``, ``reports.running.run``, ``rfm_reports.grid``), without the RPC round trip (a few ms).

The copies are the same customers, purchases, lines and mail activities under other ids (member numbers get a suffix;
the 30 mails are shared): the distributions are the 1,000,000-customer company's, every count ten times as large.
The customers' purchase figures the store computes (``store_derived.py``) are computed again over the copies.
The store is written in the order the service keeps it (``store.ORDERED_BY``) and queried with the service's DuckDB
settings (``SEARCH_STORE_THREADS``, ``SEARCH_STORE_MEMORY``: 2 threads, 1 GB by default).

    python -m bench.scale_bench [--times 10] [--repeat 5] [--reuse]   (after make bench-search has built its store)
"""
import argparse
import glob
import os
import shutil
import time
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from bench.search_bench import (CATALOGUE_REPORTS, COMPANY, QUERIES, RFM_REPORTS, SECTIONED, STORE_DIR, columns,
                                timed)
from services.common.scope import OPERATOR, Scope
from services.search import rfm_reports, searching
from services.search import store_tables as T
from services.search.models import Base
from services.search.reports import running
from services.search.store import ORDERED_BY, IndexStore
from services.search.store_derived import PURCHASES

SCALED_DIR = Path("/tmp/tsuhan-bench/scaled-store")
SCOPE = Scope(COMPANY, OPERATOR, account_id=1)
# table → the columns of ids that each copy shifts: (column, the id space it is in)
SHIFTED = {"customers": {"id": "customer", "member_number_value": "customer", "latest_purchase_id": "purchase"},
           "choices": {"customer_id": "customer"},
           "purchases": {"id": "purchase", "customer_id": "customer"},
           "lines": {"purchase_id": "purchase", "customer_id": "customer"},
           "mail_activities": {"id": "activity", "customer_id": "customer"}}
SPACES = {"customer": ("customers", "id"), "purchase": ("purchases", "id"), "activity": ("mail_activities", "id")}


def memory():
    """'VmRSS … MB, VmHWM … MB' of this process (the store's DuckDB runs in it)."""
    figures = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            figures[key] = int(value.split()[0]) / 1024
    return f"VmRSS {figures['VmRSS']:,.0f} MB, VmHWM (peak) {figures['VmHWM']:,.0f} MB"


def source_file():
    found = sorted(glob.glob(str(STORE_DIR / "slot-1" / f"company_{COMPANY}_*.duckdb")), key=os.path.getmtime)
    if not found:
        raise SystemExit(f"no store of company {COMPANY} under {STORE_DIR}: run make bench-search first")
    return found[-1]


def build(store, source, times):
    """The company's store: ``times`` copies of ``source``'s tables, written in order. Returns the seconds taken."""
    started = time.perf_counter()
    store.db.execute(f"ATTACH '{source}' AS source (READ_ONLY)")
    spans = {space: store.db.execute(f"SELECT max({column}) + 1 FROM source.main.{table}").fetchone()[0] or 1
             for space, (table, column) in SPACES.items()}
    catalog, generation = store._new_catalog(COMPANY)
    for table in T.metadata.sorted_tables:
        name = table.name
        shifted = SHIFTED.get(name)
        if shifted is None:  # mails and frozen lists: one copy
            copies = [f"SELECT * FROM source.main.{name}"]
        else:
            copies = []
            for k in range(times):
                replaced = [f"{column} + {k * spans[space]} AS {column}" for column, space in shifted.items()]
                if name == "customers":
                    replaced.append(f"member_number || '-{k}' AS member_number")
                copies.append(f"SELECT * REPLACE ({', '.join(replaced)}) FROM source.main.{name}")
        order = f" ORDER BY {', '.join(ORDERED_BY[name])}" if name in ORDERED_BY else ""
        store.db.execute(f"INSERT INTO {catalog}.main.{name} BY NAME "
                         f"SELECT * FROM ({' UNION ALL '.join(copies)}){order}")
        rows = store.db.execute(f"SELECT count(*) FROM {catalog}.main.{name}").fetchone()[0]
        print(f"  {name:<16} {rows:>13,} rows ({time.perf_counter() - started:.0f} s)", flush=True)
    cursor = store._cursor(catalog)  # the purchase figures computed over the copies' purchases
    store._set_derived(cursor, PURCHASES)
    cursor.close()
    print(f"  customers' purchase figures computed ({time.perf_counter() - started:.0f} s)", flush=True)
    store.db.execute(f"CHECKPOINT {catalog}")
    store.db.execute("DETACH source")
    store._install(COMPANY, catalog, generation)
    store.ready = True
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--times", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--build-memory", default="8GB", help="DuckDB's memory while the copies are written")
    parser.add_argument("--reuse", action="store_true",
                        help="query the store a previous run wrote (this process's memory is then the queries' alone)")
    args = parser.parse_args()
    threads, limit = os.environ.get("SEARCH_STORE_THREADS", "2"), os.environ.get("SEARCH_STORE_MEMORY", "768MB")
    if args.reuse:
        written = sorted(SCALED_DIR.glob(f"slot-1/company_{COMPANY}_*.duckdb"))[-1]
        store = IndexStore(None, threads, limit)
        store._attach("scaled", str(written))
        store.catalogs[COMPANY] = "scaled"
        print(f"querying {written} ({written.stat().st_size / 2**20:,.0f} MB)", flush=True)
    else:
        source = source_file()
        shutil.rmtree(SCALED_DIR, ignore_errors=True)
        store = IndexStore.open(SCALED_DIR, threads=2, memory_limit=args.build_memory)
        print(f"replicating {source} {args.times} times into {SCALED_DIR}", flush=True)
        seconds = build(store, source, args.times)
        size = sum(f.stat().st_size for f in SCALED_DIR.rglob("*.duckdb")) / 2**20
        print(f"store written in {seconds:.0f} s: {size:,.0f} MB on disk (DuckDB had {args.build_memory} while "
              f"writing)", flush=True)
        store.db.execute(f"SET threads = {int(threads)}")
        store.db.execute(f"SET memory_limit = '{limit}'")
    print(f"queries with DuckDB threads {threads}, memory limit {limit}; p50 / p95 of {args.repeat}; "
          f"memory {memory()}")

    engine = create_engine("sqlite://")  # RFM設定 and saved searches: the defaults, none saved
    Base.metadata.create_all(engine)
    session = sessionmaker(engine)()
    try:
        print(f"\n{'count':<44} {'matches':>11} {'p50/p95 ms':>17}")
        listed = {name for name, *_ in QUERIES}
        for name, conditions, *_sql in QUERIES + [entry for entry in SECTIONED if entry[0] not in listed]:
            answer, times = timed(lambda: searching.count(session, SCOPE, conditions, True, store), args.repeat)
            print(f"{name:<44} {answer['total']:>11,} {columns(times)}", flush=True)
        print(f"\n{'report':<44} {'customers':>11} {'p50/p95 ms':>17}")
        for name, method, options in RFM_REPORTS:
            if method != "rfm_grid":
                answer, times = timed(lambda: rfm_reports.movement(session, SCOPE, options, store), args.repeat)
                customers = answer["totals"]["to"]["customers"]
            else:
                answer, times = timed(lambda: rfm_reports.grid(session, SCOPE, options, store), args.repeat)
                customers = answer["total"]["customers"]
            print(f"{name:<44} {customers:>11,} {columns(times)}", flush=True)
        print(f"\n{'report':<44} {'rows':>11} {'p50/p95 ms':>17}")
        for name, kind, options in CATALOGUE_REPORTS:
            answer, times = timed(lambda: running.run(SCOPE, kind, options, store, lambda codes: {}), args.repeat)
            rows = sum(len(table["rows"]) for table in answer["tables"])
            print(f"{name:<44} {rows:>11,} {columns(times)}", flush=True)
        print(f"\nmemory after the queries: {memory()}")
    finally:
        session.close()
        store.close()


if __name__ == "__main__":
    main()
