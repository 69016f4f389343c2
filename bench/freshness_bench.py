"""make bench-freshness: how soon a change committed in an owner service is visible to search, under steady load.

    python -m bench.freshness_bench [--seconds 60] [--rate 20] [--threads 4] [--probe-threads 3]
                                    [--probe-interval 0.02] [--server postgresql://postgres@127.0.0.1:5432]

Starts every service as its own process (search as two replicas) on fresh PostgreSQL databases and a private
RabbitMQ vhost, creates a company with two shops and some customers, then runs a steady load for a fixed time: a mix
of customers.create_customer, customers.update_customer, purchases.record_orders and mailhistory.record_activities,
at a steady total rate, from a few threads with their own RPC proxies. Other threads (their own proxies too) probe
the committed changes with search.search, every probe interval, until search shows them: changes of one kind and
level (the customer's n-th order, n-th update, n-th activity) are asked for together, by member number and a
condition only the changed state matches, so the probes cost the same however many changes wait. The freshness of a
change is the time from the owner's RPC returning (committed) to the return of the first probe that shows it; and,
settled, of the first of three answers in a row that show it (both replicas, in practice). Prints count, p50, p95,
p99 and max per kind of change and overall against the goal (p99 within 1 s), the throughput achieved, and where
the time went (outbox relay, indexing, the replicas' stores).
"""
import argparse
import datetime as dt
import heapq
import itertools
import json
import logging
import math
import os
import random
import threading
import time

from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import create_engine, text

from services.common.config import SERVICE_NAMES
from bench.stack import fresh_stack
from tests.support import make_tenant, wait_for

GOAL_P99 = 1.0  # seconds
KINDS = ("create_customer", "update_customer", "record_orders", "record_activities")
MIX = {"create_customer": 0.2, "update_customer": 0.3, "record_orders": 0.3, "record_activities": 0.2}
CUSTOMERS_PER_THREAD = 25
GIVE_UP = 30.0  # a change not visible by then is counted as never seen
CONFIRMATIONS = 2  # answers in a row after the first with a change; a stale one means a replica lagging behind
MAIL_NUMBER = 1
FIRST_DAY = dt.date(2026, 1, 1)

_member_numbers = itertools.count(100001)
_numbers_lock = threading.Lock()


def next_member_number():
    with _numbers_lock:
        return str(next(_member_numbers))


def probe_conditions(kind, level, numbers):
    """One condition document that the changed state of every customer in ``numbers`` matches. Each is monotone:
    a later change of the same customer still matches it."""
    members = {"member_numbers": ", ".join(numbers)}
    if kind == "create_customer":
        return {"attributes": members}
    if kind == "update_customer":  # the customer's n-th update sets points_held to n
        return {"attributes": dict(members, points_held={"min": level})}
    if kind == "record_orders":  # the customer's n-th order
        return {"attributes": members, "latest": {"purchase_count": {"min": level}}}
    day = (FIRST_DAY + dt.timedelta(days=level)).isoformat()  # the customer's n-th activity, on its own day
    return {"attributes": members, "mails": {"manual": {"opened": "include", "period": {"from": day, "to": day}}}}


class Change:
    """One committed change and what the probes found."""

    __slots__ = ("kind", "level", "member_number", "committed", "committed_wall", "rpc_seconds", "seen", "settled",
                 "run", "probes", "stale_after_seen", "ref")

    def __init__(self, kind, level, member_number, committed, committed_wall, rpc_seconds, ref):
        self.kind, self.level, self.member_number = kind, level, member_number
        self.committed, self.committed_wall, self.rpc_seconds, self.ref = committed, committed_wall, rpc_seconds, ref
        self.seen = None  # the first answer with the change
        self.settled = None  # the first of CONFIRMATIONS + 1 answers in a row with it (both replicas, in practice)
        self.run = 0
        self.probes = 0
        self.stale_after_seen = 0

    def observe(self, visible, at):
        """Note a probe's answer; True while the change needs more probes."""
        self.probes += 1
        if visible:
            if self.seen is None:
                self.seen = at
            if self.run == 0:
                self.settled = at
            self.run += 1
            return self.run <= CONFIRMATIONS
        if self.seen is not None:  # answered by a replica that has not followed the change yet
            self.stale_after_seen += 1
            self.run, self.settled = 0, None
        return at - self.committed < GIVE_UP

    @property
    def freshness(self):
        return None if self.seen is None else self.seen - self.committed

    @property
    def settled_freshness(self):
        return None if self.settled is None or self.run <= CONFIRMATIONS else self.settled - self.committed


