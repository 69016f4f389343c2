"""Batch upsert by member number on the plain modules (no Nameko, no broker)."""
import json

import pytest
from sqlalchemy import create_engine, event, select
from sqlalchemy.orm import sessionmaker

from services.common.errors import ValidationFailed
from services.common.scope import OPERATOR, SHOP, Scope
from services.customers import customers, groups
from services.customers.models import Base, Customer, OutboxEvent

SHOP_A, SHOP_B = 11, 12
OP = Scope(7, OPERATOR)


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with sessionmaker(engine)() as session:
        yield session


def events_of(session):
    """(event type, version, data) of each customer announced, a batch event's customers one by one: as a
    ``customer_created`` (version 1) or ``customer_updated`` of each."""
    found = []
    for event in session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)):
        data = json.loads(event.payload)["data"]
        if event.event_type != "customers_recorded":
            found.append((event.event_type, event.version, data))
            continue
        found.extend(("customer_created" if c["version"] == 1 else "customer_updated", c["version"], c)
                     for c in data["customers"])
    return found


def test_a_batch_creates_with_the_keys_and_values_a_single_create_gives(session):
    one = customers.create_customer(session, OP, {"shop_id": SHOP_A, "member_number": "１２３", "family_name": "ﾔﾏﾀﾞ",
                                                  "family_kana": "やまだ", "address": "東京都港区　１－２"})
    answer = customers.batch_upsert(session, OP, [{"shop_id": SHOP_A, "member_number": "１２４", "family_name": "ﾔﾏﾀﾞ",
                                                   "family_kana": "やまだ", "address": "東京都港区　１－２"}])
    batched = session.get(Customer, answer["customers"][0]["id"])
    columns = ("name_key", "address_key", "family_kana", "address", "gender", "mail_permission", "dm_permission",
               "line_permission", "customer_class", "version")
    assert [getattr(batched, c) for c in columns] == [getattr(one, c) for c in columns]
    assert (one.member_number_value, batched.member_number_value) == (123, 124)
    assert batched.registered_at is not None and batched.id > one.id


def test_options_skip_by_index_and_keep_what_is_stored(session):
    customers.batch_upsert(session, OP, [{"shop_id": SHOP_A, "member_number": "K-1", "family_name": "山田",
                                          "remark1": "残す"}])
    answer = customers.batch_upsert(session, OP, [
        {"member_number": "K-1", "family_name": "別", "given_name": "花子", "remark1": "上書き"},
        {"member_number": "K-2", "shop_id": SHOP_A, "family_name": "新規"}],
        options={"mode": "update_only", "keep_existing": True})
    assert (answer["updated"], answer["skipped"]) == (1, [{"index": 1, "reason": "not_stored"}])
    stored = session.scalar(select(Customer).where(Customer.member_number == "K-1"))
    assert (stored.family_name, stored.given_name, stored.remark1, stored.version) == ("山田", "花子", "残す", 2)
    answer = customers.batch_upsert(session, OP, [{"member_number": "K-1", "family_name": "別"}],
                                    options={"mode": "create_only"})
    assert (answer["updated"], answer["skipped"]) == (0, [{"index": 0, "reason": "already_stored"}])


def test_a_record_changing_nothing_is_unchanged_without_a_version_or_an_event(session):
    record = {"shop_id": SHOP_A, "member_number": "U-1", "family_name": "山田", "registered_at": "2015-04-01T10:00:00",
              "birth_date": "1990-01-02", "points_held": 10}
    customers.batch_upsert(session, OP, [record])
    answer = customers.batch_upsert(session, OP, [record, dict(record, points_held=11)])
    assert (answer["unchanged"], answer["updated"]) == (1, 1)
    assert [(t, v) for t, v, _ in events_of(session)] == [("customer_created", 1), ("customer_updated", 2)]


