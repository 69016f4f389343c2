"""Auto-issued member numbers: the next number of the company's sequence that no customer holds.

Numbers given by hand share the space of issued ones. Instead of stepping the sequence past them one by one (each
step a query while the sequence row is locked), a taken number makes the sequence jump past the highest number the
sequence could have issued, read from ``member_number_value`` (the member number as such a number, else NULL) through
the index on (company, value): one query, whatever the numbers already taken.
"""
import re

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from .models import Customer, MemberSequence

# What the sequence issues: digits without a leading zero, within the sequence's INTEGER column. Other numbers
# ("00042", "A-1", twelve digits) can never be issued, so they never stand in its way.
_ISSUABLE = re.compile(r"[1-9][0-9]{0,8}\Z")


def issuable_value(member_number):
    """The member number as the sequence would have issued it, or None."""
    return int(member_number) if member_number and _ISSUABLE.match(member_number) else None


def issue_member_number(session, company_id):
    """The next free number of the company's sequence. The sequence row stays locked until commit."""
    while True:
        number = str(_take(session, company_id))
        if not number_taken(session, company_id, number):
            return number
        # Given by hand: continue after the highest such number instead of trying the next one.
        highest = session.scalar(select(func.max(Customer.member_number_value))
                                 .where(Customer.company_id == company_id)) or 0
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


def number_taken(session, company_id, number, except_id=None):
    query = select(Customer.id).where(Customer.company_id == company_id, Customer.member_number == number)
    if except_id is not None:
        query = query.where(Customer.id != except_id)
    return session.scalar(query) is not None
