"""履歴グループ: order surveys answered per purchase; a required group must be answered on manual registration."""
from services.common.choice_groups import ChoiceGroups

from . import events, schemas
from .models import HistoryChoice, HistoryGroup

_groups = ChoiceGroups(HistoryGroup, HistoryChoice, schemas.HistoryGroup(), schemas.HistoryChoice(),
                       events.history_group_changed)

list_groups = _groups.list
add_group = _groups.add
update_group = _groups.update
retire_group = _groups.retire
reorder_groups = _groups.reorder
add_choice = _groups.add_choice
update_choice = _groups.update_choice
retire_choice = _groups.retire_choice
reorder_choices = _groups.reorder_choices


def check_answers(session, company_id, answers, enforce_required):
    """Clean answers; with ``enforce_required`` every in-use required group needs one (answers.<id>: required)."""
    from services.common.errors import ValidationFailed

    clean = _groups.check_answers(session, company_id, answers, path="answers")
    if enforce_required:
        missing = {f"answers.{g.id}": ["required"] for g in _groups.list(session, company_id)
                   if g.in_use and g.required and clean.get(g.id) is None}
        if missing:
            raise ValidationFailed("invalid input", missing)
    return clean
