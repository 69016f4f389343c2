"""売上: the sales of the period split by shop, by 購入メディア, by 顧客区分 or by 商品カテゴリ — how much each group
sold, in how many orders, to how many customers, and its share of the period's sales.

By shop, media or 顧客区分 the sales are orders: the counted purchases of the period at the chosen shops (``basis``:
their amount is the 請求金額 less the left-out products' lines, and an order of only left-out products is none), a
customer's 顧客区分 being the one they have now; 受注件数 counts the orders, 購入者数 the distinct customers, 客単価 is
the amount per order. An order without a media is written （なし）.

By 商品カテゴリ the sales are lines: the lines of the period's counted purchases at the chosen shops, left-out products
excepted, each selling quantity × unit price (so discounts and 送料 on the order are not in them); a product is in the
category the catalogue gives it, 未分類 when it has none or is not in the catalogue; 購入者数 counts the distinct
customers who bought any product of the category.

構成比 is a group's share of the sales of all groups; the last row (合計) is the whole period, its 購入者数 the distinct
customers over all groups (not the sum of the rows: a customer may be in several).
"""
from sqlalchemy import ARRAY, Integer, String, distinct, func, literal, literal_column, select

from ..store_tables import customers, lines
from . import basis
from .buyers import distinct_customers
from .results import chart, column, per, rate, series, table

NO_MEDIA = "（なし）"
UNCLASSIFIED = "未分類"
GROUP_COLUMNS = {"shop": column("group", "店舗", "shop"), "media": column("group", "購入メディア", "text"),
                 "customer_class": column("group", "顧客区分", "customer_class"),
                 "category": column("group", "商品カテゴリ", "text")}
ORDER_COLUMNS = [column("orders", "受注件数"), column("sales", "売上金額", "yen"), column("customers", "購入者数"),
                 column("average", "客単価", "yen"), column("share", "構成比", "percent")]
LINE_COLUMNS = [column("quantity", "数量", "number"), column("sales", "売上金額", "yen"),
                column("customers", "購入者数"), column("share", "構成比", "percent")]
TOTAL = "合計"


def _rolled_up(reading, key, customer, measures, source, where=()):
    """({group value: [*measures, customers]}, the whole's [*measures, customers]): the sums grouped by ``key`` with a
    ROLLUP, then the distinct ``customer`` of each group and of the whole (``buyers.distinct_customers``: the whole's
    counted, not summed)."""
    groups, whole = {}, None
    for grouping, value, *figures in reading.execute(select(func.grouping(key), key, *measures).select_from(source)
                                                     .where(*where).group_by(func.rollup(key))):
        if grouping:
            whole = figures
        else:
            groups[value] = figures
    if whole is None:
        return {}, None
    keyed = select(key.label("key"), customer.label("customer_id")).select_from(source).where(*where).subquery()
    buyers = distinct_customers(reading, keyed, {"group": (keyed.c.key, list(groups))})
    return {value: [*figures, buyers["group"][value]] for value, figures in groups.items()}, [*whole, buyers[None]]


def _ordered(groups):
    """The groups' (value, figures) by sales (figures[1]) descending, then the value (None last)."""
    return sorted(groups.items(), key=lambda item: (-item[1][1], item[0] is None, item[0] if item[0] is not None
                                                     else ""))


def by_orders(reading, options):
    """([(group value, [orders, sales, customers])] in order, the whole's [orders, sales, customers])."""
    rows = basis.purchase_rows(options, until=options["date_to"], since=options["date_from"]).subquery()
    source = rows
    if options["by"] == "customer_class":
        source = rows.outerjoin(customers, customers.c.id == rows.c.customer_id)
        key = customers.c.customer_class
    elif options["by"] == "media":
        key = func.coalesce(rows.c.media, literal_column("''"))
    else:
        key = rows.c.shop_id
    measures = [func.count(), func.coalesce(func.sum(rows.c.amount), 0)]
    groups, whole = _rolled_up(reading, key, rows.c.customer_id, measures, source)
    groups = {value: [orders, int(sales), buyers] for value, (orders, sales, buyers) in groups.items()}
    orders, sales, buyers = whole or (0, 0, 0)
    return _ordered(groups), [orders, int(sales), buyers]


def categories_of(reading, options):
    """{product code: category} of the products sold in the period that the catalogue puts in a category (the rest
    are 未分類)."""
    where = basis.period_lines(options)
    codes = [code for (code,) in reading.execute(select(distinct(lines.c.product_code)).where(*where))]
    labels = reading.product_labels(codes) if codes else {}
    return {code: label["category"] for code, label in labels.items()
            if label.get("category") and label["category"] != UNCLASSIFIED}


def by_lines(reading, options):
    """([(category, [quantity, sales, customers])] in order, the whole's [quantity, sales, customers]). The lines are
    joined to the list of (code, the number of its category): grouping by a number is faster than by a name."""
    L = lines.c
    categories = categories_of(reading, options)
    names = sorted(set(categories.values()))
    source = lines
    if categories:
        number = {name: index for index, name in enumerate(names)}
        pairs = sorted((code, number[name]) for code, name in categories.items())
        # two lists bound as two values and unnested side by side: a VALUES of thousands of rows is slow to compile
        mapping = select(func.unnest(literal([code for code, _n in pairs], ARRAY(String))).label("code"),
                         func.unnest(literal([n for _code, n in pairs], ARRAY(Integer))).label("category")
                         ).subquery("categories")
        source = lines.outerjoin(mapping, mapping.c.code == L.product_code)
        key = mapping.c.category
    else:
        key = literal_column("CAST(NULL AS INTEGER)")
    measures = [func.coalesce(func.sum(L.quantity), 0), func.coalesce(func.sum(basis.line_amount()), 0)]
    groups, whole = _rolled_up(reading, key, L.customer_id, measures, source, basis.period_lines(options))
    groups = {UNCLASSIFIED if value is None else names[value]: [int(quantity), int(sales), buyers]
              for value, (quantity, sales, buyers) in groups.items()}
    quantity, sales, buyers = whole or (0, 0, 0)
    return _ordered(groups), [int(quantity), int(sales), buyers]


def report(reading, options):
    by = options["by"]
    if by == "category":
        ordered, whole = by_lines(reading, options)
        rows = [[value, *figures, rate(figures[1], whole[1])] for value, figures in ordered]
        total = [TOTAL, *whole, rate(whole[1], whole[1])]
        columns = LINE_COLUMNS
        x_unit, x = "text", [value for value, _figures in ordered]
    else:
        ordered, whole = by_orders(reading, options)
        shown = (lambda value: value or NO_MEDIA) if by == "media" else (lambda value: value)
        rows = [[shown(value), orders, sales, buyers, per(sales, orders), rate(sales, whole[1])]
                for value, (orders, sales, buyers) in ordered]
        orders, sales, buyers = whole
        total = [TOTAL, orders, sales, buyers, per(sales, orders), rate(sales, sales)]
        columns = ORDER_COLUMNS
        x_unit = {"shop": "shop", "customer_class": "customer_class"}.get(by, "text")
        x = [row[0] for row in rows]
    group = GROUP_COLUMNS[by]
    return {"chart": chart("bar", x, [series("売上金額", [figures[1] for _value, figures in ordered])],
                           x_name=group["label"], y_names=("売上金額（円）",), x_unit=x_unit),
            "tables": [table(f"{group['label']}別", [group, *columns], rows + [total])]}
