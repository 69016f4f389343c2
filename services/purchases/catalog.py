"""商品: categories per shop (``default`` always there) and products.

A shop's ``default`` row is created with the first write to its catalogue (a category, a product, an order line);
until then listing shows it as a virtual entry without an id, so reading never writes. Every shop id a caller names
is checked against ``shop_ids``, the shops the shops service lists for the caller's scope.
"""
import unicodedata
from collections import namedtuple
from functools import partial

from sqlalchemy import func, or_, select

from services.common import arguments
from services.common.contracts import field_error, load
from services.common.db import add_unless_present, insert_for, one_of
from services.common.errors import Conflict, NotFound
from services.common.text import fold_width

from . import events, schemas
from .models import DEFAULT_CATEGORY, Category, Product

_category_input = schemas.CategoryInput()
_product_input = schemas.ProductInput()


def default_category(session, company_id, shop_id):
    """The shop's ``default`` category, created the first time it is needed."""
    def find():
        return session.scalar(select(Category).where(Category.shop_id == shop_id, Category.name == DEFAULT_CATEGORY))

    category = find()
    if category is None:
        category, created = add_unless_present(
            session, Category(company_id=company_id, shop_id=shop_id, name=DEFAULT_CATEGORY, version=1), find)
        if created:
            events.category_changed(session, category, 0)
    return category


def _count(session, category_id):
    return session.scalar(select(func.count()).select_from(Product).where(Product.category_id == category_id))


def _virtual_default(shop_id):
    return dict(id=None, shop_id=shop_id, name=DEFAULT_CATEGORY, product_count=0, version=0)


def list_categories(session, scope, shop_id, shop_ids):
    """Categories of a shop with their product counts (数量), ``default`` first (without an id while the shop's
    catalogue is still empty)."""
    scope.ensure_listed_shop(shop_id, shop_ids)
    counts = dict(session.execute(select(Product.category_id, func.count()).where(Product.shop_id == shop_id)
                                  .group_by(Product.category_id)).all())
    categories = session.scalars(select(Category).where(Category.shop_id == shop_id, Category.company_id ==
                                                        scope.company_id).order_by(Category.id)).all()
    ordered = sorted(categories, key=lambda c: (c.name != DEFAULT_CATEGORY, c.id))
    listed = [dict(id=c.id, shop_id=c.shop_id, name=c.name, product_count=counts.get(c.id, 0), version=c.version)
              for c in ordered]
    return listed if listed and listed[0]["name"] == DEFAULT_CATEGORY else [_virtual_default(shop_id)] + listed


def get_category(session, scope, category_id):
    category = session.get(Category, category_id)
    if category is None:
        raise NotFound("category not found")
    scope.ensure_shop(category.company_id, category.shop_id)
    return category


def _name_taken(session, shop_id, name, except_id=None):
    query = select(Category.id).where(Category.shop_id == shop_id, Category.name == name)
    if except_id:
        query = query.where(Category.id != except_id)
    return session.scalar(query) is not None


def add_category(session, scope, shop_id, data, shop_ids):
    scope.ensure_listed_shop(shop_id, shop_ids)
    name = load(_category_input, data)["name"]
    default_category(session, scope.company_id, shop_id)
    if _name_taken(session, shop_id, name):
        raise field_error("name", "taken")
    category = Category(company_id=scope.company_id, shop_id=shop_id, name=name, version=1)
    session.add(category)
    session.flush()
    events.category_changed(session, category, 0)
    return category


def rename_category(session, scope, category_id, data):
    category = get_category(session, scope, category_id)
    name = load(_category_input, data)["name"]
    if category.name == DEFAULT_CATEGORY:
        raise Conflict("default_category")
    if _name_taken(session, category.shop_id, name, category.id):
        raise field_error("name", "taken")
    category.name = name
    category.version += 1
    session.flush()
    events.category_changed(session, category, _count(session, category.id))
    return category


def delete_category(session, scope, category_id):
    """Only an empty category other than ``default`` can go."""
    category = get_category(session, scope, category_id)
    if category.name == DEFAULT_CATEGORY:
        raise Conflict("default_category")
    if _count(session, category.id):
        raise Conflict("category_not_empty")
    category.version += 1
    events.category_changed(session, category, 0, deleted=True)
    session.delete(category)
    session.flush()


