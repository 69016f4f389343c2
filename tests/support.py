"""Test support: fresh databases per run, a private RabbitMQ vhost, the real services as processes, test tenants.

Integration tests run the services exactly as production does (``python -m services run <name>``) on the
real broker and a real database: SQLite files by default, PostgreSQL when TSUHAN_TEST_DATABASE holds a
server URL (``postgresql://postgres@127.0.0.1:5432``), as CI sets it.
"""
import contextlib
import datetime as dt
import functools
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from unittest import mock

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Boolean, Date, DateTime, Integer, MetaData, Table, create_engine, insert, text
from sqlalchemy.orm import sessionmaker

from services.common import stack_dump
from services.common.config import SERVICE_NAMES
from services.common.contracts import JST
from services.common.db import make_engine
from services.common.migrations import upgrade
from services.common.scope import OPERATOR, Scope
from services.purchases import catalog
from services.search.store import IndexStore

ROOT = Path(__file__).resolve().parents[1]
RUN_ID = uuid.uuid4().hex[:8]
BASE_AMQP = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")

# The suite's time-outs mean "hung", never "slow": the machine running it may be shared and busy, an index may still
# be digesting what an earlier test flooded it with, a batch of thousands may take a minute. Nothing here is a
# measure of speed (bench/ measures speed).
HUNG_SECONDS = int(os.environ.get("TSUHAN_HUNG_SECONDS", "300"))  # waiting for something to happen: a service up, the index caught up, a mail delivered
RPC_HUNG_SECONDS = 300  # one RPC call answered, however big its batch


def test_database_server():
    value = os.environ.get("TSUHAN_TEST_DATABASE", "sqlite")
    return None if value == "sqlite" else value.rstrip("/")


class Databases:
    """One fresh database per service for this test run."""

    def __init__(self, tmp_dir):
        self.server = test_database_server()
        self.tmp_dir = Path(tmp_dir)
        self.urls = {}
        self._counter = itertools.count()

    def create(self, label):
        if self.server is None:
            url = f"sqlite:///{self.tmp_dir / (label + '.db')}"
        else:
            name = f"tsuhan_t{RUN_ID}_{label}_{next(self._counter)}"
            admin = create_engine(f"{self.server}/postgres", isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            url = f"{self.server}/{name}"
        self.urls[label] = url
        return url

    def create_services(self):
        for service in SERVICE_NAMES:
            upgrade(service, self.create(service))
        return {service: self.urls[service] for service in SERVICE_NAMES}

    def drop_all(self):
        if self.server is None:
            return
        admin = create_engine(f"{self.server}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for url in self.urls.values():
                name = url.rsplit("/", 1)[1]
                connection.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"), {"name": name})
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@contextlib.contextmanager
def database_at(tmp_dir, service, revision, label=None):
    """A fresh database of ``service`` at migration ``revision`` (SQLite, or TSUHAN_TEST_DATABASE's PostgreSQL):
    (url, engine), disposed and dropped afterwards."""
    databases = Databases(tmp_dir)
    url = databases.create(label or service)
    upgrade(service, url, revision)
    engine = create_engine(url)
    try:
        yield url, engine
    finally:
        engine.dispose()
        databases.drop_all()


def schema_differences(engine, metadata):
    """What the database behind ``engine`` holds otherwise than ``metadata`` declares (alembic's comparison): empty
    when the migrations make the models' schema."""
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), metadata)


