"""What reconciliation asks an owner: its entities' versions, without their data.

``search.reconcile`` compares the versions the index applied with the owners' own. Reading them through
``export_for_index`` sent every entity whole (a purchase with its lines, 1,000 a call): 15 s for a company of
10,000 customers and 40,000 purchases. Pages of ``[id, version]`` pairs, 50,000 a call, answer the same question.
"""
from sqlalchemy import literal, select

from . import arguments
from .contracts import field_error

MAX_VERSIONS = 50_000
"""The most pairs one call returns."""


def versions_after(session, entities, entity, company_id, after_id, limit):
    """``[[id, version], ...]`` of the company's rows of ``entity`` with id > after_id, by id, at most
    ``MAX_VERSIONS``. ``entities``: the owner's {entity: model, or (model, what stands for its version)}."""
    if not isinstance(entity, str) or entity not in entities:
        raise field_error("entity", "one_of")
    after_id = arguments.after_id(after_id)
    limit = min(arguments.integer(limit, "limit", 1), MAX_VERSIONS)
    model, column = entities[entity] if isinstance(entities[entity], tuple) else (entities[entity], None)
    column = model.version if column is None else column
    # the connection's rows, not the session's: the ORM's handling of each row took two thirds of a page's time
    rows = session.connection().execute(select(model.id, column).where(model.company_id == company_id,
                                                                       model.id > after_id)
                                        .order_by(model.id).limit(limit))
    return [[row_id, row_version] for row_id, row_version in rows]


def constant(value):
    """A version that never changes (an entity written once)."""
    return literal(value)
