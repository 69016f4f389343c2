"""顧客管理 > 検索: the manual's condition panels, the count (and each panel's own count), the sorted, paged list."""
import io
import logging
import re
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, Response, flash, g, redirect, render_template, request, stream_with_context, url_for
from werkzeug.datastructures import MultiDict

from services.common import csvfiles
from services.common.errors import ValidationFailed

from ..auth import client_ip, permission_required, services
from ..forms import posted_request_id, typed_day
from ..messages import search_error_lines

log = logging.getLogger(__name__)

bp = Blueprint("search", __name__, url_prefix="/customers/search")

SECTION_LABELS = {"attributes": "属性検索", "latest": "最新購入情報 RFM分析", "period": "期間設定",
                  "mails": "メール履歴", "rfm": "RFM集計"}
FAMILIES = (("manual", "手動・手動シナリオ(一通目のみ)・曜日日時 送信履歴"),
            ("automatic", "自動・自動シナリオ(手動シナリオの2通目以降含む) 送信履歴"))
MAIL_KINDS = {"manual": (("manual", "手動"), ("manual_scenario", "手動シナリオ（一通目）"), ("scheduled", "曜日日時")),
              "automatic": (("automatic", "自動"), ("automatic_scenario", "自動シナリオ"),
                            ("manual_scenario", "手動シナリオ（2通目以降）"))}
SORTS = (("member_number", "会員番号"), ("registered_at", "登録日時"), ("latest_purchase_at", "最新購入日"),
         ("purchase_count", "累計購入回数"), ("purchase_total", "累計購入金額"), ("name", "フリガナ"))


def _text(args, name):
    return args.get(name, "").strip()


def _number(args, name):
    value = _text(args, name)
    return int(value) if value.lstrip("-").isdigit() else (value or None)


def _range(args, prefix):
    low, high = _number(args, f"{prefix}_min"), _number(args, f"{prefix}_max")
    return {"min": low, "max": high} if low is not None or high is not None else None


def _days(args, prefix):
    start, end = typed_day(args.get(f"{prefix}_from")), typed_day(args.get(f"{prefix}_to"))
    return {"from": start or None, "to": end or None} if start or end else None


def _ids(args, name):
    return [int(v) for v in args.getlist(name) if v.isdigit()]


def _codes(args, name):
    return [c.strip() for c in _text(args, name).replace("、", ",").split(",") if c.strip()]


def _rows(args, prefix):
    rows = []
    for n in (1, 2, 3):
        codes = _codes(args, f"{prefix}_row{n}_codes")
        if codes:
            rows.append({"product_codes": codes, "count": _range(args, f"{prefix}_row{n}") or {"min": 1}})
    return rows


def _flag(args, name):
    value = _text(args, name)
    return None if value == "" else value == "1"


def _attributes(args, groups):
    section = {
        "name": _text(args, "name"), "member_numbers": _text(args, "member_numbers") or None,
        "genders": args.getlist("genders"), "birth_date": _days(args, "birth"), "age": _range(args, "age"),
        "mail_permissions": args.getlist("mail_permissions"), "dm_permission": _flag(args, "dm_permission"),
        "line_permission": _flag(args, "line_permission"),
        "address_error": _flag(args, "address_error"), "email": _text(args, "email"), "phone": _text(args, "phone"),
        "choices": {str(grp["id"]): [int(v) if v.isdigit() else v for v in args.getlist(f"choice_{grp['id']}")]
                    for grp in groups if args.getlist(f"choice_{grp['id']}")},
        "remarks": {str(i): _text(args, f"remark{i}") for i in range(1, 11) if _text(args, f"remark{i}")},
        "fax": _text(args, "fax"),
        "extras": {str(i): _text(args, f"extra{i}") for i in range(1, 5) if _text(args, f"extra{i}")},
        "points_held": _range(args, "points_held"), "valid_points": _range(args, "valid_points"),
        "points_expiry": _days(args, "points_expiry"), "earliest_expiry": _days(args, "earliest_expiry"),
        "last_login": _days(args, "last_login"), "shop_ids": _ids(args, "shop_ids"),
        "registered": _days(args, "registered"),
    }
    # a flag set to 拒否 / なし (False) is a condition too
    return section if any(v is False or v for v in section.values()) else None


