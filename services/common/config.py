"""Settings read from the environment, with defaults that run the quick start on one machine.

Every setting is documented in README.md ("Configuration").
"""
import os
import re
from pathlib import Path

from sqlalchemy.engine import make_url

from . import wire_json

ROOT = Path(__file__).resolve().parents[2]

SERVICE_NAMES = ("shops", "customers", "purchases", "mailhistory", "search")


def env(name, default=None):
    value = os.environ.get(name)
    return default if value in (None, "") else value


def env_int(name, default):
    return int(env(name, default))


def var_dir():
    path = Path(env("TSUHAN_VAR_DIR", ROOT / "var"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def import_dir(service):
    """Where a service keeps the files uploaded to インポート機能 (``IMPORT_DIR``/<service>; a volume in production)."""
    path = Path(env("IMPORT_DIR", var_dir() / "imports")) / service
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret(name):
    """A secret from the environment or, for the quick start, a random one kept (mode 600) under var/."""
    import secrets

    value = env(name)
    if value:
        return value
    path = var_dir() / name.lower()
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def amqp_uri():
    return env("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")


def database_url(service):
    """The database URL of one service: ``<SERVICE>_DATABASE_URL`` or a SQLite file under var/."""
    return env(f"{service.upper()}_DATABASE_URL", f"sqlite:///{var_dir() / (service + '.db')}")


def search_store_dir(database_url):
    """Where the search replicas of an index keep their stores (``SEARCH_STORE_DIR``, else a folder under var/ named
    after the index's database, so that each database has its own)."""
    explicit = env("SEARCH_STORE_DIR", "")
    if explicit:
        return explicit
    url = make_url(database_url)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{url.get_backend_name()}-{url.host or ''}-{url.port or ''}-"
                                            f"{url.database or 'memory'}").strip("-")
    return str(var_dir() / "search-store" / name)


def import_lease_seconds():
    """Seconds an import job stays leased to the worker going on with it, renewed at every checkpoint: a job whose
    service stopped mid-run is taken up again once it lapses. Longer than one batch ever takes."""
    return float(env("IMPORT_LEASE_SECONDS", "30"))


def rpc_timeout():
    """Seconds the gateway waits for a service's reply; its requests expire then."""
    return float(env("RPC_TIMEOUT", "10"))


def rpc_call_timeout():
    """Seconds a service waits for another's reply (never past the deadline of the request it is handling)."""
    return float(env("RPC_CALL_TIMEOUT", "30"))


def queue_type():
    """``classic`` or ``quorum``: how the services' durable queues are declared."""
    return env("RABBITMQ_QUEUE_TYPE", "classic")


def _quiet_loggers():
    from .logsafety import LOGGING_OVERRIDES

    return dict(LOGGING_OVERRIDES)


def nameko_config(service):
    """The Nameko configuration dict of one service."""
    return {
        "AMQP_URI": amqp_uri(),
        "SERIALIZERS": wire_json.SERIALIZERS,
        "max_workers": env_int("MAX_WORKERS", 10),
        "parent_calls_tracked": 10,
        "RPC_CALL_TIMEOUT": rpc_call_timeout(),
        "QUEUE_TYPE": queue_type(),
        "DATABASE_URL": database_url(service),
        "OUTBOX_POLL_SECONDS": float(env("OUTBOX_POLL_SECONDS", "1")),
        "SEARCH_STORE_DIR": env("SEARCH_STORE_DIR", ""),
        "SEARCH_STORE_POLL_SECONDS": float(env("SEARCH_STORE_POLL_SECONDS", "0.1")),
        "SEARCH_STORE_THREADS": env_int("SEARCH_STORE_THREADS", 2),
        "SEARCH_STORE_MEMORY": env("SEARCH_STORE_MEMORY", "768MB"),
        "LOGGING": {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
            "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
            "root": {"level": env("LOG_LEVEL", "INFO"), "handlers": ["console"]},
            "loggers": _quiet_loggers(),
        },
    }