def list_products(session, scope, shop_id, shop_ids, category_id=None, text=""):
    scope.ensure_listed_shop(shop_id, shop_ids)
    query = select(Product).where(Product.shop_id == shop_id, Product.company_id == scope.company_id)
    if category_id:
        query = query.where(Product.category_id == category_id)
    if text:
        query = query.where((Product.code.like(f"%{text}%")) | (Product.name.like(f"%{text}%")))
    return list(session.scalars(query.order_by(Product.code).limit(1000)))


MAX_PRODUCTS_PER_PAGE = 100
"""The most products one page of ``search_products`` holds (a picker shows 20, the product list 50)."""
MAX_SEARCH_SHOPS = 100
MAX_SEARCH_TEXT = 100


def _like(text):
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_products(session, scope, shop_ids, listed_shop_ids, text="", category_id=None, page=1, per_page=20):
    """Products of the shops ``shop_ids`` (each among ``listed_shop_ids``, the caller's), optionally of one category,
    whose code, name or category name holds every word of ``text`` (width and case folded), by code; one page:
    ``{"total", "page", "per_page", "products"}``."""
    shop_ids = arguments.id_list(shop_ids, "shop_ids", MAX_SEARCH_SHOPS)
    if not shop_ids:
        raise field_error("shop_ids", "required")
    text = arguments.text(text, "text", MAX_SEARCH_TEXT, allow_none=True) or ""
    category_id = arguments.optional_entity_id(category_id, "category_id")
    page, per_page = arguments.paging(page, per_page, MAX_PRODUCTS_PER_PAGE)
    for shop_id in shop_ids:
        scope.ensure_listed_shop(shop_id, listed_shop_ids)
    query = (select(Product).join(Category, Category.id == Product.category_id)
             .where(Product.company_id == scope.company_id, Product.shop_id.in_(shop_ids)))
    if category_id:
        query = query.where(Product.category_id == category_id)
    for word in unicodedata.normalize("NFKC", text).lower().split():
        # codes are stored folded (hyphen look-alikes as "-"); names as typed, where ー is a vowel, not a hyphen
        code, words = _like(fold_width(word)), _like(word)
        query = query.where(or_(func.lower(Product.code).like(code, escape="\\"),
                                func.lower(Product.name).like(words, escape="\\"),
                                func.lower(Category.name).like(words, escape="\\")))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Product.code, Product.shop_id, Product.id)
                           .offset((page - 1) * per_page).limit(per_page)).all()
    return {"total": total, "page": page, "per_page": per_page, "products": list(rows)}


def get_product(session, scope, product_id):
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound("product not found")
    scope.ensure_shop(product.company_id, product.shop_id)
    return product


def _category_for(session, scope, shop_id, category_id):
    if not category_id:
        return default_category(session, scope.company_id, shop_id)
    category = get_category(session, scope, category_id)
    if category.shop_id != shop_id:
        raise field_error("category_id", "unknown_category")
    return category


def add_product(session, scope, shop_id, data, shop_ids):
    """商品追加; a blank name copies the product code, as the manual says."""
    scope.ensure_listed_shop(shop_id, shop_ids)
    values = load(_product_input, data)
    if session.scalar(select(Product.id).where(Product.shop_id == shop_id, Product.code == values["code"])):
        raise field_error("code", "taken")
    category = _category_for(session, scope, shop_id, values["category_id"])
    product = Product(company_id=scope.company_id, shop_id=shop_id, code=values["code"],
                      name=values["name"] or values["code"], category_id=category.id, price=values["price"], version=1)
    session.add(product)
    session.flush()
    events.product_changed(session, product)
    return product


def update_product(session, scope, product_id, data):
    product = get_product(session, scope, product_id)
    values = load(_product_input, data)
    if values["code"] != product.code and session.scalar(
            select(Product.id).where(Product.shop_id == product.shop_id, Product.code == values["code"])):
        raise field_error("code", "taken")
    category = _category_for(session, scope, product.shop_id, values["category_id"])
    product.code, product.name, product.price = values["code"], values["name"] or values["code"], values["price"]
    product.category_id = category.id
    product.version += 1
    session.flush()
    session.expire(product, ["category"])
    events.product_changed(session, product)
    return product


