"""services/common/request_order.py without Nameko: a batch sent after another is written once that one is applied."""
import contextlib
import threading

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, sessionmaker

from services.common.errors import Unavailable, ValidationFailed
from services.common.request_order import RequestOrder
from services.common.requests import HandledRequestRecord, HandledRequests
from services.common.scope import OPERATOR, Scope


class Base(DeclarativeBase):
    pass


class HandledRequest(HandledRequestRecord, Base):
    __tablename__ = "handled_requests"


OPERATOR_102 = Scope(102, OPERATOR)
HUNG = 30  # seconds: only a wait that never ends reaches it


@pytest.fixture
def sessions(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'requests.db'}")
    Base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)


@pytest.fixture
def handled():
    return HandledRequests(HandledRequest)


def reader(sessions):
    @contextlib.contextmanager
    def read():
        with sessions() as session:
            yield session
    return read


def apply(sessions, handled, request_id, caller=OPERATOR_102):
    with sessions() as session:
        handled.once(session, request_id, "record_orders", caller, lambda: {"created": 1})
        session.commit()


def test_a_batch_named_by_no_one_waits_for_nothing(sessions, handled):
    RequestOrder(handled, wait_seconds=HUNG).wait_for(None, reader(sessions), 102)


def test_a_batch_sent_after_one_applied_goes_on_at_once(sessions, handled):
    apply(sessions, handled, "batch-1")
    RequestOrder(handled, wait_seconds=HUNG).wait_for("batch-1", reader(sessions), 102)


def test_a_batch_waits_for_the_one_before_running_here_until_its_work_has_ended(sessions, handled):
    order, events = RequestOrder(handled, wait_seconds=HUNG, poll_seconds=HUNG), []
    inside, release = threading.Event(), threading.Event()

    def first():
        with order.running("batch-1"):
            inside.set()
            release.wait(HUNG)
            apply(sessions, handled, "batch-1")
            events.append("batch-1 applied")

    def second():
        order.wait_for("batch-1", reader(sessions), 102)
        events.append("batch-2 writes")

    one = threading.Thread(target=first)
    one.start()
    assert inside.wait(HUNG)
    two = threading.Thread(target=second)
    two.start()
    two.join(0.2)
    assert events == []  # still waiting: the first has not ended
    release.set()
    one.join(HUNG)
    two.join(HUNG)
    # woken by the first's end, not by a poll (the poll is as long as a hang)
    assert events == ["batch-1 applied", "batch-2 writes"]


def test_a_batch_before_that_runs_elsewhere_is_found_in_the_database(sessions, handled):
    order, done = RequestOrder(handled, wait_seconds=HUNG, poll_seconds=0.01), threading.Event()

    def second():
        order.wait_for("batch-1", reader(sessions), 102)
        done.set()

    waiter = threading.Thread(target=second)
    waiter.start()
    assert not done.wait(0.2)
    apply(sessions, handled, "batch-1")  # another process of the service applied it
    waiter.join(HUNG)
    assert done.is_set()


def test_a_batch_before_that_ended_here_without_being_applied_refuses_the_next(sessions, handled):
    order, inside, release, refused = RequestOrder(handled, wait_seconds=HUNG), threading.Event(), threading.Event(), []

    def first():
        with contextlib.suppress(ValidationFailed), order.running("batch-1"):
            inside.set()
            release.wait(HUNG)
            raise ValidationFailed("invalid input", {"options": ["invalid"]})

    def second():
        try:
            order.wait_for("batch-1", reader(sessions), 102)
        except Unavailable as failure:
            refused.append(failure.fields)

    one = threading.Thread(target=first)
    one.start()
    assert inside.wait(HUNG)
    two = threading.Thread(target=second)
    two.start()
    release.set()
    one.join(HUNG)
    two.join(HUNG)
    assert refused == [{"after": ["not_applied"]}]


def test_a_batch_before_never_applied_refuses_the_next_after_the_wait(sessions, handled):
    with pytest.raises(Unavailable) as refused:
        RequestOrder(handled, wait_seconds=0.05, poll_seconds=0.01).wait_for("batch-1", reader(sessions), 102)
    assert refused.value.fields == {"after": ["not_applied"]}


def test_another_companys_request_is_not_the_batch_before(sessions, handled):
    apply(sessions, handled, "batch-1", caller=Scope(103, OPERATOR))
    with pytest.raises(Unavailable):
        RequestOrder(handled, wait_seconds=0.05, poll_seconds=0.01).wait_for("batch-1", reader(sessions), 102)


@pytest.mark.parametrize("after", ["", "has space", 7, ["batch-1"], "x" * 65])
def test_a_malformed_after_is_refused_at_its_field(sessions, handled, after):
    with pytest.raises(ValidationFailed) as refused:
        RequestOrder(handled, wait_seconds=HUNG).wait_for(after, reader(sessions), 102)
    assert refused.value.fields == {"after": ["invalid"]}


def test_a_repeat_running_beside_the_first_leaves_the_first_to_tell(handled):
    order = RequestOrder(handled)
    with order.running("batch-1"):
        first = order._running["batch-1"]
        with order.running("batch-1"):
            pass
        assert order._running["batch-1"] is first and not first.is_set()
    assert "batch-1" not in order._running and first.is_set()


@pytest.mark.parametrize("request_id", [{"id": 1}, ["batch-1"], "has space"])
def test_a_malformed_request_id_is_refused_at_its_field_before_anything_runs(handled, request_id):
    ran = []
    with pytest.raises(ValidationFailed) as refused:
        with RequestOrder(handled).running(request_id):
            ran.append(1)
    assert refused.value.fields == {"request_id": ["invalid"]} and ran == []
