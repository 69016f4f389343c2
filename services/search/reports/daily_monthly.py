"""日報・月報: per day or per month of the period — orders, sales, buyers, of them new (their first purchase at the
chosen shops fell in that day or month of the period) and repeat (bought before it), and the average order value —
and, over all shops, the period's figures of each shop."""
import datetime as dt

from sqlalchemy import func, literal, null, select, tuple_, union_all

from services.common.contracts import field_error

from ..ranges import day_start
from . import basis
from .buyers import distinct_customers
from .results import chart, column, day_label, month_label, per, series, table

MAX_DAYS = 366
BY_UNIT, BY_SHOP = 1, 2  # GROUPING(unit, shop) of the rows grouped by unit and by shop


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
    counts [orders, sales, customers, new customers, repeat customers]. A buyer is new when the first purchase (at the
    chosen shops, over the whole history: ``basis.first_moments``) fell in the period, in a day's or month's row when
    it fell in that day or month: a first purchase is one of the purchases counted, so a new buyer bought there.

    Three statements: the period's purchases counted and summed per unit, per shop and over the whole at once
    (GROUPING SETS); their buyers (``buyers.distinct_customers``); the new buyers from the first purchases of the period — per unit
    their number, per shop those of them who bought at the shop in the period."""
    rows = basis.purchase_rows(options, until=options["date_to"], since=options["date_from"]).subquery()
    period = select(rows, _unit(basis.japan_day(rows.c.purchased_at), options["unit"]).label("unit")).subquery()
    unit, shop = period.c.unit, period.c.shop_id
    statement = (select(func.grouping(unit, shop), unit, shop, func.count(), func.coalesce(func.sum(period.c.amount), 0))
                 .group_by(func.grouping_sets(tuple_(unit), tuple_(shop), tuple_())))
    found = {"unit": {}, "shop": {}, "whole": [0] * 5}
    for kind, unit_value, shop_id, orders, sales in reading.execute(statement):
        counts = [int(orders), int(sales), 0, 0, 0]
        if kind == BY_UNIT:
            found["unit"][unit_value] = counts
        elif kind == BY_SHOP:
            found["shop"][shop_id] = counts
        else:
            found["whole"] = counts
    buyers = distinct_customers(reading, period, {"unit": (unit, sorted(found["unit"])),
                                                  "shop": (shop, sorted(found["shop"]))})
    for kind in ("unit", "shop"):
        for key, counts in found[kind].items():
            counts[2] = counts[4] = buyers[kind][key]
    found["whole"][2] = found["whole"][4] = buyers[None]
    for kind, unit_value, shop_id, new_buyers in reading.execute(_new_buyers(options, period)):
        shown = [found["unit"][unit_value], found["whole"]] if kind == BY_UNIT else [found["shop"][shop_id]]
        for counts in shown:
            counts[3:5] = [counts[3] + new_buyers, counts[4] - new_buyers]
    return found


def _new_buyers(options, period):
    """SELECT kind, unit, shop_id, new buyers: the customers whose first purchase fell in the period, counted by its
    unit (kind BY_UNIT) and, of the period's purchases, by the shops they bought at (BY_SHOP)."""
    firsts = basis.first_moments(options, options["date_to"]).subquery()
    new = (select(firsts.c.customer_id, firsts.c.first_at)
           .where(firsts.c.first_at >= day_start(options["date_from"])).cte("new"))
    units = select(_unit(basis.japan_day(new.c.first_at), options["unit"]).label("unit")).subquery()
    by_unit = select(literal(BY_UNIT), units.c.unit, null(), func.count()).group_by(units.c.unit)
    by_shop = (select(literal(BY_SHOP), null(), period.c.shop_id, func.count(func.distinct(period.c.customer_id)))
               .where(period.c.customer_id.in_(select(new.c.customer_id))).group_by(period.c.shop_id))
    return union_all(by_unit, by_shop)


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
