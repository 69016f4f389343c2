"""The customer columns a replica's store computes from its own rows, never read from the index: each is set again,
for the customers a write touches, in the write's transaction, and for everyone when a company is loaded.

- the MAIL_FLAGS (``store_tables.MAIL_FLAGS``): did any mail of the family get that activity for the customer — the
  commonest メール履歴 questions read these instead of joining every customer with the activities; set from the
  customer's mails and activities;
- the PURCHASE_FIGURES, over the customer's counted purchases at every shop of the company (their order: by moment,
  then id, ``purchase_order``): the summary every RFM condition, sort and list column reads (the first and latest
  purchase's moments, the latest shipment whichever purchase it was, the latest purchase's order code and id, the
  number of purchases and their total), and ``first_purchase_id`` and ``second_purchase_at`` (the moment of the
  second; the first's when two share it) — 集計's cohort reports read one row per customer instead of grouping every
  purchase; set from the customer's purchases, so that a purchase recorded costs the index no summary of its own.

Each set of columns is set by one UPDATE for the customers registered as the table ``touched`` (two for everyone:
cleared, then set): ``statements(kind, touched_only)``.
"""
from sqlalchemy import and_, false, func, literal, null, select
from sqlalchemy.sql import column as sql_column
from sqlalchemy.sql import table as sql_table

from . import store_tables as T
from .purchase_order import purchase_order

TOUCHED = sql_table("touched", sql_column("id"))
"""The customers whose columns are set again, registered (as an Arrow table) for the statements."""
MAIL, PURCHASES = "mail", "purchases"
PURCHASE_FIGURES = ("first_purchase_at", "latest_purchase_at", "latest_shipped_at", "latest_order_code",
                    "latest_purchase_id", "purchase_count", "purchase_total", "first_purchase_id", "second_purchase_at")
COLUMNS = {**{name: MAIL for name in T.MAIL_FLAGS}, **{name: PURCHASES for name in PURCHASE_FIGURES}}
"""Each computed column of ``customers`` → the rows it is computed from."""
CLEARED = {**{name: false() for name in T.MAIL_FLAGS}, **{name: null() for name in PURCHASE_FIGURES},
           "latest_order_code": literal(""), "purchase_count": literal(0), "purchase_total": literal(0)}
"""What a computed column holds before it is set (and for a customer without mails or purchases: never bought is
0 purchases and 0円, not unknown)."""


def _mail_rows(only):
    A, M = T.mail_activities.c, T.mails.c
    return (select(A.customer_id.label("customer_id"), A.activity.label("activity"), M.family.label("family"))
            .join(T.mails, M.id == A.mail_id).where(*only(A.customer_id)))


def _mail_figures(rows):
    return [func.bool_or(and_(rows.family == family, rows.activity == activity))
            for _name, (family, activity) in T.MAIL_FLAGS.items()]


def _purchase_rows(only):
    P = T.purchases.c
    return (select(P.customer_id.label("customer_id"), P.id.label("id"), P.purchased_at.label("purchased_at"),
                   P.shipped_at.label("shipped_at"), P.order_code.label("order_code"),
                   P.billed_amount.label("billed_amount"))
            .where(P.counted.is_(True), *only(P.customer_id)))


def _purchase_figures(rows):
    order = purchase_order(rows.purchased_at, rows.id)
    return [func.min(rows.purchased_at), func.max(rows.purchased_at), func.max(rows.shipped_at),
            func.arg_max(rows.order_code, order), func.arg_max(rows.id, order), func.count(rows.id),
            func.sum(rows.billed_amount), func.arg_min(rows.id, order),
            func.list_extract(func.min(rows.purchased_at, 2), 2)]


FIGURES = {MAIL: (_mail_rows, _mail_figures, list(T.MAIL_FLAGS)),
           PURCHASES: (_purchase_rows, _purchase_figures, list(PURCHASE_FIGURES))}


def statements(kind, touched_only):
    """The columns of ``kind`` (MAIL or PURCHASES) set from one grouping of the rows they are computed from: of the
    customers in ``touched``, one UPDATE (a touched customer without such rows gets CLEARED); of everyone, [clear,
    set] (a customer without rows keeps CLEARED)."""
    rows_of, figures_of, names = FIGURES[kind]
    if touched_only:
        rows = rows_of(lambda customer_id: [customer_id.in_(select(TOUCHED.c.id))]).subquery()
        figures = [func.coalesce(figure, CLEARED[name]).label(name)
                   for figure, name in zip(figures_of(rows.c), names)]
        found = (select(TOUCHED.c.id.label("customer_id"), *figures)
                 .select_from(TOUCHED.outerjoin(rows, rows.c.customer_id == TOUCHED.c.id))
                 .group_by(TOUCHED.c.id).subquery())
        return [T.customers.update().where(T.customers.c.id == found.c.customer_id)
                .values(**{name: found.c[name] for name in names})]
    rows = rows_of(lambda customer_id: []).subquery()
    found = (select(rows.c.customer_id, *[figure.label(name) for figure, name in zip(figures_of(rows.c), names)])
             .group_by(rows.c.customer_id).subquery())
    clear = T.customers.update().values(**{name: CLEARED[name] for name in names})
    return [clear, T.customers.update().where(T.customers.c.id == found.c.customer_id)
            .values(**{name: found.c[name] for name in names})]
