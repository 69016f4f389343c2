"""Start every service and the gateway, wait until /healthz is green, print the URL and demo logins.

Ctrl-C (or SIGTERM) stops them all. Logs go to var/log/<name>.log.
"""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.common.config import SERVICE_NAMES, env, var_dir  # noqa: E402
from services.demo import demo_logins, demo_password  # noqa: E402


def start(name, args, log_dir):
    log = open(log_dir / f"{name}.log", "ab")
    return subprocess.Popen(args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_healthy(url, processes, seconds=60):
    deadline = time.time() + seconds
    last = None
    while time.time() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                return f"{name} exited (see var/log/{name}.log)"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return None if response.status == 200 else response.read()
        except urllib.error.HTTPError as exc:
            last = exc.read().decode("utf-8", "replace")
        except OSError as exc:
            last = str(exc)
        time.sleep(0.5)
    return last


def wait_answering(service, processes, seconds=60):
    """Wait until the service answers its health RPC (its queues exist then); returns what went wrong, or None."""
    from services.common.config import amqp_uri
    from services.common.health import probe

    deadline, detail = time.time() + seconds, ""
    while time.time() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                return f"{name} exited (see var/log/{name}.log)"
        ok, detail = probe(service, amqp_uri())
        if ok:
            return None
        time.sleep(0.5)
    return detail


def sync_demo_index():
    """Make the demo company's index agree with the owners before saying the system runs (a rebuild while the demo's
    events are still being applied keeps the newer of both)."""
    from nameko.standalone.rpc import ClusterRpcProxy

    from services.common.config import amqp_uri
    from services.demo import DEMO_COMPANY_ID

    scope = {"company_id": DEMO_COMPANY_ID, "role": "system"}
    try:
        with ClusterRpcProxy({"AMQP_URI": amqp_uri()}, timeout=120) as rpc:
            if not rpc.search.reconcile(scope)["in_agreement"]:
                counts = rpc.search.rebuild(scope)
                print(f"search index rebuilt for the demo company: {counts}")
    except Exception as exc:  # the system runs without it; the index catches up from events
        print(f"search index check skipped: {type(exc).__name__}: {exc}", file=sys.stderr)


def main():
    host = env("GATEWAY_HOST", "127.0.0.1")
    port = env("GATEWAY_PORT", "8000")
    log_dir = var_dir() / "log"
    log_dir.mkdir(exist_ok=True)
    python = sys.executable
    processes = {}

    def stop(*_args):
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    if env("SMTP_SINK", "1") == "1":
        # Mail sent by the quick start stays on this machine, as files under var/mail/.
        processes["mail-sink"] = start("mail-sink", [
            python, "scripts/mail_sink.py", "--host", env("SMTP_HOST", "127.0.0.1"), "--port", env("SMTP_PORT", "2525"),
            "--dir", str(var_dir() / "mail")], log_dir)
    # Search first: the owners publish what waits in their outboxes (the demo's events) as soon as they start, and
    # an event published before search's queues exist reaches no one.
    for name in sorted(SERVICE_NAMES, key=lambda n: n != "search"):
        replicas = int(env("SEARCH_REPLICAS", "1")) if name == "search" else 1
        for replica in range(replicas):
            label = name if replicas == 1 else f"{name}-{replica + 1}"
            processes[label] = start(label, [python, "-m", "services", "run", name], log_dir)
        if name == "search":
            problem = wait_answering("search", processes)
            if problem:
                print("通販CRM did not start:", problem, file=sys.stderr)
                stop()
    processes["gateway"] = start("gateway", [
        python, "-m", "gunicorn", "gateway.wsgi:app", "--bind", f"{host}:{port}",
        "--workers", env("GATEWAY_WORKERS", "2"), "--threads", "8", "--access-logfile", "-"], log_dir)

    problem = wait_healthy(f"http://{host}:{port}/healthz", processes)
    if problem:
        print("通販CRM did not become healthy:", problem if isinstance(problem, str) else json.loads(problem),
              file=sys.stderr)
        stop()
    sync_demo_index()
    print(f"\n通販CRM is running: http://{host}:{port}/")
    print(f"Demo logins (password: {demo_password()}):")
    for login_id, what in demo_logins():
        print(f"  {login_id:<10} {what}")
    if "mail-sink" in processes:
        print(f"Mail sent (e.g. registration notifications) is kept in {var_dir() / 'mail'}/")
    print(f"Logs: {log_dir}/   Stop: Ctrl-C\n", flush=True)
    while True:
        for name, process in processes.items():
            if process.poll() is not None:
                print(f"{name} stopped (exit {process.returncode}); see var/log/{name}.log", file=sys.stderr)
                stop()
        time.sleep(1)


if __name__ == "__main__":
    main()
