"""各種設定 > 商品: categories of the chosen shop with their product counts, and 商品マスタ手動登録."""
from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from services.common.errors import Conflict, ValidationFailed

from ..auth import services
from ..forms import errors_of, posted_request_id

bp = Blueprint("settings_products", __name__, url_prefix="/settings/products")


def _scope():
    return g.scope.as_dict()


def _shop_id():
    """The shop of the store picker (店舗: 103: LTV-Innovation Shop)."""
    return g.current_shop["id"]


@bp.route("/")
def index():
    categories = services().purchases.list_categories(_scope(), _shop_id())
    return render_template("settings/products/categories.html", categories=categories)


@bp.route("/categories/new", methods=["GET", "POST"])
def new_category():
    errors, name = {}, ""
    if request.method == "POST":
        name = request.form.get("name", "").strip()
        try:
            services().purchases.add_category(_scope(), _shop_id(), {"name": name},
                                               request_id=posted_request_id(request.form))
        except ValidationFailed as failure:
            errors = errors_of(failure)
        else:
            flash("商品カテゴリを登録しました。", "info")
            return redirect(url_for(".index"))
    return render_template("settings/products/category_new.html", name=name, errors=errors), (400 if errors else 200)


def _category(category_id):
    for category in services().purchases.list_categories(_scope(), _shop_id()):
        if category["id"] == category_id:
            return category
    from services.common.errors import NotFound

    raise NotFound("category not found")


@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
def category(category_id):
    """商品カテゴリ編集: rename, and the category's products."""
    current = _category(category_id)
    errors = {}
    if request.method == "POST":
        name = request.form.get("name", "").strip()
        try:
            services().purchases.rename_category(_scope(), category_id, {"name": name})
        except ValidationFailed as failure:
            errors = errors_of(failure)
            current["name"] = name
        except Conflict:
            errors = {"name": ["default カテゴリの名称は変更できません。"]}
        else:
            flash("カテゴリ名を変更しました。", "info")
            return redirect(url_for(".category", category_id=category_id))
    products = services().purchases.list_products(_scope(), _shop_id(), category_id)
    return render_template("settings/products/category.html", category=current, products=products,
                           errors=errors), (400 if errors else 200)


@bp.route("/categories/<int:category_id>/delete", methods=["POST"])
def delete_category(category_id):
    try:
        services().purchases.delete_category(_scope(), category_id)
    except Conflict as refusal:
        flash("default カテゴリは削除できません。" if refusal.message == "default_category"
              else "商品が登録されているカテゴリは削除できません。", "error")
    else:
        flash("商品カテゴリを削除しました。", "info")
    return redirect(url_for(".index"))


def _product_form(form):
    category_id = form.get("category_id", "")
    return {"code": form.get("code", "").strip(), "name": form.get("name", "").strip(),
            "category_id": int(category_id) if category_id.isdigit() else None,
            "price": form.get("price", "").strip() or 0}


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:product_id>", methods=["GET", "POST"])
def product(product_id=None):
    """商品追加 / 商品編集."""
    categories = services().purchases.list_categories(_scope(), _shop_id())
    errors = {}
    values = {"code": "", "name": "", "category_id": request.args.get("category_id", type=int), "price": ""}
    if product_id:
        found = [p for p in services().purchases.list_products(_scope(), _shop_id()) if p["id"] == product_id]
        if not found:
            from services.common.errors import NotFound

            raise NotFound("product not found")
        values = found[0]
    if request.method == "POST":
        values = _product_form(request.form)
        try:
            if product_id:
                saved = services().purchases.update_product(_scope(), product_id, values)
            else:
                saved = services().purchases.add_product(_scope(), _shop_id(), values,
                                                          request_id=posted_request_id(request.form))
        except ValidationFailed as failure:
            errors = errors_of(failure)
        else:
            flash("商品を登録しました。", "info")
            return redirect(url_for(".category", category_id=saved["category_id"]))
    return render_template("settings/products/product.html", values=values, categories=categories, errors=errors,
                           product_id=product_id), (400 if errors else 200)