@contextlib.contextmanager
def private_vhost(name=""):
    """A RabbitMQ vhost of this run, so that tests never talk to services someone else is running (``name``: one
    apart from the run's own, for a test whose services must not meet the suite's)."""
    vhost = f"tsuhan-test-{RUN_ID}" + (f"-{name}" if name else "")
    ctl = shutil.which("rabbitmqctl")
    created = False
    if ctl:
        try:
            subprocess.run([ctl, "add_vhost", vhost], check=True, capture_output=True, timeout=HUNG_SECONDS)
            subprocess.run([ctl, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"], check=True,
                           capture_output=True, timeout=HUNG_SECONDS)
            created = True
        except (subprocess.SubprocessError, OSError):
            created = False
    if created:
        yield re.sub(r"/[^/]*$", "/" + vhost, BASE_AMQP.rstrip("/") + "/x")
        subprocess.run([ctl, "delete_vhost", vhost], capture_output=True, timeout=HUNG_SECONDS)
    else:
        yield BASE_AMQP


class ServiceProcesses:
    """The five services as real processes."""

    def __init__(self, env, log_dir):
        self.env = env
        self.log_dir = Path(log_dir)
        self.processes = {}

    def start(self, name, label=None, extra_env=None):
        label = label or name
        log = open(self.log_dir / f"{label}.log", "ab")
        env = dict(self.env, **(extra_env or {}))
        self.processes[label] = subprocess.Popen([sys.executable, "-m", "services", "run", name], cwd=ROOT, env=env,
                                                 stdout=log, stderr=subprocess.STDOUT)
        return self.processes[label]

    def stop(self, label, timeout=20, terminate=True):
        process = self.processes.pop(label)
        if terminate:
            process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop_all(self):
        for process in self.processes.values():  # all at once: each may take its time to finish its workers
            process.terminate()
        for label in list(self.processes):  # once told: a second SIGTERM while Nameko stops leaves it hung
            self.stop(label, terminate=False)

    def log(self, label):
        return (self.log_dir / f"{label}.log").read_text(errors="replace")

    def green_stacks(self, label):
        """What a service that stopped answering is doing: it writes its threads' stacks to its log on SIGUSR1
        (services/common/stack_dump.py); the part written, shortened to the project's and the libraries' paths.
        Waits for the green threads' part until the "hung" limit: a process whose loop is held writes only its OS
        threads' stacks."""
        before = len(self.log(label))
        self.processes[label].send_signal(stack_dump.SIGNAL)
        deadline = time.monotonic() + HUNG_SECONDS
        while stack_dump.END not in self.log(label)[before:] and time.monotonic() < deadline:
            time.sleep(0.2)
        written = self.log(label)[before:]
        return re.sub(r"\S*/site-packages/", "", written.replace(f"{ROOT}/", ""))


def japan_today():
    """Today in Japan, where the product's days (ages, 本日) are counted; read it at the moment of the check."""
    return dt.datetime.now(JST).date()


def wait_for(predicate, timeout=HUNG_SECONDS, interval=0.2, message="condition"):
    deadline = time.time() + timeout
    last_exc = None
    while time.time() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # the thing waited for is not up yet
            last_exc = exc
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}: {last_exc!r}")


@contextlib.contextmanager
def published_events(amqp_uri, service, routing_key="#"):
    """Listen to a service's events from now on. Yields ``take(wanted, count, message)``, which waits until
    ``count`` events for which ``wanted(event)`` holds have arrived and returns them in arrival order."""
    from kombu import Connection, Queue

    from services.common.outbox import event_exchange

    connection = Connection(amqp_uri)
    channel = connection.channel()
    queue = Queue(f"{service}-events-test-{uuid.uuid4().hex[:6]}", exchange=event_exchange(service),
                  routing_key=routing_key, auto_delete=True)
    queue(channel).declare()

    def take(wanted, count, message="the events"):
        found = []

        def arrived():
            received = queue(channel).get(no_ack=True)
            while received:
                event = json.loads(received.body)
                if wanted(event):
                    found.append(event)
                received = queue(channel).get(no_ack=True)
            return len(found) >= count

        wait_for(arrived, interval=0.05, message=message)
        return found

    try:
        yield take
    finally:
        queue(channel).delete()
        connection.release()


@contextlib.contextmanager
def loaded_store(session_factory, company_id=None):
    """A search store of the index behind ``session_factory`` (of one company only, when given), loaded afresh in
    memory, not followed from the journal: what a replica starting from nothing would answer."""
    store = IndexStore.open(None)
    try:
        with session_factory() as session:
            if company_id is None:
                store.load(session)
            else:
                store.load_company(session, company_id)
        yield store
    finally:
        store.close()


