"""RPC from the gateway to the services: a small pool of Nameko standalone proxies, safe for a threaded server.

Every request expires when its proxy stops waiting (``services.common.deadlines``): a service that gets it later,
after an outage, drops it instead of running it.
"""
import contextlib
import logging
import queue

from amqp.exceptions import AMQPError
from kombu.exceptions import KombuError
from nameko.exceptions import RpcTimeout

from services.common.deadlines import ClusterRpcProxy
from services.common.errors import ServiceError, Unavailable

log = logging.getLogger(__name__)


class ServiceUnavailable(Exception):
    """The broker or a service did not answer in time, or a service could not reach its database."""


class RpcPool:
    def __init__(self, amqp_uri, timeout, size=8):
        self.config = {"AMQP_URI": amqp_uri}
        self.timeout = timeout
        self._idle = queue.LifoQueue(maxsize=size)

    def _new(self, timeout):
        holder = ClusterRpcProxy(self.config, timeout=timeout)
        return holder, holder.start()

    @contextlib.contextmanager
    def proxy(self, timeout=None):
        """A started cluster proxy for one thread; broken ones are thrown away, not returned to the pool."""
        if timeout is not None:
            holder, proxy = self._new(timeout)
            try:
                yield proxy
            finally:
                _stop(holder)
            return
        try:
            holder, proxy = self._idle.get_nowait()
        except queue.Empty:
            try:
                holder, proxy = self._new(self.timeout)
            except Exception as exc:
                raise ServiceUnavailable(str(exc)) from exc
        healthy = False
        try:
            yield proxy
            healthy = True
        except Unavailable as exc:
            healthy = True  # the service answered: its database is away
            raise ServiceUnavailable(str(exc)) from exc
        except ServiceError:
            healthy = True  # raised on purpose by a service: the proxy itself is fine
            raise
        except RpcTimeout as exc:
            raise ServiceUnavailable("timeout") from exc
        except (ConnectionError, OSError, AMQPError, KombuError) as exc:
            # the broker went away, or a node of the cluster took this proxy's reply queue with it
            raise ServiceUnavailable(f"{type(exc).__name__}: {exc}") from exc
        finally:
            if healthy:
                try:
                    self._idle.put_nowait((holder, proxy))
                except queue.Full:
                    _stop(holder)
            else:
                _stop(holder)

    def call(self, service, method, *args, **kwargs):
        with self.proxy() as proxy:
            return getattr(getattr(proxy, service), method)(*args, **kwargs)

    def close(self):
        while True:
            try:
                holder, _proxy = self._idle.get_nowait()
            except queue.Empty:
                return
            _stop(holder)


def _stop(holder):
    try:
        holder.stop()
    except Exception:  # a proxy whose connection already broke
        log.debug("rpc proxy stop failed", exc_info=True)


class Services:
    """``services.shops.get_shop(scope, 3)`` through the pool."""

    def __init__(self, pool):
        self._pool = pool

    def __getattr__(self, service):
        return _ServiceHandle(self._pool, service)


class _ServiceHandle:
    def __init__(self, pool, service):
        self._pool = pool
        self._service = service

    def __getattr__(self, method):
        def call(*args, **kwargs):
            return self._pool.call(self._service, method, *args, **kwargs)

        return call
