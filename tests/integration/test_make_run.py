"""`make run` as an operator meets it: what it says, step by step, and the URL only once the demo is searchable.

The real make target (less the install step, which the suite's own environment has done) on a fresh TSUHAN_VAR_DIR
(SQLite), on a RabbitMQ vhost of its own, with the demo made from the first purchases of the shipped CDNOW sample
(the demo's whole path, in a fraction of its time). Stopped as an operator stops it: Ctrl-C.
"""
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

from services.common.config import SERVICE_NAMES
from services.demo import DEMO_COMPANY_ID, demo_password
from tests.support import HUNG_SECONDS, ROOT, ServiceLogs, free_port, private_vhost

DEMO_ROWS = 40
# what make run must not take from the environment of the suite: it runs on its own files and ports
NOT_INHERITED = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "SEARCH_STORE_DIR", "IMPORT_DIR", "SECRET_KEY",
                 "TRACKING_SECRET", "SEARCH_REPLICAS", "GATEWAY_HOST", "DEMO_PASSWORD")


def _descendants(root):
    """{pid: (start time, command line)} of every process under ``root`` (its children, theirs, ...), from /proc."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile
            continue
        children.setdefault(int(fields[1]), []).append((int(stat.parent.name), fields[19], command))
    found, waiting = {}, [root]
    while waiting:
        for pid, started, command in children.get(waiting.pop(), []):
            found[pid] = (started, command)
            waiting.append(pid)
    return found


def _alive(pid, started):
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[19] == started  # the same process, not a new one given the number


class Output:
    """The lines a process prints, read as they come (a thread reads them); ``until`` waits for one. A process that
    says nothing more for HUNG_SECONDS has hung."""

    def __init__(self, stream):
        self.lines, self._queue = [], queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def until(self, pattern, stderr):
        while True:
            try:
                line = self._queue.get(timeout=HUNG_SECONDS)
            except queue.Empty:
                raise AssertionError("make run hung; it said:\n" + "\n".join(self.lines)) from None
            if line is None:
                raise AssertionError("make run ended before saying %r; it said:\n%s\nstderr:\n%s" % (
                    pattern, "\n".join(self.lines), stderr.read_text(errors="replace")))
            self.lines.append(line)
            match = re.search(pattern, line)
            if match:
                return match


def _in_order(lines, patterns):
    """Each pattern's line is said after the one before; fails naming the first one missing."""
    start = 0
    for pattern in patterns:
        index = next((i for i in range(start, len(lines)) if re.search(pattern, lines[i])), None)
        assert index is not None, f"{pattern!r} is not said (in this order):\n" + "\n".join(lines)
        start = index + 1


def test_make_run_says_each_step_and_gives_the_url_once_the_demo_is_searchable(tmp_path):
    sample = (ROOT / "services/demo_data/cdnow_sample.txt").read_text().splitlines()[:DEMO_ROWS]
    (tmp_path / "purchases.txt").write_text("\n".join(sample) + "\n")
    customers = len({line.split()[1] for line in sample})
    port, smtp_port = free_port(), free_port()
    env = {name: value for name, value in os.environ.items()
           if name not in NOT_INHERITED and not name.endswith("_DATABASE_URL")}
    env.update(TSUHAN_VAR_DIR=str(tmp_path / "var"), DEMO_PURCHASES=str(tmp_path / "purchases.txt"),
               GATEWAY_PORT=str(port), GATEWAY_WORKERS="1", SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port),
               SMTP_SINK="1", OUTBOX_POLL_SECONDS="0.5", LOG_LEVEL="INFO")
    stderr = tmp_path / "stderr.txt"
    with private_vhost("make-run") as amqp_uri, open(stderr, "w") as errors:
        env["AMQP_URI"] = amqp_uri
        # the install step is the suite's own (its Python, with the packages in place): make leaves it out
        make = subprocess.Popen(["make", "--no-print-directory", "-o", ".venv/.installed", "run", "VENV=.venv",
                                 f"PY={sys.executable}"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=errors,
                                text=True, start_new_session=True)  # a process group of its own, as a terminal's
        processes = {}
        try:
            output = Output(make.stdout)
            url = output.until(r"^通販CRM is running: (http://\S+)$", stderr).group(1)
            with urllib.request.urlopen(url + "healthz", timeout=HUNG_SECONDS) as response:
                health = json.loads(response.read())
            output.until(r"Stop: Ctrl-C", stderr)
            processes = _descendants(make.pid)
        finally:
            os.killpg(make.pid, signal.SIGINT)  # Ctrl-C
            make.wait(HUNG_SECONDS)

    assert url == f"http://127.0.0.1:{port}/"
    assert health["status"] == "ok", health  # the demo is searchable when the address is given, not before
    lines = output.lines
    services = sorted(SERVICE_NAMES, key=lambda name: name != "search")  # search first: it hears every event
    _in_order(lines, [
        r"^==> checking the RabbitMQ broker$",
        r"^==> migrating every database$",
        *(rf"^migrated {name}$" for name in SERVICE_NAMES),
        r"^==> loading the demo company",
        rf"^demo company loaded: {DEMO_COMPANY_ID} LTV-Innovation, shops 103 and 5019$",
        rf"^loading the demo customers and their {DEMO_ROWS} purchases",
        rf"^  customers: {customers} of {customers}$",
        rf"^  purchases: {DEMO_ROWS} of {DEMO_ROWS}$",
        rf"^demo loaded: {customers} customers, {DEMO_ROWS} purchases, 10 mails with \d+ reports",
        r"^==> starting the services and the gateway$",
        rf"^starting the mail sink on 127\.0\.0\.1:{smtp_port} ",
        *(pattern for name in services for pattern in (rf"^starting {name} \(log: ", rf"^  {name} answers \(")),
        rf"^starting the gateway on port {port} ",
        r"^  the gateway answers; the search index applies the events of the demo$",
        r"^search index caught up$",
        rf"^checking the search index of company {DEMO_COMPANY_ID} against the owners \(reconcile\)$",
        rf"^search index in agreement: {customers} customer, {DEMO_ROWS} purchase, 10 mail, ",
        r"^通販CRM is running: ",
        rf"^Demo logins \(password: {re.escape(demo_password())}\):$",
        r"^  demo ", rf"^  {DEMO_COMPANY_ID}103 ", rf"^  {DEMO_COMPANY_ID}5019 ",
    ])
    indexing = [i for i, line in enumerate(lines) if line.startswith("indexing: ")]
    gateway_answers = next(i for i, line in enumerate(lines) if line.startswith("  the gateway answers"))
    assert all(gateway_answers < i < lines.index("search index caught up") for i in indexing), lines
    assert not any(re.search(r"exited \(code|did not start|did not become healthy", line)
                   for line in lines + stderr.read_text().splitlines()), stderr.read_text()

    commands = [command for _started, command in processes.values()]
    for part in (*(f"-m services run {name}" for name in SERVICE_NAMES), "gunicorn gateway.wsgi:app",
                 "scripts/mail_sink.py", "scripts/run_all.py"):
        assert any(part in command for command in commands), (part, commands)
    still_running = [command for pid, (started, command) in processes.items() if _alive(pid, started)]
    assert not still_running, f"left running after Ctrl-C: {still_running}"
    ServiceLogs(tmp_path / "var" / "log").check()  # nor did anything go wrong on the way, as their logs tell
