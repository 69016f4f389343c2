"""make bench-search: the search service's store against straightforward SQL, at a chosen scale, on PostgreSQL.

    python -m bench.search_bench --customers 1000000 [--seed 1] [--repeat 20] [--reuse] [--skip-baseline]
                                 [--server postgresql://postgres@127.0.0.1:5432]

Loads a generated company into a fresh index database through the indexer's own row mapping (in bulk) and into
tables shaped like the owners' (customers, purchases, lines, mails, activities; keys and foreign-key indexes only),
then starts the search service on the index with a store directory of its own under TSUHAN_VAR_DIR (emptied first,
so that the replica copies the index into DuckDB from scratch) and measures, each through RPC beside the same
question as plain SQL on the owner-shaped tables (p50/p95, and the ratio baseline p95 / ours p95):

- the first load: seconds from the process's start until ``health()["store"]`` is ready, the replica's memory
  (VmRSS and VmHWM of its process) and the store's size on disk;
- the 13 queries: count, and the first page of 50;
- the page sorted by each sort of the 検索 page, both directions, for two broad conditions (the first page's ids are
  compared with the SQL's);
- counts with sections, as the 検索 page asks them (``count(scope, conditions, True)``), and ``search_page``;
- counts within a saved search, a live one and a frozen one;
- 集計: the RFM grid on each pair of axes (one for a shop) and the movement between two days, through RPC;
- the list download (``export_rows`` slices of 5,000, as the gateway streams them): rows/s;
- a restart: the process stopped and started again on the same store directory, seconds until the store is ready
  and until a count answers as before (the store states seen tell whether it opened its files or loaded afresh).

The company is generated once and streamed into both databases with COPY as it is generated (never held in memory):
the index through ``indexer.load_bulk`` (its secondary indexes built after the load), the baseline by this module
(its foreign-key indexes likewise). Both databases are left in place for ``--reuse``; ``--skip-baseline`` leaves the
baseline out (for sizes such as ``--customers 10000000``): only the service is measured, memory and disk alike.
Set SEARCH_STORE_THREADS or SEARCH_STORE_MEMORY to pass them to the service (else its defaults).
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import create_engine, text

from bench.generate import generate
from services.common.migrations import upgrade
from services.common.pgcopy import CopyStream
from services.search.conditions import SORTS
from services.search.indexer import BULK_TABLES, load_bulk
from tests.support import ROOT, private_vhost, wait_for

VAR_DIR = Path("/tmp/tsuhan-bench")
STORE_DIR = VAR_DIR / "search-store"  # SEARCH_STORE_DIR of the service: kept between its two starts
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
     {"period": {"purchased": {"from": "2024-01-01", "to": "2024-06-30"}, "purchase_count": {"min": 2}}},
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


MANUAL_OPENED = ("EXISTS (SELECT 1 FROM b_activities a JOIN b_mails m ON m.id = a.mail_id WHERE a.customer_id = c.id "
                 "AND a.activity = 'open' AND m.family = 'manual')")
PC_DM = {"attributes": {"mail_permissions": ["pc"], "dm_permission": True}}

# the page sorted each way: two broad conditions, as SQL conditions on b_customers c
SORTED_CONDITIONS = [
    ("all customers", {}, "c.company_id = 1"),
    ("PC mail+DM", PC_DM, "c.company_id = 1 AND c.mail_permission = 'pc' AND c.dm_permission"),
]
PURCHASE_FIGURES = {"latest_purchase_at": "p.latest", "purchase_count": "p.n", "purchase_total": "p.total"}

# counts with sections: name, condition document, {section: the same section as SQL over b_customers c, the purchase
# figures p and the joins of the entry}, joins (LEFT JOIN: a section's predicate asks for its row; as a join, where
# an IN inside COUNT(*) FILTER would be a subplan run for every customer once its ids outgrow work_mem)
PERIOD_2024_H1 = ("SELECT customer_id FROM b_purchases WHERE counted AND purchased_at >= '2023-12-31T15:00:00Z' "
                  "AND purchased_at < '2024-06-30T15:00:00Z' GROUP BY customer_id HAVING COUNT(*) >= 2")
SECTIONED = [
    ("combined: female, 2+ purchases, opened",
     {"attributes": {"genders": ["female"]}, "latest": {"purchase_count": {"min": 2}},
      "mails": {"manual": {"opened": "include"}}},
     {"attributes": "c.gender = 'female'", "latest": "COALESCE(p.n, 0) >= 2", "mails": "o.customer_id IS NOT NULL"},
     ["LEFT JOIN (SELECT DISTINCT a.customer_id FROM b_activities a JOIN b_mails m ON m.id = a.mail_id "
      "WHERE a.activity = 'open' AND m.family = 'manual') o ON o.customer_id = c.id"]),
    ("PC+DM, latest 2025 >= 10000, 2024 H1 2+",
     {**PC_DM, "latest": {"latest_purchase": {"from": "2025-01-01", "to": "2025-12-31"},
                          "purchase_total": {"min": 10000}},
      "period": {"purchased": {"from": "2024-01-01", "to": "2024-06-30"}, "purchase_count": {"min": 2}}},
     {"attributes": "c.mail_permission = 'pc' AND c.dm_permission",
      "latest": "p.latest >= '2024-12-31T15:00:00Z' AND p.latest < '2025-12-31T15:00:00Z' AND p.total >= 10000",
      "period": "h.customer_id IS NOT NULL"},
     [f"LEFT JOIN ({PERIOD_2024_H1}) h ON h.customer_id = c.id"]),
]

# a saved search (saved live, and frozen as the customers it matches), counted narrowed to PC mail
SAVED = ("2024 H1 2+ purchases, opened",
         {"period": {"purchased": {"from": "2024-01-01", "to": "2024-06-30"}, "purchase_count": {"min": 2}},
          "mails": {"manual": {"opened": "include"}}},
         f"SELECT c.id FROM b_customers c WHERE c.company_id = 1 AND c.id IN ({PERIOD_2024_H1}) AND {MANUAL_OPENED}")
WITHIN_SAVED = ({"attributes": {"mail_permissions": ["pc"]}}, "c.mail_permission = 'pc'")

# the query a restarted replica must answer as before
RESTART_CHECK = SECTIONED[0][1]


def sorted_page_sql(where, sort, descending, per_page=50):
    """The first page of a sort as plain SQL, ordered as ``query.sort_order`` orders it: member numbers by value
    (then as text), every other sort with the customers lacking a value last; ties by id. Text compares by code
    point (COLLATE "C"), as the store's does."""
    direction = "DESC" if descending else "ASC"
    joins = ""
    if sort == "member_number":
        nulls = "FIRST" if descending else "LAST"
        order = (f"CASE WHEN c.member_number ~ '^[0-9]{{1,17}}$' THEN c.member_number::bigint END {direction} "
                 f"NULLS {nulls}, c.member_number COLLATE \"C\" {direction} NULLS {nulls}")
    elif sort in PURCHASE_FIGURES:
        joins = f" LEFT JOIN ({PURCHASES}) p ON p.customer_id = c.id"
        order = f"{PURCHASE_FIGURES[sort]} {direction} NULLS LAST"
    elif sort == "name":
        order = f"(c.family_name || c.given_name || c.family_kana || c.given_kana) COLLATE \"C\" {direction} NULLS LAST"
    else:
        order = f"c.{sort} {direction} NULLS LAST"
    return f"SELECT c.id FROM b_customers c{joins} WHERE {where} ORDER BY {order}, c.id LIMIT {per_page}"


