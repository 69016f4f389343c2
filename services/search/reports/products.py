"""商品: what sold, what first-time buyers bought, and what sells with a product (併売), over the lines of the period.

The period's lines are the lines of counted purchases bought on the Japan days date_from〜date_to at the chosen shops
(all when none), lines of left-out products (送料, gifts) not counted; a line's amount is quantity × unit price. Each
list is the first ``top`` products by its measure, descending, then by product code; a product is named and put in a
category by the purchases service's catalogue (未分類 when it does not know the code).

- ランキング (view ``ranking``): per product code, 数量 (the sum of its quantities), 売上金額 (the sum of its line
  amounts), 購入者数 (distinct customers), 受注件数 (distinct purchases) and 売上構成比 (its 売上金額 of all the
  period's line amounts, %), ordered by 数量, 売上金額 or 購入者数 (``order_by``).
- 初回購入商品 (view ``first``): the customers' first purchases (the first over their whole history at the shops, by
  moment then id, as ``basis.purchase_order`` orders them) bought in the period; per product in them, 初回購入者数
  (customers whose first purchase held it), 初回購入者に占める割合 (of all the period's first-time buyers),
  うち2回目購入あり (those of them whose second purchase was bought by today) and F2転換率 (うち2回目購入あり of
  初回購入者数). Over all products, a summary of the period's first-time buyers, those with a second purchase by
  today and their F2転換率.
- 併売 (view ``together``, the product P of ``product``):
  - 同じ注文 (``together`` = ``order``): among the period's purchases holding P, each other product Q in them:
    同時購入件数 (purchases holding both), 併売率 (同時購入件数 of P's purchases) and リフト (併売率 ÷ the share of
    all the period's purchases that hold Q: above 1, Q is bought with P more than it is bought at all).
  - その後の購入 (``later``): the customers who bought P in the period; each product Q they bought in a later
    purchase (bought after the moment of their first purchase of P in the period, up to date_to; P itself is kept:
    buying it again is the repeat question): 購入者数, 割合 (of P's buyers) and リフト (割合 ÷ the share of all the
    period's buyers who bought Q in the period).
  リフト to two decimals (half up), none when a share has no whole. A summary: P's purchases and buyers in the
  period beside all the period's purchases (同じ注文) or buyers (その後の購入).

The purchases that count are ``basis.purchase_rows``' (a purchase with only left-out lines is none). The first
purchases are ``basis.firsts``: the customers' rows over every shop with nothing left out, else their purchases
grouped by customer.
"""
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import case, func, literal, literal_column, select, union_all

from services.common.contracts import field_error

from ..ranges import day_start
from ..store_tables import lines
from . import basis
from .results import chart, column, rate, series, table

L = lines.c
CHARTED = 20  # the products the chart shows: the first of the list
UNKNOWN_CATEGORY = "未分類"
ORDERS = {"quantity": (1, "数量", "数量"), "sales": (2, "売上金額", "売上金額（円）"),
          "buyers": (3, "購入者数", "購入者数（人）")}
"""order_by: (the measure's place in a ranking row, its name, the chart's axis)."""
PRODUCT_COLUMNS = [column("rank", "順位", "number"), column("product_code", "商品番号", "text"),
                   column("product_name", "商品名", "text"), column("category", "商品カテゴリ", "text")]


def purchase_moments(options, since=None, until=None, of_customers=None):
    """SELECT customer_id, purchase_id, purchased_at of ``basis.purchase_rows``: the purchases that count (bought on
    or after the Japan day ``since`` and on or before ``until`` when given)."""
    rows = basis.purchase_rows(options, until=until, since=since, of_customers=of_customers).subquery()
    return select(rows.c.customer_id, rows.c.id.label("purchase_id"), rows.c.purchased_at)


def lift(part, whole, base_part, base_whole):
    """(part / whole) ÷ (base_part / base_whole) to two decimals (half up); None when either share has no whole or
    the base share is 0."""
    if not whole or not base_part or not base_whole:
        return None
    value = Decimal(part * base_whole) / Decimal(whole * base_part)
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _labelled(reading, codes):
    """{code: (name, category)} of the codes shown."""
    labels = reading.product_labels(list(codes)) if codes else {}
    found = {}
    for code in codes:
        label = labels.get(code) or {}
        found[code] = (label.get("name") or "", label.get("category") or UNKNOWN_CATEGORY)
    return found


def _product_cells(rank, code, labels):
    name, category = labels[code]
    return [rank, code, name, category]


def _bar(rows, labels, bars, y_name, line=None):
    """A bar chart of the first CHARTED products of ``rows`` (their names, or codes when unnamed): ``bars`` and
    ``line`` (name, row → value), the line against a second axis of percents."""
    shown = rows[:CHARTED]
    drawn = [series(bars[0], [bars[1](row) for row in shown])]
    if line is not None:
        drawn.append(series(line[0], [line[1](row) for row in shown], "line", 1))
    return chart("bar", [labels[row[0]][0] or row[0] for row in shown], drawn, x_name="商品",
                 y_names=(y_name, f"{line[0]}（%）") if line is not None else (y_name,))


