"""顧客管理: 登録 (with 確認), the customer page with its tabs, edit, delete, 対応履歴, 住所検索."""
import datetime as dt

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for

from services.common.errors import Unavailable, ValidationFailed

from ..auth import services
from ..forms import checked, errors_of, joined, number, posted_request_id, typed_day, typed_moment
from ..rpc import ServiceUnavailable

bp = Blueprint("customers", __name__, url_prefix="/customers")

TABS = (("attributes", "属性情報"), ("purchases", "購入履歴"), ("mails", "メール送信履歴"),
        ("behaviour", "行動履歴"), ("support", "対応履歴"))
# Tabs whose data arrive with later services say so plainly.
PENDING_TABS = {"behaviour": "行動履歴（サイト内の閲覧など）は、連携機能が入ると表示されます。"}


def _scope():
    return g.scope.as_dict()


def _form_context(settings=None):
    """What a customer form shows; ``settings`` as customers.get_form_settings returns them (asked for if None)."""
    settings = settings or services().customers.get_form_settings(_scope())
    return {
        "remark_settings": settings["remark_settings"],
        "groups": [grp for grp in settings["groups"] if grp["in_use"]],
        "shops": g.shops,
    }


@bp.app_template_global()
def customer_contacts(customer):
    """The customer page header's 最新購入店舗 and 最新メール送信日, from the purchases and mail-history services (as
    the caller may see them: a shop account, its own shop's): {latest_shop, latest_mail_sent_at, unknown}; a service
    that does not answer puts its value in ``unknown`` instead of failing the whole page."""
    contacts = {"latest_shop": "", "latest_mail_sent_at": "", "unknown": []}
    try:
        bought = services().purchases.customer_purchases(_scope(), customer["id"], 1, 1)["purchases"]  # the newest
    except (ServiceUnavailable, Unavailable):
        contacts["unknown"].append("latest_shop")
    else:
        if bought:
            shop_id = bought[0]["shop_id"]
            contacts["latest_shop"] = next((f"{s['shop_number']}: {s['name']}" for s in g.shops if s["id"] == shop_id),
                                           str(shop_id))
    try:
        history = services().mailhistory.customer_history(_scope(), customer["id"])
    except (ServiceUnavailable, Unavailable):
        contacts["unknown"].append("latest_mail_sent_at")
    else:
        sent = [m["sent_at"] for m in history["mails"] if m.get("sent_at")]
        contacts["latest_mail_sent_at"] = max(sent, key=_moment) if sent else ""
    return contacts


def _moment(value):
    return dt.datetime.fromisoformat(value)


def _integer(value):
    value = (value or "").strip()
    return 0 if value == "" else value


def default_mail_permission(form):
    """送信許可 when none was picked: it follows the addresses entered (PC first, as the manual's example), and none
    without an address, so that 店舗 and 姓名 alone register a customer."""
    if form.get("pc_email", "").strip():
        return "pc"
    if form.get("mobile_email", "").strip():
        return "mobile"
    return "refused"


def customer_payload(form, remark_settings, groups):
    """The admin form → the customers service's payload."""
    payload = {
        "shop_id": number(form.get("shop_id")),
        "family_name": form.get("family_name", ""), "given_name": form.get("given_name", ""),
        "family_kana": form.get("family_kana", ""), "given_kana": form.get("given_kana", ""),
        "member_number": form.get("member_number", ""),
        "gender": form.get("gender", "unknown"),
        "birth_date": typed_day(form.get("birth_date")),
        "mail_permission": form.get("mail_permission") or default_mail_permission(form),
        "mobile_email": form.get("mobile_email", ""), "mobile_is_smartphone": checked(form, "mobile_is_smartphone"),
        "pc_email": form.get("pc_email", ""), "pc_is_smartphone": checked(form, "pc_is_smartphone"),
        "dm_permission": form.get("dm_permission", "1") == "1",
        "line_permission": form.get("line_permission", "1") == "1",
        "test_recipient": checked(form, "test_recipient"),
        "mobile_phone": joined(form, "mobile_phone1", "mobile_phone2", "mobile_phone3"),
        "home_phone": joined(form, "home_phone1", "home_phone2", "home_phone3"),
        "fax": joined(form, "fax1", "fax2", "fax3"),
        "postal_code": joined(form, "postal_code1", "postal_code2"),
        "address": form.get("address", ""),
        "customer_class": form.get("customer_class", "new"),
        "points_held": _integer(form.get("points_held")), "valid_points": _integer(form.get("valid_points")),
        "points_expiry": typed_day(form.get("points_expiry")),
        "earliest_expiry": typed_day(form.get("earliest_expiry")),
        "last_login_at": typed_moment(form.get("last_login_at")),
        "choices": {str(grp["id"]): number(form.get(f"group_{grp['id']}")) for grp in groups},
    }
    for remark in remark_settings:
        if remark["shown"]:
            payload[f"remark{remark['position']}"] = form.get(f"remark{remark['position']}", "")
    for i in range(1, 5):
        payload[f"extra{i}"] = form.get(f"extra{i}", "")
    return payload


