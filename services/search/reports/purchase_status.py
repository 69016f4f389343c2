"""購入状況: on a day, how the customers who have bought stand — how many times they have bought (1回 … 9回, 10回以上)
with what they have spent, and how long ago they last bought.

A customer counts when they have a counted purchase at the chosen shops bought on or before the day (a Japan day),
purchases as ``basis`` reads them (an order of only left-out products is none; an amount is the 請求金額 less the
left-out lines). 購入回数 is the number of those purchases, 累計購入金額 the sum of their amounts, and the days since the
latest purchase run from the Japan day of the latest of them to the day (bought on the day: 0). 構成比 is the share of
those customers.
"""
from sqlalchemy import case, func, select

from . import basis
from .results import chart, column, rate, series, table

MAX_COUNT = 10  # 10回以上
COUNT_LABELS = [f"{count}回" for count in range(1, MAX_COUNT)] + [f"{MAX_COUNT}回以上"]
DAY_BANDS = ((0, 30), (31, 60), (61, 90), (91, 180), (181, 365), (366, 730), (731, None))
DAY_LABELS = [f"{low}〜{high}日" if high is not None else f"{low}日〜" for low, high in DAY_BANDS]
TOTAL = "合計"


def customer_figures(options):
    """A subquery, one row a customer who had bought by the day: ``times`` (purchases, 10 for 10 or more), ``band``
    (the index in DAY_BANDS of the days since the latest purchase) and ``amount`` (their sum)."""
    rows = basis.purchase_rows(options, until=options["day"]).subquery()
    days = (options["day"] - basis.EPOCH).days - basis.day_number(func.max(rows.c.purchased_at))
    band = case(*[(days <= high, index) for index, (_low, high) in enumerate(DAY_BANDS) if high is not None],
                else_=len(DAY_BANDS) - 1)
    return (select(func.least(func.count(), MAX_COUNT).label("times"), band.label("band"),
                   func.sum(rows.c.amount).label("amount"))
            .group_by(rows.c.customer_id).subquery())


def report(reading, options):
    figures = customer_figures(options)
    # ≤ 10 × 7 rows: the customers and their amounts by (times, band), folded below into the two tables
    statement = (select(figures.c.times, figures.c.band, func.count(), func.sum(figures.c.amount))
                 .group_by(figures.c.times, figures.c.band))
    by_times = [[0, 0] for _label in COUNT_LABELS]
    by_band = [0 for _label in DAY_LABELS]
    for times, band, customers, amount in reading.execute(statement):
        by_times[times - 1][0] += customers
        by_times[times - 1][1] += int(amount)
        by_band[band] += customers
    whole = sum(customers for customers, _amount in by_times)
    spent = sum(amount for _customers, amount in by_times)
    count_rows = [[label, customers, rate(customers, whole), amount]
                  for label, (customers, amount) in zip(COUNT_LABELS, by_times)]
    band_rows = [[label, customers, rate(customers, whole)] for label, customers in zip(DAY_LABELS, by_band)]
    tables = [table("購入回数別", [column("times", "購入回数", "text"), column("customers", "顧客数"),
                                   column("share", "構成比", "percent"), column("amount", "累計購入金額", "yen")],
                    count_rows + [[TOTAL, whole, rate(whole, whole), spent]]),
              table("最新購入からの日数別", [column("days", "最新購入からの日数", "text"), column("customers", "顧客数"),
                                           column("share", "構成比", "percent")],
                    band_rows + [[TOTAL, whole, rate(whole, whole)]])]
    return {"chart": chart("bar", COUNT_LABELS, [series("顧客数", [customers for customers, _amount in by_times])],
                           x_name="購入回数", y_names=("顧客数（人）",)),
            "tables": tables}
