"""make bench-search: the search index against straightforward SQL, at a chosen scale, on PostgreSQL.

    python -m bench.search_bench --customers 1000000 [--seed 1] [--repeat 20] [--server postgresql://postgres@127.0.0.1:5432]

Loads a generated company into a fresh index database through the indexer's own row mapping (in bulk) and into
tables shaped like the owners' (customers, purchases, lines, mails, activities; keys and foreign-key indexes only),
starts the search service on the index, and runs the same queries both ways: the index through RPC (count, and the
first page of 50), the baseline as plain SQL. Prints p50/p95 of each and the ratio.

The company is generated once and streamed into both databases with COPY as it is generated (never held in memory):
the index through ``indexer.load_bulk`` (its secondary indexes built after the load), the baseline by this module
(its foreign-key indexes likewise). Both databases are left in place for ``--reuse``.
"""
import argparse
import concurrent.futures
import statistics
import subprocess
import sys
import time

from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import create_engine, text

from bench.generate import generate
from services.common.migrations import upgrade
from services.common.pgcopy import CopyStream
from services.search.indexer import BULK_TABLES, load_bulk
from tests.support import ROOT, private_vhost, wait_for

COMPANY = 1
SHOPS = [1, 2]

BASELINE_SCHEMA = """
CREATE TABLE b_customers (id integer PRIMARY KEY, company_id integer, shop_id integer, member_number varchar(50),
  family_name varchar(50), given_name varchar(50), family_kana varchar(100), given_kana varchar(100),
  gender varchar(10), birth_date date, mail_permission varchar(10), dm_permission boolean,
  registered_at timestamptz);
CREATE TABLE b_purchases (id integer PRIMARY KEY, company_id integer, customer_id integer, shop_id integer,
  order_code varchar(100), purchased_at timestamptz, shipped_at timestamptz, billed_amount integer, counted boolean);
CREATE TABLE b_lines (id serial PRIMARY KEY, purchase_id integer, product_code varchar(50), quantity integer);
CREATE TABLE b_mails (id integer PRIMARY KEY, company_id integer, family varchar(10));
CREATE TABLE b_activities (id integer PRIMARY KEY, customer_id integer, mail_id integer, activity varchar(10),
  occurred_at timestamptz);
"""
BASELINE_INDEXES = {  # built after the load
    "b_customers": "CREATE INDEX ON b_customers (company_id)",
    "b_purchases": "CREATE INDEX ON b_purchases (customer_id)",
    "b_lines": "CREATE INDEX ON b_lines (purchase_id)",
    "b_activities": "CREATE INDEX ON b_activities (customer_id)",
}
BASELINE_COLUMNS = {
    "b_customers": ("id", "company_id", "shop_id", "member_number", "family_name", "given_name", "family_kana",
                    "given_kana", "gender", "birth_date", "mail_permission", "dm_permission", "registered_at"),
    "b_purchases": ("id", "company_id", "customer_id", "shop_id", "order_code", "purchased_at", "shipped_at",
                    "billed_amount", "counted"),
    "b_lines": ("purchase_id", "product_code", "quantity"),
    "b_mails": ("id", "company_id", "family"),
    "b_activities": ("id", "customer_id", "mail_id", "activity", "occurred_at"),
}

# name, condition document, the same question as straightforward SQL (returning customer ids)
PURCHASES = "SELECT customer_id, COUNT(*) n, SUM(billed_amount) total, MAX(purchased_at) latest FROM b_purchases " \
            "WHERE counted GROUP BY customer_id"
