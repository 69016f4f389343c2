"""make bench-import: a shop's whole history through the connector path, against a plain COPY of the same rows.

    python -m bench.import_bench [--lines 1000000] [--customers 100000] [--products 5000] [--batch 1000]
                                 [--server postgresql://postgres@127.0.0.1:5432]

Generates an EC-CUBE 4 会員CSV and 受注CSV in CP932 (bench/import_data.py: about 2.5 lines an order, 3 % guest orders,
2 % cancelled, 0.5 % returned), starts every service as its own process on fresh PostgreSQL databases and a private
RabbitMQ vhost, and imports both files with ``python -m services import`` as an operator would. Prints:

- the floor: the same 受注CSV loaded with one ``COPY`` into a table of text columns of a fresh database, lines/s;
- the members' import, customers/s;
- the orders' import: lines/s until the connector exits (every batch committed by the owners), and end to end,
  until ``search.reconcile`` finds the index in agreement with the owners; each as a ratio of the floor;
- the index's lag after the last write: from the connector's exit until the owners' outboxes and the index's queues
  are empty (asked 10 times a second), and until ``search.reconcile`` agrees; and the time of one reconcile;
- the CPU each process spent on the orders, in ms per 1,000 lines (the service processes, the connector, the
  PostgreSQL backends of the services' databases): a figure that holds on a busy machine, where the rates do not;
- the peak memory of every service process and of the connector.
"""
import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import create_engine, text

from bench.import_data import ORDER_COLUMNS, write_eccube_members, write_eccube_orders
from services.common import importing
from services.common.config import ROOT, SERVICE_NAMES
from bench.stack import fresh_stack
from tests.support import make_tenant, wait_for

GOALS = {"end_to_end_lines_per_second": 20_000, "index_lag_seconds": 5.0, "reconcile_seconds": 10.0}


def copy_floor(databases, orders):
    """Seconds for one COPY of the 受注CSV into a staging table of text columns (the floor of any import)."""
    url = databases.create("copyfloor")
    engine = create_engine(url)
    columns = ", ".join(f'c{i} text' for i in range(len(ORDER_COLUMNS)))
    with engine.begin() as connection:
        connection.execute(text(f"CREATE UNLOGGED TABLE staging ({columns})"))
    raw = engine.raw_connection()
    try:
        started = time.monotonic()
        with open(orders, "rb") as stream, raw.cursor() as cursor:
            cursor.execute("SET client_encoding TO 'SJIS'")
            cursor.copy_expert("COPY staging FROM STDIN WITH (FORMAT csv, HEADER true)", stream)
        raw.commit()
        seconds = time.monotonic() - started
    finally:
        raw.close()
        engine.dispose()
    return seconds


def cpu_seconds(pid):
    """User + system CPU seconds a process has used so far (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backend_pids(database_names):
    """The PostgreSQL backends serving these databases (their process titles name the database)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    title = cmdline.read().decode(errors="replace")
            except OSError:
                continue
            if title.startswith("postgres: ") and any(f" {name} " in title for name in database_names):
                pids.append(int(entry))
    return pids


def broker_pids():
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as comm:
                    if comm.read().strip() == "beam.smp":
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


class CpuMeter:
    """CPU used between ``start`` and ``stop`` by the service processes, the connector (this process's children)
    and the services' PostgreSQL backends."""

    def __init__(self, processes, urls):
        self.processes = processes
        self.database_names = {label: url.rsplit("/", 1)[1] for label, url in urls.items()}

    def _now(self):
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        reading = {label: cpu_seconds(process.pid) for label, process in self.processes.processes.items()}
        reading["connector"] = usage.ru_utime + usage.ru_stime
        for label, name in self.database_names.items():  # "postgres:purchases": the backends of its database
            reading[f"postgres:{label}"] = sum(cpu_seconds(pid) for pid in backend_pids([name]))
        # The broker serves whatever else runs on the machine too: its figure is an upper bound on a busy one.
        reading["rabbitmq"] = sum(cpu_seconds(pid) for pid in broker_pids())
        return reading

    def start(self):
        self.started = self._now()

    def stop(self):
        ended = self._now()
        # Backends that ended meanwhile take their CPU with them; those that are new started from 0.
        return {label: max(0.0, ended[label] - self.started.get(label, 0.0)) for label in ended}


