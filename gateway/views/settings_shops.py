"""各種設定 > 店舗管理: shop list, 店舗情報, 権限設定, QRコード, 全店PW出力 / 全店PW再生成, IP設定, 企業情報."""
import base64
import io
import logging
import secrets

from flask import (Blueprint, Response, abort, flash, g, redirect, render_template, request, session, url_for)

from services.common import csvfiles
from services.common.errors import ValidationFailed
from services.shops.permissions import FLAGS

from ..auth import client_ip, operator_required, services
from ..forms import checked, errors_of, joined, number, posted_request_id

log = logging.getLogger(__name__)
bp = Blueprint("settings_shops", __name__, url_prefix="/settings/shops")

STATUS_LABELS = {"active": "有効", "standby": "待機"}
ENCODINGS = {"cp932": ("cp932", "Shift_JIS (Excel)"), "utf8bom": ("utf-8-sig", "UTF-8 (BOM付き)")}


def _no_store(response):
    """Pages and files carrying fresh passwords must not be cached anywhere."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


ALREADY_CREATED = "この店舗は登録済みです（同じ内容をもう一度送信しても、店舗は追加されずパスワードも再表示されません）。" \
                  "パスワードが必要なときは、店舗情報の「再生成」を押してください。"

ALREADY_ISSUED = "この再生成は実行済みです（ページの再読み込みでは新しいパスワードは発行されません）。" \
                 "もう一度発行するときは、ボタンを押してください。"


@bp.context_processor
def _issue_tokens():
    """``issue_token()`` in a form that issues passwords: a one-time token, so that reloading the page that showed
    the passwords (the browser sends the same form again) issues none and changes nothing."""
    return {"issue_token": lambda: secrets.token_urlsafe(16)}


def _reposted(endpoint, **values):
    """None the first time the posted form's token is seen in this session; else the answer to a repeated post:
    back to ``endpoint`` saying nothing was issued."""
    token = request.form.get("issue_token", "")
    spent = session.get("spent_issue_tokens", [])
    if token and token not in spent:
        session["spent_issue_tokens"] = (spent + [token])[-20:]
        return None
    flash(ALREADY_ISSUED, "error")
    return redirect(url_for(endpoint, **values))


@bp.app_template_filter("status_label")
def status_label(status):
    return STATUS_LABELS.get(status, status)


@bp.route("/")
def index():
    shops = services().shops.list_shops(g.scope.as_dict())
    return render_template("settings/shops/list.html", shops=shops)


def _shop_form_payload(form):
    return {
        "name": form.get("name", "").strip(),
        "manager_name": form.get("manager_name", "").strip(),
        "postal_code": joined(form, "postal_code1", "postal_code2"),
        "address": form.get("address", "").strip(),
        "phone": joined(form, "phone1", "phone2", "phone3"),
        "sender_name": form.get("sender_name", "").strip(),
        "sender_address": form.get("sender_address", "").strip(),
        "felica": checked(form, "felica"),
        "status": form.get("status", ""),
    }


@bp.route("/new", methods=["GET", "POST"])
@operator_required
def new_shop():
    """店舗追加: the shop and its shop account; the account's password is shown on the next page, once."""
    scope = g.scope.as_dict()
    errors, values = {}, {"status": "active"}
    if request.method == "POST":
        typed = request.form.get("shop_number", "").strip()
        # A number typed in full-width digits is read; anything else is sent as typed, for the service to refuse.
        payload = dict(_shop_form_payload(request.form), shop_number=number(typed, typed or None))
        values = dict(payload, shop_number=typed)
        try:
            created = services().shops.create_shop(scope, payload, request_id=posted_request_id(request.form))
        except ValidationFailed as failure:
            errors = errors_of(failure)
        else:
            shop = created["shop"]
            if created["password"] is None:  # the same form posted again (double click, reload): nothing new
                flash(ALREADY_CREATED, "error")
                return redirect(url_for(".shop", shop_id=shop["id"]))
            log.info("shop %s created by account %s", shop["id"], g.scope.account_id)
            generated = {"shop_number": shop["shop_number"], "shop_name": shop["name"], "login_id": shop["login_id"],
                         "password": created["password"]}
            return _no_store(Response(render_template("settings/shops/created.html", shop=shop,
                                                      generated=generated)))
    return render_template("settings/shops/new.html", values=values, errors=errors,
                           company=services().shops.get_company(scope)), (400 if errors else 200)


