"""make bench-load: the gateway's 検索 page and customer page under many operators, with connectors writing by RPC.

    python -m bench.load_bench [--seconds 60] [--users 20] [--writers 20] [--baseline-seconds 15]
                               [--workers 2] [--threads 8] [--quick] [--server postgresql://postgres@127.0.0.1:5432]

(``LOAD_SECONDS``, ``LOAD_USERS``, ``LOAD_WRITERS``, ``LOAD_BASELINE_SECONDS``, ``GATEWAY_WORKERS``,
``GATEWAY_THREADS`` give the defaults; ``--quick`` is 10 s with 5 users and 5 writers after a 5 s baseline.)

Starts every service as its own process on fresh PostgreSQL databases and a private RabbitMQ vhost, loads the demo
company (services/demo.py: 2,357 customers with their 6,919 CDNOW purchases, through the services' own logic), brings
the search index in agreement with the owners, and starts the gateway with gunicorn as ``make run`` does. Each
operator logs in over HTTP before the clock starts (the login form with its CSRF token, a session of its own) and
then, without pause, opens the 検索 page with a search (women who bought at least twice, newest buyers first, the
first page of 50) and the page of a customer drawn at random, in turn. Each connector writer (an RPC proxy of its own, the ``system`` scope of a
cart connector) creates a customer with customers.create_customer, then records an order for it with
purchases.record_orders, in turn.

Two phases in the same run: the baseline with 1 operator and 1 writer, then the load with ``--users`` operators and
``--writers`` writers at once. Prints for each kind of request the throughput, p50/p95/p99, the errors by kind, and
the ratio load / baseline; the machine's load average before and after, and the CPU the processes used.
"""
import argparse
import datetime as dt
import html.parser
import itertools
import logging
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import requests
from nameko.standalone.rpc import ClusterRpcProxy

from services.common.config import SERVICE_NAMES
from services.demo import DEMO_COMPANY_ID, DEMO_OPERATOR, demo_password
from tests.support import ROOT, Databases, ServiceProcesses, free_port, private_vhost, wait_for

GOAL_SEARCH_P95 = 0.300  # seconds, at the full number of operators, with no errors
PAGE_KINDS = ("検索 page", "customer page")
RPC_KINDS = ("create_customer", "record_orders")
SEARCH_QUERY = {"search": "1", "genders": "female", "l_count_min": "2", "sort": "latest_purchase_at", "desc": "1"}
SYSTEM_SCOPE = {"company_id": DEMO_COMPANY_ID, "role": "system"}

_member_numbers = itertools.count(9_000_001)
_numbers_lock = threading.Lock()


def env_number(name, default, kind=int):
    value = os.environ.get(name, "")
    return kind(value) if value.strip() else default


def next_member_number():
    with _numbers_lock:
        return str(next(_member_numbers))


class _CsrfToken(html.parser.HTMLParser):
    token = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name") == "csrf_token":
            self.token = attrs.get("value")


def logged_in(base_url, attempts=5):
    """log_in, tried again after a refusal (a 503 while the shops service hashes other logins' passwords)."""
    for attempt in range(attempts):
        try:
            return log_in(base_url)
        except (RuntimeError, requests.RequestException):
            if attempt == attempts - 1:
                raise
            time.sleep(2)


def log_in(base_url):
    """A requests session logged in as the demo operator through the login form."""
    http = requests.Session()
    form = http.get(f"{base_url}/login", timeout=30)
    form.raise_for_status()
    parser = _CsrfToken()
    parser.feed(form.text)
    answer = http.post(f"{base_url}/login", data={"csrf_token": parser.token, "login_id": DEMO_OPERATOR,
                                                  "password": demo_password()}, timeout=30, allow_redirects=False)
    if answer.status_code != 302 or "tsuhan_session" not in http.cookies:
        raise RuntimeError(f"login failed: HTTP {answer.status_code}")
    return http


class Recorder:
    """Every request's kind, end time, duration and error (None when it succeeded), from every thread."""

    def __init__(self):
        self.samples = []
        self.lock = threading.Lock()

    def add(self, kind, seconds, error):
        with self.lock:
            self.samples.append((kind, time.monotonic(), seconds, error))


def timed(recorder, kind, action):
    started = time.monotonic()
    try:
        error = action()
    except Exception as exc:  # counted by kind; the loop goes on
        error = type(exc).__name__
    recorder.add(kind, time.monotonic() - started, error)


