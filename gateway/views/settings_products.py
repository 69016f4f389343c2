"""各種設定 > 商品: categories of the chosen shop with their product counts, 商品マスタ手動登録, and the products JSON
that the product picker (purchase form, search panels) asks as the operator types."""
from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for

from services.common.errors import Conflict, Forbidden, NotFound, ValidationFailed

from ..auth import services
from ..forms import errors_of, number, posted_request_id

bp = Blueprint("settings_products", __name__, url_prefix="/settings/products")


PER_PAGE = 50  # products per page of a category (a real shop has thousands)
PICKER_SIZE = 20  # products the picker lists at once; typing more narrows them


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
    q = request.args.get("q", "").strip()[:100]
    page = number(request.args.get("page"), 1) or 1
    result = services().purchases.search_products(_scope(), [_shop_id()], q, category_id, page, PER_PAGE)
    return render_template("settings/products/category.html", category=current, result=result, q=q,
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
        values = services().purchases.get_product(_scope(), product_id)
        if values["shop_id"] != _shop_id():  # the form offers the chosen shop's categories
            raise NotFound("product of another shop")
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


@bp.route("/picker.json")
def picker():
    """The product picker's answer: ``?q=`` words found in code, name or category, ``shop_id`` (repeated; none: every
    shop of the account), ``category_id``. {total, products: [{id, shop_id, code, name, category_name, price}]}; the
    session is checked before this view, and the service refuses a shop outside the account's."""
    shop_ids = [int(v) for v in request.args.getlist("shop_id") if v.isdecimal() and len(v) <= 10]
    shop_ids = shop_ids or [shop["id"] for shop in g.shops]
    category_id = number(request.args.get("category_id"))
    try:
        result = services().purchases.search_products(_scope(), shop_ids, request.args.get("q", ""), category_id,
                                                      1, PICKER_SIZE)
    except ValidationFailed as failure:
        messages = [m for found in errors_of(failure).values() for m in found]
        return jsonify(message=" ".join(messages) or "検索条件が正しくありません。"), 400
    except Forbidden:
        return jsonify(message="この店舗の商品は検索できません。"), 403
    return jsonify(total=result["total"], products=[
        {key: p[key] for key in ("id", "shop_id", "code", "name", "category_name", "price")} for p in result["products"]])
