"""RPC arguments and results of the search service (the condition document is in conditions.py): search pages, and
RFM設定 and the options of RFM集計."""
from marshmallow import ValidationError, fields, validate, validates

from services.common.contracts import Contract, Timestamp, id_field, number_range, one_of

from .conditions import FIRST_DAY, LAST_DAY, MAX_FIGURE, RANKS


class Hit(Contract):
    id = fields.Integer()
    member_number = fields.String()
    family_name = fields.String()
    given_name = fields.String()
    family_kana = fields.String()
    given_kana = fields.String()
    gender = fields.String()
    shop_id = fields.Integer()
    mail_permission = fields.String()
    registered_at = Timestamp(allow_none=True)
    purchase_count = fields.Integer()
    purchase_total = fields.Integer()
    latest_purchase_at = Timestamp(allow_none=True)
    rfm_rank = fields.String(allow_none=True)  # today's, over the scope's shops (None: no counted purchase)


class SearchPage(Contract):
    page = fields.Integer()
    per_page = fields.Integer()
    customers = fields.List(fields.Nested(Hit))


# --- RFM設定 ---------------------------------------------------------------------------------------------------------

AXES = ("recency_days", "purchase_count", "purchase_total")
"""R (days from the latest purchase to the day), F (purchases), M (their billed total, 円)."""
BANDS = 6
FLOORS = {"recency_days": 0, "purchase_count": 1, "purchase_total": 0}
"""Where each axis's first band starts: the least a buyer can have (0 days: bought that day; 1 purchase; 0円)."""
CEILINGS = {"recency_days": 36_500, "purchase_count": 999_999, "purchase_total": MAX_FIGURE}
MAX_RANK_NAME = 20


def _check_band_starts(axis, starts):
    """The six starts of an axis's bands: the first the floor, each above the one before (errors by index)."""
    if starts is None:
        return
    if len(starts) != BANDS:
        raise ValidationError([f"items:{BANDS}"])
    errors = {} if starts[0] == FLOORS[axis] else {0: [f"must_be:{FLOORS[axis]}"]}
    errors.update({index: ["not_increasing"] for index in range(1, BANDS) if starts[index] <= starts[index - 1]})
    if errors:
        raise ValidationError(errors)


class _WholeList(fields.List):
    """A list loaded whole or not at all: one with a bad item is left out of the loaded data, so that the checks of the
    whole list (its length, its order) never read a part of it."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except ValidationError as error:
            raise ValidationError(error.messages) from None


def _band_starts(axis):
    start = fields.Integer(strict=True, validate=number_range(0, CEILINGS[axis]),
                           error_messages={"invalid": "not_integer", "null": "required"})
    return _WholeList(start, load_default=None)


class RfmSettingsInput(Contract):
    """RFM設定 as an operator edits it. Each axis: the first value of each of its six bands, in increasing order, the
    first the axis's floor (a band runs up to the next band's start, the last has no end). ``cells[r][f]``: the rank
    of the customers in R band r and F band f. A key left out keeps what it was; ``rank_names`` may name some."""

    rank_names = fields.Dict(keys=fields.String(validate=one_of(RANKS)),
                             values=fields.String(error_messages={"invalid": "invalid", "null": "required"}),
                             load_default=None)
    recency_days = _band_starts("recency_days")
    purchase_count = _band_starts("purchase_count")
    purchase_total = _band_starts("purchase_total")
    cells = _WholeList(fields.List(fields.String(validate=one_of(RANKS),
                                                 error_messages={"invalid": "one_of", "null": "one_of"}),
                                   error_messages={"invalid": "invalid", "null": "invalid"}),
                       load_default=None)

    @validates("rank_names")
    def _named(self, names, **_kwargs):
        errors = {}
        for rank, name in (names or {}).items():
            if not name.strip():
                errors[rank] = ["required"]
            elif len(name.strip()) > MAX_RANK_NAME:
                errors[rank] = [f"max_length:{MAX_RANK_NAME}"]
        if errors:
            raise ValidationError(errors)

    @validates("recency_days")
    def _recency_in_order(self, starts, **_kwargs):
        _check_band_starts("recency_days", starts)

    @validates("purchase_count")
    def _count_in_order(self, starts, **_kwargs):
        _check_band_starts("purchase_count", starts)

    @validates("purchase_total")
    def _total_in_order(self, starts, **_kwargs):
        _check_band_starts("purchase_total", starts)

    @validates("cells")
    def _six_by_six(self, cells, **_kwargs):
        if cells is None:
            return
        if len(cells) != BANDS:
            raise ValidationError([f"items:{BANDS}"])
        errors = {index: [f"items:{BANDS}"] for index, row in enumerate(cells) if len(row) != BANDS}
        if errors:
            raise ValidationError(errors)


# --- RFM集計 ---------------------------------------------------------------------------------------------------------

GRID_AXES = {"rf": ("recency_days", "purchase_count"), "rm": ("recency_days", "purchase_total"),
             "fm": ("purchase_count", "purchase_total")}
"""The grid's two axes: rows, then columns."""


def _day(required=False):
    within = validate.Range(min=FIRST_DAY, max=LAST_DAY, error="invalid_date")
    if required:
        return fields.Date(required=True, validate=within)
    return fields.Date(load_default=None, allow_none=True, validate=within)


class RfmGridOptions(Contract):
    day = _day()  # none: today (Japan)
    shop_ids = fields.List(id_field(), load_default=list)
    axes = fields.String(load_default="rf", validate=one_of(tuple(GRID_AXES)))


class RfmMovementOptions(Contract):
    day_from = _day(required=True)
    day_to = _day()  # none: today (Japan)
    shop_ids = fields.List(id_field(), load_default=list)
