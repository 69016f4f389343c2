"""Start every service and the gateway, say what it is doing meanwhile, and print the URL and the demo logins once
the demo is searchable (/healthz ok: every service answers and the search index has applied every event; then the
index is checked against the owners).

A process that exits is started again after a pause that doubles with each exit in a row (1 s up to 60 s; a process
that ran for a minute starts again from 1 s), said on the terminal and in its log. Ctrl-C (or SIGTERM) stops them
all. Logs go to var/log/<name>.log.
"""
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.common.config import SERVICE_NAMES, amqp_uri, env, var_dir  # noqa: E402
from services.common.deadlines import ClusterRpcProxy  # noqa: E402
from services.demo import DEMO_COMPANY_ID, demo_logins, demo_password  # noqa: E402


FIRST_PAUSE = 1.0
LONGEST_PAUSE = 60.0
STEADY_SECONDS = 60.0  # a process that ran this long counts as healthy: its next restart waits FIRST_PAUSE again


def restart_pause(exits_in_a_row):
    """Seconds to wait before starting a process again after its ``exits_in_a_row``-th exit in a row (1, 2, ...)."""
    return min(FIRST_PAUSE * 2 ** (exits_in_a_row - 1), LONGEST_PAUSE)


class Supervised:
    """One process of the system, started again whenever it exits."""

    def __init__(self, name, args, log_dir):
        self.name, self.args, self.log_path = name, args, log_dir / f"{name}.log"
        self.exits_in_a_row = 0
        self.restart_at = None
        self.start()

    def start(self):
        self.started_at = time.time()
        self.restart_at = None
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        log.close()

    @property
    def pid(self):
        return self.process.pid

    def poll(self):
        return self.process.poll()

    def wait(self, timeout=None):
        return self.process.wait(timeout=timeout)

    def supervise(self, now=None):
        """Notice an exit and schedule the restart; start the process again when its pause is over."""
        now = time.time() if now is None else now
        if self.restart_at is None and self.process.poll() is not None:
            if now - self.started_at >= STEADY_SECONDS:
                self.exits_in_a_row = 0
            self.exits_in_a_row += 1
            pause = restart_pause(self.exits_in_a_row)
            self.restart_at = now + pause
            message = (f"{self.name} exited (code {self.process.returncode}); starting it again in {pause:g} s "
                       f"(exit {self.exits_in_a_row} in a row)")
            print(f"{message}; see {self.log_path}", file=sys.stderr, flush=True)
            with open(self.log_path, "a") as log:
                log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} run_all: {message}\n")
        elif self.restart_at is not None and now >= self.restart_at:
            self.start()


def start(name, args, log_dir):
    return Supervised(name, args, log_dir)


def wait_healthy(url, processes, seconds=60):
    deadline = time.time() + seconds
    last = None
    while time.time() < deadline:
        for process in processes.values():
            process.supervise()
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
        for process in processes.values():
            process.supervise()
        ok, detail = probe(service, amqp_uri())
        if ok:
            return None
        time.sleep(0.5)
    return detail


def say(message):
    print(message, flush=True)


