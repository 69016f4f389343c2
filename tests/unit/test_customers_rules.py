"""Rules of the customers service on its plain modules (no Nameko, no broker)."""
import datetime as dt

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from services.common.errors import Forbidden, ValidationFailed
from services.common.scope import OPERATOR, SHOP, SYSTEM, Scope
from services.customers import customers, groups, mailer, registration, settings
from services.customers.japanese import fold, to_katakana
from services.customers.models import Base, OutboxEvent, SentNotification

SHOP_A, SHOP_B = 11, 12
OP = Scope(7, OPERATOR)


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with sessionmaker(engine)() as session:
        yield session


@pytest.mark.parametrize("typed, stored", [
    ("やまだ たろう", "ヤマダ タロウ"), ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ タロウ"), ("ヤマダ　タロウ", "ヤマダ タロウ"),
    ("ｶﾞｯｺｳ", "ガッコウ"), ("ゔぁいおりん", "ヴァイオリン"),
])
def test_furigana_is_stored_as_full_width_katakana_whatever_was_typed(typed, stored):
    assert to_katakana(typed) == stored


def test_names_fold_for_matching():
    assert fold("ﾔﾏﾀﾞ　たろう") == fold("ヤマダタロウ") == "ヤマダタロウ"
    assert fold("ＡＢＣ 商店") == "abc商店"


@pytest.mark.parametrize("birth, day, age", [
    (dt.date(1991, 1, 1), dt.date(2022, 12, 31), 31), (dt.date(1991, 1, 1), dt.date(2023, 1, 1), 32),
    (dt.date(2000, 2, 29), dt.date(2021, 2, 28), 20), (None, dt.date(2022, 1, 1), None),
])
def test_age_is_derived_on_the_day(birth, day, age):
    assert customers.age_on(birth, day) == age


def test_member_numbers_are_issued_in_order_skipping_taken_ones(session):
    first = customers.create_customer(session, OP, {"shop_id": SHOP_A, "family_name": "一"})
    customers.create_customer(session, OP, {"shop_id": SHOP_A, "family_name": "二", "member_number": "2"})
    third = customers.create_customer(session, OP, {"shop_id": SHOP_A, "family_name": "三"})
    assert (first.member_number, third.member_number) == ("1", "3")
    other_company = customers.create_customer(session, Scope(8, OPERATOR), {"shop_id": SHOP_A, "family_name": "他"})
    assert other_company.member_number == "1", "each company has its own numbers"


def test_a_shop_outside_the_company_is_refused(session):
    with pytest.raises(ValidationFailed) as refused:
        customers.create_customer(session, OP, {"shop_id": 99, "family_name": "x"}, shop_ids={SHOP_A, SHOP_B})
    assert refused.value.fields == {"shop_id": ["unknown_shop"]}
    with pytest.raises(Forbidden):
        customers.create_customer(session, Scope(7, SHOP, shop_id=SHOP_A), {"shop_id": SHOP_B, "family_name": "x"})


def test_a_customer_has_at_most_one_choice_per_group_and_it_can_be_cleared(session):
    group = groups.add_group(session, OP, {"name": "会員ステータス"})
    group = groups.add_choice(session, OP, group.id, {"label": "プラチナ"})
    group = groups.add_choice(session, OP, group.id, {"label": "ゴールド"})
    platinum, gold = (c.id for c in group.choices)
    customer = customers.create_customer(session, OP, {"shop_id": SHOP_A, "family_name": "x",
                                                       "choices": {str(group.id): platinum}})
    customers.update_customer(session, OP, customer.id, {"choices": {str(group.id): gold}})
    assert [(c.group_id, c.choice_id) for c in customer.choices] == [(group.id, gold)]
    customers.update_customer(session, OP, customer.id, {"choices": {str(group.id): None}})
    assert customer.choices == []


def test_retired_choices_cannot_be_chosen(session):
    group = groups.add_group(session, OP, {"name": "職業"})
    group = groups.add_choice(session, OP, group.id, {"label": "会社員"})
    choice = group.choices[0].id
    groups.retire_choice(session, OP, group.id, choice)
    with pytest.raises(ValidationFailed) as refused:
        customers.create_customer(session, OP, {"shop_id": SHOP_A, "family_name": "x", "choices": {str(group.id): choice}})
    assert refused.value.fields == {f"choices.{group.id}": ["unknown_choice"]}


def test_every_change_records_its_event_with_a_rising_version(session):
    customer = customers.create_customer(session, OP, {"shop_id": SHOP_A, "family_name": "x"})
    customers.update_customer(session, OP, customer.id, {"given_name": "y"})
    customers.delete_customer(session, OP, customer.id)
    rows = session.execute(select(OutboxEvent.event_type, OutboxEvent.version)
                           .where(OutboxEvent.entity == "customer").order_by(OutboxEvent.id)).all()
    assert rows == [("customer_created", 1), ("customer_updated", 2), ("customer_deleted", 3)]


