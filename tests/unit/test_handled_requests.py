"""services/common/requests.py without Nameko: a request id is applied once, kept with its result, and purged."""
import datetime as dt

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import DeclarativeBase, sessionmaker

from services.common.errors import Conflict, ValidationFailed
from services.common.requests import HandledRequestRecord, HandledRequests
from services.common.scope import OPERATOR, SHOP, Scope


class Base(DeclarativeBase):
    pass


class HandledRequest(HandledRequestRecord, Base):
    __tablename__ = "handled_requests"


OPERATOR_102 = Scope(102, OPERATOR)


@pytest.fixture
def sessions():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)


def call(sessions, handled, request_id, apply, method="create_customer", caller=OPERATOR_102):
    with sessions() as session:
        result = handled.once(session, request_id, method, caller, apply)
        session.commit()
        return result


def test_the_second_call_with_an_id_returns_the_first_result_without_applying(sessions):
    handled, applied = HandledRequests(HandledRequest), []

    def apply():
        applied.append(1)
        return {"id": len(applied), "registered_at": dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.timezone.utc)}

    first = call(sessions, handled, "req-1", apply)
    # kept as the bus carries it (kombu's JSON), so a repeat answers with the same types as the first call
    assert call(sessions, handled, "req-1", apply) == first == {
        "id": 1, "registered_at": dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.timezone.utc)}
    assert applied == [1]
    assert call(sessions, handled, "req-2", apply)["id"] == 2


def test_without_an_id_every_call_is_applied(sessions):
    handled, applied = HandledRequests(HandledRequest), []
    for _ in range(2):
        call(sessions, handled, None, lambda: applied.append(1))
    assert applied == [1, 1]


def test_a_failed_call_keeps_nothing(sessions):
    handled = HandledRequests(HandledRequest)

    def refuse():
        raise ValidationFailed("bad", {"family_name": ["required"]})

    with pytest.raises(ValidationFailed), sessions() as session:
        handled.once(session, "req-1", "create_customer", OPERATOR_102, refuse)
        session.commit()
    assert call(sessions, handled, "req-1", lambda: "applied") == "applied"


@pytest.mark.parametrize("method, caller", [("add_group", OPERATOR_102), ("create_customer", Scope(103, OPERATOR)),
                                            ("create_customer", Scope(102, SHOP, shop_id=7)),
                                            ("register_member", 102)])
def test_an_id_of_another_method_or_caller_is_refused(sessions, method, caller):
    handled = HandledRequests(HandledRequest)
    call(sessions, handled, "req-1", lambda: "first")
    with pytest.raises(Conflict) as refused:
        call(sessions, handled, "req-1", lambda: "second", method=method, caller=caller)
    assert refused.value.fields == {"request_id": ["reused"]}


def test_what_must_not_be_kept_is_left_out_of_the_stored_result(sessions):
    handled = HandledRequests(HandledRequest)
    with sessions() as session:
        handled.once(session, "req-1", "create_shop", OPERATOR_102, lambda: {"shop": 1, "password": "secret"},
                     stored=lambda result: dict(result, password=None))
        session.commit()
    assert call(sessions, handled, "req-1", lambda: None, method="create_shop") == {"shop": 1, "password": None}


def test_ids_older_than_seven_days_are_purged(sessions):
    handled = HandledRequests(HandledRequest)
    call(sessions, handled, "old", lambda: 1)
    call(sessions, handled, "recent", lambda: 2)
    with sessions() as session:
        session.get(HandledRequest, 1).created_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=8)
        session.commit()
    later = HandledRequests(HandledRequest)  # a new process: it purges on its first call
    call(sessions, later, "new", lambda: 3)
    with sessions() as session:
        kept = session.scalars(select(HandledRequest.request_id).order_by(HandledRequest.id)).all()
        assert kept == ["recent", "new"]
        assert session.scalar(select(func.count()).select_from(HandledRequest)) == 2
