"""docker-compose.yml, the Dockerfile and the health command describe the production shape (checked without a Docker
engine)."""
import os
import re
import subprocess
import inspect
import sys

import yaml

from services.common.config import SERVICE_NAMES
from services.common.health import probe
from tests.support import HUNG_SECONDS, ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
BROKERS = ("rabbitmq1", "rabbitmq2", "rabbitmq3")
INFRA = (*BROKERS, "postgres")
APP = (*SERVICE_NAMES, "gateway", "migrate")


def _words(value):
    return " ".join(value) if isinstance(value, list) else str(value or "")


def _commands(definition):
    test = (definition.get("healthcheck") or {}).get("test", [])
    return " ".join(_words(part) for part in (definition.get("command"), definition.get("entrypoint"), test))


def _seconds(value):
    """A compose duration such as '10s' or '1m30s' in seconds."""
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)([hms])", value))


def test_every_part_of_the_system_is_described():
    assert set(SERVICES) == {*INFRA, "migrate", "gateway", *SERVICE_NAMES}
    for broker in BROKERS:
        assert SERVICES[broker]["image"] == "rabbitmq:3.13-management"
    assert SERVICES["postgres"]["image"] == "postgres:16"


def test_every_service_has_an_image_or_build_and_every_app_a_command():
    for name, definition in SERVICES.items():
        assert "image" in definition or "build" in definition, name
    for name in APP:
        assert SERVICES[name].get("build") == ".", name
        assert SERVICES[name].get("command"), name
    for name in SERVICE_NAMES:
        assert SERVICES[name]["command"] == ["python", "-m", "services", "run", name]
    assert _words(SERVICES["gateway"]["command"]).startswith("gunicorn gateway.wsgi:app --bind 0.0.0.0:8000")


def test_migrate_runs_once_and_loads_demo_data_only_when_asked():
    command = _words(SERVICES["migrate"]["command"])
    assert "python -m services migrate &&" in command
    assert 'if [ "$$DEMO_DATA" = 1 ]; then python -m services demo; fi' in command
    assert SERVICES["migrate"]["environment"]["DEMO_DATA"] == "${DEMO_DATA:-0}"
    assert "restart" not in SERVICES["migrate"]  # one-shot: its successful exit releases the services


def test_health_checks_not_sleep_loops():
    for name, definition in SERVICES.items():
        assert "sleep" not in _commands(definition), name
        if name != "migrate":  # a one-shot job has nothing to check; services wait for it to complete
            assert definition.get("healthcheck", {}).get("test"), f"{name} has no health check"
    for name in SERVICE_NAMES:
        assert SERVICES[name]["healthcheck"]["test"] == ["CMD", "python", "-m", "services", "health", name]
    for broker in BROKERS:
        assert SERVICES[broker]["healthcheck"]["test"] == ["CMD", "rabbitmq-diagnostics", "-q", "ping"]
    pg_isready = SERVICES["postgres"]["healthcheck"]["test"]
    # Over TCP: during the image's init scripts the Unix socket already answers, the TCP port does not.
    assert pg_isready[:2] == ["CMD", "pg_isready"] and pg_isready[pg_isready.index("-h") + 1] == "127.0.0.1"
    gateway = _words(SERVICES["gateway"]["healthcheck"]["test"])
    assert "urllib.request" in gateway and "/healthz" in gateway and "curl" not in gateway


def test_dependencies_wait_for_health():
    for name in SERVICE_NAMES:
        depends = SERVICES[name]["depends_on"]
        assert all(depends[broker]["condition"] == "service_healthy" for broker in BROKERS)
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    gateway = SERVICES["gateway"]["depends_on"]
    assert all(gateway[broker]["condition"] == "service_healthy" for broker in BROKERS)
    for name in SERVICE_NAMES:
        assert gateway[name]["condition"] == "service_healthy"
    assert SERVICES["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_search_runs_as_two_replicas():
    assert SERVICES["search"]["deploy"]["replicas"] == 2
    for name in set(SERVICES) - {"search"}:
        assert "replicas" not in SERVICES[name].get("deploy", {}), name


def test_each_service_gets_its_own_database_and_the_init_script_creates_it():
    created = set(re.findall(r"CREATE DATABASE (\w+)", (ROOT / "deploy/postgres-init/01-databases.sql").read_text()))
    mounts = " ".join(SERVICES["postgres"]["volumes"])
    assert "./deploy/postgres-init:/docker-entrypoint-initdb.d" in mounts
    urls = []
    for name in SERVICE_NAMES:
        variable = f"{name.upper()}_DATABASE_URL"
        url = SERVICES[name]["environment"][variable]
        assert url.startswith("postgresql://") and "@postgres:5432/" in url, name
        assert url.rsplit("/", 1)[1] in created, name
        assert SERVICES["migrate"]["environment"][variable] == url
        for other in set(SERVICE_NAMES) - {name}:  # no service is handed another's database
            assert f"{other.upper()}_DATABASE_URL" not in SERVICES[name]["environment"], (name, other)
        urls.append(url)
    assert len(set(urls)) == len(urls)


def test_secrets_must_be_given_and_the_gateway_publishes_its_port():
    environment = SERVICES["gateway"]["environment"]
    assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert environment["AMQP_URI"].startswith("amqp://") and environment["PUBLIC_BASE_URL"]
    assert SERVICES["mailhistory"]["environment"]["TRACKING_SECRET"].startswith("${TRACKING_SECRET:?")
    assert "8000:8000" in SERVICES["gateway"]["ports"]
    for broker in BROKERS:
        for port in SERVICES[broker].get("ports", []):  # the brokers are reachable from this host only
            assert port.startswith("127.0.0.1:"), port


def test_the_image_runs_the_gateway_as_a_user_and_leaves_local_files_out():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.M)
    assert "pip install -r requirements.txt" in dockerfile
    user = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert user and user[-1] not in ("root", "0")
    assert re.search(r'^CMD \["gunicorn", "gateway\.wsgi:app"', dockerfile, re.M)
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".venv", "var", ".git", "**/__pycache__"):
        assert entry in ignored, entry