@bp.route("/<int:shop_id>", methods=["GET", "POST"])
def shop(shop_id):
    scope = g.scope.as_dict()
    shop = services().shops.get_shop(scope, shop_id)
    errors, values = {}, dict(shop)
    if request.method == "POST":
        if g.scope.is_shop:
            abort(403)
        payload = _shop_form_payload(request.form)
        try:
            services().shops.update_shop(scope, shop_id, payload)
        except ValidationFailed as failure:
            errors = errors_of(failure)
            values.update(payload)
        else:
            flash("店舗情報を登録しました。", "info")
            return redirect(url_for(".shop", shop_id=shop_id))
    return render_template("settings/shops/shop.html", shop=shop, values=values, errors=errors, flags=FLAGS,
                           counts=services().customers.shop_counts(scope, shop_id)), (400 if errors else 200)


@bp.route("/<int:shop_id>/password", methods=["POST"])
@operator_required
def regenerate_password(shop_id):
    refused = _reposted(".shop", shop_id=shop_id)
    if refused:
        return refused
    generated = services().shops.regenerate_password(g.scope.as_dict(), shop_id)
    log.info("password regenerated for shop %s by account %s", shop_id, g.scope.account_id)
    shop = services().shops.get_shop(g.scope.as_dict(), shop_id)
    counts = services().customers.shop_counts(g.scope.as_dict(), shop_id)
    return _no_store(Response(render_template("settings/shops/shop.html", shop=shop, values=shop, errors={},
                                              flags=FLAGS, generated=generated, counts=counts)))


@bp.route("/<int:shop_id>/permissions", methods=["GET", "POST"])
@operator_required
def permissions(shop_id):
    scope = g.scope.as_dict()
    shop = services().shops.get_shop(scope, shop_id)
    errors = {}
    if request.method == "POST":
        payload = {name: request.form.get(name) == "1" for name, _label, _default in FLAGS}
        missing = [name for name, _label, _default in FLAGS if request.form.get(name) not in ("0", "1")]
        if missing:
            errors = {name: ["許可または不可を選んでください。"] for name in missing}
        else:
            services().shops.update_permissions(scope, shop_id, payload)
            flash("権限設定を登録しました。", "info")
            return redirect(url_for(".permissions", shop_id=shop_id))
    return render_template("settings/shops/permissions.html", shop=shop, flags=FLAGS, errors=errors), (400 if errors else 200)


@bp.route("/<int:shop_id>/qr")
def qr_page(shop_id):
    shop = services().shops.get_shop(g.scope.as_dict(), shop_id)
    code = services().shops.shop_qr_code(g.scope.as_dict(), shop_id, "svg")
    return render_template("settings/shops/qr.html", shop=shop, url=code["url"])


@bp.route("/<int:shop_id>/qr.<any(png, svg):kind>")
def qr_image(shop_id, kind):
    code = services().shops.shop_qr_code(g.scope.as_dict(), shop_id, kind)
    data = base64.b64decode(code["data"]) if code["encoding"] == "base64" else code["data"].encode("utf-8")
    response = Response(data, mimetype=code["content_type"])
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f"attachment; filename=qr_{shop_id}.{kind}"
    return response


@bp.route("/passwords/regenerate", methods=["GET", "POST"])
@operator_required
def regenerate_all():
    """全店PW再生成: new passwords for every shop, shown on this page once."""
    if request.method == "POST":
        refused = _reposted(".regenerate_all")
        if refused:
            return refused
        generated = services().shops.regenerate_all_passwords(g.scope.as_dict())
        log.info("all shop passwords regenerated by account %s (%d shops)", g.scope.account_id, len(generated))
        return _no_store(Response(render_template("settings/shops/passwords_generated.html", generated=generated)))
    return render_template("settings/shops/passwords_regenerate.html")


