"""``/healthz``: each service's health RPC and the broker, for load balancers and operators.

``status`` is ``ok`` (every service answers ok and the search index has caught up), ``indexing`` (everything answers
ok, and events are still on their way to the search index: waiting in an owner's outbox or in search's queues, so
a search answers what the index holds so far; or the answering search replica is still opening or loading its store,
so its searches are refused for a while), or ``degraded`` (the broker or a service is down). ``indexing`` is
answered with HTTP 200, since the system serves meanwhile; ``degraded`` with 503.
"""
import concurrent.futures

from flask import Blueprint, current_app, jsonify

from services.common.broker import broker_answers
from services.common.config import SERVICE_NAMES

bp = Blueprint("health", __name__)


def _service_health(pool, name):
    try:
        with pool.proxy(timeout=3) as proxy:
            return getattr(proxy, name).health()
    except Exception as exc:
        return {"service": name, "status": "down", "error": type(exc).__name__}


def index_progress(services):
    """What still has to reach the search index, from the services' reports: {outbox_pending, queued_events}."""
    pending = sum(report.get("outbox_pending") or 0 for report in services.values())
    queued = (services.get("search", {}).get("index") or {}).get("queued_events") or 0
    return {"outbox_pending": pending, "queued_events": queued}


def overall(broker_ok, services):
    """(status, HTTP status) of the whole system from the broker check and the services' reports."""
    if not broker_ok or not all(report.get("status") == "ok" for report in services.values()):
        return "degraded", 503
    progress = index_progress(services)
    store = (services.get("search", {}).get("store") or {}).get("state")
    busy = progress["outbox_pending"] or progress["queued_events"] or store != "ready"
    return ("indexing" if busy else "ok"), 200


@bp.route("/healthz")
def healthz():
    pool = current_app.extensions["rpc_pool"]
    broker_ok = broker_answers(current_app.config["AMQP_URI"], timeout=2)
    services = {}
    if broker_ok:
        with concurrent.futures.ThreadPoolExecutor(len(SERVICE_NAMES)) as executor:
            for report in executor.map(lambda name: _service_health(pool, name), SERVICE_NAMES):
                services[report["service"]] = report
    else:
        services = {name: {"service": name, "status": "unknown"} for name in SERVICE_NAMES}
    status, http_status = overall(broker_ok, services)
    body = {"status": status, "broker": "ok" if broker_ok else "down", "index": index_progress(services),
            "services": services}
    return jsonify(body), http_status