QUERIES = [
    ("all customers", {}, "SELECT id FROM b_customers WHERE company_id = 1"),
    ("attr: female, age 30-49", {"attributes": {"genders": ["female"], "age": {"min": 30, "max": 49}}},
     "SELECT id FROM b_customers WHERE company_id = 1 AND gender = 'female' "  # age on today's date in Japan
     "AND birth_date <= (now() AT TIME ZONE 'Asia/Tokyo')::date - INTERVAL '30 years' "
     "AND birth_date > (now() AT TIME ZONE 'Asia/Tokyo')::date - INTERVAL '50 years'"),
    ("attr: name ヤマ", {"attributes": {"name": "ヤマ"}},
     "SELECT id FROM b_customers WHERE company_id = 1 AND (family_kana || given_kana || family_name || given_name) "
     "LIKE '%ヤマ%'"),
    ("attr: PC mail, DM allowed", {"attributes": {"mail_permissions": ["pc"], "dm_permission": True}},
     "SELECT id FROM b_customers WHERE company_id = 1 AND mail_permission = 'pc' AND dm_permission"),
    ("attr: member numbers 1000-50000", {"attributes": {"member_numbers": "1000-50000"}},
     "SELECT id FROM b_customers WHERE company_id = 1 AND member_number ~ '^[0-9]+$' "
     "AND member_number::bigint BETWEEN 1000 AND 50000"),
    ("rfm: never bought (0-0)", {"latest": {"purchase_count": {"min": 0, "max": 0}}},
     f"SELECT c.id FROM b_customers c LEFT JOIN ({PURCHASES}) p ON p.customer_id = c.id "
     "WHERE c.company_id = 1 AND COALESCE(p.n, 0) = 0"),
    ("rfm: bought once (1-1)", {"latest": {"purchase_count": {"min": 1, "max": 1}}},
     f"SELECT c.id FROM b_customers c JOIN ({PURCHASES}) p ON p.customer_id = c.id WHERE c.company_id = 1 AND p.n = 1"),
    ("rfm: latest in 2025, total >= 10000",
     {"latest": {"latest_purchase": {"from": "2025-01-01", "to": "2025-12-31"}, "purchase_total": {"min": 10000}}},
     f"SELECT c.id FROM b_customers c JOIN ({PURCHASES}) p ON p.customer_id = c.id WHERE c.company_id = 1 "
     "AND p.latest >= '2024-12-31T15:00:00Z' AND p.latest < '2025-12-31T15:00:00Z' AND p.total >= 10000"),
    ("rfm: P0001 or P0002 bought 2+ times",
     {"latest": {"shop_ids": SHOPS, "product_rows": [{"product_codes": ["P0001", "P0002"], "count": {"min": 2}}]}},
     "SELECT c.id FROM b_customers c WHERE c.company_id = 1 AND c.id IN (SELECT p.customer_id FROM b_purchases p "
     "JOIN b_lines l ON l.purchase_id = p.id WHERE p.counted AND l.product_code IN ('P0001', 'P0002') "
     "GROUP BY p.customer_id HAVING COUNT(DISTINCT p.id) >= 2)"),
    ("period: 2024 H1, 2+ purchases",
     {"period": {"purchased": {"from": "2024-01-01", "to": "2024-06-30"}, "count": {"min": 2}}},
     "SELECT c.id FROM b_customers c WHERE c.company_id = 1 AND c.id IN (SELECT customer_id FROM b_purchases "
     "WHERE counted AND purchased_at >= '2023-12-31T15:00:00Z' AND purchased_at < '2024-06-30T15:00:00Z' "
     "GROUP BY customer_id HAVING COUNT(*) >= 2)"),
    ("mail: manual mails opened", {"mails": {"manual": {"opened": "include"}}},
     "SELECT c.id FROM b_customers c WHERE c.company_id = 1 AND EXISTS (SELECT 1 FROM b_activities a JOIN b_mails m "
     "ON m.id = a.mail_id WHERE a.customer_id = c.id AND a.activity = 'open' AND m.family = 'manual')"),
    ("mail: automatic sent, not clicked", {"mails": {"automatic": {"sent": "include", "clicked": "exclude"}}},
     "SELECT c.id FROM b_customers c WHERE c.company_id = 1 AND EXISTS (SELECT 1 FROM b_activities a JOIN b_mails m "
     "ON m.id = a.mail_id WHERE a.customer_id = c.id AND a.activity = 'delivery' AND m.family = 'automatic') "
     "AND NOT EXISTS (SELECT 1 FROM b_activities a JOIN b_mails m ON m.id = a.mail_id WHERE a.customer_id = c.id "
     "AND a.activity = 'click' AND m.family = 'automatic')"),
    ("combined: female, 2+ purchases, opened",
     {"attributes": {"genders": ["female"]}, "latest": {"purchase_count": {"min": 2}},
      "mails": {"manual": {"opened": "include"}}},
     f"SELECT c.id FROM b_customers c JOIN ({PURCHASES}) p ON p.customer_id = c.id WHERE c.company_id = 1 "
     "AND c.gender = 'female' AND p.n >= 2 AND EXISTS (SELECT 1 FROM b_activities a JOIN b_mails m ON "
     "m.id = a.mail_id WHERE a.customer_id = c.id AND a.activity = 'open' AND m.family = 'manual')"),
]


def fresh_database(server, name):
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{server}/{name}"