def test_deleting_a_customer_announces_its_support_history_going(session):
    from services.customers import support
    from services.customers.models import SupportEntry

    customer = customers.create_customer(session, OP, {"shop_id": SHOP_A, "family_name": "x"})
    entry = support.add_entry(session, OP, customer.id, {"staff": "佐藤", "entered_at": "2026-11-01T10:00:00",
                                                         "content": "電話"})
    customers.delete_customer(session, OP, customer.id)
    assert session.scalar(select(SupportEntry).where(SupportEntry.id == entry.id)) is None
    rows = session.execute(select(OutboxEvent.event_type, OutboxEvent.version)
                           .where(OutboxEvent.entity == "support_entry").order_by(OutboxEvent.id)).all()
    assert rows == [("support_entry_added", 1), ("support_entry_deleted", 2)]


def test_each_settings_stream_is_an_entity_of_its_own(session):
    _set_fields(session, phone="required")
    _set_fields(session, phone="shown")
    current = settings.remark_settings(session, 7)
    settings.update_remark_settings(session, OP, {"remarks": current})
    rows = session.execute(select(OutboxEvent.entity, OutboxEvent.entity_id, OutboxEvent.version)
                           .where(OutboxEvent.event_type.like("%settings_updated")).order_by(OutboxEvent.id)).all()
    streams = {}
    for entity, entity_id, version in rows:
        streams.setdefault((entity, entity_id), []).append(version)
    assert sorted(streams) == [("registration_settings", "7"), ("remark_settings", "7")]
    assert all(versions == sorted(set(versions)) for versions in streams.values())


SHOP_INFO = {"id": SHOP_A, "name": "LTV-Innovation Shop", "sender_name": "LTV-Lab Shop", "sender_address": "crm@example.jp"}
MEMBER = {"agreed_to_terms": True, "family_name": "鈴木", "given_name": "花子"}


def _set_fields(session, **modes):
    current = settings.registration_settings(session, 7)
    current["fields"].update(modes)
    settings.update_registration_settings(session, OP, {"fields": current["fields"],
                                                        "notification_subject": current["notification_subject"],
                                                        "notification_body": current["notification_body"]})


def test_a_field_required_in_basic_settings_is_required_on_the_public_form(session):
    _set_fields(session, phone="required", kana="required")
    with pytest.raises(ValidationFailed) as refused:
        registration.register_member(session, 7, SHOP_INFO, dict(MEMBER, mail_permission="refused"))
    assert refused.value.fields == {"phone": ["required"], "family_kana": ["required"], "given_kana": ["required"]}


def test_a_hidden_field_is_ignored(session):
    _set_fields(session, address="hidden")
    customer, _ = registration.register_member(session, 7, SHOP_INFO, dict(MEMBER, mail_permission="refused",
                                                                       address="東京都"))
    assert customer.address == ""


def test_the_notification_mail_is_written_from_the_settings(session):
    customer, mail = registration.register_member(session, 7, SHOP_INFO, dict(
        MEMBER, mail_permission="pc", email="hanako@example.jp", birth_date="20080101"))
    assert customer.pc_email == "hanako@example.jp" and customer.birth_date == dt.date(2008, 1, 1)
    assert mail["to"] == "hanako@example.jp" and mail["from_address"] == "crm@example.jp"
    assert "LTV-Innovation Shop" in mail["subject"] and "鈴木 花子 様" in mail["body"]
    assert customer.member_number in mail["body"]
    event = session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == "member_registered")).one()
    assert event.entity_id == str(customer.id)


def test_no_mail_when_the_member_refuses_it(session):
    _customer, mail = registration.register_member(session, 7, SHOP_INFO, dict(MEMBER, mail_permission="refused"))
    assert mail is None
    assert not session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == "member_registered")).all()


def test_the_notification_mail_goes_out_once_however_often_the_event_arrives(session):
    sent = []
    mail = {"customer_id": 5, "to": "a@example.jp", "from_name": "店", "from_address": "", "subject": "s", "body": "b"}
    assert mailer.deliver_once(session, mail, sender=sent.append) is True
    assert mailer.deliver_once(session, mail, sender=sent.append) is False
    assert len(sent) == 1 and session.get(SentNotification, 5).recipient == "a@example.jp"


def test_the_message_is_utf8_with_the_shop_as_sender():
    message = mailer.build_message({"to": "a@example.jp", "from_name": "わくわくshop", "from_address": "info@example.jp",
                                    "subject": "【わくわくshop】登録", "body": "本文"}, "noreply@localhost")
    assert message["Subject"] == "【わくわくshop】登録"
    assert "info@example.jp" in message["From"] and message.get_content().strip() == "本文"


