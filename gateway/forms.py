"""Turning HTML form posts into RPC payloads, and service errors back into messages by field."""
import datetime as dt
import re
import uuid

from flask import request

from services.common.errors import ValidationFailed
from services.common.requests import check_request_id
from services.common.text import fold_width

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


_DAY = r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})"
_TYPED_DAY = re.compile(_DAY + r"|(\d{4})(\d{2})(\d{2})")
_TYPED_MOMENT = re.compile(_DAY + r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")


def typed_day(value):
    """A day as the date fields take it, ``2026/12/06`` (the calendar's and the operator's), ``2026-12-06``,
    ``2026/1/6``, ``20261206``, full-width digits, → ISO 8601 for the services (``2026-12-06``); empty → "".
    Anything else, a day that does not exist included, is sent on as typed, for the service to refuse by field."""
    value = (value or "").strip()
    match = _TYPED_DAY.fullmatch(fold_width(value))
    if not match:
        return value
    try:
        return dt.date(*(int(part) for part in match.groups() if part)).isoformat()
    except ValueError:
        return value


def typed_moment(value):
    """A day and a time as the date-and-time fields take them, ``2026/12/06 14:30`` (or ``2026-12-06T14:30``,
    full-width digits, a day alone for its 00:00), → ISO 8601 without an offset, which the services read as Japan
    time (``2026-12-06T14:30:00``); empty → "". Anything else is sent on as typed, for the service to refuse."""
    value = (value or "").strip()
    match = _TYPED_MOMENT.fullmatch(fold_width(value))
    if not match:
        return value
    try:
        return dt.datetime(*(int(part or 0) for part in match.groups())).isoformat()
    except ValueError:
        return value


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