def sections_sql(sections, joins):
    """Total and each section's count in one statement, as ``count(…, True)`` answers them."""
    figures = ["COUNT(*) FILTER (WHERE " + " AND ".join(f"({s})" for s in sections.values()) + ")"]
    figures += [f"COUNT(*) FILTER (WHERE {s})" for s in sections.values()]
    return (f"SELECT {', '.join(figures)} FROM b_customers c LEFT JOIN ({PURCHASES}) p ON p.customer_id = c.id "
            f"{' '.join(joins)} WHERE c.company_id = 1")


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
    index builds its own. Without a ``stream`` (no baseline), only reports progress."""
    tables = {table: [] for table in BASELINE_COLUMNS}
    customers, purchases, lines = tables["b_customers"], tables["b_purchases"], tables["b_lines"]
    mails, activities = tables["b_mails"], tables["b_activities"]

    def write():
        for table, rows in tables.items():
            if stream is not None:
                stream.write(table, BASELINE_COLUMNS[table], rows)
            rows.clear()

    count = 0
    for event in events:
        if stream is not None:
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
    print(f"  {count:,} events generated{' and streamed' if stream is not None else ''} "
          f"({time.time() - started:.0f} s)", flush=True)
    if finish is not None:
        finish()


def load(index_url, baseline_url, customers, seed):
    """Generate the company once and stream it into the index and (unless ``baseline_url`` is None) the baseline;
    returns (events, seconds, report lines)."""
    index = create_engine(index_url)
    started = time.time()
    timings, baseline_seconds = {}, {}
    stream = None
    if baseline_url is None:
        with index.begin() as connection:
            events = streamed_to_baseline(generate(COMPANY, SHOPS, customers, seed), None, None, started)
            counts = load_bulk(connection, events, rebuild_indexes=True, timings=timings)
        index_done = time.time() - started
    else:
        baseline = create_engine(baseline_url)
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
        baseline.dispose()
    index.dispose()
    seconds = time.time() - started
    report = [f"{'table':<24} {'rows':>12} {'COPY s':>8} {'rows/s':>9} {'indexes s':>10}"]
    for name, model in BULK_TABLES.items():
        table = model.__table__.name
        copy_seconds = timings.get(f"copy {table}", 0.0)
        report.append(f"{table:<24} {counts[name]:>12,} {copy_seconds:>8.1f} "
                      f"{counts[name] / max(copy_seconds, 1e-9):>9,.0f} {timings.get(f'indexes {table}', 0.0):>10.1f}")
    report.append(f"index: streamed in {timings['copy']:.0f} s, indexes "
                  f"{timings['indexes']:.0f} s, ANALYZE {timings['analyze']:.0f} s; committed after {index_done:.0f} s")
    if stream is not None:
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


class Baseline:
    """The owner-shaped tables, timed (fewer repeats than the service: each answer takes seconds at scale); with
    ``--skip-baseline`` every answer is None."""

    def __init__(self, url, repeat):
        self.engine = create_engine(url) if url else None
        self.repeat = max(3, repeat // 4)

    def run(self, sql, rows=False):
        """(the one row of ``sql``, or every row's first column with ``rows``; (p50, p95) ms), or (None, None)."""
        if self.engine is None:
            return None, None
        with self.engine.connect() as connection:
            if rows:
                return timed(lambda: connection.execute(text(sql)).scalars().all(), self.repeat)
            return timed(lambda: connection.execute(text(sql)).one(), self.repeat)

    def count(self, sql):
        value, times = self.run(f"SELECT COUNT(*) FROM ({sql}) q")
        return (value[0] if value else None), times

    def dispose(self):
        if self.engine is not None:
            self.engine.dispose()


def columns(times, width=8):
    """'p50 / p95' of (p50, p95) ms, or a dash."""
    if times is None:
        return f"{'-':>{width}}  {'-':>{width - 1}}"
    return f"{times[0]:>{width}.1f} /{times[1]:>{width - 1}.1f}"


def ratio(baseline, ours):
    return f"{baseline[1] / ours[1]:>8.1f}x" if baseline and ours else f"{'-':>9}"


def store_size(directory):
    """'… MB (of which WAL … MB)': every file under the store directory (databases, their WAL, state)."""
    files = [path for path in Path(directory).rglob("*") if path.is_file()]
    wal = sum(path.stat().st_size for path in files if path.name.endswith(".wal"))
    return (f"{sum(path.stat().st_size for path in files) / 2**20:,.0f} MB (of which WAL {wal / 2**20:,.0f} MB) "
            f"in {directory}")


class Replica:
    """A service as one process of its own (the search service on the bench's store directory)."""

    def __init__(self, env, service="search"):
        self.env, self.service, self.process, self.started = env, service, None, None

    def start(self):
        self.started = time.perf_counter()
        self.process = subprocess.Popen([sys.executable, "-m", "services", "run", self.service], cwd=ROOT,
                                        env=self.env)

    def stop(self):
        """SIGTERM, and wait until the process has gone; returns the seconds that took."""
        if self.process is None or self.process.poll() is not None:
            return 0.0
        begun = time.perf_counter()
        self.process.terminate()
        try:
            self.process.wait(120)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return time.perf_counter() - begun

    def memory(self):
        """'VmRSS … MB, VmHWM … MB' of the process (/proc/<pid>/status)."""
        figures = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                figures[key] = int(value.split()[0]) / 1024
        return f"VmRSS {figures['VmRSS']:,.0f} MB, VmHWM (peak) {figures['VmHWM']:,.0f} MB"

    def wait_until_serving(self, poll, scope, check=None, timeout=3600):
        """Poll the replica from its process's start: {answered: seconds until health answered, ready: until the
        store was ready, counted: until ``check`` (conditions, expected total) was answered right, states: the store
        states seen in order}."""
        seen, marks = [], {}
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            try:
                state = poll.search.health()["store"]["state"]
            except Exception:  # not up yet (the request waits in the queue until it is, or times out)
                time.sleep(0.1)
                continue
            marks.setdefault("answered", time.perf_counter() - self.started)
            if not seen or seen[-1] != state:
                seen.append(state)
            if state == "ready":
                marks.setdefault("ready", time.perf_counter() - self.started)
                if check is None:
                    break
                try:
                    if poll.search.count(scope, check[0], False)["total"] == check[1]:
                        marks["counted"] = time.perf_counter() - self.started
                        break
                except Exception:
                    pass
            time.sleep(0.1 if time.perf_counter() - self.started < 60 else 1.0)  # finely at first, then each second
        else:
            raise AssertionError(f"the search replica did not become ready in {timeout} s (states seen: {seen})")
        return {**marks, "states": seen}


def measure_queries(rpc, scope, baseline, repeat):
    """The 13 queries: count and first page through RPC, the count as plain SQL."""
    print(f"\n{'query':<40} {'matches':>9} {'count p50/p95 ms':>17} {'page p50/p95 ms':>17} "
          f"{'SQL count p50/p95':>17} {'ratio p95':>9}")
    for name, conditions, sql in QUERIES:
        result, counted = timed(lambda: rpc.search.count(scope, conditions, False)["total"], repeat)
        _page, paged = timed(lambda: rpc.search.search(scope, conditions, {"per_page": 50}), repeat)
        expected, sql_times = baseline.count(sql)
        flag = "" if expected in (None, result) else f"  (SQL says {expected:,})"
        print(f"{name:<40} {result:>9,} {columns(counted)} {columns(paged)} {columns(sql_times)} "
              f"{ratio(sql_times, counted)}{flag}", flush=True)


def measure_sorts(rpc, scope, baseline, repeat):
    """The first page of 50 by each sort, both directions, for the broad conditions."""
    print(f"\n{'sorted page of 50':<40} {'':>9} {'':>17} {'page p50/p95 ms':>17} {'SQL page p50/p95':>17} "
          f"{'ratio p95':>9}")
    for label, conditions, where in SORTED_CONDITIONS:
        for sort in SORTS:
            for descending in (False, True):
                paging = {"per_page": 50, "sort": sort, "descending": descending}
                page, paged = timed(lambda: rpc.search.search(scope, conditions, paging), repeat)
                ids, sql_times = baseline.run(sorted_page_sql(where, sort, descending), rows=True)
                ours = [customer["id"] for customer in page["customers"]]
                flag = "" if ids in (None, ours) else "  (first page differs from the SQL's)"
                name = f"{label}, {sort} {'desc' if descending else 'asc'}"
                print(f"{name:<40} {'':>9} {'':>17} {columns(paged)} {columns(sql_times)} "
                      f"{ratio(sql_times, paged)}{flag}", flush=True)


def measure_sections(rpc, scope, baseline, repeat):
    """count with sections (the 検索 page's count) and search_page (saved searches, that count and the first page)."""
    print(f"\n{'count with sections':<40} {'matches':>9} {'count p50/p95 ms':>17} {'page p50/p95 ms':>17} "
          f"{'SQL count p50/p95':>17} {'ratio p95':>9}")
    for name, conditions, sections, joins in SECTIONED:
        result, counted = timed(lambda: rpc.search.count(scope, conditions, True), repeat)
        _answer, whole = timed(lambda: rpc.search.search_page(scope, conditions, {"per_page": 50}), repeat)
        row, sql_times = baseline.run(sections_sql(sections, joins))
        flag = ""
        if row is not None:
            expected = {"total": row[0], "sections": dict(zip(sections, row[1:]))}
            flag = "" if expected == result else f"  (SQL says {expected})"
        print(f"{name:<40} {result['total']:>9,} {columns(counted)} {columns(whole)} {columns(sql_times)} "
              f"{ratio(sql_times, counted)}{flag}", flush=True)
        print(f"{'  sections':<40} " + ", ".join(f"{k} {v:,}" for k, v in result["sections"].items()))
    print("(page column: search_page, the 検索 page's one call: saved searches, count with sections, first page)")


def measure_saved(rpc, poll, scope, baseline, repeat):
    """Counts within a saved search, live and frozen, narrowed by a condition; the saved searches are deleted
    afterwards."""
    name, conditions, sql = SAVED
    narrowing, narrowing_sql = WITHIN_SAVED
    live = rpc.search.save_search(scope, f"bench live {time.time():.0f}", conditions, False)
    begun = time.perf_counter()
    frozen = rpc.search.save_search(scope, f"bench frozen {time.time():.0f}", conditions, True)
    saved_seconds = time.perf_counter() - begun
    # its customers reach the store through the journal
    wait_for(lambda: poll.search.count(scope, {"saved_search_id": frozen["id"]}, False)["total"]
             == frozen["customer_count"], timeout=600, message="the frozen saved search's customers in the store")
    print(f"\nsaved search '{name}': {frozen['customer_count']:,} customers; saving it frozen took "
          f"{saved_seconds:.1f} s, its customers were in the store {time.perf_counter() - begun:.1f} s after the call")
    print(f"{'count within a saved search':<40} {'matches':>9} {'count p50/p95 ms':>17} {'':>17} "
          f"{'SQL count p50/p95':>17} {'ratio p95':>9}")
    try:
        for kind, saved in (("live", live), ("frozen", frozen)):
            within = {**narrowing, "saved_search_id": saved["id"]}
            result, counted = timed(lambda: rpc.search.count(scope, within, False)["total"], repeat)
            if kind == "live":
                expected, sql_times = baseline.count(f"SELECT c.id FROM b_customers c WHERE c.company_id = 1 "
                                                     f"AND {narrowing_sql} AND c.id IN ({sql})")
            else:
                expected, sql_times = frozen_baseline(baseline, sql, narrowing_sql)
            flag = "" if expected in (None, result) else f"  (SQL says {expected:,})"
            print(f"{f'{kind}, PC mail':<40} {result:>9,} {columns(counted)} {'':>17} {columns(sql_times)} "
                  f"{ratio(sql_times, counted)}{flag}", flush=True)
    finally:
        for saved in (live, frozen):
            rpc.search.delete_saved_search(scope, saved["id"])


RFM_REPORTS = [  # name, RPC method, options (the generated purchases span 2023 to early 2026)
    ("RFM集計 R×F, 2025-12-31", "rfm_grid", {"day": "2025-12-31"}),
    ("RFM集計 R×M, 2025-12-31", "rfm_grid", {"day": "2025-12-31", "axes": "rm"}),
    ("RFM集計 F×M, shop 1", "rfm_grid", {"day": "2025-12-31", "axes": "fm", "shop_ids": [SHOPS[0]]}),
    ("RFM集計 移動 2025-06-30 → 2025-12-31", "rfm_movement", {"day_from": "2025-06-30", "day_to": "2025-12-31"}),
]


PERIOD = {"date_from": "2025-01-01", "date_to": "2025-12-31"}
CATALOGUE_REPORTS = [  # name, report, options: every report of 集計's catalogue, the views operators open most
    ("日報・月報 2025 by month", "daily_monthly", PERIOD),
    ("日報・月報 2025-10〜12 by day", "daily_monthly", {"date_from": "2025-10-01", "date_to": "2025-12-31",
                                                     "unit": "day"}),
    ("売上 by shop", "sales", PERIOD),
    ("売上 by media, P0000 left out", "sales", {**PERIOD, "by": "media", "excluded_products": ["P0000"]}),
    ("売上 by category", "sales", {**PERIOD, "by": "category"}),
    ("売上 by 顧客区分", "sales", {**PERIOD, "by": "customer_class"}),
    ("リピート率 2024〜2025 cohorts", "repeat", {"date_from": "2024-01-01", "date_to": "2025-12-31"}),
    ("LTV推移 2024〜2025 cohorts", "ltv", {"date_from": "2024-01-01", "date_to": "2025-12-31"}),
    ("LTV推移 first purchase held P0001", "ltv", {"date_from": "2024-01-01", "date_to": "2025-12-31",
                                                 "first_product": "P0001"}),
    ("継続・離脱 on 2025-12-31", "retention", {"day": "2025-12-31"}),
    ("商品 ranking by sales", "products", PERIOD),
    ("商品 first purchases", "products", {**PERIOD, "view": "first"}),
    ("商品 併売 P0001, same order", "products", {**PERIOD, "view": "together", "product": "P0001"}),
    ("商品 併売 P0001, later", "products", {**PERIOD, "view": "together", "product": "P0001", "together": "later"}),
    ("購入状況 on 2025-12-31", "purchase_status", {"day": "2025-12-31"}),
    ("購入状況 shop 1", "purchase_status", {"day": "2025-12-31", "shop_ids": [SHOPS[0]]}),
]


def measure_reports(rpc, scope, repeat):
    """集計 through RPC: the RFM grid on each pair of axes, the movement between two days, and every report of the
    catalogue (no baseline)."""
    print(f"\n{'report':<40} {'customers':>9} {'p50/p95 ms':>17}")
    for name, method, options in RFM_REPORTS:
        answer, times = timed(lambda: getattr(rpc.search, method)(scope, options), repeat)
        customers = answer["total"]["customers"] if method == "rfm_grid" else answer["totals"]["to"]["customers"]
        print(f"{name:<40} {customers:>9,} {columns(times)}", flush=True)
    print(f"\n{'report':<40} {'rows':>9} {'p50/p95 ms':>17}")
    for name, kind, options in CATALOGUE_REPORTS:
        answer, times = timed(lambda: rpc.search.report(scope, kind, options), repeat)
        rows = sum(len(table["rows"]) for table in answer["tables"])
        print(f"{name:<40} {rows:>9,} {columns(times)}", flush=True)


def frozen_baseline(baseline, sql, narrowing_sql):
    """A frozen saved search as plain SQL: its customers kept in a table of their own (id as primary key)."""
    if baseline.engine is None:
        return None, None
    with baseline.engine.connect() as connection:
        connection.execute(text(f"CREATE TEMPORARY TABLE b_saved AS {sql}"))
        connection.execute(text("ALTER TABLE b_saved ADD PRIMARY KEY (id)"))
        connection.execute(text("ANALYZE b_saved"))
        statement = text(f"SELECT COUNT(*) FROM b_customers c JOIN b_saved s ON s.id = c.id "
                         f"WHERE c.company_id = 1 AND {narrowing_sql}")
        return timed(lambda: connection.execute(statement).scalar(), baseline.repeat)


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


def restart(replica, poll, scope, expected):
    """Stop the replica, start it again on the same store, and time its way back to answering."""
    state_file = STORE_DIR / "slot-1" / "state.json"
    if state_file.exists():
        state = json.loads(state_file.read_text())
        print(f"\nthe store's state.json: journal place {state.get('seq')}, followed "
              f"{time.time() - float(state.get('followed_at', 0)):.0f} s ago (a store followed longer ago than half "
              f"the journal's hour is loaded afresh)")
    else:
        print(f"\nno {state_file}: the replica will load its store afresh")
    stopped = replica.stop()
    print(f"replica stopped in {stopped:.1f} s (SIGTERM until the process was gone); starting it again", flush=True)
    replica.start()
    marks = replica.wait_until_serving(poll, scope, (RESTART_CHECK, expected))
    print(f"restart: health answered {marks['answered']:.1f} s after the process started, store ready after "
          f"{marks['ready']:.1f} s, first count answered right after {marks['counted']:.1f} s "
          f"(store states seen: {' → '.join(marks['states'])})")
    print(f"replica memory after the restart: {replica.memory()}")


def service_env(amqp_uri, index_url):
    env = {"AMQP_URI": amqp_uri, "SEARCH_DATABASE_URL": index_url, "PATH": "/usr/bin:/bin",
           "PURCHASES_DATABASE_URL": f"sqlite:///{VAR_DIR / 'bench_purchases.db'}",
           "TSUHAN_VAR_DIR": str(VAR_DIR), "SEARCH_STORE_DIR": str(STORE_DIR), "LOG_LEVEL": "WARNING"}
    for name in ("SEARCH_STORE_THREADS", "SEARCH_STORE_MEMORY"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    return env


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--reuse", action="store_true", help="query the databases a previous run loaded")
    parser.add_argument("--skip-baseline", action="store_true", help="no plain-SQL baseline (large sizes)")
    parser.add_argument("--reports-only", action="store_true", help="after the first load, time 集計 alone")
    args = parser.parse_args()
    if args.reuse:
        index_url = f"{args.server}/tsuhan_bench_index"
        baseline_url = None if args.skip_baseline else f"{args.server}/tsuhan_bench_baseline"
    else:
        index_url = fresh_database(args.server, "tsuhan_bench_index")
        baseline_url = None if args.skip_baseline else fresh_database(args.server, "tsuhan_bench_baseline")
        upgrade("search", index_url)
        print(f"generating and loading {args.customers:,} customers (seed {args.seed})"
              + (", without the baseline" if baseline_url is None else ""))
        events, seconds, report = load(index_url, baseline_url, args.customers, args.seed)
        print("\n".join(report))
        print(f"loaded {events:,} events in {seconds:.0f} s ({events / seconds:,.0f} events/s)")
    index = create_engine(index_url)
    with index.connect() as connection:
        index_bytes = connection.execute(text("SELECT pg_database_size(current_database())")).scalar()
    index.dispose()
    baseline = Baseline(baseline_url, args.repeat)
    shutil.rmtree(STORE_DIR, ignore_errors=True)  # the first start copies the whole index
    scope = {"company_id": COMPANY, "role": "operator"}
    with private_vhost() as amqp_uri:
        env = service_env(amqp_uri, index_url)
        replica = Replica(env)
        # the purchases service names the products 集計 counts (its catalogue is empty here: the round trip counts)
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        upgrade("purchases", env["PURCHASES_DATABASE_URL"])
        purchases = Replica(env, "purchases")
        purchases.start()
        settings = {name: env.get(f"SEARCH_STORE_{name.upper()}", "the service's default")
                    for name in ("threads", "memory")}
        print(f"\nstarting the search replica (store in {STORE_DIR}; DuckDB threads {settings['threads']}, memory "
              f"limit {settings['memory']})", flush=True)
        replica.start()
        try:
            with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=600) as rpc, \
                    ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=10) as poll:
                marks = replica.wait_until_serving(poll, scope, timeout=3600 * max(1, args.customers // 1_000_000))
                print(f"first load: health answered {marks['answered']:.1f} s after the process started, store ready "
                      f"after {marks['ready']:.1f} s (states seen: {' → '.join(marks['states'])}): "
                      f"{rpc.search.health()['store']}")
                print(f"replica memory after loading: {replica.memory()}")
                print(f"store on disk: {store_size(STORE_DIR)} (the index database in PostgreSQL: "
                      f"{index_bytes / 2**20:,.0f} MB)", flush=True)
                if args.reports_only:
                    measure_reports(rpc, scope, args.repeat)
                    print(f"replica memory after the reports: {replica.memory()}")
                    return
                measure_queries(rpc, scope, baseline, args.repeat)
                measure_sorts(rpc, scope, baseline, args.repeat)
                measure_sections(rpc, scope, baseline, args.repeat)
                measure_saved(rpc, poll, scope, baseline, args.repeat)
                measure_reports(rpc, scope, args.repeat)
                print()
                download(rpc, {**scope, "permissions": {"may_export_customers": True}})
                print(f"replica memory after the queries: {replica.memory()}")
                expected = rpc.search.count(scope, RESTART_CHECK, False)["total"]
                restart(replica, poll, scope, expected)
                print(f"store on disk after the restart: {store_size(STORE_DIR)}")
        finally:
            replica.stop()
            purchases.stop()
            baseline.dispose()


if __name__ == "__main__":
    main()
