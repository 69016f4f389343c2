"""Public tracking URLs written into mails: the open pixel, the click redirect, the QR landing."""
import base64
import logging
from urllib.parse import urlparse

from flask import Blueprint, Response, abort, redirect, render_template

from services.common.errors import Forbidden

from ..auth import services
from ..rpc import ServiceUnavailable

log = logging.getLogger(__name__)
bp = Blueprint("tracking", __name__, url_prefix="/t")

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _record(token, kind):
    """The verified hit, or None for a forged token (which records nothing)."""
    try:
        return services().mailhistory.record_tracking(token, kind)
    except Forbidden:
        log.warning("tracking: refused a %s token that is not ours", kind)
        return None


def _safe(url):
    return url if urlparse(url).scheme in ("http", "https") and urlparse(url).netloc else None


@bp.route("/o/<token>.gif")
def open_pixel(token):
    try:
        _record(token, "open")
    except ServiceUnavailable:
        log.warning("tracking: open not recorded, mail history unavailable")
    response = Response(PIXEL, mimetype="image/gif")  # the image is always returned, recorded or not
    response.headers["Cache-Control"] = "no-store, private"
    return response


@bp.route("/c/<token>")
def click(token):
    hit = _record(token, "click")
    if hit is None or not _safe(hit["url"]):
        abort(404)
    return redirect(hit["url"], code=302)


@bp.route("/q/<token>")
def qr_read(token):
    hit = _record(token, "qr_read")
    if hit is None:
        abort(404)
    if hit["url"] and _safe(hit["url"]):
        return redirect(hit["url"], code=302)
    return render_template("public/qr_landing.html")