def free_port():
    """A TCP port on 127.0.0.1 nothing listens on now (for a server a test or a benchmark starts)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def session_for(url):
    engine = make_engine(url)
    return engine, sessionmaker(engine, expire_on_commit=False)


def add_products(purchases_url, tenant, shop_id, products):
    """A shop's catalogue of thousands ({code, name, price} each) in its default category, written as an import's
    order lines create the products they name (the purchases service's own logic, one statement and one event for
    them all): a second, where as many RPCs would take minutes of a shared machine."""
    engine, factory = session_for(purchases_url)
    with factory() as session:
        catalog.products_for_lines(session, tenant.company_id,
                                   {(shop_id, product["code"]): (product["name"], product["price"])
                                    for product in products})
        session.commit()
    engine.dispose()



def some_never_bought(rpc, tenant):
    """Customers NB1-NB4 named 並び in shop 103, NB4 without a purchase: NB1 655,145 円 in 3 orders (the latest
    2026-03-01), NB2 100,000 円 in 1 (2026-05-01), NB3 30,000 円 in 2 (2026-01-20). Returns once the search index and
    its columns hold every buyer's 累計購入金額 (the columns sort by their own figures)."""
    scope, shop = tenant.operator_scope(), tenant.shops[0]["id"]
    for number in ("NB1", "NB2", "NB3", "NB4"):
        rpc.customers.create_customer(scope, {"shop_id": shop, "member_number": number, "family_name": "並び"})
    orders = [("NB1", "2026-01-05", 200_000), ("NB1", "2026-02-10", 255_145), ("NB1", "2026-03-01", 200_000),
              ("NB2", "2026-05-01", 100_000), ("NB3", "2026-01-15", 10_000), ("NB3", "2026-01-20", 20_000)]
    answer = rpc.purchases.record_orders(scope, [
        {"shop_id": shop, "order_code": f"NB-{i}", "member_number": number, "purchased_at": f"{day}T10:00:00",
         "lines": [{"product_code": "NB-P", "quantity": 1, "unit_price": price}]}
        for i, (number, day, price) in enumerate(orders)])
    assert answer["created"] == 6 and not answer["errors"], answer
    totals = {"NB1": 655_145, "NB2": 100_000, "NB3": 30_000}

    def caught_up():  # each buyer's figure asked by a condition only that figure matches
        return rpc.search.health()["store"]["state"] == "ready" and all(
            rpc.search.count(scope, {"attributes": {"member_numbers": number},
                                     "latest": {"purchase_total": {"min": total, "max": total}}})["total"] == 1
            for number, total in totals.items())

    wait_for(caught_up, interval=0.3, message="the purchases in the search index and its columns")

_company_ids = itertools.count(int(time.time()) % 100000 * 10 + 1000)


class Tenant:
    """A company of its own for one test: an operator and two shops with known passwords."""

    def __init__(self, company_id, operator_login, password, shops):
        self.company_id = company_id
        self.operator_login = operator_login
        self.password = password
        self.shops = shops  # [{"id", "shop_number", "login_id"}]

    def operator_scope(self):
        return {"company_id": self.company_id, "role": "operator", "account_id": None}

    def shop_scope(self, index=0, permissions=None):
        return {"company_id": self.company_id, "role": "shop", "shop_id": self.shops[index]["id"],
                "permissions": permissions or {}}


@functools.cache
def _password_hash(password):
    from services.shops import passwords

    return passwords.hash_password(password)


def make_tenant(shops_url, password="Test-Passw0rd-1"):
    """Every account of the tenant (operator, both shops) has ``password``. Its argon2 hash, slow on purpose, is made
    once per run and given to each account as it is created (a shop's generated password is never used here)."""
    from services.shops import accounts, companies, passwords, shops

    known = _password_hash(password)
    engine, factory = session_for(shops_url)
    company_id = next(_company_ids)
    with mock.patch.object(passwords, "hash_password", lambda _clear: known), factory() as session:
        companies.create_company(session, company_id, {"name": f"テスト企業{company_id}", "phone": "03-1234-5678"})
        login = f"op{company_id}"
        accounts.create_operator(session, company_id, login, "テスト担当", password)
        created = []
        for number, name in ((103, "テスト本店"), (5019, "テスト支店")):
            shop, _ = shops.create_shop(session, Scope(company_id, OPERATOR), {
                "shop_number": number, "name": name, "phone": "03-0000-0000"})
            created.append({"id": shop.id, "shop_number": number, "login_id": shop.account.login_id})
        session.commit()
    engine.dispose()
    return Tenant(company_id, login, password, created)


