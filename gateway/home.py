"""The top page: the manual's menu."""
from flask import Blueprint, render_template

bp = Blueprint("home", __name__)


@bp.route("/")
def index():
    return render_template("home.html")
