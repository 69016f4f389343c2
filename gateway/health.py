"""``/healthz``: each service's health RPC and the broker, for load balancers and operators."""
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
    healthy = broker_ok and all(report.get("status") == "ok" for report in services.values())
    body = {"status": "ok" if healthy else "degraded", "broker": "ok" if broker_ok else "down", "services": services}
    return jsonify(body), (200 if healthy else 503)