def _purchases(args, prefix, period):
    section = {"shop_ids": _ids(args, f"{prefix}_shop_ids"), "order_code": _text(args, f"{prefix}_order_code"),
               "order_attributes": ({_text(args, f"{prefix}_attr_key"): _text(args, f"{prefix}_attr_value")}
                                    if _text(args, f"{prefix}_attr_key") else {}),
               "product_rows": _rows(args, prefix)}
    if period:
        section.update(purchased=_days(args, "p_purchased"), shipped=_days(args, "p_shipped"),
                       purchase_count=_range(args, "p_count"), purchase_total=_range(args, "p_total"), media=_text(args, "p_media"),
                       bought_products=_codes(args, "p_products"), bought=_text(args, "p_bought") != "0")
        meaningful = {k: v for k, v in section.items() if k != "bought"}  # shops alone: who bought there
    else:
        section.update(first_purchase=_days(args, "l_first"), latest_purchase=_days(args, "l_latest"),
                       latest_shipped=_days(args, "l_shipped"), purchase_count=_range(args, "l_count"),
                       purchase_total=_range(args, "l_total"))
        meaningful = {k: v for k, v in section.items() if k != "shop_ids"}
    return section if any(meaningful.values()) else None


def _mail_references(family, typed):
    """Mail ids typed by the operator ('12, S5, S5-2': S for a scenario) → the family's mails they name."""
    ids, unknown = [], []
    for reference in re.split(r"[,、，\s]+", typed):
        if reference:
            found = services().mailhistory.find_mails(g.scope.as_dict(), reference, None, family)
            ids += [mail["id"] for mail in found]
            unknown += [] if found else [reference]
    if unknown:
        raise ValidationFailed("unknown mails", {f"mails.{family}.mail_ids": ["unknown_mail"]})
    return ids


def _mails(args):
    section = {}
    for family, _label in FAMILIES:
        kinds = [kind for kind in args.getlist(f"m_{family}_kinds") if kind in dict(MAIL_KINDS[family])]
        f = {"mail_ids": _ids(args, f"m_{family}_ids") + _mail_references(family, _text(args, f"m_{family}_ref")),
             "kinds": kinds, "period": _days(args, f"m_{family}"),
             **{flag: _text(args, f"m_{family}_{flag}") or None for flag in ("sent", "opened", "clicked", "qr_read")}}
        if any(f[flag] for flag in ("sent", "opened", "clicked", "qr_read")):
            section[family] = f
    return section or None


# RFM集計's condition (a cell or a rank opened from 集計 > RFM集計) in the query string: the figure's range, by axis
RFM_FIGURES = (("recency_days", "rfm_r"), ("purchase_count", "rfm_f"), ("purchase_total", "rfm_m"))
RANKS = ("A", "B", "C", "D", "E", "F", "G")


def _rfm(args):
    """The rfm section: present when any rfm_* field is (the day alone: every customer who bought by then)."""
    if not any(args.get(name, "").strip() for name in args if name.startswith("rfm_")):
        return None
    section = {"day": typed_day(args.get("rfm_day")) or None, "shop_ids": _ids(args, "rfm_shop_ids"),
               **{figure: _range(args, prefix) for figure, prefix in RFM_FIGURES},
               "ranks": [rank for rank in args.getlist("rfm_ranks") if rank in RANKS]}
    return {key: value for key, value in section.items() if value}


def rfm_query(conditions):
    """A condition document with an rfm section (as search.rfm_grid gives a cell or a rank) → the query string
    of 検索 that makes the same section, searched at once."""
    section = conditions["rfm"]
    pairs = [("search", "1"), ("rfm_day", (section.get("day") or "").replace("-", "/"))]
    pairs += [("rfm_shop_ids", str(shop_id)) for shop_id in section.get("shop_ids") or []]
    for figure, prefix in RFM_FIGURES:
        for end in ("min", "max"):
            value = (section.get(figure) or {}).get(end)
            if value is not None:
                pairs.append((f"{prefix}_{end}", str(value)))
    pairs += [("rfm_ranks", rank) for rank in section.get("ranks") or []]
    return urlencode(pairs)


def conditions_from(args, groups):
    """The query string of the search form → the search service's condition document."""
    conditions = {"attributes": _attributes(args, groups), "latest": _purchases(args, "l", period=False),
                  "period": _purchases(args, "p", period=True), "mails": _mails(args), "rfm": _rfm(args)}
    conditions = {k: v for k, v in conditions.items() if v}
    if args.get("saved", "").isdigit():
        conditions["saved_search_id"] = int(args["saved"])
    return conditions


ENCODINGS = {"cp932": "cp932", "utf8bom": "utf-8-sig"}


def _groups(scope):
    return [grp for grp in services().customers.list_groups(scope) if grp["in_use"]]