def product_for_line(session, company_id, shop_id, code, name, price):
    """The shop's product with this code; an unknown code creates it in ``default`` (name copied from the code)."""
    def find():
        return session.scalar(select(Product).where(Product.shop_id == shop_id, Product.code == code))

    product = find()
    if product is None:
        category = default_category(session, company_id, shop_id)
        product, created = add_unless_present(
            session, Product(company_id=company_id, shop_id=shop_id, code=code, name=name or code,
                             category_id=category.id, price=price or 0, version=1), find)
        if created:
            events.product_changed(session, product)
    return product


_CODES_PER_QUERY = 1000
ProductRow = namedtuple("ProductRow", "id code name price")
"""A product as a batch's order lines name it. A plain tuple: a SQLAlchemy row's attribute costs a microsecond and
more, read four times for each of a batch's thousands of lines."""
_product_row = partial(tuple.__new__, ProductRow)  # made from the row's values (id, code, name, price) at once


def products_by_code(session, company_id, shop_id, codes):
    """The shop's products with these codes, {code: ProductRow} (a query per 1,000 codes; rows, not entities: a
    batch's order lines read a thousand of them, from the session's connection, without the ORM's handling of each
    row)."""
    codes, found = sorted(codes), {}
    for start in range(0, len(codes), _CODES_PER_QUERY):
        rows = session.connection().execute(select(Product.id, Product.code, Product.name, Product.price).where(
            Product.company_id == company_id, Product.shop_id == shop_id,
            one_of(session, Product.code, codes[start:start + _CODES_PER_QUERY])))
        found.update((row[1], _product_row(row)) for row in rows)
    return found


MAX_LABELLED_CODES = 100_000


def product_labels(session, scope, codes):
    """The names and categories of the products with these codes in the caller's shops (a shop account: its own; a
    code found in several shops: the lowest shop id's), {code: {"name", "category"}}: what 集計 writes next to the
    codes it counts."""
    codes = sorted({arguments.text(code, f"codes.{i}", 50)
                    for i, code in enumerate(arguments.items(codes, "codes", MAX_LABELLED_CODES))})
    found = {}
    for start in range(0, len(codes), _CODES_PER_QUERY):
        query = (select(Product.code, Product.name, Category.name).join(Category, Category.id == Product.category_id)
                 .where(Product.company_id == scope.company_id, Product.code.in_(codes[start:start + _CODES_PER_QUERY]))
                 .order_by(Product.shop_id.desc()))
        if scope.is_shop:
            query = query.where(Product.shop_id == scope.shop_id)
        found.update((code, {"name": name, "category": category}) for code, name, category in session.execute(query))
    return found


def products_for_lines(session, company_id, wanted):
    """``product_for_line`` for many codes at once: ``wanted`` maps (shop id, code) to the (name, price) of the first
    line naming it. The shop's codes are inserted in one statement into ``default`` (a code another transaction
    inserted meanwhile is kept as it stored it), the created ones announced together. Returns {(shop id, code):
    row with id, code, name, price} for every key."""
    found = {}
    for shop_id in sorted({shop for shop, _code in wanted}):
        codes = sorted(code for shop, code in wanted if shop == shop_id)
        category = default_category(session, company_id, shop_id)
        rows = [{"company_id": company_id, "shop_id": shop_id, "code": code, "name": wanted[(shop_id, code)][0] or code,
                 "category_id": category.id, "price": wanted[(shop_id, code)][1] or 0, "version": 1} for code in codes]
        created = set(session.scalars(
            insert_for(session, Product.__table__).on_conflict_do_nothing(index_elements=["shop_id", "code"])
            .returning(Product.__table__.c.id), rows))
        found.update(((shop_id, code), product)
                     for code, product in products_by_code(session, company_id, shop_id, codes).items())
        if created:
            events.products_changed(session, session.scalars(select(Product).where(Product.id.in_(sorted(created)))
                                                             .order_by(Product.id)).all())
    return found
