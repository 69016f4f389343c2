"""Errors that cross the bus.

They are registered with Nameko so that a caller receives an instance of the same class, with its
arguments, instead of a generic ``RemoteError``. Every RPC method documents which of them it raises
(docs/rpc.md). Codes are English; the gateway turns them into Japanese messages.
"""
from nameko.exceptions import deserialize_to_instance


class ServiceError(Exception):
    """Base of the errors a caller is expected to handle."""

    code = "error"

    def __init__(self, message="", fields=None):
        super().__init__(message, fields or {})
        self.message = message
        self.fields = fields or {}

    def __str__(self):
        text = self.message or self.code
        return f"{text} {self.fields}" if self.fields else text


@deserialize_to_instance
class ValidationFailed(ServiceError):
    """Input was refused; ``fields`` maps a field path to a list of error codes. Nothing was changed."""

    code = "validation_failed"


@deserialize_to_instance
class NotFound(ServiceError):
    code = "not_found"


@deserialize_to_instance
class Forbidden(ServiceError):
    """The caller's scope does not reach the thing asked for, or a permission flag forbids it."""

    code = "forbidden"


@deserialize_to_instance
class Conflict(ServiceError):
    """The change would break a uniqueness rule or a state rule."""

    code = "conflict"


@deserialize_to_instance
class AuthenticationFailed(ServiceError):
    """Login refused. ``message`` is one of: throttled, invalid_credentials, locked, shop_standby, ip_not_allowed,
    session_ended."""

    code = "authentication_failed"


@deserialize_to_instance
class Unavailable(ServiceError):
    """The service cannot reach its database just now (refused, gone away, out of connections, a lock or
    serialisation conflict it gave up on), or a service it asks did not answer in time or could not be asked (a
    broker outage). What was asked was rolled back; a caller may try again later (a write with
    the same request id, so that it applies once)."""

    code = "unavailable"


EXPECTED_ERRORS = (ValidationFailed, NotFound, Forbidden, Conflict, AuthenticationFailed, Unavailable)