def operator_loop(http, base_url, customer_ids, stop_at, recorder, seed):
    chance = random.Random(seed)
    search_url = f"{base_url}/customers/search/?{urllib.parse.urlencode(SEARCH_QUERY)}"

    def page(url, marker):
        def fetch():
            answer = http.get(url, timeout=60, allow_redirects=False)
            if answer.status_code != 200:
                return f"HTTP {answer.status_code}"
            return None if marker in answer.text else "unexpected page"
        return fetch

    while time.monotonic() < stop_at:
        timed(recorder, "検索 page", page(search_url, "該当"))
        if time.monotonic() >= stop_at:
            break
        customer_id = chance.choice(customer_ids)
        timed(recorder, "customer page", page(f"{base_url}/customers/{customer_id}", "保有ポイント"))


def writer_loop(amqp_uri, shop_ids, stop_at, recorder, seed):
    chance = random.Random(seed)
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=60) as rpc:
        orders = itertools.count(1)
        while time.monotonic() < stop_at:
            number = next_member_number()
            shop_id = chance.choice(shop_ids)

            def create():
                rpc.customers.create_customer(SYSTEM_SCOPE, {
                    "member_number": number, "shop_id": shop_id, "family_name": "負荷", "given_name": "測定",
                    "family_kana": "フカ", "given_kana": "ソクテイ", "gender": "female", "mail_permission": "pc",
                    "pc_email": f"load{number}@example.jp"})

            def record():
                n = next(orders)
                result = rpc.purchases.record_orders(SYSTEM_SCOPE, [{
                    "shop_id": shop_id, "order_code": f"LOAD-{number}-{n}", "member_number": number,
                    "purchased_at": (dt.datetime(2026, 3, 1, 9) + dt.timedelta(seconds=n)).isoformat(),
                    "counted": True, "lines": [{"product_code": "CD-001", "quantity": 1, "unit_price": 2500}]}])
                return "refused: " + str(result["errors"])[:80] if result["errors"] else None

            timed(recorder, "create_customer", create)
            if time.monotonic() >= stop_at:
                break
            timed(recorder, "record_orders", record)


def run_phase(label, base_url, amqp_uri, customer_ids, shop_ids, users, writers, seconds):
    """Runs ``users`` operators and ``writers`` writers for ``seconds``; returns (recorder, elapsed, load average)."""
    recorder = Recorder()
    # the operators log in before the clock starts (a login hashes a password: it is not what is measured)
    sessions = [logged_in(base_url) for _ in range(users)]
    stop_at = time.monotonic() + seconds
    threads = [threading.Thread(target=operator_loop, args=(http, base_url, customer_ids, stop_at, recorder, i),
                                daemon=True) for i, http in enumerate(sessions)]
    threads += [threading.Thread(target=writer_loop, args=(amqp_uri, shop_ids, stop_at, recorder, 1000 + i),
                                 daemon=True) for i in range(writers)]
    print(f"{label}: {users} operators, {writers} writers for {seconds:g} s "
          f"(load average before: {os.getloadavg()[0]:.2f})", flush=True)
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 120)
    return recorder, time.monotonic() - started, os.getloadavg()[0]


def nearest_rank(ordered, q):
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def figures(recorder, kind, elapsed):
    """(count, per second, p50, p95, p99 in ms, {error: count}) of one kind of request."""
    samples = [s for s in recorder.samples if s[0] == kind]
    errors = {}
    for sample in samples:
        if sample[3] is not None:
            errors[sample[3]] = errors.get(sample[3], 0) + 1
    ordered = sorted(s[2] for s in samples)
    if not ordered:
        return 0, 0.0, None, None, None, errors
    return (len(ordered), len(ordered) / elapsed) + tuple(nearest_rank(ordered, q) * 1000
                                                          for q in (0.5, 0.95, 0.99)) + (errors,)


