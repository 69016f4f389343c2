"""Runs one service in this process (``python -m services run <name>``)."""
import errno
import importlib
import logging
import logging.config
import signal

import eventlet
from nameko.runners import ServiceRunner
from psycogreen.eventlet import patch_psycopg

from . import allocator, garbage, stack_dump
from .config import nameko_config

log = logging.getLogger(__name__)


def service_class(name):
    return importlib.import_module(f"services.{name}.service").SERVICE


def run_service(name):
    allocator.cap_arenas()  # before any thread of the service starts
    config = nameko_config(name)
    logging.config.dictConfig(config["LOGGING"])
    if config["DATABASE_URL"].startswith("postgresql"):
        patch_psycopg()
    runner = ServiceRunner(config)
    runner.add_service(service_class(name))
    run_until_stopped(runner)


def run_until_stopped(runner):
    """Start the runner and wait until it has stopped. SIGTERM (or Ctrl-C) stops it gracefully, once: a second
    signal while it stops (a supervisor repeating itself) is only logged, where Nameko's own ``run`` stopped the
    containers a second time beside the first, which could leave the process hung until it was killed."""
    stopping = []

    def stop(signum, _frame):
        if stopping:
            log.info("signal %s: already stopping", signum)
            return
        stopping.append(signum)
        # a signal handler runs outside eventlet's loop: the stop goes in a green thread of its own
        eventlet.spawn_n(runner.stop)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    stack_dump.install()
    runner.start()
    garbage.freeze_startup()  # the containers and what they made live as long as the process
    waiting = eventlet.spawn(runner.wait)
    while True:
        try:
            waiting.wait()
            break
        except OSError as exc:  # a signal arriving while eventlet waits on a socket interrupts the wait
            if exc.errno != errno.EINTR:
                raise
    # Stopped: a signal arriving while the interpreter finishes is ignored (Python puts the default action back for
    # a handler of its own as it exits, and the process would end "killed by SIGTERM" after a clean stop).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
