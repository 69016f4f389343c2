"""リピート率: how the period's new customers came back, and how the period's buyers repeated.

- A cohort is the customers whose first purchase (their first counted purchase at the chosen shops over their whole
  history, by moment then id, as ``basis.purchase_order`` orders them) fell in a month of the period (Japan days;
  the first and the last month hold only the period's days).
- F2転換率 within N days (N = 30, 60, 90, 180, 360): the share of the cohort whose second purchase's Japan day less
  the first purchase's Japan day is N or less (bought on day 30 counts for 30, day 31 does not). A window that has not
  yet elapsed for the whole cohort (the cohort's last day — the month's last day, or the period's end when sooner —
  plus N is after today) is None: the page leaves it blank.
- 期間のリピート率: of the customers who bought in the period, those who bought twice or more in the period.
- F2→F3→F4…: of the period's cohorts together, how many had made at least n purchases by today (n = 1 … 10: the row
  of 10 is 10回以上), and the share of the row before that reached the row.

Purchases after today are not read. Two statements: the customers' first and second purchases and their counts
(``basis.firsts``: the customers' rows over every shop with nothing left out, else a per-customer aggregate over
``basis.purchase_rows``) counted per cohort month; the period's buyers grouped. The cohorts' helpers here (their
months, their last days, the elapsed windows) are LTV推移's too.
"""
import datetime as dt

from sqlalchemy import func, select

from ..ranges import day_start
from . import basis
from .results import chart, column, day_label, month_label, rate, table

WINDOWS = (30, 60, 90, 180, 360)
MAX_PURCHASES = 10
NOT_ELAPSED_NOTE = "初回購入月の末日から日数が経過していない期間は空欄です（まだ数えられないため）。"


def cohort_months(options):
    """The first days of the months of the period, in order."""
    months, month = [], options["date_from"].replace(day=1)
    while month <= options["date_to"]:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def cohort_end(month, options):
    """The last day a customer of the cohort of ``month`` may have first bought on: the month's last day, or the
    period's last day when sooner."""
    last = (month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return min(last, options["date_to"])


def elapsed(month, days, options, today):
    """Whether ``days`` days after the first purchase have passed for every customer of the cohort of ``month``."""
    return cohort_end(month, options) + dt.timedelta(days=days) <= today


def in_period(moment, options):
    """Clauses: a moment on a Japan day of the period."""
    return [moment >= day_start(options["date_from"]), moment < basis.day_end(options["date_to"])]


def window_label(days):
    return f"{days}日"


def _customers(options, today):
    """A subquery: one row per customer who bought by today (``basis.firsts``) — first_at, month, second_gap (the days
    from the first purchase to the second, NULL when none), purchases (by today)."""
    found = basis.firsts(options, today).subquery()
    f = found.c
    return select(f.first_at, basis.month_of(basis.japan_day(f.first_at)).label("month"),
                  (basis.day_number(f.second_at) - basis.day_number(f.first_at)).label("second_gap"),
                  f.purchases).subquery()


def _figures(reading, options):
    """({cohort month: (customers, second purchases within each window, customers with at least 2 … 10
    purchases)}, buyers in the period, of them with two or more purchases in it): the cohorts, then the period's
    buyers (a grouping of the period's purchases alone)."""
    customers = _customers(options, reading.today)
    c = customers.c
    measures = [func.count(),
                *[func.count().filter(c.second_gap <= days) for days in WINDOWS],
                *[func.count().filter(c.purchases >= n) for n in range(2, MAX_PURCHASES + 1)]]
    rows = reading.execute(select(c.month, *measures).where(*in_period(c.first_at, options)).group_by(c.month))
    by_month = {row[0]: tuple(row[1:]) for row in rows}
    period = basis.purchase_rows(options, until=min(options["date_to"], reading.today),
                                 since=options["date_from"]).subquery()
    bought = select(func.count().label("purchases")).select_from(period).group_by(period.c.customer_id).subquery()
    buyers, repeaters = reading.execute(select(func.count(), func.count().filter(bought.c.purchases >= 2)))[0]
    return by_month, buyers, repeaters


def report(reading, options):
    today = reading.today
    found, buyers, repeaters = _figures(reading, options)
    months = cohort_months(options)
    empty = (0,) * (len(WINDOWS) + MAX_PURCHASES)

    f2_rows, cells = [], []
    totals = [0] * MAX_PURCHASES  # customers of the period's cohorts with at least n purchases
    for y, month in enumerate(months):
        customers, *counts = found.get(month, empty)
        seconds, reaching = counts[:len(WINDOWS)], counts[len(WINDOWS):]
        rates = [rate(count, customers) if elapsed(month, days, options, today) else None
                 for days, count in zip(WINDOWS, seconds)]
        f2_rows.append([month_label(month), customers, *rates])
        cells.extend([x, y, value] for x, value in enumerate(rates) if value is not None)
        for n, count in enumerate([customers, *reaching]):
            totals[n] += count

    period = f"{day_label(options['date_from'])}〜{day_label(options['date_to'])}"
    steps = [[f"{n}回", count, rate(count, totals[n - 2]) if n > 1 else None]
             for n, count in enumerate(totals, start=1)]

    windows = [window_label(days) for days in WINDOWS]
    tables = [
        table("F2転換率", [column("month", "初回購入月", "text"), column("customers", "新規顧客数"),
                         *[column(f"within_{days}", f"{days}日以内", "percent") for days in WINDOWS]], f2_rows),
        table("期間のリピート率", [column("period", "期間", "text"), column("buyers", "購入者数"),
                             column("repeaters", "2回以上購入者数"), column("repeat_rate", "リピート率", "percent")],
              [[period, buyers, repeaters, rate(repeaters, buyers)]]),
        table("F2→F3→F4…", [column("purchases", "購入回数", "text"), column("customers", "到達顧客数"),
                           column("conversion", "前の回からの転換率", "percent")], steps),
    ]
    return {"chart": chart("heatmap", windows, x_name="初回購入からの日数", y_names=("初回購入月",),
                           y=[row[0] for row in f2_rows], cells=cells),
            "tables": tables, "notes": [NOT_ELAPSED_NOTE]}
