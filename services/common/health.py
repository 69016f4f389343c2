"""The health report every service answers by RPC."""
import time

_STARTED = time.time()


def health_report(service_name, store):
    report = {"service": service_name, "status": "ok", "database": "ok",
              "uptime_seconds": int(time.time() - _STARTED)}
    try:
        store.ping()
        report["outbox_pending"] = store.relay.pending_count() if store.relay else 0
    except Exception as exc:
        report.update(status="degraded", database=f"error: {type(exc).__name__}")
    return report


def probe(service_name, amqp_uri, timeout=5.0):
    """Ask a running service for its health: (True, report) when it answers ok within ``timeout`` seconds."""
    from .broker import broker_answers, masked

    if not broker_answers(amqp_uri, timeout=timeout):
        return False, f"no broker answers at {masked(amqp_uri)}"
    from .deadlines import ClusterRpcProxy

    try:
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=timeout) as rpc:
            report = getattr(rpc, service_name).health()
    except Exception as exc:  # no reply in time, or the service is down
        return False, f"{service_name}: no answer ({type(exc).__name__})"
    return report.get("status") == "ok", f"{service_name}: {report}"