# --- ランキング -------------------------------------------------------------------------------------------------------

def ranking(reading, options):
    amount = basis.line_amount()
    quantity = func.coalesce(func.sum(L.quantity), 0).label("quantity")
    sales = func.coalesce(func.sum(amount), 0).label("sales")
    buyers = func.count(func.distinct(L.customer_id)).label("buyers")
    orders = func.count(func.distinct(L.purchase_id)).label("orders")
    total = func.coalesce(func.sum(func.sum(amount)).over(), 0).label("total")
    ordering = {"quantity": quantity, "sales": sales, "buyers": buyers}[options["order_by"]]
    if options["order_by"] == "buyers":
        statement = (select(L.product_code, quantity, sales, buyers, orders, total)
                     .where(*basis.period_lines(options)).group_by(L.product_code)
                     .order_by(ordering.desc(), L.product_code).limit(options["top"]))
        rows = [(code, int(q), int(s), b, o, int(t)) for code, q, s, b, o, t in reading.execute(statement)]
    else:  # the ranking by sums first; the distinct counts, the costly part, of the ranked products alone
        ranked = reading.execute(select(L.product_code, quantity, sales, total)
                                 .where(*basis.period_lines(options)).group_by(L.product_code)
                                 .order_by(ordering.desc(), L.product_code).limit(options["top"]))
        counted = distinct_per_product(reading, options, [row[0] for row in ranked], "customer_id", "purchase_id")
        rows = [(code, int(q), int(s), *counted[code], int(t)) for code, q, s, t in ranked]
    labels = _labelled(reading, [row[0] for row in rows])
    columns = [*PRODUCT_COLUMNS, column("quantity", "数量", "number"), column("sales", "売上金額", "yen"),
               column("buyers", "購入者数"), column("orders", "受注件数"), column("share", "売上構成比", "percent")]
    listed = [[*_product_cells(rank, code, labels), q, s, b, o, rate(s, t)]
              for rank, (code, q, s, b, o, t) in enumerate(rows, start=1)]
    measure, name, axis = ORDERS[options["order_by"]]
    return {"chart": _bar(rows, labels, (name, lambda row: row[measure]), axis),
            "tables": [table("商品ランキング", columns, listed)]}


# --- 初回購入商品 -----------------------------------------------------------------------------------------------------

def first_purchases(options, today):
    """A CTE of the period's first-time buyers: customer_id, purchase_id (their first purchase over the whole
    history at the shops, by moment then id: ``basis.firsts``) and again (1 when a second purchase was bought by
    ``today``, else 0)."""
    found = basis.firsts(options, today).subquery()
    f = found.c
    again = case((f.second_at.is_not(None), 1), else_=0)
    return (select(f.customer_id, f.first_id.label("purchase_id"), again.label("again"))
            .where(f.first_at >= day_start(options["date_from"]), f.first_at < basis.day_end(options["date_to"]))
            .cte("firsts"))


def first(reading, options):
    firsts = first_purchases(options, reading.today)
    f = firsts.c
    buyers = func.count(func.distinct(f.customer_id)).label("buyers")
    repeaters = func.count(func.distinct(case((f.again == 1, f.customer_id)))).label("repeaters")
    listed = (select(L.product_code, buyers, repeaters)
              .select_from(firsts.join(lines, L.purchase_id == f.purchase_id))
              .where(*basis.counted_lines(options)).group_by(L.product_code)
              .order_by(buyers.desc(), L.product_code).limit(options["top"]).cte("listed"))
    summary = select(func.count(), func.coalesce(func.sum(f.again), 0)).select_from(firsts).subquery()
    statement = (select(listed, *summary.c).select_from(summary.outerjoin(listed, literal_column("TRUE")))
                 .order_by(listed.c.buyers.desc(), listed.c.product_code))
    found = reading.execute(statement)
    total, total_again = (found[0][3], int(found[0][4])) if found else (0, 0)
    rows = [(code, b, r) for code, b, r, _t, _a in found if code is not None]
    labels = _labelled(reading, [row[0] for row in rows])
    columns = [*PRODUCT_COLUMNS, column("first_buyers", "初回購入者数"),
               column("first_share", "初回購入者に占める割合", "percent"),
               column("second_buyers", "うち2回目購入あり"), column("f2_rate", "F2転換率", "percent")]
    listed_rows = [[*_product_cells(rank, code, labels), b, rate(b, total), r, rate(r, b)]
                   for rank, (code, b, r) in enumerate(rows, start=1)]
    summary_table = table("初回購入者", [column("first_buyers", "初回購入者数"),
                                         column("second_buyers", "うち2回目購入あり"),
                                         column("f2_rate", "F2転換率", "percent")],
                          [[total, total_again, rate(total_again, total)]])
    return {"chart": _bar(rows, labels, ("初回購入者数", lambda row: row[1]), "初回購入者数（人）",
                          ("F2転換率", lambda row: rate(row[2], row[1]))),
            "tables": [table("初回購入商品", columns, listed_rows), summary_table]}


