"""日報・月報: per day or per month of the period — orders, sales, buyers, of them new (their first purchase at the
chosen shops fell in that day or month of the period) and repeat (bought before it), and the average order value —
and, over all shops, the period's figures of each shop."""
import datetime as dt

from sqlalchemy import Date, case, func, literal, select, tuple_

from services.common.contracts import field_error

from . import basis
from .results import chart, column, day_label, month_label, per, series, table

MAX_DAYS = 366
BY_UNIT, BY_SHOP = 1, 2  # GROUPING(unit, shop) of the rows grouped by (unit, customer) and by (shop, customer)


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


def figures(reading, options):
    """{"unit": {day or month: counts}, "shop": {shop id: counts}, "whole": counts} of the period's purchases, each
    counts [orders, sales, customers, new customers, repeat customers]. A buyer is new in a day or month when the
    first purchase fell in its days (the unit within the period), new in a shop's row or the whole when it fell in the
    period.

    One pass over the period's purchases: grouped by customer per unit, per shop and over the whole at once (GROUPING
    SETS), then each set's customers counted, each joined to its first moment (one grouping of every purchase, or the
    customers' summaries) — no window over every purchase, and no distinct count over millions of purchases."""
    rows = basis.purchase_rows(options, until=options["date_to"], since=options["date_from"]).subquery()
    period = select(rows, _unit(basis.japan_day(rows.c.purchased_at), options["unit"]).label("unit")).subquery()
    unit, shop, customer = period.c.unit, period.c.shop_id, period.c.customer_id
    per_customer = (select(func.grouping(unit, shop).label("kind"), unit, shop, customer,
                           func.count().label("orders"), func.sum(period.c.amount).label("sales"))
                    .group_by(func.grouping_sets(tuple_(unit, customer), tuple_(shop, customer), tuple_(customer)))
                    .subquery())
    c = per_customer.c
    firsts = basis.first_moments(options, options["date_to"]).subquery()
    date_from = literal(options["date_from"], Date)
    start = case((c.kind == BY_UNIT, func.greatest(c.unit, date_from)), else_=date_from)
    new = func.count().filter(basis.japan_day(firsts.c.first_at) >= start)
    statement = (select(c.kind, c.unit, c.shop_id, func.coalesce(func.sum(c.orders), 0),
                        func.coalesce(func.sum(c.sales), 0), func.count(), new)
                 .select_from(per_customer.join(firsts, firsts.c.customer_id == c.customer_id))
                 .group_by(c.kind, c.unit, c.shop_id))
    found = {"unit": {}, "shop": {}, "whole": [0] * 5}
    for kind, unit_value, shop_id, orders, sales, buyers, new_buyers in reading.execute(statement):
        counts = [int(orders), int(sales), buyers, new_buyers, buyers - new_buyers]
        if kind == BY_UNIT:
            found["unit"][unit_value] = counts
        elif kind == BY_SHOP:
            found["shop"][shop_id] = counts
        else:
            found["whole"] = counts
    return found


def _row(label, counts):
    orders, sales, buyers, new_buyers, repeat_buyers = counts
    return [label, orders, sales, buyers, new_buyers, repeat_buyers, per(sales, orders)]


def report(reading, options):
    if options["unit"] == "day" and (options["date_to"] - options["date_from"]).days >= MAX_DAYS:
        raise field_error("date_from", f"max_days:{MAX_DAYS}")
    unit = options["unit"]
    found = figures(reading, options)
    by_unit = found["unit"]
    units = units_of(options)
    label = day_label if unit == "day" else month_label
    rows = [_row(label(day), by_unit.get(day, [0] * 5)) for day in units]
    total = found["whole"]
    name = "日報" if unit == "day" else "月報"
    tables = [table(name, [column("unit", "日付" if unit == "day" else "月", "text"), *COLUMNS],
                    rows + [_row("合計", total)])]
    if not options["shop_ids"]:
        by_shop = found["shop"]
        tables.append(table("店舗別", [column("shop_id", "店舗", "shop"), *COLUMNS],
                            [_row(shop, counts) for shop, counts in sorted(by_shop.items())]))
    x = [row[0] for row in rows]
    return {"chart": chart("bar", x, [series("売上金額", [row[2] for row in rows]),
                                      series("新規購入者数", [row[4] for row in rows], "line", 1),
                                      series("リピート購入者数", [row[5] for row in rows], "line", 1)],
                           x_name="日付" if unit == "day" else "月", y_names=("売上金額（円）", "購入者数（人）")),
            "tables": tables}
