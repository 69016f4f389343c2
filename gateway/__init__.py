"""The admin gateway: a Flask app that authorises every request and talks to the services by RPC."""
import datetime as dt
import logging

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from services.common.config import amqp_uri, env, rpc_timeout, secret
from services.common.errors import Forbidden, NotFound, ValidationFailed
from services.common.logsafety import quiet_chatty_loggers

from .forms import errors_of
from .rpc import RpcPool, ServiceUnavailable, Services

log = logging.getLogger(__name__)
csrf = CSRFProtect()


def create_app(test_config=None):
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret("SECRET_KEY"),  # kept under var/ by the quick start, so sessions survive restarts
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=env("SESSION_COOKIE_SECURE", "0") == "1",
        SESSION_COOKIE_NAME="tsuhan_session",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=float(env("SESSION_HOURS", "8"))),
        WTF_CSRF_TIME_LIMIT=None,
        AMQP_URI=amqp_uri(),
        RPC_TIMEOUT=rpc_timeout(),
        TRUSTED_PROXIES=int(env("TRUSTED_PROXIES", "0")),
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
    )
    if test_config:
        app.config.update(test_config)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"], x_proto=1)

    quiet_chatty_loggers()
    pool = RpcPool(app.config["AMQP_URI"], app.config["RPC_TIMEOUT"])
    app.extensions["rpc_pool"] = pool
    app.extensions["services"] = Services(pool)

    from . import auth, formatting, forms, health, home
    from .views import (customers, imports, mails, public, purchases, report_pages, reports, search,
                        settings_customers, settings_products, settings_rfm, settings_shops, tracking)

    for blueprint in (health.bp, auth.bp, home.bp, customers.bp, purchases.bp, search.bp, imports.bp, mails.bp,
                      reports.bp, settings_customers.bp, settings_products.bp, settings_shops.bp, settings_rfm.bp,
                      public.bp, tracking.bp):
        app.register_blueprint(blueprint)
    app.before_request(imports.allow_large_files)  # before the CSRF check reads the form
    csrf.init_app(app)
    auth.install(app)
    formatting.install(app)
    app.add_template_global(forms.form_request_id)
    app.add_template_global(reports.RFM_PERMISSION, "rfm_permission")
    app.add_template_global(report_pages.visible_reports)
    _install_error_pages(app)
    return app


def _install_error_pages(app):
    """Every failure becomes a Japanese page with the right status; no traceback reaches a user."""

    @app.errorhandler(CSRFError)
    def csrf_error(_exc):
        return render_template("error.html", title="不正なリクエスト",
                               message="画面の有効期限が切れたか、不正な送信です。画面を開き直してからもう一度操作してください。"), 400

    @app.errorhandler(Forbidden)
    def forbidden(_exc):
        return render_template("error.html", title="権限がありません",
                               message="この操作は許可されていません。"), 403

    @app.errorhandler(ValidationFailed)
    def refused(exc):
        # Forms show their messages beside the fields; this is for input a page does not expect to be refused
        # (a link or a query string edited by hand).
        return render_template("error.html", title="入力内容が正しくありません",
                               message="入力内容をご確認のうえ、操作をやり直してください。",
                               details=[m for messages in errors_of(exc).values() for m in messages]), 400

    @app.errorhandler(NotFound)
    def not_found(_exc):
        return render_template("error.html", title="見つかりません", message="指定されたデータは存在しません。"), 404

    @app.errorhandler(ServiceUnavailable)
    def unavailable(_exc):
        return render_template("error.html", title="一時的に利用できません",
                               message="サービスが応答していません。しばらくしてから再度お試しください。"), 503

    @app.errorhandler(HTTPException)
    def http_error(exc):
        if exc.code == 403:
            return forbidden(exc)
        titles = {400: "不正なリクエスト", 404: "ページが見つかりません", 405: "この操作はできません",
                  413: "送信データが大きすぎます"}
        return render_template("error.html", title=titles.get(exc.code, "エラー"),
                               message="URLをご確認ください。" if exc.code == 404 else "操作をやり直してください。"), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc):
        log.exception("unhandled error")
        return render_template("error.html", title="システムエラー",
                               message="処理中にエラーが発生しました。時間をおいて再度お試しください。"), 500
