"""配信管理 > 履歴, and the customer's メール送信履歴 tab."""
from flask import Blueprint, g, render_template, request

from ..auth import services
from .customers import TABS

bp = Blueprint("mails", __name__)

FAMILIES = (("", "すべて"), ("manual", "手動・手動シナリオ(一通目のみ)・曜日日時"),
            ("automatic", "自動・自動シナリオ(手動シナリオの2通目以降含む)"))


@bp.route("/mails/")
def index():
    family = request.args.get("family", "")
    mails = services().mailhistory.mail_summaries(g.scope.as_dict(), family or None)
    return render_template("mails/index.html", mails=mails, family=family, families=FAMILIES)


@bp.route("/customers/<int:customer_id>/mails")
def customer_mails(customer_id):
    customer = services().customers.get_customer(g.scope.as_dict(), customer_id)
    history = services().mailhistory.customer_history(g.scope.as_dict(), customer_id)
    return render_template("customers/mails.html", customer=customer, history=history, tab="mails", tabs=TABS)