@bp.route("/")
def index():
    page = number(request.args.get("page"), 1) or 1
    text = request.args.get("q", "").strip()
    try:
        result = services().customers.list_customers(_scope(), page, 50, text)
    except ValidationFailed as failure:  # the filter as typed cannot be searched for: say so beside it
        result = {"total": 0, "page": 1, "per_page": 50, "customers": []}
        return render_template("customers/list.html", result=result, q=text,
                               errors={"q": errors_of(failure).get("text", ["入力内容が正しくありません。"])}), 400
    return render_template("customers/list.html", result=result, q=text, errors={})


@bp.route("/new", methods=["GET", "POST"])
def new():
    context = _form_context()
    values = {"shop_id": g.current_shop["id"] if g.current_shop else None, "gender": "unknown",
              "mail_permission": None, "dm_permission": True, "line_permission": True,
              "customer_class": "new", "choices": {}}
    errors = {}
    if request.method == "POST":
        payload = customer_payload(request.form, context["remark_settings"], context["groups"])
        action = request.form.get("action")
        if action == "confirm_purchase":
            action = "confirm"
        values = dict(payload)
        if action != "back":
            try:
                clean = services().customers.validate_customer(_scope(), payload)
            except ValidationFailed as failure:
                errors = errors_of(failure)
            else:
                if action == "save":
                    created = services().customers.create_customer(_scope(), payload,
                                                                   request_id=posted_request_id(request.form))
                    flash(f"顧客を登録しました（会員番号 {created['member_number']}）。", "info")
                    if request.form.get("next") == "purchase":  # 購入履歴登録 was asked for on the form
                        return redirect(url_for("purchases.edit", customer_id=created["id"]))
                    return redirect(url_for(".show", customer_id=created["id"]))
                return render_template("customers/confirm.html", values=clean, payload=payload,
                                       form=request.form, **context)
    return render_template("customers/form.html", values=values, errors=errors, mode="new",
                           **context), (400 if errors else 200)


@bp.route("/<int:customer_id>")
def show(customer_id):
    view = services().customers.get_customer_view(_scope(), customer_id)
    return render_template("customers/show.html", customer=view["customer"], tab="attributes", tabs=TABS,
                           **_form_context(view))


@bp.route("/<int:customer_id>/<any(behaviour):tab>")
def pending_tab(customer_id, tab):
    customer = services().customers.get_customer(_scope(), customer_id)
    return render_template("customers/pending_tab.html", customer=customer, tab=tab, tabs=TABS,
                           message=PENDING_TABS[tab])


@bp.route("/<int:customer_id>/edit", methods=["GET", "POST"])
def edit(customer_id):
    view = services().customers.get_customer_view(_scope(), customer_id)
    customer, context = view["customer"], _form_context(view)
    values, errors = dict(customer), {}
    for remark in context["remark_settings"]:
        values[f"remark{remark['position']}"] = customer["remarks"][remark["position"] - 1]
    for i in range(1, 5):
        values[f"extra{i}"] = customer["extras"][i - 1]
    if request.method == "POST":
        payload = customer_payload(request.form, context["remark_settings"], context["groups"])
        try:
            services().customers.update_customer(_scope(), customer_id, payload)
        except ValidationFailed as failure:
            errors = errors_of(failure)
            values.update(payload)
        else:
            flash("顧客情報を更新しました。", "info")
            return redirect(url_for(".show", customer_id=customer_id))
    return render_template("customers/form.html", values=values, errors=errors, mode="edit", customer=customer,
                           **context), (400 if errors else 200)


