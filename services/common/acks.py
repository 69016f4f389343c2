"""Settling a consumed message (acknowledge or requeue) without letting a broken connection stop the service."""
import logging

log = logging.getLogger(__name__)


def settle(action, message, what="acknowledgement"):
    """Run ``action(message)``; when the connection the message came on has broken, log it and go on: the broker
    takes back every message left unacknowledged on a closed connection and delivers it again."""
    try:
        action(message)
    except Exception as exc:
        log.warning("%s of a message from %s failed (%s: %s); the broker delivers it again",
                    what, message.delivery_info.get("routing_key"), type(exc).__name__, exc)