def streamed_to_baseline(events, stream, finish, started, chunk=20000):
    """Yields the events, streaming the baseline's rows of each (the owners' fields as published) into its tables on
    the way; when the events run out, submits ``finish`` (the baseline's indexes and statistics) to run while the
    index builds its own."""
    tables = {table: [] for table in BASELINE_COLUMNS}
    customers, purchases, lines = tables["b_customers"], tables["b_purchases"], tables["b_lines"]
    mails, activities = tables["b_mails"], tables["b_activities"]

    def write():
        for table, rows in tables.items():
            stream.write(table, BASELINE_COLUMNS[table], rows)
            rows.clear()

    count = 0
    for event in events:
        entity, d = event["entity"], event["data"]
        if entity == "customer":
            customers.append((d["id"], event["company_id"], d["shop_id"], d["member_number"], d["family_name"],
                              d["given_name"], d["family_kana"], d["given_kana"], d["gender"], d["birth_date"],
                              d["mail_permission"], d["dm_permission"], d["registered_at"]))
        elif entity == "purchase":
            purchases.append((d["id"], event["company_id"], d["customer_id"], d["shop_id"], d["order_code"],
                              d["purchased_at"], d["shipped_at"], d["billed_amount"], d["counted"]))
            lines.extend((d["id"], line["product_code"], line["quantity"]) for line in d["lines"])
        elif entity == "mail":
            mails.append((d["id"], event["company_id"], d["family"]))
        else:
            activities.append((d["id"], d["customer_id"], d["mail_id"], d["activity"], d["occurred_at"]))
        yield event
        count += 1
        if count % chunk == 0:
            write()
            if count % 1_000_000 == 0:
                print(f"  {count:,} events ({time.time() - started:.0f} s)", flush=True)
    write()
    print(f"  {count:,} events generated and streamed ({time.time() - started:.0f} s)", flush=True)
    finish()


def load(index_url, baseline_url, customers, seed):
    """Generate the company once and stream it into both databases; returns (events, seconds, report lines)."""
    index, baseline = create_engine(index_url), create_engine(baseline_url)
    started = time.time()
    timings, baseline_seconds = {}, {}
    with baseline.connect() as base, concurrent.futures.ThreadPoolExecutor(1) as pool:
        transaction = base.begin()
        for statement in BASELINE_SCHEMA.split(";"):
            if statement.strip():
                base.execute(text(statement))
        stream = CopyStream(base.connection.driver_connection)
        finished = []

        def finish_baseline():
            stream.close()
            base.execute(text("SET maintenance_work_mem = '512MB'"))
            for table, statement in BASELINE_INDEXES.items():
                begun = time.perf_counter()
                base.execute(text(statement))
                baseline_seconds[table] = time.perf_counter() - begun
            transaction.commit()
            begun = time.perf_counter()
            base.execute(text(f"ANALYZE {', '.join(BASELINE_COLUMNS)}"))
            baseline_seconds["analyze"] = time.perf_counter() - begun
            base.commit()

        events = streamed_to_baseline(generate(COMPANY, SHOPS, customers, seed), stream,
                                      lambda: finished.append(pool.submit(finish_baseline)), started)
        try:
            with index.begin() as connection:
                counts = load_bulk(connection, events, rebuild_indexes=True, timings=timings)
                index_done = time.time() - started
        except BaseException:
            if not finished:
                stream.abandon()
            raise
        finished[0].result()
    index.dispose()
    baseline.dispose()
    seconds = time.time() - started
    report = [f"{'table':<24} {'rows':>12} {'COPY s':>8} {'rows/s':>9} {'indexes s':>10}"]
    for name, model in BULK_TABLES.items():
        table = model.__table__.name
        copy_seconds = timings.get(f"copy {table}", 0.0)
        report.append(f"{table:<24} {counts[name]:>12,} {copy_seconds:>8.1f} "
                      f"{counts[name] / max(copy_seconds, 1e-9):>9,.0f} {timings.get(f'indexes {table}', 0.0):>10.1f}")
    report.append(f"{'ix_customer_summaries':<24} {'':>12} {timings['summaries']:>8.1f} {'':>9} "
                  f"{timings.get('indexes ix_customer_summaries', 0.0):>10.1f}")
    report.append(f"index: streamed in {timings['copy']:.0f} s, summaries {timings['summaries']:.0f} s, indexes "
                  f"{timings['indexes']:.0f} s, ANALYZE {timings['analyze']:.0f} s; committed after {index_done:.0f} s")
    for table in BASELINE_COLUMNS:
        copy_seconds = stream.seconds.get(table, 0.0)
        rows = stream.rows.get(table, 0)
        report.append(f"{table:<24} {rows:>12,} {copy_seconds:>8.1f} {rows / max(copy_seconds, 1e-9):>9,.0f} "
                      f"{baseline_seconds.get(table, 0.0):>10.1f}")
    report.append(f"baseline: indexes {sum(v for k, v in baseline_seconds.items() if k != 'analyze'):.0f} s, "
                  f"ANALYZE {baseline_seconds['analyze']:.0f} s")
    return counts["version"], seconds, report