class ProbeBoard:
    """Changes waiting for search to show them, in groups that one search answers together (same kind, same
    level); each group is probed every ``interval`` while it has changes, earliest due first."""

    def __init__(self, interval):
        self.interval = interval
        self.groups = {}  # (kind, level) -> [Change]
        self.state = {}  # (kind, level) -> "due" | "probing"
        self.heap = []
        self.order = itertools.count()
        self.cond = threading.Condition()
        self.closed = False
        self.outstanding = 0

    def _schedule(self, key, due):
        self.state[key] = "due"
        heapq.heappush(self.heap, (due, next(self.order), key))
        self.cond.notify()

    def track(self, change):
        key = (change.kind, change.level)
        with self.cond:
            self.outstanding += 1
            self.groups.setdefault(key, []).append(change)
            if key not in self.state:
                self._schedule(key, change.committed)

    def take(self):
        """The next group due for a probe, as (key, its changes now); waits until one is due; None once closed."""
        with self.cond:
            while True:
                if self.closed:
                    return None
                if self.heap:
                    delay = self.heap[0][0] - time.monotonic()
                    if delay <= 0:
                        key = heapq.heappop(self.heap)[2]
                        self.state[key] = "probing"
                        return key, list(self.groups[key])
                    self.cond.wait(delay)
                else:
                    self.cond.wait(0.5)

    def finish(self, key, finished):
        """The probe of a group answered: drop the changes it finished, probe the rest again after the interval."""
        with self.cond:
            group = [c for c in self.groups[key] if c not in finished]
            self.outstanding -= len(finished)
            if group:
                self.groups[key] = group
                self._schedule(key, time.monotonic() + self.interval)
            else:
                del self.groups[key], self.state[key]
            self.cond.notify_all()

    def close(self):
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def drained(self, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.outstanding and time.monotonic() < deadline:
                self.cond.wait(0.2)
            return self.outstanding == 0


def probe_loop(amqp_uri, scope, board, stats):
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=30) as rpc:
        while True:
            taken = board.take()
            if taken is None:
                return
            (kind, level), changes = taken
            conditions = probe_conditions(kind, level, [c.member_number for c in changes])
            try:
                found = rpc.search.search(scope, conditions, {"per_page": 500})["customers"]
                visible = {c["member_number"] for c in found}
            except Exception as exc:  # counted, and the group is probed again
                with stats["lock"]:
                    stats["probe_errors"] += 1
                    stats["last_probe_error"] = repr(exc)
                visible = None
            now = time.monotonic()
            with stats["lock"]:
                stats["probes"] += 1
            finished = set()
            for change in changes:
                if visible is None:
                    if now - change.committed >= GIVE_UP:
                        finished.add(change)
                elif not change.observe(change.member_number in visible, now):
                    finished.add(change)
            board.finish((kind, level), finished)


