"""Login, logout and the check on every request: signed session → shops service → scope in ``g``."""
import functools
import logging
import re
from urllib.parse import urlsplit

from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template, request, session,
                   url_for)

from services.common.errors import AuthenticationFailed, ValidationFailed
from services.common.scope import Scope

from .messages import LOGIN_MESSAGES

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)

PUBLIC_ENDPOINTS = {"auth.login", "health.healthz", "static", "public.register", "tracking.open_pixel",
                    "tracking.click", "tracking.qr_read"}


def services():
    return current_app.extensions["services"]


def client_ip():
    return request.remote_addr or ""


def install(app):
    @app.before_request
    def load_session():
        g.context = None
        g.scope = None
        if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
            return None
        account_id = session.get("account_id")
        if account_id is None:
            return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
        try:
            context = services().shops.session_context(account_id, client_ip(), session.get("session_generation"))
        except AuthenticationFailed as refusal:
            session.clear()
            flash(LOGIN_MESSAGES.get(refusal.message, LOGIN_MESSAGES["invalid_credentials"]), "error")
            return redirect(url_for("auth.login"))
        g.context = context
        g.scope = Scope(**context["scope"])
        g.shops = context["shops"]
        g.current_shop = _current_shop(context["shops"])
        return None

    @app.context_processor
    def inject():
        return {"context": g.get("context"), "scope": g.get("scope"), "current_shop": g.get("current_shop")}


def _current_shop(shops):
    """The shop chosen in the store picker (a shop account always has its own)."""
    wanted = session.get("shop_id")
    for shop in shops:
        if shop["id"] == wanted:
            return shop
    return shops[0] if shops else None


def operator_required(view):
    """Company-wide screens: shop accounts are refused (the services refuse them too)."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.scope is None or g.scope.is_shop:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def permission_required(flag):
    """Features a shop account may use or export only with the flag (権限設定); the same check the services make."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if g.scope is None or not g.scope.may(flag):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


# What a browser's URL parser does before anything else: trim C0 controls and spaces at both ends, drop every tab
# and newline, and read a backslash as a slash (WHATWG URL standard).
_TRIMMED = "".join(chr(c) for c in range(0x21))
_DROPPED = re.compile(r"[\t\n\r]")


def safe_next(target):
    """``target`` as the browser will read it if that is a path on this site, else None.

    ``/%09/evil.example/`` arrives decoded, a tab after the first slash, and a browser reads it as
    ``//evil.example/``: another host. So the value is normalised as a browser would and only then checked: no
    scheme, no host, one leading slash.
    """
    if not target:
        return None
    value = _DROPPED.sub("", target.strip(_TRIMMED)).replace("\\", "/")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return None
    return value


def _safe_next(target):
    return safe_next(target) or url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    login_id = ""
    if request.method == "POST":
        login_id = request.form.get("login_id", "").strip()
        password = request.form.get("password", "")
        if not login_id or not password:
            error = "ログインIDとパスワードを入力してください。"
        else:
            try:
                context = services().shops.authenticate(login_id, password, client_ip())
            except AuthenticationFailed as refusal:
                error = LOGIN_MESSAGES.get(refusal.message, LOGIN_MESSAGES["invalid_credentials"])
                log.info("login refused: %s (%s) from %s", login_id[:64], refusal.message, client_ip())
            except ValidationFailed:
                error = LOGIN_MESSAGES["invalid_credentials"]
            else:
                session.clear()
                session.permanent = True
                session["account_id"] = context["account"]["id"]
                session["session_generation"] = context["session_generation"]
                log.info("login: account %s from %s", context["account"]["id"], client_ip())
                return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", error=error, login_id=login_id), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
def logout():
    """Ends the account's sessions on the server too: a copy of the cookie is worthless afterwards."""
    services().shops.end_sessions(session["account_id"], session.get("session_generation"))
    log.info("logout: account %s from %s", session["account_id"], client_ip())
    session.clear()
    flash("ログアウトしました。", "info")
    return redirect(url_for("auth.login"))


@bp.route("/shop-picker", methods=["POST"])
def pick_shop():
    """The store picker: the shop the per-shop screens work on."""
    try:
        wanted = int(request.form.get("shop_id", ""))
    except ValueError:
        abort(400)
    if not any(shop["id"] == wanted for shop in g.shops):
        abort(403)
    session["shop_id"] = wanted
    return redirect(_safe_next(request.form.get("next")))
