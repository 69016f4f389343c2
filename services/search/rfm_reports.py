"""RFM集計 from the replica's store: the 6×6 grid of a day and the movement of customers between the ranks of two
days, each one statement over the company's tables (``rfm.ranked``), folded here into cells and ranks; and today's
rank of listed customers (search pages, downloads)."""
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from services.common import arguments
from services.common.contracts import field_error, load

from . import matching, rfm, rfm_settings
from .conditions import RANKS
from .query import scope_clauses
from .schemas import AXES, BANDS, GRID_AXES, RfmGridOptions, RfmMovementOptions
from .store_tables import customers

C = customers.c
_grid_options = RfmGridOptions()
_movement_options = RfmMovementOptions()


def share(part, whole):
    """``part`` as a percentage of ``whole``, to one decimal (half up): 1 of 6 → 16.7."""
    if not whole:
        return 0.0
    return float((Decimal(part * 100) / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _figures(customer_count, sales, whole):
    return {"customers": customer_count, "share": share(customer_count, whole), "sales": sales}


def _bounds(settings, axis, band):
    low, high = settings.ranges(axis)[band]
    return {"min": low, "max": high}


def _axis(settings, axis):
    return {"axis": axis, "bands": [{"band": band, "label": label, **_bounds(settings, axis, band)}
                                    for band, label in enumerate(settings.labels(axis))]}


def _in_scope(statement, ranked, scope, shops):
    """``statement`` over the ranked figures of the customers the index holds, in the caller's scope: the grid counts
    exactly whom a search finds. Over every shop, ``rfm.figures`` reads them from the customers' rows or groups the
    purchases of listed customers alone: an operator's need no join."""
    if not shops and not scope.is_shop:
        return statement.select_from(ranked)
    return statement.select_from(ranked.join(customers, C.id == ranked.c.customer_id)).where(*scope_clauses(scope))


def grid(session, scope, options, store):
    """The grid of a day: {day, shop_ids, axes, rows, columns, cells, ranks, total}. ``options``: {day (today),
    shop_ids (all; a shop account's own), axes ("rf", "rm" or "fm": rows, then columns)}. Each cell and each rank
    carries the ``conditions`` that find its customers in 検索."""
    options = load(_grid_options, arguments.mapping(options, "options"))
    day = options["day"] or matching.today_jst()
    shops = rfm.shops_for(scope, options["shop_ids"])
    settings = rfm_settings.settings_of(session, scope.company_id)
    ranked = rfm.ranked(day, shops, settings)
    bands = [ranked.c[f"{axis}_band"] for axis in AXES]
    # every customer's three bands counted: at most 6 × 6 × 6 rows, folded below into the two axes shown and the
    # ranks (the R and F bands name it)
    counted = select(*bands, func.count(), func.sum(ranked.c.purchase_total))
    rows = store.execute(scope.company_id, _in_scope(counted, ranked, scope, shops).group_by(*bands))

    row_axis, column_axis = GRID_AXES[options["axes"]]
    at_row, at_column = AXES.index(row_axis), AXES.index(column_axis)
    counts = [[[0, 0] for _ in range(BANDS)] for _ in range(BANDS)]
    by_rank = {rank: [0, 0] for rank in RANKS}
    for *band, customer_count, sales in rows:
        rank = rfm.rank_of_cell(rfm.cell_of(band[0], band[1]), settings)
        for tally in (counts[band[at_row]][band[at_column]], by_rank[rank]):
            tally[0] += customer_count
            tally[1] += int(sales)
    whole = sum(tally[0] for tally in by_rank.values())
    base = {"day": day.isoformat(), "shop_ids": shops}
    cells = [[{**_figures(*counts[x][y], whole),
               "rank": settings.cells[x][y] if options["axes"] == "rf" else None,
               "conditions": {"rfm": {**base, row_axis: _bounds(settings, row_axis, x),
                                      column_axis: _bounds(settings, column_axis, y)}}}
              for y in range(BANDS)] for x in range(BANDS)]
    ranks = [{**entry, **_figures(*by_rank[entry["rank"]], whole), "conditions": {"rfm": {**base,
                                                                                             "ranks": [entry["rank"]]}}}
             for entry in settings.ranks()]
    return {"day": day.isoformat(), "shop_ids": shops, "axes": options["axes"],
            "rows": _axis(settings, row_axis), "columns": _axis(settings, column_axis), "cells": cells,
            "ranks": ranks, "total": {"customers": whole, "sales": sum(tally[1] for tally in by_rank.values())}}


def movement(session, scope, options, store):
    """How customers moved between the ranks of two days: {day_from, day_to, shop_ids, ranks, totals, moves}.
    ``options``: {day_from, day_to (today), shop_ids}. ``ranks``: each rank's customers, share and sales on both days;
    ``moves``: a row per rank of ``day_from`` and one for customers who had not bought yet (``none``, 未購入), each
    with how many are in each rank on ``day_to``."""
    options = load(_movement_options, arguments.mapping(options, "options"))
    day_from, day_to = options["day_from"], options["day_to"] or matching.today_jst()
    if day_from > day_to:
        raise field_error("day_to", "from_after_to")
    shops = rfm.shops_for(scope, options["shop_ids"])
    settings = rfm_settings.settings_of(session, scope.company_id)
    # purchases bought by day_from were bought by day_to: every customer of the first grid is in the second, and
    # both days' figures come from one pass over the purchases
    ranked = rfm.cells_of_two_days(day_from, day_to, shops, settings)
    r = ranked.c
    counted = select(r.before_cell, r.cell, func.count(), func.coalesce(func.sum(r.before_purchase_total), 0),
                     func.sum(r.purchase_total))
    rows = store.execute(scope.company_id, _in_scope(counted, ranked, scope, shops).group_by(r.before_cell, r.cell))

    moves = {rank: {to: 0 for to in RANKS} for rank in (rfm_settings.NOT_YET, *RANKS)}
    tallies = {"from": {rank: [0, 0] for rank in RANKS}, "to": {rank: [0, 0] for rank in RANKS}}
    for cell_from, cell_to, customer_count, sales_from, sales_to in rows:
        rank_to = rfm.rank_of_cell(cell_to, settings)
        rank_from = rfm.rank_of_cell(cell_from, settings) if cell_from is not None else None
        moves[rank_from or rfm_settings.NOT_YET][rank_to] += customer_count
        tallies["to"][rank_to][0] += customer_count
        tallies["to"][rank_to][1] += int(sales_to)
        if rank_from is not None:
            tallies["from"][rank_from][0] += customer_count
            tallies["from"][rank_from][1] += int(sales_from)
    wholes = {side: sum(tally[0] for tally in tallies[side].values()) for side in tallies}
    names = {rfm_settings.NOT_YET: rfm_settings.NOT_YET_NAME, **settings.names}
    return {"day_from": day_from.isoformat(), "day_to": day_to.isoformat(), "shop_ids": shops,
            "ranks": [{**entry, **{side: _figures(*tallies[side][entry["rank"]], wholes[side]) for side in tallies}}
                      for entry in settings.ranks()],
            "totals": {side: {"customers": wholes[side], "sales": sum(t[1] for t in tallies[side].values())}
                       for side in tallies},
            "moves": [{"from": rank, "name": names[rank], "to": moves[rank], "customers": sum(moves[rank].values())}
                      for rank in moves]}


def ranks_today(session, scope, store, which):
    """{customer id: rank} today over the caller's shops (``shops_for``), for the customers ``which(column)`` picks
    among those with figures (a search page's, a download slice's)."""
    settings = rfm_settings.settings_of(session, scope.company_id)
    today, shops = matching.today_jst(), rfm.shops_for(scope, [])
    def ranks_of(ranked):
        return {customer_id: rfm.rank_of_cell(cell, settings) for customer_id, cell
                in store.execute(scope.company_id, select(ranked.c.customer_id, ranked.c.cell))}

    if shops:  # a shop account: its shop's purchases
        return ranks_of(rfm.ranked(today, shops, settings, which)), settings
    # every shop: the customers' summaries hold the figures (one row each) but for a purchase dated after today,
    # whose customers alone are grouped, when there are any (a page's 50 customers: no purchase is read for them)
    ranks = ranks_of(rfm.ranked(today, (), settings, measured=rfm.summary_figures(today, which)))
    later = [row[0] for row in store.execute(scope.company_id, rfm.bought_after(today, which))]
    if later:
        ranks.update(ranks_of(rfm.ranked(today, (), settings, lambda column: column.in_(later))))
    return ranks, settings