def peak_memory_mb(pid):
    """A process's peak resident memory (VmHWM), in MB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def connector(env, tenant, kind, path, batch):
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "services", "import", kind, str(path), "--company",
                           str(tenant.company_id), "--shop", "103", "--quiet", "--batch", str(batch)],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"the connector failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return seconds, done.stdout.strip().splitlines()[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=importing.DEFAULT_BATCH,
                        help="records per RPC (orders, customers); the connector's default")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="tsuhan-import-bench-")
    print(f"generated files (removed after a run that succeeds): {tmp}")
    members, orders = os.path.join(tmp, "members.csv"), os.path.join(tmp, "orders.csv")
    started = time.monotonic()
    order_count = write_eccube_orders(orders, lines=args.lines, customers=args.customers, products=args.products)
    write_eccube_members(members, customers=args.customers)
    print(f"generated {args.lines:,} order lines ({order_count:,} orders, {os.path.getsize(orders) / 1e6:,.0f} MB "
          f"CP932) and {args.customers:,} members in {time.monotonic() - started:.1f} s")

    with fresh_stack(args.server, "tsuhan-import-bench-services-") as stack:
        floor = copy_floor(stack.databases, orders)
        print(f"floor: COPY of the 受注CSV: {floor:.1f} s, {args.lines / floor:,.0f} lines/s")
        for service in SERVICE_NAMES:
            stack.processes.start(service)
        run(args, stack.env, stack.amqp_uri, stack.urls, floor, orders, members, CpuMeter(stack.processes, stack.urls))
        peaks = {label: peak_memory_mb(process.pid) for label, process in stack.processes.processes.items()}
        print("peak memory (MB): " + ", ".join(f"{label} {mb:,.0f}" for label, mb in peaks.items())
              + f", connector {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:,.0f}"
              + f" (the 受注CSV: {os.path.getsize(orders) / 1e6:,.0f} MB)")
    shutil.rmtree(tmp, ignore_errors=True)


def run(args, env, amqp_uri, urls, floor, orders, members, meter):
    tenant = make_tenant(urls["shops"])
    scope = {"company_id": tenant.company_id, "role": "system"}
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=3600) as rpc:
        for service in SERVICE_NAMES:
            wait_for(lambda: getattr(rpc, service).health()["status"] == "ok", timeout=120,
                     message=f"{service} health")
        seconds, summary = connector(env, tenant, "customers", members, args.batch)
        print(f"members: {seconds:.1f} s, {args.customers / seconds:,.0f} customers/s ({summary})")
        meter.start()
        seconds, summary = connector(env, tenant, "purchases", orders, args.batch)
        owner_end = time.monotonic()
        print(f"orders, owner writes: {seconds:.1f} s, {args.lines / seconds:,.0f} lines/s "
              f"({args.lines / seconds / (args.lines / floor):.1%} of the COPY floor) ({summary})")
        caught_up = None
        while True:
            # caught up: nothing left in the owners' outboxes nor in the index's queues (cheap to ask, 10 times a
            # second); then a reconcile confirms that nothing was lost on the way
            if all(getattr(rpc, name).health()["outbox_pending"] == 0 for name in ("customers", "purchases")) \
                    and rpc.search.health()["index"]["queued_events"] == 0:
                caught_up = caught_up or time.monotonic()
                if rpc.search.reconcile(scope)["in_agreement"]:
                    break
            else:
                caught_up = None
            time.sleep(0.1)
        agreed = time.monotonic() - owner_end
        lag = caught_up - owner_end
        spent = meter.stop()
        end_to_end = seconds + agreed
        checked = time.monotonic()
        rpc.search.reconcile(scope)
        reconcile = time.monotonic() - checked
    print(f"orders, end to end (until reconcile agrees): {end_to_end:.1f} s, {args.lines / end_to_end:,.0f} lines/s "
          f"({args.lines / end_to_end / (args.lines / floor):.1%} of the COPY floor; goal "
          f"{GOALS['end_to_end_lines_per_second']:,})")
    per_thousand = {label: seconds * 1e6 / args.lines for label, seconds in spent.items() if seconds > 0}
    databases = {label.split(":")[1]: per_thousand.pop(label) for label in list(per_thousand)
                 if label.startswith("postgres:")}
    per_thousand["postgres"] = sum(databases.values())
    print("CPU per 1,000 order lines, until reconcile agrees (ms): "
          + ", ".join(f"{label} {ms:,.0f}" for label, ms in sorted(per_thousand.items(), key=lambda kv: -kv[1]))
          + f"; in all {sum(per_thousand.values()):,.0f} (the goal's 20,000 lines/s on 2 cores allow 100); "
          + "postgres by database: " + ", ".join(f"{label} {ms:,.0f}" for label, ms in
                                                 sorted(databases.items(), key=lambda kv: -kv[1]) if ms >= 0.5))
    print(f"index lag after the last write: caught up (outboxes and queues empty) after {lag:.1f} s "
          f"(goal ≤ {GOALS['index_lag_seconds']:.0f} s), reconcile in agreement after {agreed:.1f} s; "
          f"one reconcile: {reconcile:.1f} s (goal ≤ {GOALS['reconcile_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