class MailSink:
    """The project's SMTP sink (scripts/mail_sink.py) on a free port; tests read the mails it kept."""

    def __init__(self, directory):
        import email
        import socket

        self._email = email
        self.directory = Path(directory)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.process = subprocess.Popen([sys.executable, "scripts/mail_sink.py", "--port", str(self.port),
                                         "--dir", str(self.directory)], cwd=ROOT, stdout=subprocess.DEVNULL)
        wait_for(lambda: socket.create_connection(("127.0.0.1", self.port), timeout=1).close() or True,
                 message="the SMTP sink")

    def messages(self):
        from email import policy

        return [self._email.message_from_bytes(path.read_bytes(), policy=policy.default)
                for path in sorted(self.directory.glob("*.eml"))]

    def messages_to(self, address):
        return [m for m in self.messages() if address in str(m["To"])]

    def stop(self):
        self.process.terminate()
        self.process.wait(HUNG_SECONDS)


class ServiceLogs:
    """The logs the stack writes (each service's, the gateway's) and the errors tests provoke in them on purpose.

    After the suite every ERROR or CRITICAL record, and every traceback, must be one a test declared with
    ``expect(pattern)``; so must be nothing else. Nameko's "(expected) error handling worker" warnings are the
    services' declared contract errors (ValidationFailed, NotFound, ...): their tracebacks are not failures."""

    RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<level>[A-Z]+) ")
    SHOWN_LINES = 12

    def __init__(self, directory):
        self.directory = Path(directory)
        self.expected = []  # [pattern, {log name: size when declared}, who declared it, records it matched]

    def expect(self, pattern, declared_by):
        sizes = {path.name: path.stat().st_size for path in self.directory.glob("*.log")}
        self.expected.append([re.compile(pattern), sizes, declared_by, 0])

    def records(self):
        """(log name, byte offset, record text) of every record that starts with a time and level, with the lines
        that follow it (a traceback); lines before the first record stand as one record of their own."""
        for path in sorted(self.directory.glob("*.log")):
            record, start, offset = [], 0, 0
            for line in path.read_bytes().splitlines(keepends=True):
                text = line.decode("utf-8", errors="replace").rstrip("\n")
                if self.RECORD.match(text) and record:
                    yield path.name, start, "\n".join(record)
                    record, start = [], offset
                record.append(text)
                offset += len(line)
            if record:
                yield path.name, start, "\n".join(record)

    def is_failure(self, record):
        first = record.split("\n", 1)[0]
        level = self.RECORD.match(first)
        if level and level.group("level") in ("ERROR", "CRITICAL"):
            return True
        if "Traceback (most recent call last)" not in record:
            return False
        return not (level and level.group("level") == "WARNING" and "(expected) error handling worker" in first)

    def unexpected(self):
        found = []
        for name, offset, record in self.records():
            if not self.is_failure(record):
                continue
            declared = [e for e in self.expected if offset >= e[1].get(name, 0) and e[0].search(record)]
            for expectation in declared:
                expectation[3] += 1
            if not declared:
                found.append((name, record))
        return found

    def check(self):
        """Raise AssertionError showing the unexpected records, and the declarations nothing matched."""
        found = self.unexpected()
        unused = [f"{e[2]} expected {e[0].pattern!r}" for e in self.expected if not e[3]]
        if not found and not unused:
            return
        lines = []
        if found:
            lines.append(f"{len(found)} error record(s) in the services' logs ({self.directory}) that no test "
                         "expected (declare the ones a test provokes on purpose with expect_service_log_errors):")
            for name, record in found:
                shown = record.split("\n")
                if len(shown) > self.SHOWN_LINES:
                    shown = shown[:self.SHOWN_LINES // 2] + ["  ..."] + shown[-self.SHOWN_LINES // 2:]
                lines.append(f"--- {name}")
                lines.extend(shown)
        if unused:
            lines.append("expected errors that never appeared in the logs:")
            lines.extend(unused)
        raise AssertionError("\n".join(lines))


_FILLED_AT = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)


def _filler(column):
    """A value for a required column, by its type (the schema of an older revision is read from the database)."""
    if isinstance(column.type, Boolean):
        return False
    if isinstance(column.type, Integer):
        return 1
    if isinstance(column.type, DateTime):
        return _FILLED_AT
    if isinstance(column.type, Date):
        return _FILLED_AT.date()
    return "x"


def add_row(connection, table_name, **values):
    """Insert a row into the table as the database has it now; returns its id."""
    table = Table(table_name, MetaData(), autoload_with=connection)
    row = {c.name: _filler(c) for c in table.columns
           if not c.nullable and not c.primary_key and c.server_default is None}
    row.update(values)
    return connection.execute(insert(table).values(**row)).inserted_primary_key[0]
