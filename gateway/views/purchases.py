"""A customer's 購入履歴: the tab, 購入履歴登録 by hand, edit, delete, 集計対象, and the CSV download."""
import io
import logging

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for

from services.common import csvfiles
from services.common.errors import ValidationFailed

from ..auth import client_ip, permission_required, services
from ..forms import checked, errors_of, number, posted_request_id, typed_moment
from .customers import TABS

log = logging.getLogger(__name__)
bp = Blueprint("purchases", __name__, url_prefix="/customers/<int:customer_id>/purchases")

LINE_ROWS = 5
MAX_LINE_ROWS = 500  # the most line rows a posted form is read for
ENCODINGS = {"cp932": "cp932", "utf8bom": "utf-8-sig"}


def _scope():
    return g.scope.as_dict()


def _purchase_payload(form, customer_id, groups):
    lines = []
    for i in range(min(number(form.get("line_count"), LINE_ROWS), MAX_LINE_ROWS)):
        code = form.get(f"line_{i}_product_code", "").strip()
        if not code:
            continue
        price = form.get(f"line_{i}_unit_price", "").strip()
        lines.append({"product_code": code, "line_remark": form.get(f"line_{i}_line_remark", "").strip(),
                      "quantity": form.get(f"line_{i}_quantity", "").strip() or 1,
                      "unit_price": price if price != "" else None})
    billed = form.get("billed_amount", "").strip()
    return {
        "customer_id": customer_id,
        "shop_id": number(form.get("shop_id")),
        "purchased_at": typed_moment(form.get("purchased_at")) or None,
        "shipped_at": typed_moment(form.get("shipped_at")) or None,
        "billed_amount": billed if billed != "" else None,
        "counted": checked(form, "counted"),
        "answers": {str(grp["id"]): number(form.get(f"answer_{grp['id']}")) for grp in groups
                    if number(form.get(f"answer_{grp['id']}")) is not None},
        "lines": lines,
    }


PER_PAGE = 20  # purchases per page of the tab (a customer with 201 orders made a 1.3 MB page when shown at once)


def _answers_shown(purchase, groups):
    """履歴グループ answers of a purchase as [(group name, choice label)], in the groups' order; retired groups and
    choices keep their names, since the answer was given when they were in use."""
    answers = purchase.get("answers") or {}
    shown = []
    for grp in groups:
        choice_id = answers.get(str(grp["id"]))
        if choice_id is None:
            continue
        labels = [c["label"] for c in grp["choices"] if c["id"] == choice_id]
        shown.append((grp["name"], labels[0] if labels else "—"))
    return shown


def _picked_names(form):
    """Product code → name as the pickers showed them ("CODE: name"), to show the lines again after an error."""
    names = {}
    for i in range(min(number(form.get("line_count"), LINE_ROWS), MAX_LINE_ROWS)):
        code, shown = form.get(f"line_{i}_product_code", "").strip(), form.get(f"line_{i}_product_label", "")
        if code and shown.startswith(f"{code}: "):
            names[code] = shown[len(code) + 2:]
    return names


@bp.route("/")
def index(customer_id):
    page = max(number(request.args.get("page"), 1) or 1, 1)
    customer = services().customers.get_customer(_scope(), customer_id)
    result = services().purchases.customer_purchases(_scope(), customer_id, page, PER_PAGE)
    groups = services().purchases.list_history_groups(_scope(), True)
    answers = {p["id"]: _answers_shown(p, groups) for p in result["purchases"]}
    return render_template("customers/purchases.html", customer=customer, result=result, purchases=result["purchases"],
                           answers=answers, tab="purchases", tabs=TABS, may_export=g.scope.may("may_export_purchases"))


def _form(customer, purchase=None):
    groups = [grp for grp in services().purchases.list_history_groups(_scope()) if grp["in_use"]]
    if request.method == "POST":
        shop_id = request.form.get("shop_id", type=int)
    else:
        shop_id = request.args.get("shop_id", type=int) or (purchase or customer)["shop_id"]
    shop_ids = {shop["id"] for shop in g.shops}
    if shop_id not in shop_ids:
        shop_id = customer["shop_id"] if customer["shop_id"] in shop_ids else g.current_shop["id"]
    return groups, shop_id


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:purchase_id>/edit", methods=["GET", "POST"])
def edit(customer_id, purchase_id=None):
    """購入履歴登録 (the manual's section 4) and its edit."""
    customer = services().customers.get_customer(_scope(), customer_id)
    purchase = services().purchases.get_purchase(_scope(), purchase_id) if purchase_id else None
    groups, shop_id = _form(customer, purchase)
    errors = {}
    values = dict(purchase) if purchase else {"counted": True, "answers": {}, "lines": []}
    values["shop_id"] = shop_id
    if request.method == "POST":
        payload = _purchase_payload(request.form, customer_id, groups)
        if purchase:  # what the form does not show stays as the cart recorded it
            payload.update(media=purchase["media"], order_attributes=purchase["order_attributes"])
        try:
            if purchase_id:
                services().purchases.update_purchase(_scope(), purchase_id, payload)
            else:
                services().purchases.create_purchase(_scope(), payload, request_id=posted_request_id(request.form))
        except ValidationFailed as failure:
            errors = errors_of(failure)
            names = _picked_names(request.form)
            values = dict(payload, lines=[dict(line, product_name=names.get(line["product_code"], ""))
                                          for line in payload["lines"]])
        else:
            flash("購入履歴を登録しました。", "info")
            return redirect(url_for(".index", customer_id=customer_id))
    rows = max(LINE_ROWS, len(values.get("lines") or []) + 1)
    return render_template("customers/purchase_form.html", customer=customer, purchase=purchase, groups=groups,
                           values=values, errors=errors, rows=rows, tab="purchases", tabs=TABS), (400 if errors else 200)


def _back_to_page(customer_id):
    """The tab's page the operator acted on."""
    page = number(request.form.get("page"), 1)
    return url_for(".index", customer_id=customer_id, page=page if page and page > 1 else None)


@bp.route("/<int:purchase_id>/counted", methods=["POST"])
def counted(customer_id, purchase_id):
    """集計対象 on or off from the 購入履歴 tab."""
    services().purchases.set_counted(_scope(), purchase_id, checked(request.form, "counted"))
    flash("集計対象を変更しました。", "info")
    return redirect(_back_to_page(customer_id))


@bp.route("/<int:purchase_id>/delete", methods=["POST"])
def delete(customer_id, purchase_id):
    services().purchases.delete_purchase(_scope(), purchase_id)
    flash("購入履歴を削除しました。", "info")
    return redirect(_back_to_page(customer_id))


@bp.route("/export.csv")
@permission_required("may_export_purchases")
def export(customer_id):
    """購入情報 download: allowed to shop accounts only with 購入情報 出力許可; every download is logged."""
    encoding = ENCODINGS.get(request.args.get("encoding", "cp932"), "cp932")
    customer = services().customers.get_customer(_scope(), customer_id)
    table = services().purchases.export_purchases(_scope(), customer_id)  # headers, labels, Japan time: its own
    buffer = io.StringIO()
    writer = csvfiles.writer(buffer)
    writer.writerow(table["headers"])
    writer.writerows(table["rows"])
    rows = len(table["rows"])
    log.info("personal data export: purchases of customer %s by account %s from %s, %d rows",
             customer_id, g.scope.account_id, client_ip(), rows)
    response = Response(buffer.getvalue().encode(encoding, errors="replace"), mimetype="text/csv")
    response.headers["Content-Disposition"] = f"attachment; filename=purchases_{customer['member_number']}.csv"
    return response