@bp.route("/export.csv")
@permission_required("may_export_customers")
def export():
    """The list as CSV, streamed slice by slice (a 500,000-row list is never held at once), and logged."""
    scope = g.scope.as_dict()
    columns = request.args.getlist("columns") or None  # the search service refuses a column it does not offer
    codec = ENCODINGS.get(request.args.get("encoding", "cp932"), "cp932")
    rpc = services().search
    groups = _groups(scope)
    try:  # errors surface before the download starts
        conditions = conditions_from(request.args, groups)
        first = rpc.export_rows(scope, conditions, columns, 0, 5000)
    except ValidationFailed as failure:
        for line in _error_lines(failure, groups):
            flash(line, "error")
        args = [(key, value) for key, value in request.args.items(multi=True) if key != "search"]
        return redirect(url_for(".index") + "?" + urlencode(args))
    ip = client_ip()

    def generate():
        sent, page, completed = 0, first, False
        try:
            buffer = io.StringIO()
            writer = csvfiles.writer(buffer)
            writer.writerow(page["headers"])
            yield buffer.getvalue().encode(codec, errors="replace")
            while page["rows"]:
                buffer = io.StringIO()
                writer = csvfiles.writer(buffer)
                writer.writerows(page["rows"])
                yield buffer.getvalue().encode(codec.replace("-sig", ""), errors="replace")
                sent += len(page["rows"])
                page = rpc.export_rows(scope, conditions, columns, page["last_id"], 5000)
            completed = True
        finally:
            rpc.log_export(scope, conditions, columns, sent, ip, completed)
            log.info("personal data export: customer list by account %s from %s, %d rows%s", scope["account_id"], ip,
                     sent, "" if completed else " (interrupted)")

    response = Response(stream_with_context(generate()), mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=customers.csv"
    response.headers["Content-Type"] = f"text/csv; charset={'Shift_JIS' if codec == 'cp932' else 'UTF-8'}"
    return response


@bp.route("/saved", methods=["POST"])
def save():
    """この条件を保存: live (re-evaluated) or frozen (today's customers)."""
    scope = g.scope.as_dict()
    query = MultiDict(parse_qsl(request.form.get("query", ""), keep_blank_values=True))
    try:
        conditions = conditions_from(query, _groups(scope))
        saved = services().search.save_search(scope, request.form.get("name", ""), conditions,
                                              request.form.get("frozen") == "1",
                                              request_id=posted_request_id(request.form))
    except ValidationFailed as failure:
        flash("保存できませんでした: " + " ".join(_error_lines(failure, _groups(scope))), "error")
    else:
        flash(f"検索条件を保存しました（{'固定リスト ' + str(saved['customer_count']) + '人' if request.form.get('frozen') == '1' else '条件を保存'}）。", "info")
    return redirect(url_for(".index") + "?" + request.form.get("query", ""))


@bp.route("/saved/<int:saved_id>/delete", methods=["POST"])
def delete_saved(saved_id):
    services().search.delete_saved_search(g.scope.as_dict(), saved_id)
    flash("保存した検索を削除しました。", "info")
    return redirect(url_for(".index"))


def _error_lines(failure, groups=(), remarks=()):
    """Each refused condition named as the screen names its field (never by its key in the condition document)."""
    return search_error_lines(failure.fields, {str(grp["id"]): grp["name"] for grp in groups},
                              {str(r["position"]): r["name"] for r in remarks})


@bp.route("/")
def index():
    """Three calls besides the session check: the form's settings, the mails of both families, and the saved
    searches with the count and the page (one search.search_page)."""
    scope = g.scope.as_dict()
    settings = services().customers.get_form_settings(scope)
    groups = [grp for grp in settings["groups"] if grp["in_use"]]
    remarks = [r for r in settings["remark_settings"] if r["shown"]]
    every_mail = services().mailhistory.find_mails(scope)
    mails = {family: [mail for mail in every_mail if mail["family"] == family] for family, _label in FAMILIES}
    context = {"groups": groups, "remarks": remarks, "mails": mails, "families": FAMILIES, "sorts": SORTS,
               "mail_kinds": MAIL_KINDS,
               "args": request.args, "labels": SECTION_LABELS, "result": None, "counts": None, "errors": [],
               "saved": [], "may_export": g.scope.may("may_export_customers"),
               # the download's columns as the search service offers them (headers and defaults are its own)
               "columns": services().search.export_columns() if g.scope.may("may_export_customers") else [],
               # a cell or a rank of RFM集計 opened here: its panel, with the company's names of the ranks
               "rfm_ranks": (services().search.rfm_settings(scope)["ranks"]
                             if any(name.startswith("rfm_") for name in request.args) else None)}
    conditions, paging = None, None
    try:
        if request.args.get("search"):
            paging = {"page": request.args.get("page", 1, type=int), "per_page": 50,
                      "sort": request.args.get("sort", "member_number"),
                      "descending": request.args.get("desc") == "1"}
            conditions = conditions_from(request.args, groups)
        page = services().search.search_page(scope, conditions, paging)
    except ValidationFailed as failure:
        context["errors"] = _error_lines(failure, groups, remarks)
        context["saved"] = services().search.list_saved_searches(scope)
        return render_template("customers/search.html", **context), 400
    context.update(saved=page["saved"], counts=page["counts"], result=page["result"])
    return render_template("customers/search.html", **context)
