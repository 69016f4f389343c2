"""Auto-issued member numbers: the next number of the company's sequence that no customer holds.

Numbers given by hand share the space of issued ones. Instead of stepping the sequence past them one by one (each
step a query while the sequence row is locked), a taken number makes the sequence jump past the highest numeric
member number of the company, found in one query over the index on (company, length, number): a number of up to
nine digits without a leading zero orders by length, then text, as it does by value. Issued numbers are such
numbers, so a number issued after the jump is one nobody holds.
"""
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from .models import Customer, MemberSequence

# Numbers that the sequence (an INTEGER column) can reach; longer numbers given by hand cannot collide until then.
_ISSUABLE = r"^[1-9][0-9]{0,8}$"
_ISSUABLE_DIGITS = 9


def issue_member_number(session, company_id):
    """The next free number of the company's sequence. The sequence row stays locked until commit."""
    while True:
        value = _take(session, company_id)
        number = str(value)
        if not number_taken(session, company_id, number):
            return number
        # Given by hand: continue after the highest numeric number instead of trying the next one.
        highest = highest_issuable_number(session, company_id)
        session.execute(update(MemberSequence).where(MemberSequence.company_id == company_id,
                                                     MemberSequence.next_value <= highest)
                        .values(next_value=highest + 1))


def _take(session, company_id):
    """Raise the sequence by one and return the value it had, creating the sequence at 1 when it is new."""
    while True:
        value = session.execute(
            update(MemberSequence).where(MemberSequence.company_id == company_id)
            .values(next_value=MemberSequence.next_value + 1).returning(MemberSequence.next_value)
        ).scalar()
        if value is not None:
            return value - 1
        try:
            with session.begin_nested():
                session.add(MemberSequence(company_id=company_id, next_value=1))
        except IntegrityError:
            pass  # created meanwhile by a concurrent registration


def highest_issuable_number(session, company_id):
    """The highest member number of the company the sequence could issue (0 when none)."""
    length = func.length(Customer.member_number)
    number = session.scalar(
        select(Customer.member_number)
        .where(Customer.company_id == company_id, length <= _ISSUABLE_DIGITS,
               Customer.member_number.regexp_match(_ISSUABLE))
        .order_by(Customer.company_id.desc(), length.desc(), Customer.member_number.desc()).limit(1))
    return int(number) if number else 0


def number_taken(session, company_id, number, except_id=None):
    query = select(Customer.id).where(Customer.company_id == company_id, Customer.member_number == number)
    if except_id is not None:
        query = query.where(Customer.id != except_id)
    return session.scalar(query) is not None
