"""A customer's RFM figures as of a day, their bands and their rank: the one SQL of RFM集計, for the grid, the movement
between two days and the ``rfm`` search condition alike (so that a cell's or a rank's condition finds exactly the
customers the grid counts in it).

Over the counted purchases (集計対象) bought on or before the day (Japan time) at the chosen shops (all when none), per
customer: R, the days from the Japan day of the latest of them to the day; F, their number; M, the sum of their billed
amounts. A customer without such a purchase has no figures (and is in no cell). Bands follow the company's RFM設定
(``rfm_settings.py``) as CASE expressions, their bounds bound as parameters; a rank is named by the customer's R×F
cell (one number), which the settings map to a rank outside SQL. Over every shop, the customers'
summaries hold the figures of every customer who bought nothing after the day: only the others' purchases are
grouped.
"""
from sqlalchemy import case, func, literal, select, union_all

from services.common.errors import Forbidden

from .ranges import EPOCH, day_end, day_number, in_range
from .schemas import AXES, BANDS
from .store_tables import customers, purchases

P = purchases.c


def shops_for(scope, shop_ids):
    """The shops whose purchases count for the caller: those named (all when none); a shop account's, its own only
    (naming another is Forbidden)."""
    if scope.is_shop:
        if any(shop_id != scope.shop_id for shop_id in shop_ids):
            raise Forbidden("outside the caller's shop")
        return [scope.shop_id]
    return sorted(set(shop_ids))


def figures(day, shop_ids=(), which=None):
    """SELECT customer_id, recency_days, purchase_count, purchase_total: one row per customer with a counted purchase
    bought on or before ``day`` at ``shop_ids`` (all when empty); of the customers ``which(customer id column)``
    picks, when given.

    Over every shop, a customer whose latest purchase was bought by ``day`` is read from the customers' summaries
    (``summary_figures``: one row each); the rest — every customer at some shops — by grouping their purchases."""
    if shop_ids:
        return _grouped_figures(day, shop_ids, which)
    later = bought_after(day, which)
    return union_all(summary_figures(day, which), _grouped_figures(day, (), lambda column: column.in_(later)))


def bought_after(day, which=None):
    """The customers (of those ``which`` picks) with a counted purchase bought after ``day``: their summaries do not
    hold their figures of ``day``."""
    C = customers.c
    later = select(C.id).where(C.latest_purchase_at >= day_end(day))
    return later.where(which(C.id)) if which is not None else later


def _grouped_figures(day, shop_ids, which):
    """``figures`` by grouping the customers' purchases (read before grouping, so only those ``which`` picks are)."""
    where = [P.counted.is_(True), P.purchased_at < day_end(day)]
    if which is not None:
        where.append(which(P.customer_id))
    if shop_ids:
        where.append(P.shop_id.in_(list(shop_ids)))
    recency = literal((day - EPOCH).days) - day_number(func.max(P.purchased_at))
    return (select(P.customer_id.label("customer_id"), recency.label("recency_days"),
                   func.count().label("purchase_count"), func.sum(P.billed_amount).label("purchase_total"))
            .where(*where).group_by(P.customer_id))


def figures_of_two_days(day_from, day_to, shop_ids=()):
    """``figures`` of two days: SELECT customer_id, then recency_days, purchase_count and purchase_total of
    ``day_to`` and the same of ``day_from`` as ``before_recency_days``, … (NULL counts as 0 purchases: the customer
    had not bought yet on ``day_from``). One row per customer with a counted purchase bought on or before ``day_to``.

    Over every shop, a customer who bought nothing after ``day_from`` has the same purchases on both days: read from
    the summaries; the rest, and every customer at some shops, in one pass over their purchases."""
    where = [P.counted.is_(True), P.purchased_at < day_end(day_to)]
    if shop_ids:
        where.append(P.shop_id.in_(list(shop_ids)))
    else:
        where.append(P.customer_id.in_(bought_after(day_from)))
    before = P.purchased_at < day_end(day_from)
    recency_to = literal((day_to - EPOCH).days) - day_number(func.max(P.purchased_at))
    recency_from = literal((day_from - EPOCH).days) - day_number(func.max(P.purchased_at).filter(before))
    grouped = (select(P.customer_id.label("customer_id"), recency_to.label("recency_days"),
                      func.count().label("purchase_count"), func.sum(P.billed_amount).label("purchase_total"),
                      recency_from.label("before_recency_days"),
                      func.count().filter(before).label("before_purchase_count"),
                      func.sum(P.billed_amount).filter(before).label("before_purchase_total"))
               .where(*where).group_by(P.customer_id))
    if shop_ids:
        return grouped
    C = customers.c
    latest = day_number(C.latest_purchase_at)
    unchanged = select(C.id.label("customer_id"), (literal((day_to - EPOCH).days) - latest).label("recency_days"),
                       C.purchase_count.label("purchase_count"), C.purchase_total.label("purchase_total"),
                       (literal((day_from - EPOCH).days) - latest).label("before_recency_days"),
                       C.purchase_count.label("before_purchase_count"),
                       C.purchase_total.label("before_purchase_total")).where(
        C.purchase_count > 0, C.latest_purchase_at < day_end(day_from))
    return union_all(unchanged, grouped)


