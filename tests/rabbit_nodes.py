"""RabbitMQ nodes of a test's own: started from Debian's rabbitmq-server on free ports with their own data, logs and
Erlang cookie, so that a test may stop and start its broker (or cluster them) without touching the shared one on
5672. ``rabbit_nodes(count)`` always stops them again, whatever the test did.
"""
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

# These tests take a minute or more each and start brokers of their own: ``make test-cluster`` runs them.
only_with_own_brokers = pytest.mark.skipif(
    os.environ.get("TSUHAN_CLUSTER_TESTS") != "1", reason="brokers of its own, a minute or more: make test-cluster")

# As root, Debian's wrappers in /usr/sbin switch to the rabbitmq user, who may not write our temporary directory:
# the scripts behind them run the node as the current user.
_DIRECT = Path("/usr/lib/rabbitmq/bin")
HUNG = 180  # seconds after which a node that does not start or stop is taken as hung


def _tool(name):
    if os.geteuid() == 0 and (_DIRECT / name).exists():
        return str(_DIRECT / name)
    return shutil.which(name)


def free_port():
    """A free TCP port whose +1 is also free (kept apart from 5672/25672, which the shared broker holds)."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port in (5671, 5672, 25671, 25672) or port > 65000:
            continue
        try:
            with socket.socket() as other:
                other.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port


class RabbitNode:
    def __init__(self, base, name, home):
        self.name = name
        self.node = f"{name}@localhost"
        self.dir = base / name
        self.home = home
        self.port = free_port()
        self.dist_port = self.port + 1
        self.process = None
        for sub in ("mnesia", "log"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        (self.dir / "rabbitmq.conf").write_text("")
        (self.dir / "rabbitmq-env.conf").write_text("")
        (self.dir / "enabled_plugins").write_text("[].\n")

    @property
    def uri(self):
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def env(self):
        return dict(
            os.environ, HOME=str(self.home), RABBITMQ_NODENAME=self.node, RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
            RABBITMQ_NODE_PORT=str(self.port), RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_MNESIA_BASE=str(self.dir / "mnesia"), RABBITMQ_LOG_BASE=str(self.dir / "log"),
            RABBITMQ_PID_FILE=str(self.dir / "pid"), RABBITMQ_CONFIG_FILE=str(self.dir / "rabbitmq.conf"),
            RABBITMQ_CONF_ENV_FILE=str(self.dir / "rabbitmq-env.conf"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(self.dir / "enabled_plugins"), ERL_EPMD_ADDRESS="127.0.0.1")

    def ctl(self, *args, check=True):
        return subprocess.run([_tool("rabbitmqctl"), "-n", self.node, *args], env=self.env(), capture_output=True,
                              text=True, timeout=HUNG, check=check)

    def start(self):
        log = open(self.dir / "server.out", "ab")
        self.process = subprocess.Popen([_tool("rabbitmq-server")], env=self.env(), stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.await_startup()

    def await_startup(self):
        deadline = time.time() + HUNG
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.node} exited: {(self.dir / 'server.out').read_text()[-2000:]}")
            if self.ctl("await_startup", check=False).returncode == 0:
                return
            time.sleep(1)
        raise AssertionError(f"{self.node} did not start")

    def stop_app(self):
        """Stop the broker on this node (the Erlang VM stays): every connection to it drops."""
        self.ctl("stop_app")

    def start_app(self):
        self.ctl("start_app")
        self.ctl("await_startup")

    def stop(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            self.ctl("stop", check=False)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        self.process = None


@contextlib.contextmanager
def rabbit_nodes(base, count=1, prefix="tsuhantest"):
    """``count`` fresh, unclustered nodes sharing one Erlang cookie; every one is stopped on the way out."""
    if not (_tool("rabbitmq-server") and _tool("rabbitmqctl")):
        pytest.skip("rabbitmq-server is not installed")
    base = Path(base)
    home = base / "home"
    home.mkdir(parents=True, exist_ok=True)
    cookie = home / ".erlang.cookie"
    cookie.write_text(secrets.token_hex(20).upper())
    cookie.chmod(0o400)
    tag = secrets.token_hex(3)
    nodes = [RabbitNode(base, f"{prefix}{tag}n{index + 1}", home) for index in range(count)]
    try:
        for node in nodes:
            node.start()
        yield nodes
    finally:
        for node in nodes:
            node.stop()


def join(nodes):
    """Cluster ``nodes[1:]`` with ``nodes[0]``."""
    for node in nodes[1:]:
        node.ctl("stop_app")
        node.ctl("join_cluster", nodes[0].node)
        node.start_app()
