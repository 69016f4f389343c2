"""各種設定 > RFM設定 (per company, company operators): the seven ranks' names, the six band starts of R, F and M,
and the rank of each R×F cell. Kept by the search service (search.rfm_settings / update_rfm_settings)."""
from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from services.common.errors import ValidationFailed

from ..auth import operator_required, services
from ..forms import errors_of, number, posted_request_id

bp = Blueprint("settings_rfm", __name__, url_prefix="/settings")

AXES = (("recency_days", "R（最新購入からの日数）", "日"), ("purchase_count", "F（購入回数）", "回"),
        ("purchase_total", "M（購入金額）", "円"))
BANDS = 6


def _posted(form, ranks):
    """The form → update_rfm_settings' payload; a value that is no whole number is sent as typed (empty: None), for
    the service to refuse beside its field."""
    def start(axis, band):
        typed = form.get(f"{axis}_{band}", "").strip().replace(",", "")
        return number(typed, typed or None)

    return {"rank_names": {r["rank"]: form.get(f"rank_name_{r['rank']}", "").strip() for r in ranks},
            **{axis: [start(axis, band) for band in range(BANDS)] for axis, _label, _unit in AXES},
            "cells": [[form.get(f"cell_{row}_{column}", "") for column in range(BANDS)] for row in range(BANDS)]}


@bp.route("/rfm", methods=["GET", "POST"])
@operator_required
def rfm():
    scope = g.scope.as_dict()
    settings = services().search.rfm_settings(scope)
    values, errors = settings, {}
    if request.method == "POST":
        payload = _posted(request.form, settings["ranks"])
        try:
            services().search.update_rfm_settings(scope, payload, request_id=posted_request_id(request.form))
        except ValidationFailed as failure:
            errors = errors_of(failure)
            values = dict(settings, **payload)
        else:
            flash("RFM設定を登録しました。RFM集計と顧客検索のRFMランクに反映されます。", "info")
            return redirect(url_for(".rfm"))
    return render_template("settings/rfm.html", settings=settings, values=values, errors=errors, axes=AXES,
                           bands=range(BANDS), hex_of={r["rank"]: r["hex"] for r in settings["ranks"]}), (400 if errors else 200)
