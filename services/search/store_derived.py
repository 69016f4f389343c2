"""The customer columns a replica's store computes from its own rows, never read from the index: each is set again,
for the customers a write touches, in the write's transaction, and for everyone when a company is loaded.

- the MAIL_FLAGS (``store_tables.MAIL_FLAGS``): did any mail of the family get that activity for the customer — the
  commonest メール履歴 questions read these instead of joining every customer with the activities; set from the
  customer's mails and activities;
- ``first_purchase_id`` and ``second_purchase_at``: the customer's first counted purchase (over every shop, by moment
  then id: ``purchase_order``) and the moment of the second (the first's when two share it) — 集計's cohort reports
  read one row per customer instead of grouping every purchase; set from the customer's purchases.

Each set of columns is two statements, cleared then set, over the customers registered as the table ``touched``
(or everyone): ``statements(kind, touched_only)``.
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


def _mail_figures():
    A, M = T.mail_activities.c, T.mails.c
    flags = [func.bool_or(and_(M.family == family, A.activity == activity)).label(name)
             for name, (family, activity) in T.MAIL_FLAGS.items()]
    return select(A.customer_id.label("customer_id"), *flags).join(T.mails, M.id == A.mail_id), A.customer_id


def _purchase_figures():
    P = T.purchases.c
    figures = [func.arg_min(P.id, purchase_order(P.purchased_at, P.id)).label("first_purchase_id"),
               func.list_extract(func.min(P.purchased_at, 2), 2).label("second_purchase_at")]
    return select(P.customer_id.label("customer_id"), *figures).where(P.counted.is_(True)), P.customer_id


FIGURES = {MAIL: (_mail_figures, list(T.MAIL_FLAGS)), PURCHASES: (_purchase_figures, list(PURCHASE_FIGURES))}


def statements(kind, touched_only):
    """[clear, set]: the columns of ``kind`` (MAIL or PURCHASES) cleared, then set from one grouping of the rows
    they are computed from — of the customers in ``touched``, or of everyone."""
    build, names = FIGURES[kind]
    figures, customer_id = build()
    only = []
    if touched_only:
        only = [T.customers.c.id.in_(select(TOUCHED.c.id))]
        figures = figures.where(customer_id.in_(select(TOUCHED.c.id)))
    figures = figures.group_by(customer_id).subquery()
    clear = T.customers.update().where(*only).values(**{name: CLEARED[name] for name in names})
    found = (T.customers.update().where(T.customers.c.id == figures.c.customer_id)
             .values(**{name: figures.c[name] for name in names}))
    return [clear, found]
