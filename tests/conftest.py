"""Fixtures shared by the whole suite. See tests/support.py for how the real stack is started."""
import logging
import os

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.common.config import SERVICE_NAMES
from tests.support import (RPC_HUNG_SECONDS, Databases, MailSink, ServiceLogs, ServiceProcesses, add_products,
                           make_tenant, private_vhost, wait_for)


# Modules that compare every service database before and after each of their many calls (the RPC fuzzer's 1,700,
# the cross-tenant attacks' 160) run first, while the databases hold little; later they hold every other test's rows.
WHOLE_DATABASE_CHECKS = ("tests/integration/test_rpc_fuzz.py", "tests/integration/test_cross_tenant.py")


def pytest_collection_modifyitems(items):
    first = {path: rank for rank, path in enumerate(WHOLE_DATABASE_CHECKS)}
    items.sort(key=lambda item: first.get(item.nodeid.split("::", 1)[0], len(first)))  # the rest in their order


@pytest.fixture(scope="session")
def amqp_uri():
    with private_vhost() as uri:
        yield uri


@pytest.fixture(scope="session")
def stack(tmp_path_factory, amqp_uri):
    """Every service running as its own process on the real broker and fresh databases. When the suite ends, their
    logs (and the gateway's) must hold no error a test did not expect (see ``expect_service_log_errors``)."""
    tmp = tmp_path_factory.mktemp("stack")
    databases = Databases(tmp)
    urls = databases.create_services()
    mail_sink = MailSink(tmp / "mail")
    env = dict(os.environ, AMQP_URI=amqp_uri, TSUHAN_VAR_DIR=str(tmp), LOG_LEVEL="INFO",
               OUTBOX_POLL_SECONDS="0.5", PUBLIC_BASE_URL="https://crm.example.jp",
               SMTP_HOST="127.0.0.1", SMTP_PORT=str(mail_sink.port),
               IMPORT_LEASE_SECONDS="10")  # a job restarted with its service goes on 10 s later, not 30
    for service, url in urls.items():
        env[f"{service.upper()}_DATABASE_URL"] = url
    processes = ServiceProcesses(env, tmp)
    for service in SERVICE_NAMES:
        processes.start(service)
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=10) as rpc:
        for service in SERVICE_NAMES:
            wait_for(lambda: getattr(rpc, service).health()["status"] == "ok", message=f"{service} health")
    stack = type("Stack", (), {})()
    stack.env, stack.urls, stack.amqp_uri, stack.processes, stack.databases, stack.tmp, stack.mail = (
        env, urls, amqp_uri, processes, databases, tmp, mail_sink)
    stack.logs = ServiceLogs(tmp)
    yield stack
    processes.stop_all()
    mail_sink.stop()
    databases.drop_all()
    stack.logs.check()


@pytest.fixture
def expect_service_log_errors(stack, request):
    """``expect_service_log_errors(pattern)``: this test provokes, on purpose, the error records (or tracebacks) of
    the services' logs that the regular expression finds, from now on; they do not fail the suite. A declared
    pattern that never finds anything does."""
    return lambda pattern: stack.logs.expect(pattern, request.node.nodeid)


@pytest.fixture(autouse=True)
def _service_log_errors_marked(request):
    """``@pytest.mark.expect_service_log_errors(pattern, ...)``: the same declaration, for a whole test."""
    for mark in request.node.iter_markers("expect_service_log_errors"):
        for pattern in mark.args:
            request.getfixturevalue("expect_service_log_errors")(pattern)


@pytest.fixture(scope="session")
def rpc(stack):
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=RPC_HUNG_SECONDS) as proxy:
        yield proxy


@pytest.fixture
def tenant(stack):
    """A fresh company with an operator and shops 103 and 5019, so tests never share state."""
    return make_tenant(stack.urls["shops"])


FLOWERS = ("ローズ", "カーネーション", "ガーベラ", "チューリップ", "ユリ", "ひまわり", "かすみ草")


@pytest.fixture(scope="session")
def catalogue(stack, rpc):
    """A company of its own whose shop 103 has 5,000 products, SKU-00000 … SKU-04999 named 「<FLOWERS[i % 7]>の花束」
    at 1,000 + i yen in the default category, and one more in a category 果物: FR-0707 「北海道産 紅ほっぺ苺 ギフト箱」
    at 4,800 yen, the one the operator looks for. Made once for the run: the tests looking for products among them
    (by RPC, in the purchase form's picker) add no product or category to it."""
    tenant = make_tenant(stack.urls["shops"])
    scope, shop = tenant.operator_scope(), tenant.shops[0]["id"]
    add_products(stack.urls["purchases"], tenant, shop, [
        {"code": f"SKU-{i:05d}", "name": f"{FLOWERS[i % 7]}の花束", "price": 1000 + i} for i in range(5000)])
    fruit = rpc.purchases.add_category(scope, shop, {"name": "果物"})
    wanted = rpc.purchases.add_product(scope, shop, {"code": "FR-0707", "name": "北海道産 紅ほっぺ苺 ギフト箱",
                                                     "category_id": fruit["id"], "price": 4800})
    return {"tenant": tenant, "shop": shop, "fruit": fruit["id"], "wanted": wanted}


@pytest.fixture(scope="session")
def app(stack):
    """The gateway's Flask app talking to the running stack (use ``app.test_client()``)."""
    from gateway import create_app

    app = create_app({"AMQP_URI": stack.amqp_uri, "RPC_TIMEOUT": RPC_HUNG_SECONDS})
    # the gateway's warnings and errors go to a log of the stack, scanned with the services' when the suite ends
    handler = logging.FileHandler(stack.tmp / "gateway-in-tests.log", encoding="utf-8")
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger("gateway").addHandler(handler)
    yield app
    app.extensions["rpc_pool"].close()
    logging.getLogger("gateway").removeHandler(handler)
    handler.close()
