"""The envelope every event travels in; each service's ``events.py`` lists its event types and data schemas."""
from marshmallow import Schema, fields

from .contracts import Timestamp


class EventEnvelope(Schema):
    event_id = fields.String(required=True)
    event_type = fields.String(required=True)
    entity = fields.String(required=True)
    entity_id = fields.String(required=True)
    version = fields.Integer(required=True)
    company_id = fields.Integer(allow_none=True)
    occurred_at = Timestamp(required=True)
    data = fields.Dict(required=True)
