"""継続・離脱: on a Japan day (``day``), the customers who had bought by then at the chosen shops, by how many counted
purchases they had made (F1 … F9, F10以上) and whether they are still buying.

- A customer is 離脱 when the days from the Japan day of their latest purchase (on or before the day) to the day are
  more than ``lapse_days`` (exactly ``lapse_days`` days is still 継続中).
- Fn: 到達顧客数 the customers with at least n purchases; 次回購入へ継続 those with at least n + 1 (none for F10以上);
  継続率 the share of the one in the other; 現在の顧客数 the customers with exactly n purchases (10 or more for
  F10以上), of them 継続中 and 離脱, and 離脱率 the share of 離脱.
- 合計: every customer who had bought, of them 継続中 and 離脱, and 離脱率.
"""
from sqlalchemy import func, literal, literal_column, select

from . import basis
from .results import chart, column, rate, series, table

TOP = 10
TOP_LITERAL = literal_column(str(TOP))  # written in, not bound: the GROUP BY reads the same expression as the SELECT


def stage_label(n):
    return f"F{n}以上" if n == TOP else f"F{n}"


def _customers(reading, options):
    """{n (1 … 10, 10 for 10 or more): (customers with n purchases, of them lapsed)} on the day."""
    day = options["day"]
    rows = basis.purchase_rows(options, until=day).subquery()
    per_customer = (select(func.count().label("purchases"), func.max(rows.c.purchased_at).label("latest"))
                    .group_by(rows.c.customer_id).subquery())
    last_active = (day - basis.EPOCH).days - options["lapse_days"]  # the earliest latest-purchase day still active
    lapsed = basis.day_number(per_customer.c.latest) < literal(last_active)
    stage = func.least(per_customer.c.purchases, TOP_LITERAL).label("stage")
    statement = select(stage, func.count(), func.count().filter(lapsed)).group_by(stage)
    return {n: (customers, lapsed_customers) for n, customers, lapsed_customers in reading.execute(statement)}


def report(reading, options):
    found = _customers(reading, options)
    current = [found.get(n, (0, 0)) for n in range(1, TOP + 1)]
    reached = [sum(customers for customers, _lapsed in current[n:]) for n in range(TOP)]
    rows = []
    for n in range(1, TOP + 1):
        customers, lapsed = current[n - 1]
        continued = reached[n] if n < TOP else None
        rows.append([stage_label(n), reached[n - 1], continued,
                     rate(continued, reached[n - 1]) if continued is not None else None,
                     customers, customers - lapsed, lapsed, rate(lapsed, customers)])
    total = sum(row[4] for row in rows)
    total_lapsed = sum(row[6] for row in rows)
    rows.append(["合計", None, None, None, total, total - total_lapsed, total_lapsed, rate(total_lapsed, total)])
    columns = [column("stage", "購入回数", "text"), column("reached", "到達顧客数"), column("continued", "次回購入へ継続"),
               column("continue_rate", "継続率", "percent"), column("customers", "現在の顧客数"),
               column("active", "うち継続中"), column("lapsed", "うち離脱"), column("lapse_rate", "離脱率", "percent")]
    stages = rows[:-1]
    return {"chart": chart("bar", [row[0] for row in stages],
                           [series("継続中", [row[5] for row in stages]), series("離脱", [row[6] for row in stages]),
                            series("継続率", [row[3] for row in stages], "line", 1)],
                           x_name="購入回数", y_names=("顧客数（人）", "継続率（%）")),
            "tables": [table("継続・離脱", columns, rows)]}
