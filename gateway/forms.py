"""Turning HTML form posts into RPC payloads, and service errors back into messages by field."""
import uuid

from flask import request

from services.common.errors import ValidationFailed
from services.common.requests import check_request_id

from .messages import field_messages


def joined(form, *names, sep="-"):
    """Split inputs as the manual draws them ('03' '0000' '0000') → '03-0000-0000'; empty when all are empty."""
    parts = [form.get(name, "").strip() for name in names]
    return sep.join(parts) if any(parts) else ""


def number(value, default=None):
    """A whole number typed in a form (half- or full-width digits), or ``default``. Anything else is left for the
    service to refuse, by field, when it is sent on as typed."""
    value = (value or "").strip()
    return int(value) if value.isdecimal() and len(value) <= 18 else default


def checked(form, name):
    return form.get(name) in ("1", "on", "true", "yes")


def errors_of(validation_failed):
    return field_messages(validation_failed.fields)


def posted_request_id(form):
    """The request id a form that creates something was rendered with (its hidden ``request_id``), so that the same
    form posted again is applied once; a fresh id for a post without one (or with a malformed one)."""
    try:
        return check_request_id(form.get("request_id") or None) or str(uuid.uuid4())
    except ValidationFailed:
        return str(uuid.uuid4())


def form_request_id():
    """For the hidden field (template global): the posted id when the form is shown again after a post, else new."""
    return posted_request_id(request.form) if request.method == "POST" else str(uuid.uuid4())