@pytest.mark.parametrize("options, fields", [
    ({"mode": "all"}, {"options.mode": ["one_of"]}), ([], {"options": ["invalid"]}),
    ({"keep_existing": None}, {"options.keep_existing": ["required"]}),
])
def test_bad_options_are_refused_by_field(session, options, fields):
    with pytest.raises(ValidationFailed) as refused:
        customers.batch_upsert(session, OP, [], options=options)
    assert refused.value.fields == fields


def test_a_number_twice_in_a_batch_is_created_by_the_first_record_and_updated_by_the_second(session):
    answer = customers.batch_upsert(session, OP, [
        {"shop_id": SHOP_A, "member_number": "D-1", "family_name": "初回"},
        {"member_number": "D-1", "shop_id": SHOP_B, "given_name": "二"},
        {"member_number": "D-1", "given_name": "二"}])
    assert (answer["created"], answer["updated"], answer["unchanged"]) == (1, 1, 1)
    assert [c["version"] for c in answer["customers"]] == [2, 2, 2]
    assert [(t, v, d["shop_id"], d["given_name"]) for t, v, d in events_of(session)] == [
        ("customer_created", 1, SHOP_A, ""), ("customer_updated", 2, SHOP_B, "二")]


def test_a_shop_account_may_not_touch_another_shops_customer_nor_create_in_another_shop(session):
    customers.batch_upsert(session, OP, [{"shop_id": SHOP_B, "member_number": "O-1", "family_name": "他店"},
                                         {"shop_id": SHOP_A, "member_number": "W-1", "family_name": "自店"}])
    answer = customers.batch_upsert(session, Scope(7, SHOP, shop_id=SHOP_A), [
        {"member_number": "O-1", "given_name": "書換"},
        {"member_number": "N-1", "shop_id": SHOP_B, "family_name": "他店へ"},
        {"member_number": "W-1", "shop_id": SHOP_B},
        {"member_number": "N-2", "shop_id": 99, "family_name": "未知"}], shop_ids={SHOP_A, SHOP_B})
    assert answer["errors"] == [{"index": 0, "fields": {"member_number": ["forbidden"]}},
                                {"index": 1, "fields": {"shop_id": ["forbidden"]}},
                                {"index": 2, "fields": {"member_number": ["forbidden"]}},
                                {"index": 3, "fields": {"shop_id": ["forbidden"]}}]
    answer = customers.batch_upsert(session, OP, [{"member_number": "N-3", "shop_id": 99, "family_name": "未知"}],
                                    shop_ids={SHOP_A, SHOP_B})
    assert answer["errors"] == [{"index": 0, "fields": {"shop_id": ["unknown_shop"]}}]


def test_choices_in_a_batch_are_checked_set_and_cleared(session):
    group = groups.add_group(session, OP, {"name": "会員ステータス"})
    group = groups.add_choice(session, OP, group.id, {"label": "プラチナ"})
    group = groups.add_choice(session, OP, group.id, {"label": "ゴールド"})
    platinum, gold = (c.id for c in group.choices)
    key = str(group.id)
    answer = customers.batch_upsert(session, OP, [
        {"shop_id": SHOP_A, "member_number": "C-1", "family_name": "x", "choices": {key: platinum}},
        {"shop_id": SHOP_A, "member_number": "C-2", "family_name": "x", "choices": {key: 999}},
        {"member_number": "C-1", "choices": {key: gold}}])
    assert answer["errors"] == [{"index": 1, "fields": {f"choices.{key}": ["unknown_choice"]}}]
    assert [d["choices"] for _, _, d in events_of(session)[-2:]] == [{key: platinum}, {key: gold}]
    customers.batch_upsert(session, OP, [{"member_number": "C-1", "choices": {key: None}}])
    session.expire_all()
    assert session.scalar(select(Customer).where(Customer.member_number == "C-1")).choices == []


