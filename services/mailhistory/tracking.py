"""Tracking links: an open pixel, a click redirect and a QR landing URL, each carrying a signed token.

The token says who (company, customer, member number), which mail, what kind, and for clicks and QR reads the
address to go to. It is signed with TRACKING_SECRET (HMAC, itsdangerous); a forged or altered token records nothing
and never redirects.
"""
import datetime as dt

from itsdangerous import BadSignature, URLSafeSerializer

from services.common import arguments
from services.common.config import secret
from services.common.errors import Forbidden

KINDS = ("open", "click", "qr_read")
MAX_URL = 2000
_PATHS = {"open": "/t/o/{token}.gif", "click": "/t/c/{token}", "qr_read": "/t/q/{token}"}


def tracking_secret():
    """TRACKING_SECRET, or for the quick start a random one kept under var/."""
    return secret("TRACKING_SECRET")


def _serializer():
    return URLSafeSerializer(tracking_secret(), salt="tsuhan-mail-tracking")


def make_token(company_id, mail_number, customer, kind, url=""):
    payload = {"c": company_id, "m": mail_number, "u": customer["id"], "n": customer["member_number"], "k": kind}
    if url:
        payload["r"] = url
    return _serializer().dumps(payload)


def read_token(token, kind):
    """The token's payload; Forbidden when it was not signed by us or is for another kind of link."""
    if not isinstance(token, str) or len(token) > MAX_URL or arguments.bad_text(token):
        raise Forbidden("invalid_token")  # not one of ours, whatever it is
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        raise Forbidden("invalid_token") from None
    if not isinstance(payload, dict) or payload.get("k") != kind:
        raise Forbidden("invalid_token")
    return payload


def links(base_url, company_id, mail_number, customer, click_urls=(), qr_url=""):
    """The signed URLs of one customer's mail: its open pixel, a click URL per address, its QR landing."""
    click_urls = [arguments.text(url, f"click_urls.{i}", MAX_URL)
                  for i, url in enumerate(arguments.sequence(click_urls, "click_urls", 1000))]
    qr_url = arguments.text(qr_url, "qr_url", MAX_URL, allow_none=True) or ""
    base = base_url.rstrip("/")
    return {
        "open": base + _PATHS["open"].format(token=make_token(company_id, mail_number, customer, "open")),
        "clicks": {url: base + _PATHS["click"].format(token=make_token(company_id, mail_number, customer, "click", url))
                   for url in click_urls},
        "qr_read": base + _PATHS["qr_read"].format(
            token=make_token(company_id, mail_number, customer, "qr_read", qr_url)),
    }


def report_of(payload, kind, at=None):
    """The activity report a verified tracking hit stands for."""
    at = at or dt.datetime.now(dt.timezone.utc)
    return {"activity": {"open": "open", "click": "click", "qr_read": "qr_read"}[kind],
            "mail_number": payload["m"], "member_number": payload["n"], "occurred_at": at.isoformat(),
            "url": payload.get("r", "")}
