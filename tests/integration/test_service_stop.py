"""A service process told to stop twice (a supervisor repeating its SIGTERM) stops once and exits."""
import os
import signal
import subprocess
import time

from services.common.deadlines import ClusterRpcProxy
from services.common.migrations import upgrade
from tests.support import HUNG_SECONDS, Databases, ServiceProcesses, private_vhost, wait_for


def test_a_second_sigterm_while_stopping_is_ignored_and_the_service_exits(tmp_path):
    databases = Databases(tmp_path)
    url = databases.create("stopping")
    upgrade("shops", url)
    try:
        with private_vhost("stopping") as amqp_uri:  # only this shops service answers there
            env = dict(os.environ, AMQP_URI=amqp_uri, SHOPS_DATABASE_URL=url, TSUHAN_VAR_DIR=str(tmp_path))
            processes = ServiceProcesses(env, tmp_path)
            process = processes.start("shops")
            with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=HUNG_SECONDS) as rpc:
                wait_for(lambda: rpc.shops.health()["status"] == "ok", message="shops answering")
            assert "starting services: shops" in processes.log("shops")  # its signal handlers are in place
            for _ in range(40):  # while the first stop is under way, and on until the process has gone
                if process.poll() is not None:
                    break
                process.send_signal(signal.SIGTERM)
                time.sleep(0.05)
            try:
                code = process.wait(timeout=HUNG_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                raise AssertionError(f"the service hung after repeated SIGTERMs:\n{processes.log('shops')[-2000:]}")
            assert code == 0  # a clean stop, not "killed by SIGTERM" by a signal arriving as it exits
            assert "already stopping" in processes.log("shops")
    finally:
        databases.drop_all()