class Loader:
    """One load thread: its own customers (so that changes of one customer follow each other), its own proxy."""

    def __init__(self, index, amqp_uri, scope, shops, board, changes, errors):
        self.index, self.amqp_uri, self.scope, self.shops = index, amqp_uri, scope, shops
        self.board, self.changes, self.errors = board, changes, errors
        self.random = random.Random(index)
        self.customers = []  # [{"id", "member_number", "updates", "orders", "activities"}]
        self.behind = 0.0

    def populate(self, rpc):
        records = [{"member_number": next_member_number(), "shop_id": self.shops[i % 2], "family_name": "鮮度",
                    "given_name": f"{self.index}-{i}"} for i in range(CUSTOMERS_PER_THREAD)]
        result = rpc.customers.upsert_customers(self.scope, records)
        assert not result["errors"], result["errors"]
        self.customers = [{"id": c["id"], "member_number": c["member_number"], "updates": 0, "orders": 0,
                           "activities": 0} for c in result["customers"]]

    def run(self, start, seconds, rate, threads):
        kinds, weights = list(MIX), list(MIX.values())
        with ClusterRpcProxy({"AMQP_URI": self.amqp_uri}, timeout=30) as rpc:
            for k in itertools.count():
                due = start + (self.index + k * threads) / rate
                if due >= start + seconds:
                    return
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                else:
                    self.behind = max(self.behind, -delay)
                kind = self.random.choices(kinds, weights)[0]
                try:
                    self.change(rpc, kind)
                except Exception as exc:
                    self.errors.append(f"{kind}: {exc!r}")

    def change(self, rpc, kind):
        member = None if kind == "create_customer" else self.random.choice(self.customers)
        started = time.monotonic()
        if kind == "create_customer":
            number = next_member_number()
            created = rpc.customers.create_customer(self.scope, {
                "member_number": number, "shop_id": self.random.choice(self.shops), "family_name": "鮮度",
                "given_name": "新規"})
            member = {"id": created["id"], "member_number": number, "updates": 0, "orders": 0, "activities": 0}
            level, ref = 0, ("customer", created["id"], created["version"])
        elif kind == "update_customer":
            level = member["updates"] + 1
            updated = rpc.customers.update_customer(self.scope, member["id"], {"points_held": level})
            ref = ("customer", member["id"], updated["version"])
        elif kind == "record_orders":
            level = member["orders"] + 1
            result = rpc.purchases.record_orders(self.scope, [{
                "shop_id": self.shops[0], "order_code": f"F-{member['member_number']}-{level}",
                "member_number": member["member_number"],
                "purchased_at": (dt.datetime(2026, 2, 1, 10) + dt.timedelta(minutes=level)).isoformat(),
                "counted": True, "lines": [{"product_code": "P-1", "quantity": 1, "unit_price": 1000}]}])
            assert not result["errors"], result["errors"]
            ref = ("purchase", result["purchases"][0]["id"], result["purchases"][0]["version"])
        else:
            level = member["activities"] + 1
            day = (FIRST_DAY + dt.timedelta(days=level)).isoformat()
            result = rpc.mailhistory.record_activities(self.scope, [{
                "activity": "open", "mail_number": MAIL_NUMBER, "member_number": member["member_number"],
                "occurred_at": f"{day}T10:00:00"}])
            assert result["recorded"] == 1, result
            ref = ("mail_activity", member["member_number"], day)
        committed = time.monotonic()
        if kind == "create_customer":
            self.customers.append(member)
        else:
            member[{"update_customer": "updates", "record_orders": "orders",
                    "record_activities": "activities"}[kind]] = level
        change = Change(kind, level, member["member_number"], committed, time.time(), committed - started, ref)
        self.changes.append(change)
        self.board.track(change)