def test_registration_scope_is_the_shop_of_the_form(session):
    customer, _ = registration.register_member(session, 7, SHOP_INFO, dict(MEMBER, mail_permission="refused"))
    assert customer.shop_id == SHOP_A and customer.company_id == 7
    assert Scope(7, SYSTEM).may("may_export_customers")


# --- 基本設定 per shop ----------------------------------------------------------------------------

SHOP_A_SCOPE = Scope(7, SHOP, shop_id=SHOP_A)
WAKUWAKU = {"id": SHOP_B, "name": "わくわくshop", "sender_name": "", "sender_address": ""}


def _save(session, scope, shop_id, shop_ids=(SHOP_A, SHOP_B), **modes):
    current = settings.registration_settings(session, 7, shop_id)
    fields = dict(current["fields"], **modes)
    return settings.update_registration_settings(session, scope, {
        "fields": fields, "notification_subject": current["notification_subject"],
        "notification_body": current["notification_body"]}, shop_id, shop_ids)


def test_a_shop_without_settings_of_its_own_follows_the_company_defaults(session):
    _set_fields(session, phone="required")
    shop = settings.registration_settings(session, 7, SHOP_A)
    assert shop["uses_company_defaults"] is True and shop["shop_id"] == SHOP_A
    assert shop["fields"]["phone"] == "required" and shop["version"] == 1


def test_a_shops_own_settings_reach_its_public_form_and_not_the_other_shops(session):
    saved = _save(session, OP, SHOP_A, phone="required", kana="hidden")
    assert saved["uses_company_defaults"] is False and saved["version"] == 1 and saved["shop_id"] == SHOP_A
    assert registration.form_definition(session, 7, SHOP_A)["fields"]["phone"] == "required"
    assert registration.form_definition(session, 7, SHOP_B)["fields"]["phone"] == "hidden"
    with pytest.raises(ValidationFailed) as refused:
        registration.register_member(session, 7, SHOP_INFO, dict(MEMBER, mail_permission="refused"))
    assert refused.value.fields == {"phone": ["required"]}
    customer, _ = registration.register_member(session, 7, WAKUWAKU, dict(MEMBER, mail_permission="refused"))
    assert customer.shop_id == SHOP_B
    # the company's defaults did not move
    assert settings.registration_settings(session, 7)["fields"]["phone"] == "hidden"


def test_a_shop_account_saves_only_its_own_shops_settings(session):
    saved = _save(session, SHOP_A_SCOPE, None, shop_ids=(SHOP_A,), gender="required")
    assert saved["shop_id"] == SHOP_A and saved["fields"]["gender"] == "required"
    with pytest.raises(Forbidden):
        _save(session, SHOP_A_SCOPE, SHOP_B, shop_ids=(SHOP_A,), gender="required")
    assert settings.registration_settings(session, 7, SHOP_B)["uses_company_defaults"] is True


def test_each_shop_notification_mail_is_its_own(session):
    current = settings.registration_settings(session, 7, SHOP_B)
    settings.update_registration_settings(session, OP, dict(
        {k: current[k] for k in ("fields", "notification_body")}, notification_subject="{shop_name}へようこそ"),
        SHOP_B, (SHOP_A, SHOP_B))
    _customer, mail = registration.register_member(session, 7, WAKUWAKU, dict(
        MEMBER, mail_permission="pc", email="wakuwaku@example.jp"))
    assert mail["subject"] == "わくわくshopへようこそ"
    _customer, mail = registration.register_member(session, 7, SHOP_INFO, dict(
        MEMBER, mail_permission="pc", email="shop-a@example.jp"))
    assert mail["subject"] == "【LTV-Innovation Shop】会員登録ありがとうございます"


def test_a_shops_settings_are_a_stream_of_their_own(session):
    _save(session, OP, SHOP_A, phone="required")
    _save(session, OP, SHOP_A, phone="shown")
    _set_fields(session, phone="required")
    rows = session.execute(select(OutboxEvent.entity, OutboxEvent.entity_id, OutboxEvent.version)
                           .where(OutboxEvent.event_type == "registration_settings_updated")
                           .order_by(OutboxEvent.id)).all()
    assert rows == [("shop_registration_settings", str(SHOP_A), 1), ("shop_registration_settings", str(SHOP_A), 2),
                    ("registration_settings", "7", 1)]


def test_the_public_form_reports_every_mistake_at_once(session):
    _set_fields(session, phone="required")
    with pytest.raises(ValidationFailed) as refused:
        registration.register_member(session, 7, SHOP_INFO, {
            "agreed_to_terms": False, "family_name": "", "given_name": "花子", "family_kana": "suzuki",
            "birth_date": "20081345", "mail_permission": "pc", "email": "hanako@", "postal_code": "12"})
    assert refused.value.fields == {
        "agreed_to_terms": ["must_agree"], "family_name": ["required"], "family_kana": ["invalid_kana"],
        "birth_date": ["invalid_date"], "email": ["invalid_email"], "phone": ["required"]}