# --- 併売 ------------------------------------------------------------------------------------------------------------

def _totals(reading, options, product, key):
    """(P's purchases, P's buyers, the period's purchases or buyers (``key``: purchase_id or customer_id))."""
    of_p = select(func.count(func.distinct(L.purchase_id)), func.count(func.distinct(L.customer_id))
                  ).where(*basis.period_lines(options), L.product_code == product)
    moments = purchase_moments(options, options["date_from"], options["date_to"]).subquery()
    everyone = select(func.count(func.distinct(moments.c[key]))).select_from(moments)
    p_orders, p_buyers = reading.execute(of_p)[0]
    return p_orders, p_buyers, reading.execute(everyone)[0][0]


def distinct_per_product(reading, options, codes, *keys):
    """{code: (the distinct count of each of ``keys``: customer_id, purchase_id)} over the period's lines of each
    product of ``codes``. One branch per product: lines are kept by product, so each reads its own row groups and
    counts in a hash table of its own (at ten million customers, the top 50 in half the time of one grouping of them
    all, the top 500 in 7.3 s instead of 9–11 s)."""
    if not codes:
        return {}
    counts = [func.count(func.distinct(getattr(L, key))) for key in keys]
    branches = [select(literal(code), *counts).where(*basis.period_lines(options), L.product_code == code)
                for code in codes]
    return {code: tuple(found) for code, *found in reading.execute(union_all(*branches))}


def _with_base(reading, options, listed, key):
    """[(Q, count, base)]: the ``listed`` statement's rows (product_code, count) with each listed product's distinct
    ``key`` (purchase_id or customer_id) over the period's lines, its base count for the lift."""
    rows = reading.execute(listed)
    base = distinct_per_product(reading, options, [code for code, _count in rows], key)
    return [(code, count, *base[code]) for code, count in rows]


def together_in_order(reading, options, product):
    """(Q, purchases holding P and Q, the period's purchases holding Q) for the first ``top`` products Q ≠ P."""
    with_p = select(L.purchase_id).where(*basis.period_lines(options), L.product_code == product).cte("with_p")
    count = func.count(func.distinct(L.purchase_id)).label("count")
    listed = (select(L.product_code, count)
              .where(*basis.period_lines(options), L.product_code != product,
                     L.purchase_id.in_(select(with_p.c.purchase_id)))
              .group_by(L.product_code).order_by(count.desc(), L.product_code).limit(options["top"]))
    return _with_base(reading, options, listed, "purchase_id")


def together_later(reading, options, product):
    """(Q, P's buyers who bought Q after their first purchase of P in the period, the period's buyers of Q) for the
    first ``top`` products Q."""
    since = (select(L.customer_id, func.min(L.purchased_at).label("since"))
             .where(*basis.period_lines(options), L.product_code == product).group_by(L.customer_id).cte("since"))
    count = func.count(func.distinct(L.customer_id)).label("count")
    listed = (select(L.product_code, count)
              .select_from(lines.join(since, since.c.customer_id == L.customer_id))
              .where(*basis.period_lines(options), L.purchased_at > since.c.since)
              .group_by(L.product_code).order_by(count.desc(), L.product_code).limit(options["top"]))
    return _with_base(reading, options, listed, "customer_id")


def together(reading, options):
    product = options["product"].strip()
    if not product:
        raise field_error("product", "required")
    later = options["together"] == "later"
    p_orders, p_buyers, everyone = _totals(reading, options, product, "customer_id" if later else "purchase_id")
    rows = (together_later if later else together_in_order)(reading, options, product)
    labels = _labelled(reading, list(dict.fromkeys([product, *[row[0] for row in rows]])))
    if later:
        whole, everyone_column = p_buyers, column("all_buyers", "期間の購入者数")
        name, columns = "併売（その後の購入）", [column("buyers", "購入者数"), column("share", "割合", "percent")]
    else:
        whole, everyone_column = p_orders, column("all_orders", "期間の受注件数")
        name, columns = "併売（同じ注文）", [column("orders", "同時購入件数"), column("share", "併売率", "percent")]
    listed = [[*_product_cells(rank, code, labels), count, rate(count, whole), lift(count, whole, base, everyone)]
              for rank, (code, count, base) in enumerate(rows, start=1)]
    summary = table("対象商品", [column("product_code", "商品番号", "text"), column("product_name", "商品名", "text"),
                                 column("orders", "受注件数"), column("buyers", "購入者数"), everyone_column],
                    [[product, labels[product][0], p_orders, p_buyers, everyone]])
    count_name = columns[0]["label"]
    return {"chart": _bar(rows, labels, (count_name, lambda row: row[1]), f"{count_name}（{'人' if later else '件'}）"),
            "tables": [table(name, [*PRODUCT_COLUMNS, *columns, column("lift", "リフト", "number")], listed),
                       summary]}


VIEWS = {"ranking": ranking, "first": first, "together": together}


def report(reading, options):
    return VIEWS[options["view"]](reading, options)