def cpu_seconds(pid):
    """User + system CPU time of a process and its children waited for (Linux /proc), or None."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def gateway_pids(master_pid):
    """The gunicorn master and its workers (the processes whose parent it is)."""
    pids = [master_pid]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == master_pid:
                        pids.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    return pids


def cpu_snapshot(processes, gateway):
    snapshot = {label: cpu_seconds(process.pid) for label, process in processes.processes.items()}
    snapshot["gateway"] = sum(cpu_seconds(pid) or 0.0 for pid in gateway_pids(gateway.pid))
    snapshot["this benchmark"] = cpu_seconds(os.getpid())
    return snapshot


def print_report(baseline, load, args):
    (base_rec, base_elapsed, _), (load_rec, load_elapsed, load_after) = baseline, load
    print(f"\nload average (1 min) at the end of the load, this run's processes included: {load_after:.2f}; "
          f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    header = (f"{'':<16} {'users':>5} {'count':>6} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
              f"{'errors':>6}")
    print(f"\n{header}")
    rows = {}
    for kind in PAGE_KINDS + RPC_KINDS:
        for label, recorder, elapsed, users in (("1", base_rec, base_elapsed, 1),
                                                (str(args.users if kind in PAGE_KINDS else args.writers), load_rec,
                                                 load_elapsed, None)):
            count, rate, p50, p95, p99, errors = figures(recorder, kind, elapsed)
            rows[(kind, users is None)] = (rate, p95, errors)
            cells = " ".join(f"{v:>8.0f}" if v is not None else f"{'-':>8}" for v in (p50, p95, p99))
            print(f"{kind:<16} {label:>5} {count:>6} {rate:>7.1f} {cells} {sum(errors.values()):>6}")
            for error, n in sorted(errors.items(), key=lambda e: -e[1])[:4]:
                print(f"{'':<24}{n} × {error}")
    print("\nratio load / baseline (same run):")
    for kind in PAGE_KINDS + RPC_KINDS:
        (b_rate, b_p95, _), (l_rate, l_p95, _) = rows[(kind, False)], rows[(kind, True)]
        if b_rate and l_rate and b_p95 and l_p95:
            print(f"  {kind:<16} throughput {l_rate / b_rate:5.1f}×   p95 {l_p95 / b_p95:5.1f}×")
    rate, p95, errors = rows[("検索 page", True)]
    if p95 is not None:
        verdict = "meets" if p95 <= GOAL_SEARCH_P95 * 1000 and not errors else "MISSES"
        print(f"\n検索 page at {args.users} operators: p95 {p95:.0f} ms, {sum(errors.values())} errors: {verdict} the "
              f"goal (p95 within {GOAL_SEARCH_P95 * 1000:.0f} ms, no errors)")


def start_gateway(env, tmp, port, workers, threads):
    """The gateway as ``make run`` starts it (scripts/run_all.py): gunicorn, workers × threads."""
    log = open(os.path.join(tmp, "gateway.log"), "ab")
    return subprocess.Popen([sys.executable, "-m", "gunicorn", "gateway.wsgi:app", "--bind", f"127.0.0.1:{port}",
                             "--workers", str(workers), "--threads", str(threads)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def prepare(amqp_uri):
    """The demo company loaded into search; the customers' ids and the shops' ids."""
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=600) as rpc:
        for service in SERVICE_NAMES:
            wait_for(lambda: getattr(rpc, service).health()["status"] == "ok", timeout=120,
                     message=f"{service} health")
        wait_for(lambda: rpc.search.health()["store"]["state"] == "ready", timeout=120,
                 message="search's store")
        rpc.search.rebuild(SYSTEM_SCOPE)
        wait_for(lambda: rpc.search.reconcile(SYSTEM_SCOPE)["in_agreement"], timeout=120, interval=2,
                 message="the demo company in search")
        ids, page = [], 1
        while True:
            found = rpc.search.search(SYSTEM_SCOPE, {}, {"page": page, "per_page": 500})["customers"]
            ids += [c["id"] for c in found]
            if len(found) < 500:
                break
            page += 1
        shop_ids = [s["id"] for s in rpc.shops.list_shops(SYSTEM_SCOPE)]
    return ids, shop_ids


def main():
    logging.getLogger("amqp").setLevel(logging.ERROR)  # a confirm arriving while a proxy closes its channel
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=env_number("LOAD_SECONDS", 60.0, float))
    parser.add_argument("--users", type=int, default=env_number("LOAD_USERS", 20), help="operators at once")
    parser.add_argument("--writers", type=int, default=env_number("LOAD_WRITERS", 20), help="connector writers")
    parser.add_argument("--baseline-seconds", type=float, default=env_number("LOAD_BASELINE_SECONDS", 15.0, float))
    parser.add_argument("--workers", type=int, default=env_number("GATEWAY_WORKERS", 2), help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=env_number("GATEWAY_THREADS", 8), help="threads a worker")
    parser.add_argument("--quick", action="store_true", help="10 s, 5 operators, 5 writers, 5 s baseline")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432",
                        help="the PostgreSQL server to create the fresh databases on")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.users, args.writers, args.baseline_seconds = 10.0, 5, 5, 5.0

    tmp = tempfile.mkdtemp(prefix="tsuhan-load-")
    print(f"service logs (kept if the run fails): {tmp}")
    print(f"machine: {os.cpu_count()} cores; uptime: "
          f"{subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}", flush=True)
    databases = Databases(tmp)
    databases.server = args.server.rstrip("/")
    try:
        urls = databases.create_services()
        with private_vhost() as amqp_uri:
            env = dict(os.environ, AMQP_URI=amqp_uri, TSUHAN_VAR_DIR=tmp, LOG_LEVEL="WARNING")
            for service, url in urls.items():
                env[f"{service.upper()}_DATABASE_URL"] = url
            started = time.monotonic()
            subprocess.run([sys.executable, "-m", "services", "demo"], cwd=ROOT, env=env, check=True,
                           stdout=subprocess.DEVNULL)
            print(f"demo company loaded in {time.monotonic() - started:.0f} s", flush=True)
            processes = ServiceProcesses(env, tmp)
            gateway = None
            try:
                # the owners first: their outboxes relay the demo's events before search has queues (a rebuild
                # loads the index at once, far sooner than applying the events one by one)
                owners = [service for service in SERVICE_NAMES if service != "search"]
                for service in owners:
                    processes.start(service)
                with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=30) as rpc:
                    for service in owners:
                        wait_for(lambda: getattr(rpc, service).health()["outbox_pending"] == 0, timeout=300,
                                 interval=1, message=f"{service}'s outbox relayed")
                processes.start("search")
                port = free_port()
                gateway = start_gateway(env, tmp, port, args.workers, args.threads)
                customer_ids, shop_ids = prepare(amqp_uri)
                base_url = f"http://127.0.0.1:{port}"
                wait_for(lambda: requests.get(f"{base_url}/healthz", timeout=5).status_code == 200, timeout=120,
                         message="the gateway's /healthz")
                print(f"{len(SERVICE_NAMES)} services and the gateway (gunicorn, {args.workers} workers × "
                      f"{args.threads} threads) up; {len(customer_ids)} customers indexed, in "
                      f"{time.monotonic() - started:.0f} s", flush=True)
                for _ in range(3):  # every worker's first requests (templates, proxies) out of the figures
                    logged_in(base_url).get(f"{base_url}/customers/search/?{urllib.parse.urlencode(SEARCH_QUERY)}")
                baseline = run_phase("baseline", base_url, amqp_uri, customer_ids, shop_ids, 1, 1,
                                     args.baseline_seconds)
                cpu_before, cpu_since = cpu_snapshot(processes, gateway), time.monotonic()
                load = run_phase("load", base_url, amqp_uri, customer_ids, shop_ids, args.users, args.writers,
                                 args.seconds)
                cpu_after, window = cpu_snapshot(processes, gateway), time.monotonic() - cpu_since
                print_report(baseline, load, args)
                used = {label: cpu_after[label] - cpu_before[label] for label in cpu_before
                        if cpu_before[label] is not None and cpu_after.get(label) is not None}
                print("CPU used during the load, in cores (PostgreSQL and RabbitMQ not counted): " + ", ".join(
                    f"{label} {seconds / window:.2f}" for label, seconds in used.items())
                    + f"; total {sum(used.values()) / window:.2f} of {os.cpu_count()}")
            finally:
                if gateway is not None:
                    gateway.terminate()
                    gateway.wait(30)
                processes.stop_all()
    finally:
        databases.drop_all()
    print_logged_errors(tmp)
    shutil.rmtree(tmp, ignore_errors=True)


def print_logged_errors(tmp):
    """The first errors the gateway and the services logged, so that an error counted above can be told."""
    for name in sorted(os.listdir(tmp)):
        if name.endswith(".log"):
            with open(os.path.join(tmp, name), errors="replace") as log:
                lines = [line.rstrip() for line in log if " ERROR " in line or "Error:" in line]
            if lines:
                print(f"{name}: {len(lines)} error lines, the first: " + " | ".join(lines[:3])[:600])


if __name__ == "__main__":
    main()