def test_a_batch_announces_customers_as_single_creates_and_updates_do(session):
    fields = {"shop_id": SHOP_A, "family_name": "ﾔﾏﾀﾞ", "family_kana": "やまだ", "birth_date": "1990-01-02",
              "pc_email": "ｙ@example.jp", "mail_permission": "pc", "remark3": "メモ", "points_held": 5}
    single = customers.create_customer(session, OP, dict(fields, member_number="E-1"))
    customers.update_customer(session, OP, single.id, {"given_name": "花子", "extra2": "追加"})
    customers.batch_upsert(session, OP, [dict(fields, member_number="E-2"),
                                         {"member_number": "E-2", "given_name": "花子", "extra2": "追加"}])
    # one outbox row (one message) for the whole batch
    assert session.scalars(select(OutboxEvent.event_type).order_by(OutboxEvent.id)).all() == [
        "customer_created", "customer_updated", "customers_recorded"]
    (t1, v1, created), (t2, v2, updated), (t3, v3, batch_created), (t4, v4, batch_updated) = events_of(session)
    assert [(t1, v1), (t2, v2)] == [(t3, v3), (t4, v4)] == [("customer_created", 1), ("customer_updated", 2)]
    for one, batched in ((created, batch_created), (updated, batch_updated)):
        assert {key for key in one if one[key] != batched[key]} == {"id", "member_number", "registered_at"}


def test_a_batch_takes_a_few_statements_whatever_the_number_of_its_records(session):
    customers.batch_upsert(session, OP, [{"shop_id": SHOP_A, "member_number": f"S{i}", "family_name": "既存"}
                                         for i in range(250)])
    seen = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731 - the statement text
    event.listen(session.bind, "before_cursor_execute", listener)
    try:
        answer = customers.batch_upsert(session, OP, [
            {"shop_id": SHOP_A, "member_number": f"S{i}", "family_name": "既存" if i % 2 else "更新"}
            for i in range(500)])
    finally:
        event.remove(session.bind, "before_cursor_execute", listener)
    assert (answer["created"], answer["updated"], answer["unchanged"]) == (250, 125, 125)
    # savepoint, read, insert, update, events, release: one per record would be thousands
    assert len(seen) <= 8, seen


def test_keep_existing_leaves_a_group_already_chosen_and_fills_the_others(session):
    status = groups.add_choice(session, OP, groups.add_group(session, OP, {"name": "会員ステータス"}).id,
                               {"label": "プラチナ"})
    job = groups.add_choice(session, OP, groups.add_group(session, OP, {"name": "職業"}).id, {"label": "会社員"})
    platinum, clerk = status.choices[0].id, job.choices[0].id
    customers.batch_upsert(session, OP, [{"shop_id": SHOP_A, "member_number": "G-1", "family_name": "x",
                                          "choices": {str(status.id): platinum}}])
    answer = customers.batch_upsert(session, OP, [{"member_number": "G-1", "choices": {
        str(status.id): None, str(job.id): clerk}}], options={"keep_existing": True})
    assert answer["updated"] == 1
    assert events_of(session)[-1][2]["choices"] == {str(status.id): platinum, str(job.id): clerk}


def test_a_number_registered_by_another_call_meanwhile_is_refused_as_taken_and_the_rest_applied(session,
                                                                                               monkeypatch):
    customers.batch_upsert(session, OP, [{"shop_id": SHOP_A, "member_number": "T-1", "family_name": "先着"}])
    before = len(events_of(session))
    # as if T-1 had been committed by another batch after this one read what was stored
    monkeypatch.setattr(customers, "_stored_drafts", lambda *_args: {})
    answer = customers.batch_upsert(session, OP, [
        {"shop_id": SHOP_A, "member_number": "T-1", "family_name": "後着"},
        {"shop_id": SHOP_A, "member_number": "T-2", "family_name": "別"},
        {"member_number": "T-1", "given_name": "二"}])
    assert (answer["created"], answer["updated"]) == (1, 0)
    assert answer["errors"] == [{"index": 0, "fields": {"member_number": ["taken"]}},
                                {"index": 2, "fields": {"member_number": ["taken"]}}]
    assert [(t, d["member_number"]) for t, _, d in events_of(session)[before:]] == [("customer_created", "T-2")]
    stored = session.scalars(select(Customer).where(Customer.member_number == "T-1")).all()
    assert [c.family_name for c in stored] == ["先着"]
