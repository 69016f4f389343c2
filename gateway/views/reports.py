"""集計: RFM集計 — the 6×6 grid of a day (R×F, R×M or F×M) as a heat map coloured by rank and as a table, each cell
and rank a link to 顧客管理 > 検索 with its customers; and 移動, how customers moved between the ranks of two days —
and the reports of the search service's catalogue (日報・月報, 売上, リピート率, LTV推移, 継続・離脱, 商品, 購入状況), each a
chart above its tables with a CSV download (report_pages.py).

A shop account uses it with 集計:リピート率 利用許可 (権限設定 has no flag of RFM集計's own; R and F — how lately and
how often a customer comes back — and the movement between ranks answer the repeat-rate report's question), and its
figures are its own shop's (the search service sees to that)."""
import datetime as dt

from flask import Blueprint, g, render_template, request, url_for

from services.common.contracts import JST
from services.common.errors import ValidationFailed

from ..auth import permission_required, services
from ..forms import errors_of, typed_day
from .search import rfm_query

bp = Blueprint("reports", __name__, url_prefix="/reports")

RFM_PERMISSION = "may_use_repeat_rate_report"
AXES = (("rf", "R×F（最新購入からの日数×購入回数）"), ("rm", "R×M（最新購入からの日数×購入金額）"),
        ("fm", "F×M（購入回数×購入金額）"))
AXIS_NAMES = {"recency_days": "R 最新購入からの日数", "purchase_count": "F 購入回数", "purchase_total": "M 購入金額"}
FILTER_NAMES = {"day": "基準日", "day_from": "比較元の基準日", "day_to": "比較先の基準日", "shop_ids": "店舗",
                "axes": "軸"}
MOVEMENT_DAYS_BACK = 182  # the movement page opens comparing today with half a year ago


def japan_today():
    return dt.datetime.now(JST).date()


def _shop_ids():
    """店舗: one shop or all (a shop account: its own, whatever is asked)."""
    if g.scope.is_shop:
        return []
    wanted = request.args.get("shop_id", "")
    return [int(wanted)] if wanted.isdigit() and any(s["id"] == int(wanted) for s in g.shops) else []


def _error_lines(failure):
    return [f"{FILTER_NAMES.get(path.split('.')[0], '条件')}: {message}"
            for path, messages in errors_of(failure).items() for message in messages]


def _linked(item):
    return dict(item, href=url_for("search.index") + "?" + rfm_query(item["conditions"]))


@bp.route("/rfm")
@permission_required(RFM_PERMISSION)
def rfm():
    axes = request.args.get("axes", "rf")
    day = typed_day(request.args.get("day")) or japan_today().isoformat()
    options = {"day": day, "shop_ids": _shop_ids(), "axes": axes}
    context = {"axes_choices": AXES, "axis_names": AXIS_NAMES, "options": options, "grid": None, "errors": []}
    try:
        grid = services().search.rfm_grid(g.scope.as_dict(), options)
    except ValidationFailed as failure:
        context["errors"] = _error_lines(failure)
        return render_template("reports/rfm.html", **context), 400
    grid["cells"] = [[_linked(cell) for cell in row] for row in grid["cells"]]
    grid["ranks"] = [_linked(rank) for rank in grid["ranks"]]
    context["grid"] = grid
    context["hex_of"] = {rank["rank"]: rank["hex"] for rank in grid["ranks"]}
    return render_template("reports/rfm.html", **context)


@bp.route("/rfm/movement")
@permission_required(RFM_PERMISSION)
def rfm_movement():
    today = japan_today()
    day_to = typed_day(request.args.get("day_to")) or today.isoformat()
    day_from = (typed_day(request.args.get("day_from"))
                or (today - dt.timedelta(days=MOVEMENT_DAYS_BACK)).isoformat())
    options = {"day_from": day_from, "day_to": day_to, "shop_ids": _shop_ids()}
    context = {"options": options, "movement": None, "errors": []}
    try:
        context["movement"] = services().search.rfm_movement(g.scope.as_dict(), options)
    except ValidationFailed as failure:
        context["errors"] = _error_lines(failure)
        return render_template("reports/rfm_movement.html", **context), 400
    return render_template("reports/rfm_movement.html", **context)