def cpu_seconds(pid):
    """User + system CPU time of a process so far (Linux /proc), or None."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def cpu_snapshot(processes):
    pids = {label: process.pid for label, process in processes.processes.items()}
    pids["this benchmark (load, probes)"] = os.getpid()
    return {label: cpu_seconds(pid) for label, pid in pids.items()}


def nearest_rank(ordered, q):
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def summary(samples):
    """(count, p50, p95, p99, max) in milliseconds."""
    ordered = sorted(samples)
    if not ordered:
        return 0, None, None, None, None
    return (len(ordered),) + tuple(nearest_rank(ordered, q) * 1000 for q in (0.5, 0.95, 0.99)) + (ordered[-1] * 1000,)


def print_table(title, rows):
    print(f"\n{title}")
    print(f"{'':<22} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, samples in rows:
        count, *figures = summary(samples)
        cells = " ".join(f"{f:>8.0f}" if f is not None else f"{'-':>8}" for f in figures)
        print(f"{name:<22} {count:>6} {cells}")


def breakdown(urls, company_id, changes):
    """Where the time went, from the databases: committed → published by the owner's outbox relay → applied to the
    index by a search replica (journal entry) → visible to a probe. Wall clocks of one machine."""
    outbox = {}  # (entity, entity_id, version) or ("mail_activity", member_number, day) → (published_at, entity_id)
    for service in ("customers", "purchases", "mailhistory"):
        engine = create_engine(urls[service])
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT entity, entity_id, version, payload, published_at FROM outbox "
                "WHERE company_id = :company"), {"company": company_id}).all()
        engine.dispose()
        for r in rows:
            if r.entity == "mail_activity":
                data = json.loads(r.payload)["data"]
                key = ("mail_activity", data["member_number"], data["occurred_at"][:10])
            elif r.entity_id.isdigit():
                key = (r.entity, int(r.entity_id), r.version)
            else:  # a batch event (purchases_recorded): each of its orders
                for purchase in json.loads(r.payload)["data"]["purchases"]:
                    outbox[("purchase", int(purchase["id"]), purchase["version"])] = (r.published_at,
                                                                                     str(purchase["id"]))
                continue
            outbox[key] = (r.published_at, r.entity_id)
    engine = create_engine(urls["search"])
    with engine.connect() as connection:
        journal = connection.execute(text("SELECT seq, kind, key, last_key, changed_at FROM ix_changes ORDER BY seq")
                                     ).all()
    engine.dispose()
    applied = {}
    for entry in journal:  # an entry stands for its key, or for the run of keys up to its last key
        for key in range(entry.key, (entry.key if entry.last_key is None else entry.last_key) + 1):
            applied.setdefault((entry.kind, key), []).append(entry.changed_at)
    stages = {"committed → published": [], "published → applied": [], "applied → visible": []}
    for change in changes:
        found = outbox.get(change.ref)
        if found is None or found[0] is None or change.seen is None:
            continue
        published, entity_id = found
        kind = {"customer": "customer", "purchase": "purchase", "mail_activity": "activity"}[change.ref[0]]
        entries = applied.get((kind, int(entity_id)), [])
        position = change.ref[2] - 1 if kind == "customer" else 0
        if position >= len(entries):
            continue
        at = entries[position]
        seen_wall = change.committed_wall + (change.seen - change.committed)
        stages["committed → published"].append(published.timestamp() - change.committed_wall)
        stages["published → applied"].append((at - published).total_seconds())
        stages["applied → visible"].append(seen_wall - at.timestamp())
    return stages


def main():
    logging.getLogger("amqp").setLevel(logging.ERROR)  # a confirm arriving while a proxy closes its channel
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the steady load runs")
    parser.add_argument("--rate", type=float, default=20.0, help="changes per second, all kinds together")
    parser.add_argument("--threads", type=int, default=4, help="load threads, each with its own RPC proxy")
    parser.add_argument("--probe-threads", type=int, default=3, help="probe threads, each with its own RPC proxy")
    parser.add_argument("--probe-interval", type=float, default=0.02,
                        help="seconds between two probes of the same changes")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432",
                        help="the PostgreSQL server to create the fresh databases on")
    args = parser.parse_args()

    with fresh_stack(args.server, "tsuhan-freshness-") as stack:
        run(args, stack.amqp_uri, stack.urls, stack.processes)


def run(args, amqp_uri, urls, processes):
    started = time.monotonic()
    for service in SERVICE_NAMES:
        processes.start(service)
    processes.start("search", label="search-2")
    tenant = make_tenant(urls["shops"])
    scope = {"company_id": tenant.company_id, "role": "system"}
    shops = [s["id"] for s in tenant.shops]
    board = ProbeBoard(args.probe_interval)
    changes, errors = [], []
    stats = {"probes": 0, "probe_errors": 0, "last_probe_error": None, "lock": threading.Lock()}
    loaders = [Loader(i, amqp_uri, scope, shops, board, changes, errors) for i in range(args.threads)]

    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=30) as rpc:
        for service in SERVICE_NAMES:
            wait_for(lambda: getattr(rpc, service).health()["status"] == "ok", timeout=60,
                     message=f"{service} health")
        wait_for(lambda: all(rpc.search.health()["store"]["state"] == "ready" for _ in range(6)), timeout=60,
                 message="both search replicas' stores")
        for loader in loaders:
            loader.populate(rpc)
        rpc.mailhistory.upsert_mails(scope, [{"mail_number": MAIL_NUMBER, "kind": "manual", "name": "鮮度測定"}])
        first = loaders[0].customers[0]
        first["activities"] += 1
        rpc.mailhistory.record_activities(scope, [{"activity": "open", "mail_number": MAIL_NUMBER,
                                                   "member_number": first["member_number"],
                                                   "occurred_at": f"{FIRST_DAY + dt.timedelta(days=1)}T10:00:00"}])
        # the shop's product (and its default category) exist before orders arrive from several threads at once
        first["orders"] += 1
        result = rpc.purchases.record_orders(scope, [{
            "shop_id": shops[0], "order_code": f"F-{first['member_number']}-1", "member_number": first["member_number"],
            "purchased_at": "2026-02-01T10:01:00", "counted": True,
            "lines": [{"product_code": "P-1", "quantity": 1, "unit_price": 1000}]}])
        assert not result["errors"], result["errors"]
        population = args.threads * CUSTOMERS_PER_THREAD
        opened = {"mails": {"manual": {"opened": "include"}}}
        bought = {"latest": {"purchase_count": {"min": 1}}}
        wait_for(lambda: all(rpc.search.count(scope, {}, False)["total"] == population
                             and rpc.search.count(scope, opened, False)["total"] == 1
                             and rpc.search.count(scope, bought, False)["total"] == 1 for _ in range(4)),
                 timeout=60, message="the starting customers in search")
    print(f"{len(SERVICE_NAMES) + 1} service processes (search: 2 replicas) up, company {tenant.company_id} with "
          f"{population} customers indexed, in {time.monotonic() - started:.0f} s")
    print(f"steady load: {args.rate:g} changes/s for {args.seconds:g} s from {args.threads} threads; "
          f"probes every {args.probe_interval * 1000:.0f} ms from {args.probe_threads} threads; "
          f"OUTBOX_POLL_SECONDS={os.environ.get('OUTBOX_POLL_SECONDS') or '1 (default)'}; "
          f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)

    probers = [threading.Thread(target=probe_loop, args=(amqp_uri, scope, board, stats), daemon=True)
               for _ in range(args.probe_threads)]
    for thread in probers:
        thread.start()
    time.sleep(1.0)  # the probers' proxies connected
    load_start = time.monotonic() + 0.5
    threads = [threading.Thread(target=loader.run, args=(load_start, args.seconds, args.rate, args.threads))
               for loader in loaders]
    cpu_before, cpu_since = cpu_snapshot(processes), time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    load_end, load_after = time.monotonic(), os.getloadavg()[0]
    cpu_after, cpu_window = cpu_snapshot(processes), time.monotonic() - cpu_since
    board.drained(GIVE_UP + 5)
    board.close()
    for thread in probers:
        thread.join(10)
    probe_end = time.monotonic()

    elapsed = load_end - load_start
    print(f"\nload average at the end of the load (1 min, this run's processes included): {load_after:.2f}")
    print(f"\nthroughput: {len(changes)} changes committed in {elapsed:.1f} s = {len(changes) / elapsed:.1f} "
          f"changes/s (asked {args.rate:g}/s); most a load thread fell behind its schedule: "
          f"{max(l.behind for l in loaders) * 1000:.0f} ms; failed owner RPCs: {len(errors)}")
    for error in errors[:5]:
        print(f"  {error}")
    print(f"probes: {stats['probes']} search.search calls in {probe_end - load_start:.0f} s "
          f"({stats['probes'] / (probe_end - load_start):.0f}/s), {stats['probe_errors']} failed"
          + (f" (last: {stats['last_probe_error']})" if stats["probe_errors"] else ""))

    used = {label: cpu_after[label] - cpu_before[label] for label in cpu_before
            if cpu_before[label] is not None and cpu_after.get(label) is not None}
    if used:
        print("CPU used during the load, in cores (PostgreSQL and RabbitMQ not counted): " + ", ".join(
            f"{label} {seconds / cpu_window:.2f}" for label, seconds in used.items())
            + f"; total {sum(used.values()) / cpu_window:.2f} of {os.cpu_count()}")

    by_kind = {kind: [c for c in changes if c.kind == kind] for kind in KINDS}
    groups = list(by_kind.items()) + [("all changes", changes)]
    print_table("freshness, first answer: owner RPC returned (committed) → a search shows the change",
                [(name, [c.freshness for c in group if c.seen is not None]) for name, group in groups])
    print_table(f"freshness, settled: → the first of {CONFIRMATIONS + 1} answers in a row with the change "
                "(both replicas, in practice)",
                [(name, [c.settled_freshness for c in group if c.settled_freshness is not None])
                 for name, group in groups])
    print_table("owner RPC time (for reference)", [(kind, [c.rpc_seconds for c in group])
                                                   for kind, group in by_kind.items()])
    never = sum(1 for c in changes if c.seen is None)
    unsettled = sum(1 for c in changes if c.seen is not None and c.settled_freshness is None)
    stale = [c.stale_after_seen for c in changes if c.stale_after_seen]
    print(f"\nnever seen within {GIVE_UP:.0f} s: {never}; seen but not settled: {unsettled}; "
          f"stale answers after the first with the change (a replica not caught up yet): {sum(stale)}, "
          f"for {len(stale)} of {len(changes)} changes")
    try:
        stages = breakdown(urls, tenant.company_id, changes)
        print_table("where the time went (wall clocks of this machine; 'applied': the journal entry a search "
                    "replica writes in the transaction applying the event)", list(stages.items()))
    except Exception as exc:  # the figures above stand without it
        print(f"\n(no breakdown: {exc!r})")
    print()
    for name, values in (("first answer", [c.freshness for c in changes]),
                         ("settled", [c.settled_freshness for c in changes])):
        if not values:
            continue
        p99 = nearest_rank(sorted(math.inf if v is None else v for v in values), 0.99)
        verdict = "meets" if p99 <= GOAL_P99 else "MISSES"
        print(f"p99 freshness ({name}) {p99 * 1000:.0f} ms over {len(values)} changes: {verdict} the goal "
              f"(p99 within {GOAL_P99 * 1000:.0f} ms)")

if __name__ == "__main__":
    main()
