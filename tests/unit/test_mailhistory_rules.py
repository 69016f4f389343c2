"""Rules of the mail-history service on its plain modules (no Nameko, no broker)."""
import json

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from services.common.errors import Forbidden
from services.common.scope import OPERATOR, Scope
from services.mailhistory import history, tracking
from services.mailhistory.kinds import display_id, family, parse_mail_reference
from services.mailhistory.models import Base, OutboxEvent

OP = Scope(7, OPERATOR)
CUSTOMERS = {"M1": {"id": 1, "member_number": "M1"}, "M2": {"id": 2, "member_number": "M2"}}


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with sessionmaker(engine)() as session:
        history.upsert_mails(session, OP, shop_ids=set(), mails=[
            {"mail_number": 100, "kind": "manual", "name": "秋のセール"},
            {"mail_number": 201, "kind": "manual_scenario", "name": "ようこそ1", "scenario_number": 12, "step": 1},
            {"mail_number": 202, "kind": "manual_scenario", "name": "ようこそ2", "scenario_number": 12, "step": 2},
            {"mail_number": 300, "kind": "automatic", "name": "誕生日"},
            {"mail_number": 400, "kind": "scheduled", "name": "毎週金曜"},
        ])
        yield session


def test_a_manual_scenarios_first_mail_counts_as_manual_and_the_later_ones_as_automatic():
    assert family("manual_scenario", 1) == "manual"
    assert family("manual_scenario", 2) == "automatic"
    assert family("scheduled") == "manual" and family("manual") == "manual"
    assert family("automatic") == "automatic" and family("automatic_scenario", 1) == "automatic"


def test_scenario_mails_are_found_with_the_s_prefix(session):
    assert parse_mail_reference("S12") == ("scenario", 12, None)
    assert parse_mail_reference("ｓ12-2") == ("scenario", 12, 2)
    assert parse_mail_reference("100") == ("mail", 100, None)
    assert parse_mail_reference("x") is None
    assert [m.mail_number for m in history.find_mails(session, OP, "S12")] == [201, 202]
    assert [m.mail_number for m in history.find_mails(session, OP, "S12-2")] == [202]
    assert [m.mail_number for m in history.find_mails(session, OP, "100")] == [100]
    assert history.find_mails(session, OP, "201") == [], "a scenario mail is written with S"
    assert display_id("manual_scenario", 202, 12, 2) == "S12-2"


def test_the_two_families_of_the_manual(session):
    manual = [m.mail_number for m in history.find_mails(session, OP, mail_family="manual")]
    automatic = [m.mail_number for m in history.find_mails(session, OP, mail_family="automatic")]
    assert manual == [100, 201, 400] and automatic == [202, 300]


def _delivery(at, result, member="M1", address="a@example.jp", mail=100):
    return {"activity": "delivery", "mail_number": mail, "member_number": member, "occurred_at": at,
            "result": result, "address": address}


def test_the_third_failed_delivery_sets_address_error_and_a_later_success_does_not_clear_the_count(session):
    reports = [_delivery("2026-11-0%dT10:00:00" % day, "failed") for day in (1, 2)]
    history.record_activities(session, OP, reports, CUSTOMERS)
    assert history.address_errors(session, OP, 1) == [
        {"address": "a@example.jp", "failed_count": 2, "address_error": False}]
    history.record_activities(session, OP, [_delivery("2026-11-03T10:00:00", "delivered"),
                                            _delivery("2026-11-04T10:00:00", "failed")], CUSTOMERS)
    assert history.address_errors(session, OP, 1) == [
        {"address": "a@example.jp", "failed_count": 3, "address_error": True}]
    history.record_activities(session, OP, [_delivery("2026-11-05T10:00:00", "delivered")], CUSTOMERS)
    assert history.address_errors(session, OP, 1)[0]["address_error"] is True
    changes = session.scalars(select(OutboxEvent.payload).where(OutboxEvent.event_type == "address_error_changed")
                              .order_by(OutboxEvent.id)).all()
    assert [json.loads(c)["data"]["failed_count"] for c in changes] == [1, 2, 3]  # one per counted failure
    assert [json.loads(c)["data"]["address_error"] for c in changes] == [False, False, True]


def test_a_report_sent_twice_counts_once(session):
    report = {"activity": "open", "mail_number": 100, "member_number": "M1", "occurred_at": "2026-11-01T10:00:00"}
    first = history.record_activities(session, OP, [report, report], CUSTOMERS)
    again = history.record_activities(session, OP, [report], CUSTOMERS)
    assert (first["recorded"], first["duplicates"], again["duplicates"]) == (1, 1, 1)
    summary = {m["mail_number"]: m for m in history.mail_summaries(session, OP)}
    assert summary[100]["opened"] == 1


def test_bad_reports_are_reported_by_index_and_the_others_recorded(session):
    result = history.record_activities(session, OP, [
        _delivery("2026-11-01T10:00:00", "delivered"),
        {"activity": "open", "mail_number": 999, "member_number": "M1", "occurred_at": "2026-11-01T10:00:00"},
        {"activity": "click", "mail_number": 100, "member_number": "NOBODY", "occurred_at": "2026-11-01T10:00:00",
         "url": "https://example.jp"},
        {"activity": "delivery", "mail_number": 100, "member_number": "M2", "occurred_at": "2026-11-01T10:00:00"},
    ], CUSTOMERS)
    assert result["recorded"] == 1
    assert result["errors"] == [
        {"index": 1, "fields": {"mail_number": ["unknown_mail"]}},
        {"index": 2, "fields": {"member_number": ["unknown_customer"]}},
        {"index": 3, "fields": {"result": ["required"], "address": ["required"]}},
    ]


def test_a_tampered_tracking_token_is_refused(monkeypatch):
    monkeypatch.setenv("TRACKING_SECRET", "test-secret")
    token = tracking.make_token(7, 100, CUSTOMERS["M1"], "click", "https://shop.example.jp/sale")
    assert tracking.read_token(token, "click")["r"] == "https://shop.example.jp/sale"
    with pytest.raises(Forbidden):
        tracking.read_token(token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "click")
    with pytest.raises(Forbidden):
        tracking.read_token(token, "open"), "a click token is not an open token"
    monkeypatch.setenv("TRACKING_SECRET", "another-secret")
    with pytest.raises(Forbidden):
        tracking.read_token(token, "click")


def test_a_shop_account_cannot_register_mails_for_the_company():
    with pytest.raises(Forbidden):
        history.upsert_mails(None, Scope(7, "shop", shop_id=1), [], {1})
