"""The system as the benchmarks run it: every service's database fresh on a PostgreSQL server, a private RabbitMQ
vhost, and the services as processes of their own (the tests' own helpers, tests/support.py)."""
import contextlib
import os
import shutil
import tempfile

from tests.support import Databases, ServiceProcesses, private_vhost


class BenchStack:
    def __init__(self, tmp, databases, urls, amqp_uri, env):
        self.tmp, self.databases, self.urls, self.amqp_uri, self.env = tmp, databases, urls, amqp_uri, env
        self.processes = ServiceProcesses(env, tmp)


@contextlib.contextmanager
def fresh_stack(server, prefix):
    """A BenchStack whose services the caller starts (``stack.processes.start(name)``); on leaving, every process is
    stopped and every database dropped, and the work directory removed unless the run failed."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    print(f"service logs (kept if the run fails): {tmp}", flush=True)
    databases = Databases(tmp)
    databases.server = server.rstrip("/")
    try:
        urls = databases.create_services()
        with private_vhost() as amqp_uri:
            env = dict(os.environ, AMQP_URI=amqp_uri, TSUHAN_VAR_DIR=tmp, LOG_LEVEL="WARNING")
            for service, url in urls.items():
                env[f"{service.upper()}_DATABASE_URL"] = url
            stack = BenchStack(tmp, databases, urls, amqp_uri, env)
            try:
                yield stack
            finally:
                stack.processes.stop_all()
    finally:
        databases.drop_all()
    shutil.rmtree(tmp, ignore_errors=True)