def health(url):
    """The /healthz body, or None while the gateway does not answer."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            return json.loads(exc.read())
        except ValueError:
            return None
    except (OSError, ValueError):
        return None


def events_to_go(body):
    index = body.get("index") or {}
    return (index.get("outbox_pending") or 0) + (index.get("queued_events") or 0)


def progress_line(to_go, rate):
    """'indexing: 12,345 events to apply (about 80 s left)'; the estimate once a rate is known."""
    left = f" (about {to_go / rate:.0f} s left)" if rate > 0 else ""
    return f"indexing: {to_go:,} events to apply{left}"


def wait_indexed(url, processes, every=10.0, seconds=None):
    """Wait until /healthz says ok (no event left on its way to the search index), printing the progress every
    ``every`` seconds; returns what went wrong, or None. A system that stays degraded for a minute did not start."""
    degraded_since, said_at, first = None, 0.0, None
    deadline = None if seconds is None else time.time() + seconds
    while deadline is None or time.time() < deadline:
        for process in processes.values():
            process.supervise()
        body = health(url)
        status = (body or {}).get("status")
        if status == "ok":
            return None
        now = time.time()
        if status == "indexing":
            degraded_since = None
            if now - said_at >= every:
                to_go = events_to_go(body)
                first = first or (now, to_go)
                # the average rate since indexing was first seen: steadier than the last few seconds'
                rate = (first[1] - to_go) / (now - first[0]) if now > first[0] else 0
                say(progress_line(to_go, rate))
                said_at = now
        else:
            degraded_since = degraded_since or now
            if now - degraded_since > 60:
                return body or "the gateway does not answer"
        time.sleep(0.5)
    return "still indexing"


def sync_demo_index():
    """Make the demo company's index agree with the owners before saying the system runs (a rebuild while the demo's
    events are still being applied keeps the newer of both)."""
    scope = {"company_id": DEMO_COMPANY_ID, "role": "system"}
    say(f"checking the search index of company {DEMO_COMPANY_ID} against the owners (reconcile)")
    try:
        with ClusterRpcProxy({"AMQP_URI": amqp_uri()}, timeout=120) as rpc:
            report = rpc.search.reconcile(scope)
            if report["in_agreement"]:
                counts = {name: entity["index"] for name, entity in report["entities"].items()}
                say("search index in agreement: " + ", ".join(f"{n:,} {name}" for name, n in counts.items()))
            else:
                say("search index not in agreement: rebuilding it from the owners")
                counts = rpc.search.rebuild(scope)
                say(f"search index rebuilt for the demo company: {counts}")
    except Exception as exc:  # the system runs without it; the index catches up from events
        print(f"search index check skipped: {type(exc).__name__}: {exc}", file=sys.stderr)


def main():
    # py-amqp warns on stderr about frames that arrive on a channel being closed (a health probe's): noise here
    logging.getLogger("amqp").setLevel(logging.ERROR)
    host = env("GATEWAY_HOST", "127.0.0.1")
    port = env("GATEWAY_PORT", "8000")
    log_dir = var_dir() / "log"
    log_dir.mkdir(exist_ok=True)
    python = sys.executable
    processes = {}

    def stop(*_args):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the stopping
        for process in processes.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    if env("SMTP_SINK", "1") == "1":
        # Mail sent by the quick start stays on this machine, as files under var/mail/.
        say(f"starting the mail sink on {env('SMTP_HOST', '127.0.0.1')}:{env('SMTP_PORT', '2525')} "
            f"(mail kept in {var_dir() / 'mail'}/)")
        processes["mail-sink"] = start("mail-sink", [
            python, "scripts/mail_sink.py", "--host", env("SMTP_HOST", "127.0.0.1"), "--port", env("SMTP_PORT", "2525"),
            "--dir", str(var_dir() / "mail")], log_dir)
    # Search first: the owners publish what waits in their outboxes (the demo's events) as soon as they start, and
    # an event published before search's queues exist reaches no one.
    for name in sorted(SERVICE_NAMES, key=lambda n: n != "search"):
        replicas = int(env("SEARCH_REPLICAS", "1")) if name == "search" else 1
        began = time.time()
        say(f"starting {name}" + (f" ({replicas} replicas)" if replicas > 1 else "") + f" (log: {log_dir / name}.log)")
        for replica in range(replicas):
            label = name if replicas == 1 else f"{name}-{replica + 1}"
            processes[label] = start(label, [python, "-m", "services", "run", name], log_dir)
        problem = wait_answering(name, processes)
        if problem:
            print("通販CRM did not start:", problem, file=sys.stderr)
            stop()
        say(f"  {name} answers ({time.time() - began:.1f} s)")
    # the address is printed once the demo is searchable, not before
    say(f"starting the gateway on port {port} (log: {log_dir / 'gateway'}.log)")
    processes["gateway"] = start("gateway", [
        python, "-m", "gunicorn", "gateway.wsgi:app", "--bind", f"{host}:{port}",
        "--workers", env("GATEWAY_WORKERS", "2"), "--threads", "8", "--access-logfile", "-"], log_dir)

    problem = wait_healthy(f"http://{host}:{port}/healthz", processes)
    if problem:
        print("通販CRM did not become healthy:", problem if isinstance(problem, str) else json.loads(problem),
              file=sys.stderr)
        stop()
    say("  the gateway answers; the search index applies the events of the demo")
    problem = wait_indexed(f"http://{host}:{port}/healthz", processes)
    if problem:
        print("通販CRM did not become healthy:", problem, file=sys.stderr)
        stop()
    say("search index caught up")
    sync_demo_index()
    print(f"\n通販CRM is running: http://{host}:{port}/")
    print(f"Demo logins (password: {demo_password()}):")
    for login_id, what in demo_logins():
        print(f"  {login_id:<10} {what}")
    if "mail-sink" in processes:
        print(f"Mail sent (e.g. registration notifications) is kept in {var_dir() / 'mail'}/")
    print(f"Logs: {log_dir}/   Stop: Ctrl-C\n", flush=True)
    while True:
        for process in processes.values():
            process.supervise()
        time.sleep(0.5)


if __name__ == "__main__":
    main()
