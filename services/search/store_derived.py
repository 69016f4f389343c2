"""The customer columns a replica's store computes from its own rows, never read from the index: each is set again,
for the customers a write touches, in the write's transaction, and for everyone when a company is loaded.

- the MAIL_FLAGS (``store_tables.MAIL_FLAGS``): did any mail of the family get that activity for the customer — the
  commonest メール履歴 questions read these instead of joining every customer with the activities; set from the
  customer's mails and activities;
- ``first_purchase_id`` and ``second_purchase_at``: the customer's first counted purchase (over every shop, by moment
  then id: ``purchase_order``) and the moment of the second (the first's when two share it) — 集計's cohort reports
  read one row per customer instead of grouping every purchase; set from the customer's purchases.

Each set of columns is set by one UPDATE for the customers registered as the table ``touched`` (two for everyone:
cleared, then set): ``statements(kind, touched_only)``.
"""
from sqlalchemy import and_, false, func, null, select
from sqlalchemy.sql import column as sql_column
from sqlalchemy.sql import table as sql_table

from . import store_tables as T
from .purchase_order import purchase_order

TOUCHED = sql_table("touched", sql_column("id"))
"""The customers whose columns are set again, registered (as an Arrow table) for the statements."""
MAIL, PURCHASES = "mail", "purchases"
PURCHASE_FIGURES = ("first_purchase_id", "second_purchase_at")
COLUMNS = {**{name: MAIL for name in T.MAIL_FLAGS}, **{name: PURCHASES for name in PURCHASE_FIGURES}}
"""Each computed column of ``customers`` → the rows it is computed from."""
CLEARED = {**{name: false() for name in T.MAIL_FLAGS}, **{name: null() for name in PURCHASE_FIGURES}}
"""What a computed column holds before it is set (and for a customer without mails or purchases)."""


def _mail_rows(only):
    A, M = T.mail_activities.c, T.mails.c
    return (select(A.customer_id.label("customer_id"), A.activity.label("activity"), M.family.label("family"))
            .join(T.mails, M.id == A.mail_id).where(*only(A.customer_id)))


def _mail_figures(rows):
    return [func.bool_or(and_(rows.family == family, rows.activity == activity))
            for _name, (family, activity) in T.MAIL_FLAGS.items()]


def _purchase_rows(only):
    P = T.purchases.c
    return (select(P.customer_id.label("customer_id"), P.id.label("id"), P.purchased_at.label("purchased_at"))
            .where(P.counted.is_(True), *only(P.customer_id)))


def _purchase_figures(rows):
    return [func.arg_min(rows.id, purchase_order(rows.purchased_at, rows.id)),
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
