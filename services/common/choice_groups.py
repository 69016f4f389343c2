"""Ordered groups of choices, as both 顧客グループ (customers) and 履歴グループ (purchases) keep them.

Each service owns its own tables and events; this is only the shared mechanics of adding, renaming,
reordering and retiring groups and choices, and of checking a set of answers (one choice per group).
"""
from sqlalchemy import func, select

from . import arguments
from .contracts import field_error, load
from .errors import NotFound, ValidationFailed


class ChoiceGroups:
    def __init__(self, group_model, choice_model, group_schema, choice_schema, on_change):
        self.group_model = group_model
        self.choice_model = choice_model
        self.group_schema = group_schema
        self.choice_schema = choice_schema
        self.on_change = on_change  # records the group's event

    def list(self, session, company_id, include_retired=False):
        include_retired = arguments.flag(include_retired, "include_retired")
        model = self.group_model
        query = select(model).where(model.company_id == company_id)
        if not include_retired:
            query = query.where(model.retired.is_(False))
        return list(session.scalars(query.order_by(model.position, model.id)))

    def get(self, session, scope, group_id):
        group = session.get(self.group_model, arguments.entity_id(group_id, "group_id"))
        if group is None:
            raise NotFound("group not found")
        scope.ensure_company(group.company_id)
        return group

    def _changed(self, session, group):
        group.version += 1
        session.flush()
        session.expire(group, ["choices"])  # reload them in their (possibly new) order
        self.on_change(session, group)
        return group

    def add(self, session, scope, data):
        scope.ensure_company_wide()
        values = load(self.group_schema, data)
        model = self.group_model
        last = session.scalar(select(func.max(model.position)).where(model.company_id == scope.company_id))
        group = model(company_id=scope.company_id, position=(last or 0) + 1, version=0, **values)
        session.add(group)
        return self._changed(session, group)

    def update(self, session, scope, group_id, data):
        scope.ensure_company_wide()
        group = self.get(session, scope, group_id)
        for key, value in load(self.group_schema, data).items():
            setattr(group, key, value)
        return self._changed(session, group)

    def retire(self, session, scope, group_id):
        """Retired groups leave the forms and the search panels; answers already given are kept."""
        scope.ensure_company_wide()
        group = self.get(session, scope, group_id)
        group.retired = True
        group.in_use = False
        return self._changed(session, group)

    def reorder(self, session, scope, group_ids):
        scope.ensure_company_wide()
        group_ids = arguments.id_list(group_ids, "group_ids")
        groups = {g.id: g for g in self.list(session, scope.company_id)}
        if sorted(group_ids) != sorted(groups):
            raise field_error("group_ids", "must_list_every_group")
        for position, group_id in enumerate(group_ids, start=1):
            if groups[group_id].position != position:
                groups[group_id].position = position
                self._changed(session, groups[group_id])
        return [groups[i] for i in group_ids]

    def add_choice(self, session, scope, group_id, data):
        scope.ensure_company_wide()
        group = self.get(session, scope, group_id)
        values = load(self.choice_schema, data)
        position = max((c.position for c in group.choices), default=0) + 1
        group.choices.append(self.choice_model(label=values["label"], position=position))
        return self._changed(session, group)

    @staticmethod
    def _choice(group, choice_id):
        choice_id = arguments.entity_id(choice_id, "choice_id")
        for choice in group.choices:
            if choice.id == choice_id:
                return choice
        raise NotFound("choice not found")

    def update_choice(self, session, scope, group_id, choice_id, data):
        scope.ensure_company_wide()
        group = self.get(session, scope, group_id)
        self._choice(group, choice_id).label = load(self.choice_schema, data)["label"]
        return self._changed(session, group)

    def retire_choice(self, session, scope, group_id, choice_id):
        scope.ensure_company_wide()
        group = self.get(session, scope, group_id)
        self._choice(group, choice_id).retired = True
        return self._changed(session, group)

    def reorder_choices(self, session, scope, group_id, choice_ids):
        scope.ensure_company_wide()
        group = self.get(session, scope, group_id)
        choice_ids = arguments.id_list(choice_ids, "choice_ids")
        if sorted(choice_ids) != sorted(c.id for c in group.choices):
            raise field_error("choice_ids", "must_list_every_choice")
        for position, choice_id in enumerate(choice_ids, start=1):
            self._choice(group, choice_id).position = position
        return self._changed(session, group)

    def check_answers(self, session, company_id, answers, path="choices"):
        """``{"<group id>": choice id or None}`` → ``{group id: choice id or None}``; one choice per group.

        None clears the group. An unknown group, or a choice of another group or retired, is reported by group id.
        """
        groups = {g.id: g for g in self.list(session, company_id)}
        clean, errors = {}, {}
        for key, choice_id in (answers or {}).items():
            try:
                group_id = int(key)
            except (TypeError, ValueError):
                errors[f"{path}.{key}"] = ["invalid"]
                continue
            group = groups.get(group_id)
            if group is None:
                errors[f"{path}.{key}"] = ["unknown_group"]
            elif choice_id is not None and choice_id not in {c.id for c in group.choices if not c.retired}:
                errors[f"{path}.{key}"] = ["unknown_choice"]
            else:
                clean[group_id] = choice_id
        if errors:
            raise ValidationFailed("invalid input", errors)
        return clean
