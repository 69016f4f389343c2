"""make bench-import: a shop's whole history through the connector path, against a plain COPY of the same rows.

    python -m bench.import_bench [--lines 1000000] [--customers 100000] [--products 5000] [--batch 500]
                                 [--server postgresql://postgres@127.0.0.1:5432]

Generates an EC-CUBE 4 会員CSV and 受注CSV in CP932 (bench/import_data.py: about 2.5 lines an order, 3 % guest orders,
2 % cancelled, 0.5 % returned), starts every service as its own process on fresh PostgreSQL databases and a private
RabbitMQ vhost, and imports both files with ``python -m services import`` as an operator would. Prints:

- the floor: the same 受注CSV loaded with one ``COPY`` into a table of text columns of a fresh database, lines/s;
- the members' import, customers/s;
- the orders' import: lines/s until the connector exits (every batch committed by the owners), and end to end,
  until ``search.reconcile`` finds the index in agreement with the owners; each as a ratio of the floor;
- the index's lag after the last write (from the connector's exit to agreement) and the time of one reconcile;
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
    parser.add_argument("--batch", type=int, default=500, help="records per RPC (orders, customers)")
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
        run(args, stack.env, stack.amqp_uri, stack.urls, floor, orders, members)
        peaks = {label: peak_memory_mb(process.pid) for label, process in stack.processes.processes.items()}
        print("peak memory (MB): " + ", ".join(f"{label} {mb:,.0f}" for label, mb in peaks.items())
              + f", connector {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:,.0f}"
              + f" (the 受注CSV: {os.path.getsize(orders) / 1e6:,.0f} MB)")
    shutil.rmtree(tmp, ignore_errors=True)


def run(args, env, amqp_uri, urls, floor, orders, members):
    tenant = make_tenant(urls["shops"])
    scope = {"company_id": tenant.company_id, "role": "system"}
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=3600) as rpc:
        for service in SERVICE_NAMES:
            wait_for(lambda: getattr(rpc, service).health()["status"] == "ok", timeout=120,
                     message=f"{service} health")
        seconds, summary = connector(env, tenant, "customers", members, args.batch)
        print(f"members: {seconds:.1f} s, {args.customers / seconds:,.0f} customers/s ({summary})")
        seconds, summary = connector(env, tenant, "purchases", orders, args.batch)
        owner_end = time.monotonic()
        print(f"orders, owner writes: {seconds:.1f} s, {args.lines / seconds:,.0f} lines/s "
              f"({args.lines / seconds / (args.lines / floor):.1%} of the COPY floor) ({summary})")
        while True:
            answer = rpc.search.reconcile(scope)
            if answer["in_agreement"]:
                break
            time.sleep(0.5)
        lag = time.monotonic() - owner_end
        end_to_end = seconds + lag
        checked = time.monotonic()
        rpc.search.reconcile(scope)
        reconcile = time.monotonic() - checked
    print(f"orders, end to end (until reconcile agrees): {end_to_end:.1f} s, {args.lines / end_to_end:,.0f} lines/s "
          f"({args.lines / end_to_end / (args.lines / floor):.1%} of the COPY floor; goal "
          f"{GOALS['end_to_end_lines_per_second']:,})")
    print(f"index lag after the last write: {lag:.1f} s (goal ≤ {GOALS['index_lag_seconds']:.0f} s); "
          f"reconcile: {reconcile:.1f} s (goal ≤ {GOALS['reconcile_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
