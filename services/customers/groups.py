"""顧客グループ: attribute groups and their choices, and the check of a customer's choices."""
from services.common.choice_groups import ChoiceGroups

from . import events, schemas
from .models import AttributeChoice, AttributeGroup

_groups = ChoiceGroups(AttributeGroup, AttributeChoice, schemas.AttributeGroup(), schemas.AttributeChoice(),
                       events.group_changed)

list_groups = _groups.list
get_group = _groups.get
add_group = _groups.add
update_group = _groups.update
retire_group = _groups.retire
reorder_groups = _groups.reorder
add_choice = _groups.add_choice
update_choice = _groups.update_choice
retire_choice = _groups.retire_choice
reorder_choices = _groups.reorder_choices
check_choices = _groups.check_answers