def test_the_health_command_fails_clearly_when_nothing_answers():
    env = dict(os.environ, AMQP_URI="amqp://guest:guest@127.0.0.1:1/")
    result = subprocess.run([sys.executable, "-m", "services", "health", "shops"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=HUNG_SECONDS)
    assert result.returncode == 1
    assert "no broker answers at amqp://guest:***@127.0.0.1:1/" in result.stderr


def test_the_health_probe_gives_up_inside_the_health_checks_own_timeout():
    """The probe waits at most its timeout for the broker and as long again for the reply: a container whose service
    does not answer is marked unhealthy, not timed out."""
    waits = inspect.signature(probe).parameters["timeout"].default
    for name in SERVICE_NAMES:
        assert 2 * waits <= _seconds(SERVICES[name]["healthcheck"]["timeout"]), name


def test_the_health_command_reports_a_running_service(stack):
    env = dict(os.environ, AMQP_URI=stack.amqp_uri)
    result = subprocess.run([sys.executable, "-m", "services", "health", "customers"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=HUNG_SECONDS)
    assert result.returncode == 0, result.stderr
    assert "'status': 'ok'" in result.stdout


def test_the_brokers_form_one_cluster_and_the_services_use_every_node_and_quorum_queues():
    conf = (ROOT / "deploy/rabbitmq/cluster.conf").read_text()
    hostnames = [SERVICES[broker]["hostname"] for broker in BROKERS]
    assert hostnames == list(BROKERS)
    for index, hostname in enumerate(hostnames, 1):
        assert f"cluster_formation.classic_config.nodes.{index} = rabbit@{hostname}" in conf
        assert "./deploy/rabbitmq/cluster.conf:/etc/rabbitmq/conf.d/20-cluster.conf:ro" in SERVICES[hostname]["volumes"]
        assert f"{hostname}-data:/var/lib/rabbitmq" in SERVICES[hostname]["volumes"]
    cookies = {SERVICES[broker]["environment"]["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] for broker in BROKERS}
    assert len(cookies) == 1 and "${RABBITMQ_ERLANG_COOKIE:?" in cookies.pop()
    for name in (*SERVICE_NAMES, "gateway"):
        environment = SERVICES[name]["environment"]
        assert [uri.split("@")[1] for uri in environment["AMQP_URI"].split(";")] == [
            f"{hostname}:5672/" for hostname in hostnames], name
        assert environment["RABBITMQ_QUEUE_TYPE"] == "quorum", name


def test_every_long_running_container_is_started_again_when_it_stops():
    for name, definition in SERVICES.items():
        if name != "migrate":
            assert definition.get("restart") == "unless-stopped", name


def test_the_image_builds_the_gateways_browser_libraries_from_the_lock_file():
    """The date fields' calendar is served by the gateway itself: the image makes gateway/static/vendor/ as make does
    (npm ci from package-lock.json, npm run vendor), in a stage of its own, and copies only what it made."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    stage = re.search(r"^FROM node:20\S* AS (\w+)$", dockerfile, re.M)
    assert stage, "no node stage builds the browser libraries"
    assert "COPY package.json package-lock.json ./" in dockerfile
    assert re.search(r"^RUN npm ci --ignore-scripts\b.*&& npm run vendor$", dockerfile, re.M)
    copied = re.search(rf"^COPY --from={stage.group(1)} (\S+) (\S+)$", dockerfile, re.M)
    assert copied and copied.groups() == ("/build/gateway/static/vendor", "./gateway/static/vendor")
    assert dockerfile.index("COPY gateway ./gateway") < copied.start()  # not overwritten by the sources
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "node_modules" in ignored and "gateway/static/vendor" in ignored  # a local build never leaks in
