"""集計's reports as the search service's catalogue lists them (``search.report_catalogue``): the filters a report
offers, its chart (ECharts, static/report_chart.js) above its tables, and its CSV (CP932 or UTF-8 with BOM).

A shop account sees a report only with its 利用許可 and downloads it only with its 出力許可 (the search service checks
both and logs every download); its figures are its own shop's."""
import io
import re

from flask import Response, abort, g, redirect, render_template, request, url_for

from services.common import csvfiles
from services.common.errors import Forbidden, NotFound, ValidationFailed

from ..auth import client_ip, services
from ..forms import errors_of, typed_day
from ..messages import LABELS
from .reports import RFM_PERMISSION, bp
from .search import ENCODINGS

OPTION_NAMES = {"date_from": "期間（開始日）", "date_to": "期間（終了日）", "day": "基準日", "shop_ids": "店舗",
                "excluded_products": "除外する商品", "unit": "集計単位", "by": "集計軸", "view": "表示",
                "order_by": "並び順", "product": "商品番号", "together": "併売の範囲", "top": "表示件数",
                "lapse_days": "離脱とみなす日数", "first_product": "初回購入商品", "first_category": "初回購入商品カテゴリ",
                "first_media": "初回購入メディア"}
DAYS = ("date_from", "date_to", "day")
NUMBERS = ("top", "lapse_days")
TEXTS = ("product", "first_product", "first_category", "first_media")
_CODES = re.compile(r"[\s,、，]+")


def catalogue():
    """The search service's list of reports, asked once per request (the page's tabs and the report read it)."""
    if "report_catalogue" not in g:
        g.report_catalogue = services().search.report_catalogue()
    return g.report_catalogue


def visible_reports():
    """The catalogue's reports this account may open, for the 集計 tabs."""
    return [entry for entry in catalogue() if not entry["use_permission"] or g.scope.may(entry["use_permission"])]


def entry_of(kind):
    entry = next((entry for entry in catalogue() if entry["kind"] == kind), None)
    if entry is None:
        abort(404)
    if entry["use_permission"] and not g.scope.may(entry["use_permission"]):
        abort(403)
    return entry


def options_from(entry, args):
    """The report's options as the page's query gives them (only those its screen offers)."""
    options = {}
    for name in entry["options"]:
        value = args.get(name, "")
        if name == "shop_ids":
            wanted = args.get("shop_id", "")
            if not g.scope.is_shop and wanted.isdigit() and any(s["id"] == int(wanted) for s in g.shops):
                options["shop_ids"] = [int(wanted)]
        elif name == "excluded_products":
            options[name] = [code for code in _CODES.split(value) if code]
        elif name in DAYS:
            if value.strip():
                options[name] = typed_day(value)
        elif name in NUMBERS:
            if value.strip():
                options[name] = int(value) if value.strip().isdigit() else value
        elif value:
            options[name] = value.strip() if name in TEXTS else value
    return options


def error_lines(failure):
    return [f"{OPTION_NAMES.get(path.split('.')[0], '条件')}: {message}"
            for path, messages in errors_of(failure).items() for message in messages]


def shop_names():
    return {shop["id"]: f"{shop['shop_number']}: {shop['name']}" for shop in g.shops}


def cell_text(value, unit, shops):
    """A value as the page and the CSV write it (None: empty)."""
    if value is None:
        return ""
    if unit == "shop":
        return shops.get(value, str(value))
    if unit == "customer_class":
        return LABELS.get("customer_class", {}).get(value, value)
    return value


@bp.route("/")
def home():
    """集計 opens on the first report this account may see (購入状況 has no 利用許可: there is always one)."""
    reports = visible_reports()
    if g.scope.may(RFM_PERMISSION) and not any(entry["kind"] in ("daily_monthly", "sales") for entry in reports):
        return redirect(url_for(".rfm"))
    return redirect(url_for(".report", kind=reports[0]["kind"]))


@bp.route("/<kind>")
def report(kind):
    entry = entry_of(kind)
    options = options_from(entry, request.args)
    context = {"entry": entry, "choices": entry["choices"], "option_names": OPTION_NAMES,
               "args": request.args, "answer": None, "errors": [], "shops_named": shop_names(),
               "may_export": g.scope.may(entry["export_permission"]), "labels": LABELS}
    try:
        answer = services().search.report(g.scope.as_dict(), kind, options)
    except ValidationFailed as failure:
        context["errors"] = error_lines(failure)
        return render_template("reports/report.html", **context), 400
    chart = answer["chart"]
    if chart.get("x_unit") in ("shop", "customer_class"):
        chart["x"] = [cell_text(value, chart["x_unit"], context["shops_named"]) for value in chart["x"]]
    context["answer"] = answer
    return render_template("reports/report.html", **context)


@bp.route("/<kind>/report.csv")
def report_csv(kind):
    entry = entry_of(kind)
    if not g.scope.may(entry["export_permission"]):
        abort(403)
    codec = ENCODINGS.get(request.args.get("encoding", "cp932"), "cp932")
    try:
        answer = services().search.export_report(g.scope.as_dict(), kind, options_from(entry, request.args),
                                                 client_ip())
    except ValidationFailed:
        abort(400)
    except (Forbidden, NotFound):
        abort(403)
    shops = shop_names()
    buffer = io.StringIO()
    writer = csvfiles.writer(buffer)
    for number, table in enumerate(answer["tables"]):
        if number:
            writer.writerow([])
        writer.writerow([f"{answer['title']} {table['name']}"])
        writer.writerow([column["label"] for column in table["columns"]])
        writer.writerows([cell_text(value, column["unit"], shops) for value, column in zip(row, table["columns"])]
                         for row in table["rows"])
    response = Response(buffer.getvalue().encode(codec, errors="replace"), mimetype="text/csv")
    response.headers["Content-Disposition"] = f"attachment; filename=report_{kind}.csv"
    response.headers["Content-Type"] = f"text/csv; charset={'Shift_JIS' if codec == 'cp932' else 'UTF-8'}"
    return response
