"""日報・月報: per day or per month of the period — orders, sales, buyers, of them new (their first purchase at the
chosen shops fell in that day or month of the period) and repeat (bought before it), and the average order value —
and, over all shops, the period's figures of each shop."""
import datetime as dt

from sqlalchemy import Date, func, literal, select

from services.common.contracts import field_error

from . import basis
from .results import chart, column, day_label, month_label, per, series, table

MAX_DAYS = 366


def units_of(options):
    """The days or the first days of the months of the period, in order."""
    start, end = options["date_from"], options["date_to"]
    if options["unit"] == "day":
        return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def _unit(day, unit):
    return day if unit == "day" else basis.month_of(day)


COLUMNS = [column("orders", "受注件数"), column("sales", "売上金額", "yen"), column("customers", "購入者数"),
           column("new_customers", "新規購入者数"), column("repeat_customers", "リピート購入者数"),
           column("average", "客単価", "yen")]


def figures(reading, options, group=None, by_time=False):
    """{group value: [orders, sales, customers, new customers, repeat customers]} of the period's purchases,
    grouped by the expression ``group(period purchases, their Japan day)`` (``by_time``, the unit of time: a buyer is
    new in a row when the first purchase fell in the row's days, its unit within the period), or {None: …} for the
    whole period (or per shop: new when the first purchase fell in the period).

    Two groupings instead of distinct counts: the purchases per row and customer first, then the customers per row,
    each joined to its first moment (one grouping of every purchase, or the customers' summaries) — no window over
    every purchase, and no distinct count over millions of purchases."""
    rows = basis.purchase_rows(options, until=options["date_to"], since=options["date_from"]).subquery()
    period = select(rows, basis.japan_day(rows.c.purchased_at).label("day")).subquery()  # grouped by: a column
    keys = [group(period, period.c.day).label("key")] if group is not None else []
    per_customer = (select(*keys, period.c.customer_id, func.count().label("orders"),
                           func.sum(period.c.amount).label("sales"))
                    .group_by(*keys, period.c.customer_id).subquery())
    firsts = basis.first_moments(options, options["date_to"]).subquery()
    start = literal(options["date_from"], Date)
    if by_time:
        start = func.greatest(per_customer.c.key, start)
    new = func.count().filter(basis.japan_day(firsts.c.first_at) >= start)
    grouped = [per_customer.c.key] if keys else []
    statement = (select(*grouped, func.coalesce(func.sum(per_customer.c.orders), 0),
                        func.coalesce(func.sum(per_customer.c.sales), 0), func.count(), new)
                 .select_from(per_customer.join(firsts, firsts.c.customer_id == per_customer.c.customer_id))
                 .group_by(*grouped))
    rows = reading.execute(statement) if keys else [(None, *row) for row in reading.execute(statement)]
    return {value: [int(orders), int(sales), buyers, new_buyers, buyers - new_buyers]
            for value, orders, sales, buyers, new_buyers in rows}


def _row(label, counts):
    orders, sales, buyers, new_buyers, repeat_buyers = counts
    return [label, orders, sales, buyers, new_buyers, repeat_buyers, per(sales, orders)]


def report(reading, options):
    if options["unit"] == "day" and (options["date_to"] - options["date_from"]).days >= MAX_DAYS:
        raise field_error("date_from", f"max_days:{MAX_DAYS}")
    unit = options["unit"]
    by_unit = figures(reading, options, lambda period, day: _unit(day, unit), by_time=True)
    units = units_of(options)
    label = day_label if unit == "day" else month_label
    rows = [_row(label(day), by_unit.get(day, [0] * 5)) for day in units]
    total = figures(reading, options)[None]
    name = "日報" if unit == "day" else "月報"
    tables = [table(name, [column("unit", "日付" if unit == "day" else "月", "text"), *COLUMNS],
                    rows + [_row("合計", total)])]
    if not options["shop_ids"]:
        by_shop = figures(reading, options, lambda period, day: period.c.shop_id)
        tables.append(table("店舗別", [column("shop_id", "店舗", "shop"), *COLUMNS],
                            [_row(shop, counts) for shop, counts in sorted(by_shop.items())]))
    x = [row[0] for row in rows]
    return {"chart": chart("bar", x, [series("売上金額", [row[2] for row in rows]),
                                      series("新規購入者数", [row[4] for row in rows], "line", 1),
                                      series("リピート購入者数", [row[5] for row in rows], "line", 1)],
                           x_name="日付" if unit == "day" else "月", y_names=("売上金額（円）", "購入者数（人）")),
            "tables": tables}