def cells_of_two_days(day_from, day_to, shop_ids, settings):
    """A subquery of ``figures_of_two_days`` with ``cell`` (of ``day_to``) and ``before_cell`` (of ``day_from``; NULL
    for a customer who had not bought yet then): ``cell_of`` their bands."""
    measured = figures_of_two_days(day_from, day_to, shop_ids).subquery()
    m = measured.c

    def cell(prefix):
        return cell_of(*[band_of(m[f"{prefix}{axis}"], settings.bands[axis]) for axis in AXES[:2]])

    before = case((m.before_purchase_count > 0, cell("before_")))
    return select(measured, cell("").label("cell"), before.label("before_cell")).subquery()


def summary_figures(day, which=None):
    """``figures`` of ``day`` over every shop, read from the customers' summaries (every counted purchase at every
    shop) instead of the purchases: one row each, no grouping. Exactly ``figures(day)`` for a customer whose latest
    purchase was bought on or before ``day``; only those are given (of them, those ``which`` picks, when given)."""
    C = customers.c
    recency = literal((day - EPOCH).days) - day_number(C.latest_purchase_at)
    where = [C.purchase_count > 0, C.latest_purchase_at < day_end(day)]
    if which is not None:
        where.append(which(C.id))
    return select(C.id.label("customer_id"), recency.label("recency_days"), C.purchase_count.label("purchase_count"),
                  C.purchase_total.label("purchase_total")).where(*where)


def band_of(value, starts):
    """The band (0 to 5) of a figure: the last band whose start it reaches; below the second band's start, the
    first."""
    return case(*[(value >= starts[band], band) for band in range(BANDS - 1, 0, -1)], else_=0)


def cell_of(recency_band, count_band):
    """The R×F cell of an R band and an F band as one number (R band × 6 + F band): grouped by, or compared with a
    list, where the rank itself would be a CASE of 36 branches on every customer (``rank_of_cell`` names it)."""
    return recency_band * BANDS + count_band


def rank_of_cell(cell, settings):
    """The rank the settings give an R×F cell (``cell_of``)."""
    return settings.cells[cell // BANDS][cell % BANDS]


def cells_of_ranks(ranks, settings):
    """The cells (``cell_of``) the settings give one of ``ranks``."""
    return [r * BANDS + f for r in range(BANDS) for f in range(BANDS) if settings.cells[r][f] in ranks]


def ranked(day, shop_ids, settings, which=None, measured=None):
    """A subquery of ``figures`` (or of the ``measured`` figures given) with each axis's band (``<axis>_band``) and
    the R×F ``cell`` (``cell_of``), which names the rank."""
    measured = (measured if measured is not None else figures(day, shop_ids, which)).subquery()
    banded = select(measured, *[band_of(measured.c[axis], settings.bands[axis]).label(f"{axis}_band")
                                for axis in AXES]).subquery()
    return select(banded, cell_of(banded.c.recency_days_band, banded.c.purchase_count_band).label("cell")).subquery()


def condition_clauses(section, settings, today):
    """The ``rfm`` condition: the customers of the grid of the section's day (today when none) at its shops, within
    its ranges of R, F and M and of its ranks. ``section["shop_ids"]`` as ``shops_for`` gives them."""
    rfm = ranked(section["day"] or today, section["shop_ids"], settings)
    where = []
    for axis in AXES:
        where += in_range(rfm.c[axis], section[axis])
    if section["ranks"]:
        where.append(rfm.c.cell.in_(cells_of_ranks(section["ranks"], settings)))
    return [customers.c.id.in_(select(rfm.c.customer_id).where(*where))]
