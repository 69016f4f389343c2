"""Events the mail-history service publishes on ``mailhistory.events`` (envelope: services/common/events.py).

| event type              | entity        | data                                                                  |
| mail_updated            | mail          | Mail schema (display id, kind, family)                                |
| mail_activity_recorded  | mail_activity | {"id", "mail_id", "customer_id", "member_number", "activity", "result", "occurred_at"} |
| address_error_changed   | address_state | {"customer_id", "address", "failed_count", "address_error"} (version per customer and address) |
"""
from services.common.outbox import record_event

from . import schemas
from .models import OutboxEvent

MAIL_UPDATED = "mail_updated"
MAIL_ACTIVITY_RECORDED = "mail_activity_recorded"
ADDRESS_ERROR_CHANGED = "address_error_changed"

_mail = schemas.Mail()


def mail_changed(session, mail):
    return record_event(session, OutboxEvent, MAIL_UPDATED, entity="mail", entity_id=mail.id, version=mail.version,
                        company_id=mail.company_id, data=_mail.dump(mail))


def activity_recorded(session, activity):
    data = {"id": activity.id, "mail_id": activity.mail_id, "customer_id": activity.customer_id,
            "member_number": activity.member_number, "activity": activity.activity, "result": activity.result,
            "occurred_at": schemas.Timestamp()._serialize(activity.occurred_at, None, None)}
    return record_event(session, OutboxEvent, MAIL_ACTIVITY_RECORDED, entity="mail_activity", entity_id=activity.id,
                        version=1, company_id=activity.company_id, data=data)


def address_state_changed(session, state, address_error):
    return record_event(session, OutboxEvent, ADDRESS_ERROR_CHANGED, entity="address_state", entity_id=state.id,
                        version=state.version, company_id=state.company_id,
                        data={"customer_id": state.customer_id, "address": state.address,
                              "failed_count": state.failed_count, "address_error": address_error})