@bp.route("/passwords/export", methods=["GET", "POST"])
@operator_required
def export_passwords():
    """全店PW出力: regenerate every shop's password and download them once as CSV."""
    if request.method == "POST":
        encoding = request.form.get("encoding")
        if encoding not in ENCODINGS:
            return render_template("settings/shops/passwords_export.html", encodings=ENCODINGS,
                                   errors={"encoding": ["文字コードを選んでください。"]}), 400
        refused = _reposted(".export_passwords")
        if refused:
            return refused
        generated = services().shops.regenerate_all_passwords(g.scope.as_dict())
        log.info("all shop passwords regenerated and exported by account %s from %s (%d rows)",
                 g.scope.account_id, client_ip(), len(generated))
        buffer = io.StringIO()
        writer = csvfiles.writer(buffer)
        writer.writerow(["店舗番号", "店舗名", "ログインID", "パスワード"])
        for row in generated:
            writer.writerow([row["shop_number"], row["shop_name"], row["login_id"], row["password"]])
        body = buffer.getvalue().encode(ENCODINGS[encoding][0], errors="replace")
        response = Response(body, mimetype="text/csv")
        response.headers["Content-Disposition"] = "attachment; filename=shop_passwords.csv"
        response.headers["Content-Type"] = f"text/csv; charset={'Shift_JIS' if encoding == 'cp932' else 'UTF-8'}"
        return _no_store(response)
    return render_template("settings/shops/passwords_export.html", encodings=ENCODINGS, errors={})


@bp.route("/ip", methods=["GET", "POST"])
@operator_required
def ip_allowlist():
    """IP設定: one address or CIDR range per line; an empty list allows every address."""
    scope = g.scope.as_dict()
    errors = {}
    if request.method == "POST":
        lines = request.form.get("networks", "").splitlines()
        try:
            saved = services().shops.update_allowlist(scope, lines, client_ip())
        except ValidationFailed as failure:
            # Errors come back by line index ("networks.2"); the page numbers lines from 1.
            errors = {(int(path.split(".")[1]) + 1 if path.count(".") else 0): messages
                      for path, messages in errors_of(failure).items()}
            return render_template("settings/shops/ip.html", text=request.form.get("networks", ""), errors=errors,
                                   ip=client_ip()), 400
        flash("IP設定を登録しました。" + ("" if saved["networks"] else "（制限なし: すべてのアドレスから接続できます）"), "info")
        return redirect(url_for(".ip_allowlist"))
    networks = services().shops.get_allowlist(scope)["networks"]
    return render_template("settings/shops/ip.html", text="\n".join(networks), errors=errors, ip=client_ip())


def _company_payload(form):
    return {
        "name": form.get("name", "").strip(),
        "name_kana": form.get("name_kana", "").strip(),
        "representative": form.get("representative", "").strip(),
        "contact_name": form.get("contact_name", "").strip(),
        "postal_code": joined(form, "postal_code1", "postal_code2"),
        "address": form.get("address", "").strip(),
        "phone": joined(form, "phone1", "phone2", "phone3"),
        "email": form.get("email", "").strip(),
    }


@bp.route("/company", methods=["GET", "POST"])
@operator_required
def company():
    scope = g.scope.as_dict()
    company = services().shops.get_company(scope)
    errors, values = {}, dict(company)
    if request.method == "POST":
        payload = _company_payload(request.form)
        try:
            services().shops.update_company(scope, payload)
        except ValidationFailed as failure:
            errors = errors_of(failure)
            values.update(payload)
        else:
            flash("企業情報を登録しました。", "info")
            return redirect(url_for(".company"))
    return render_template("settings/shops/company.html", company=company, values=values, errors=errors,
                           functions=services().shops.company_functions(scope)), (400 if errors else 200)