def percentiles(samples):
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[max(0, int(round(0.95 * len(ordered))) - 1)] * 1000


def timed(fn, repeat):
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - started)
    return result, percentiles(samples)


def download(rpc, scope, slice_rows=5000):
    """A list download as the gateway streams it: slices of the export by customer id, the default columns."""
    for name, conditions, _sql in QUERIES:
        if name in ("all customers", "attr: PC mail, DM allowed"):
            started, rows, after, slices = time.perf_counter(), 0, 0, 0
            while after is not None:
                page = rpc.search.export_rows(scope, conditions, None, after, slice_rows)
                rows, after, slices = rows + len(page["rows"]), page["last_id"], slices + 1
            seconds = time.perf_counter() - started
            print(f"download '{name}': {rows:,} rows in {slices} slices of {slice_rows:,}, {seconds:.1f} s "
                  f"({rows / seconds:,.0f} rows/s)", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--reuse", action="store_true", help="query the databases a previous run loaded")
    args = parser.parse_args()
    if args.reuse:
        index_url, baseline_url = f"{args.server}/tsuhan_bench_index", f"{args.server}/tsuhan_bench_baseline"
    else:
        index_url = fresh_database(args.server, "tsuhan_bench_index")
        baseline_url = fresh_database(args.server, "tsuhan_bench_baseline")
        upgrade("search", index_url)
        print(f"generating and loading {args.customers:,} customers (seed {args.seed})")
        events, seconds, report = load(index_url, baseline_url, args.customers, args.seed)
        print("\n".join(report))
        print(f"loaded {events:,} events into both in {seconds:.0f} s ({events / seconds:,.0f} events/s)")
    baseline = create_engine(baseline_url)
    with private_vhost() as amqp_uri:
        env = {"AMQP_URI": amqp_uri, "SEARCH_DATABASE_URL": index_url, "PATH": "/usr/bin:/bin",
               "TSUHAN_VAR_DIR": "/tmp/tsuhan-bench", "LOG_LEVEL": "WARNING"}
        service = subprocess.Popen([sys.executable, "-m", "services", "run", "search"], cwd=ROOT, env=env)
        try:
            scope = {"company_id": COMPANY, "role": "operator"}
            with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=120) as rpc:
                wait_for(lambda: rpc.search.health()["status"] == "ok", timeout=60, message="the search service")
                started = time.time()
                wait_for(lambda: rpc.search.health()["columns"]["state"] == "ready", timeout=3600, interval=1,
                         message="the search replica's in-memory columns")
                print(f"the replica loaded the index into memory in {time.time() - started:.0f} s: "
                      f"{rpc.search.health()['columns']}")
                print(f"\n{'query':<40} {'matches':>9} {'count p50/p95 ms':>18} {'page p50/p95 ms':>17} "
                      f"{'SQL count p50/p95':>18} {'ratio p95':>9}")
                for name, conditions, sql in QUERIES:
                    result, (c50, c95) = timed(lambda: rpc.search.count(scope, conditions, False)["total"],
                                       args.repeat)
                    _page, (p50, p95) = timed(lambda: rpc.search.search(scope, conditions, {"per_page": 50}),
                                              args.repeat)
                    with baseline.connect() as connection:
                        expected, (b50, b95) = timed(
                            lambda: connection.execute(text(f"SELECT COUNT(*) FROM ({sql}) q")).scalar(),
                            max(3, args.repeat // 4))
                    flag = "" if expected == result else f"  (SQL says {expected:,})"
                    print(f"{name:<40} {result:>9,} {c50:>8.1f} /{c95:>7.1f} {p50:>8.1f} /{p95:>6.1f} "
                          f"{b50:>8.1f} /{b95:>7.1f} {b95 / c95:>8.1f}x{flag}", flush=True)
                download(rpc, {**scope, "permissions": {"may_export_customers": True}})
        finally:
            service.terminate()
            service.wait(30)
            baseline.dispose()


if __name__ == "__main__":
    main()
