"""Issuing member numbers past numbers given by hand: a few queries, whatever the numbers already taken."""
import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.orm import sessionmaker

from services.common.scope import OPERATOR, Scope
from services.customers import customers, numbering
from services.customers.models import Base, Customer

COMPANY = 102


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with sessionmaker(engine)() as session:
        yield session


def given_by_hand(session, numbers, company_id=COMPANY):
    session.add_all(Customer(company_id=company_id, shop_id=1, member_number=n, family_name="手入力",
                             member_number_value=numbering.issuable_value(n)) for n in numbers)
    session.flush()


def statements_of(session, action):
    seen = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731 - the statement text
    event.listen(session.bind, "before_cursor_execute", listener)
    try:
        result = action()
    finally:
        event.remove(session.bind, "before_cursor_execute", listener)
    return result, seen


def test_a_company_whose_numbers_one_to_two_thousand_are_taken_gets_2001_in_a_few_statements(session):
    given_by_hand(session, [str(n) for n in range(1, 2001)])
    number, statements = statements_of(session, lambda: numbering.issue_member_number(session, COMPANY))
    assert number == "2001"
    assert len(statements) <= 12  # stepping one by one would take two per taken number: four thousand
    assert numbering.issue_member_number(session, COMPANY) == "2002"


def test_numbers_the_sequence_cannot_issue_do_not_move_it(session):
    # leading zeros, ten digits and more, letters: never what the sequence issues, so never in its way
    given_by_hand(session, ["1", "2", "3", "00004", "123456789012", "Z-999", "9" * 50])
    assert numbering.issue_member_number(session, COMPANY) == "4"


def test_a_number_registered_by_hand_ahead_of_the_sequence_is_jumped_when_reached(session):
    scope = Scope(COMPANY, OPERATOR)

    def register(member_number=""):
        return customers.create_customer(session, scope, {"shop_id": 1, "family_name": "山田",
                                                          "member_number": member_number}).member_number

    assert register() == "1"
    for by_hand in ("2", "40", "A-100", "0050"):
        register(by_hand)
    assert register() == "41"
    assert register() == "42"


def test_other_companies_numbers_do_not_count(session):
    given_by_hand(session, [str(n) for n in range(1, 100)], company_id=999)
    assert numbering.issue_member_number(session, COMPANY) == "1"
    given_by_hand(session, ["1", "2"], company_id=COMPANY + 1)
    assert numbering.issue_member_number(session, COMPANY + 1) == "3"
