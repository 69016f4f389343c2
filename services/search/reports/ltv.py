"""LTV推移: what the period's new customers bought, month of first purchase by month, as the days went by.

- A cohort is the customers whose first purchase (their first counted purchase at the chosen shops over their whole
  history) fell in a month of the period, as in リピート率 — optionally only those whose first purchase held a line of
  the product ``first_product``, or of a product of the category ``first_category`` (the categories of the first
  purchases' products, as the purchases service names them), or was made through the media ``first_media`` (each
  filter given applies).
- 1人あたり累計購入金額 at H days (H = 30, 60, …, 720): the amount (請求金額 less left-out lines) of the cohort's
  purchases whose Japan day less the first purchase's Japan day is H or less — the first purchase included —
  divided by the cohort's customers, to the yen.
- リピート率 at H days: the share of the cohort with a second purchase within H days.
- A horizon not yet elapsed for the whole cohort (the cohort's last day plus H is after today) is None (blank).

Purchases after today are not read. One statement (two with a category: its products' codes are looked up first):
the cohorts' customers from ``basis.firsts`` (first and second purchase, the first's id — the first by moment, then
id) counted per cohort month and step of their second purchase, their purchases joined back and summed per cohort
month and 30-day step from the first day; Python cumulates the steps into the horizons.
"""
from sqlalchemy import false, func, literal, select, union_all

from . import basis
from .repeat import NOT_ELAPSED_NOTE, cohort_months, elapsed, in_period, window_label
from .results import chart, column, month_label, per, rate, table

STEP = 30
HORIZONS = tuple(range(STEP, 24 * STEP + 1, STEP))
L, P = basis.L, basis.P


def _lines_holding(options, codes):
    """The purchases with a (not left-out) line of one of ``codes``."""
    return select(L.purchase_id).where(*basis.counted_lines(options), L.product_code.in_(codes))


def _category_codes(reading, options):
    """The codes of the products of the category ``first_category``, of those sold in the period (a first purchase
    of the period's cohorts is one of the period's purchases, so its products are among them)."""
    statement = (select(L.product_code).distinct()
                 .where(*basis.counted_lines(options), *in_period(L.purchased_at, options)))
    codes = [code for (code,) in reading.execute(statement)]
    labels = reading.product_labels(codes) if codes else {}
    return sorted(code for code, label in labels.items() if label.get("category") == options["first_category"])


def _cohorts(reading, options):
    """A CTE of the period's cohorts as the options choose them: customer_id, first_at, month (the cohort),
    second_bucket (the bucket of the customer's second purchase, NULL when none)."""
    found = basis.firsts(options, reading.today).subquery()
    f = found.c
    where = in_period(f.first_at, options)
    if options["first_media"]:  # the first purchase is one of the period's: only their row groups are read
        where.append(f.first_id.in_(select(P.id).where(P.media == options["first_media"],
                                                       *in_period(P.purchased_at, options))))
    if options["first_product"]:
        where.append(f.first_id.in_(_lines_holding(options, [options["first_product"]])))
    if options["first_category"]:
        codes = _category_codes(reading, options)
        where.append(f.first_id.in_(_lines_holding(options, codes)) if codes else false())
    second_gap = basis.day_number(f.second_at) - basis.day_number(f.first_at)
    return (select(f.customer_id, f.first_at, basis.month_of(basis.japan_day(f.first_at)).label("month"),
                   _bucket(second_gap).label("second_bucket")).where(*where).cte("cohorts"))


def _bucket(days):
    """0 for 0 days; n for (n - 1) × 30 + 1 … n × 30 days."""
    return (days + (STEP - 1)).op("//", precedence=8)(STEP)


def _figures(reading, options):
    """{cohort month: [customers, [amount within each horizon], [second purchases within each horizon]]}. One
    statement: the cohorts' customers counted by month and second purchase's bucket; their purchases (up to today,
    up to 720 days after the first) summed by month and bucket (0: on the first day; n: within n × 30 days of it,
    not within (n - 1) × 30)."""
    cohorts = _cohorts(reading, options)
    c = cohorts.c
    customers = select(literal(True).label("customers"), c.month, c.second_bucket.label("bucket"),
                       func.count().label("figure")).group_by(c.month, c.second_bucket)
    # every purchase of a cohort's customer is on or after the first, in the period: the earlier ones are not read
    purchases = basis.purchase_rows(options, until=reading.today, since=options["date_from"]).subquery()
    p = purchases.c
    gap = basis.day_number(p.purchased_at) - basis.day_number(c.first_at)
    bought = (select(c.month, _bucket(gap).label("bucket"), p.amount)
              .select_from(purchases.join(cohorts, p.customer_id == c.customer_id))
              .where(gap <= HORIZONS[-1]).subquery())
    amounts = (select(literal(False), bought.c.month, bought.c.bucket, func.coalesce(func.sum(bought.c.amount), 0))
               .group_by(bought.c.month, bought.c.bucket))
    found = {}
    for is_customers, month, bucket, figure in reading.execute(union_all(customers, amounts)):
        figures = found.setdefault(month, [0, [0] * len(HORIZONS), [0] * len(HORIZONS)])
        if is_customers:
            figures[0] += figure
            if bucket is not None and bucket <= len(HORIZONS):
                for n in range(max(bucket, 1) - 1, len(HORIZONS)):
                    figures[2][n] += figure
        else:
            for n in range(max(bucket, 1) - 1, len(HORIZONS)):
                figures[1][n] += int(figure)
    return found


def report(reading, options):
    today = reading.today
    found = _figures(reading, options)
    empty = (0, [0] * len(HORIZONS), [0] * len(HORIZONS))

    ltv_rows, repeat_rows, cells = [], [], []
    for y, month in enumerate(cohort_months(options)):
        customers, amounts, seconds = found.get(month, empty)
        shown = [elapsed(month, days, options, today) for days in HORIZONS]
        ltvs = [per(amount, customers) if ok else None for ok, amount in zip(shown, amounts)]
        rates = [rate(count, customers) if ok else None for ok, count in zip(shown, seconds)]
        label = month_label(month)
        ltv_rows.append([label, customers, *ltvs])
        repeat_rows.append([label, customers, *rates])
        cells.extend([x, y, value] for x, value in enumerate(ltvs) if value is not None)

    head = [column("month", "初回購入月", "text"), column("customers", "新規顧客数")]
    tables = [
        table("1人あたり累計購入金額", head + [column(f"ltv_{days}", window_label(days), "yen") for days in HORIZONS],
              ltv_rows),
        table("リピート率", head + [column(f"repeat_{days}", window_label(days), "percent") for days in HORIZONS],
              repeat_rows),
    ]
    return {"chart": chart("heatmap", [window_label(days) for days in HORIZONS], x_name="初回購入からの日数",
                           y_names=("初回購入月",), y=[row[0] for row in ltv_rows], cells=cells),
            "tables": tables, "notes": [NOT_ELAPSED_NOTE]}
