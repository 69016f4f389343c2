"""What every report counts, as SQL over a company's store: its purchases and lines, and the Japan day and month of a
moment — one reading for all reports.

A purchase counts when it is 集計対象 (``counted``) and was bought at the chosen shops (all when none). Products left
out of a report (送料, gifts) are not sales: the amount of a purchase is its 請求金額 less the left-out lines (never
below 0), and a purchase whose every line is left out is no purchase at all (a free sample does not make a customer
a repeat buyer). A customer's purchases are ordered over their whole history at those shops (``purchase_order``),
so that "the first purchase" and "the second" mean the same in every report whatever its period.

Over every shop with nothing left out, the customers' rows already hold their first and second purchase and their
counts (the summary, and what the store computes: ``store_derived.py``): a report then reads one row per customer
instead of grouping every purchase (``firsts``, ``first_moments``).
"""
from sqlalchemy import Date, cast, func, literal_column, select, union_all

from ..purchase_order import purchase_order
from ..ranges import EPOCH, day_end, day_number, day_start
from ..store_tables import customers, lines, purchases

C, P, L = customers.c, purchases.c, lines.c
def japan_day(moment):
    """The Japan day of a moment, a DATE."""
    return literal_column(f"DATE '{EPOCH.isoformat()}'", Date) + day_number(moment)


MONTH = literal_column("'month'")  # written in, not bound: a GROUP BY must read the same expression as its SELECT


def month_of(day):
    """The first day of the month of a DATE."""
    return cast(func.date_trunc(MONTH, day), Date)


def line_amount():
    """What a line sold for: quantity × unit price."""
    return L.quantity * L.unit_price


def counted_lines(options):
    """The lines of counted purchases at the options' shops that are not of a left-out product."""
    where = [L.counted.is_(True)]
    if options["shop_ids"]:
        where.append(L.shop_id.in_(options["shop_ids"]))
    if options["excluded_products"]:
        where.append(L.product_code.not_in(options["excluded_products"]))
    return where


def period_lines(options):
    """``counted_lines`` bought within the options' period (Japan days)."""
    return [*counted_lines(options), L.purchased_at >= day_start(options["date_from"]),
            L.purchased_at < day_end(options["date_to"])]


def purchase_rows(options, until=None, since=None, of_customers=None):
    """SELECT id, customer_id, shop_id, purchased_at, media, sales, amount: the counted purchases at the options' shops
    (bought on or after the Japan day ``since`` and on or before ``until``, when given; of the customers the select
    ``of_customers`` gives, when given), with their amount (請求金額 less left-out lines)."""
    where, days = [P.counted.is_(True)], []  # days: the same bounds on the lines (a line carries its moment)
    if of_customers is not None:
        where.append(P.customer_id.in_(of_customers))
    if options["shop_ids"]:
        where.append(P.shop_id.in_(options["shop_ids"]))
    for column, bounds in ((P.purchased_at, where), (L.purchased_at, days)):
        if since is not None:
            bounds.append(column >= day_start(since))
        if until is not None:
            bounds.append(column < day_end(until))
    amount, sales = P.billed_amount, P.sales
    excluded = options["excluded_products"]
    if excluded:
        # the lines of left-out products of those days (few row groups: lines are kept by product, then by
        # purchase), summed per purchase; a purchase all of whose lines are left out is none
        left_out = (select(L.purchase_id, func.sum(line_amount()).label("amount"), func.count().label("lines"))
                    .where(L.product_code.in_(excluded), L.counted.is_(True), *days).group_by(L.purchase_id)
                    .subquery())
        where.append(func.coalesce(left_out.c.lines, 0) < P.line_count)
        amount = func.greatest(P.billed_amount - func.coalesce(left_out.c.amount, 0), 0)
        sales = func.greatest(P.sales - func.coalesce(left_out.c.amount, 0), 0)
        source = purchases.outerjoin(left_out, left_out.c.purchase_id == P.id)
    else:
        source = purchases
    return (select(P.id.label("id"), P.customer_id.label("customer_id"), P.shop_id.label("shop_id"),
                   P.purchased_at.label("purchased_at"), P.media.label("media"), sales.label("sales"),
                   amount.label("amount"))
            .select_from(source).where(*where))


def summaries_tell(options):
    """Do the customers' summaries (over every counted purchase at every shop) hold the options' first purchases?
    When every shop counts and nothing is left out."""
    return not options["shop_ids"] and not options["excluded_products"]


def firsts(options, until):
    """SELECT customer_id, first_at, second_at, first_id, purchases: one row per customer with a ``purchase_rows``
    purchase bought on or before ``until`` — the moments of the first and the second (NULL when none by ``until``; the
    same moment when two share it), the first's id (by ``purchase_order``) and how many there were by ``until``.

    Over every shop with nothing left out, a customer whose latest purchase was bought by ``until`` is read from the
    customers' rows (no grouping); the rest (purchases after ``until``: seldom) and every customer otherwise by
    grouping their purchases."""
    if not summaries_tell(options):
        return _grouped_firsts(purchase_rows(options, until=until))
    ended = day_end(until)
    summarised = select(C.id.label("customer_id"), C.first_purchase_at.label("first_at"),
                        C.second_purchase_at.label("second_at"), C.first_purchase_id.label("first_id"),
                        C.purchase_count.label("purchases")).where(C.purchase_count > 0, C.latest_purchase_at < ended)
    later = select(C.id).where(C.latest_purchase_at >= ended)
    return union_all(summarised, _grouped_firsts(purchase_rows(options, until=until, of_customers=later)))


def _grouped_firsts(rows):
    rows = rows.subquery()
    at = rows.c.purchased_at
    return (select(rows.c.customer_id, func.min(at).label("first_at"),
                   func.list_extract(func.min(at, 2), 2).label("second_at"),
                   func.arg_min(rows.c.id, purchase_order(at, rows.c.id)).label("first_id"),
                   func.count().label("purchases"))
            .group_by(rows.c.customer_id))


def first_moments(options, until):
    """SELECT customer_id, first_at: the moment of each customer's first purchase (``purchase_rows`` up to
    ``until``). Over every shop with nothing left out that is the customer's summary (one row each, no grouping)."""
    if summaries_tell(options):
        return (select(C.id.label("customer_id"), C.first_purchase_at.label("first_at"))
                .where(C.purchase_count > 0, C.first_purchase_at < day_end(until)))
    rows = purchase_rows(options, until=until).subquery()
    return select(rows.c.customer_id, func.min(rows.c.purchased_at).label("first_at")).group_by(rows.c.customer_id)
