"""A running service answers SIGUSR1 with what each of its threads is doing, in its log, and goes on answering."""
from services.common.deadlines import ClusterRpcProxy
from tests.support import RPC_HUNG_SECONDS


def test_sigusr1_writes_every_thread_of_a_service_into_its_log_and_the_service_goes_on(stack):
    stacks = stack.processes.green_stacks("customers")

    # the queue consumer waiting for the broker's next frame, the outbox relay between passes, the OS thread's loop
    assert "kombu/mixins.py" in stacks and "amqp/connection.py" in stacks and "drain_events" in stacks
    assert "services/common/outbox.py" in stacks
    assert "Current thread" in stacks and "eventlet/hubs" in stacks

    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=RPC_HUNG_SECONDS) as rpc:
        assert rpc.customers.health()["status"] == "ok"
    assert "kombu/mixins.py" in stack.processes.green_stacks("customers")  # and a second time