@bp.route("/<int:customer_id>/delete", methods=["POST"])
def delete(customer_id):
    services().customers.delete_customer(_scope(), customer_id)
    flash("顧客を削除しました。", "info")
    return redirect(url_for(".index"))


# --- 対応履歴 ----------------------------------------------------------------------------------

def _entry_payload(form):
    return {"staff": form.get("staff", "").strip(), "entered_at": typed_moment(form.get("entered_at")) or None,
            "content": form.get("content", "").strip()}


def _day_bound(value, end):
    value = typed_day(value)
    if not value:
        return None
    return f"{value}T23:59:59" if end else f"{value}T00:00:00"


@bp.route("/<int:customer_id>/support", methods=["GET", "POST"])
def support(customer_id):
    customer = services().customers.get_customer(_scope(), customer_id)
    errors, values = {}, {"staff": g.context["account"]["display_name"], "entered_at": "", "content": ""}
    if request.method == "POST":
        values = _entry_payload(request.form)
        try:
            services().customers.add_support_entry(_scope(), customer_id, values,
                                                  request_id=posted_request_id(request.form))
        except ValidationFailed as failure:
            errors = errors_of(failure)
        else:
            flash("対応履歴を登録しました。", "info")
            return redirect(url_for(".support", customer_id=customer_id))
    period = {"from": request.args.get("from", ""), "to": request.args.get("to", "")}
    try:
        entries = services().customers.list_support_entries(
            _scope(), customer_id, _day_bound(period["from"], False), _day_bound(period["to"], True))
        period_error = None
    except ValidationFailed:
        entries, period_error = [], "記入日の形式が正しくありません（例: 2022/09/01）。"
    return render_template("customers/support.html", customer=customer, tab="support", tabs=TABS, entries=entries,
                           values=values, errors=errors, period=period, period_error=period_error,
                           adding=request.method == "POST" or request.args.get("new") == "1"), (400 if errors else 200)


@bp.route("/<int:customer_id>/support/<int:entry_id>/edit", methods=["GET", "POST"])
def edit_support(customer_id, entry_id):
    customer = services().customers.get_customer(_scope(), customer_id)
    entries = services().customers.list_support_entries(_scope(), customer_id)
    entry = next((e for e in entries if e["id"] == entry_id), None)
    if entry is None:
        abort(404)
    errors, values = {}, dict(entry)
    if request.method == "POST":
        values = _entry_payload(request.form)
        try:
            services().customers.update_support_entry(_scope(), entry_id, values)
        except ValidationFailed as failure:
            errors = errors_of(failure)
        else:
            flash("対応履歴を更新しました。", "info")
            return redirect(url_for(".support", customer_id=customer_id))
    return render_template("customers/support_edit.html", customer=customer, tab="support", tabs=TABS, entry=entry,
                           values=values, errors=errors), (400 if errors else 200)


@bp.route("/<int:customer_id>/support/<int:entry_id>/delete", methods=["POST"])
def delete_support(customer_id, entry_id):
    services().customers.get_customer(_scope(), customer_id)
    services().customers.delete_support_entry(_scope(), entry_id)
    flash("対応履歴を削除しました。", "info")
    return redirect(url_for(".support", customer_id=customer_id))


@bp.route("/address-lookup")
def address_lookup():
    """住所検索 for the form's button: JSON {address} or {error}."""
    try:
        found = services().customers.lookup_address(request.args.get("postal_code", ""))
    except ValidationFailed as failure:
        return jsonify({"error": errors_of(failure).get("postal_code", ["入力内容が正しくありません。"])[0]}), 400
    return jsonify(found)
