"""Failed logins per client address: many wrong guesses from one address, whatever login ids they name, pause
logins from that address for a while.

The counts live in the shops database, so every gateway worker and every shops instance shares them. A window of
``LOGIN_ADDRESS_WINDOW_MINUTES`` starts at an address's first failure; ``LOGIN_ADDRESS_MAX_FAILURES`` failures in it
refuse every login from the address until the window ends. A successful login does not reset the count (else one
valid account would let its holder guess at the others). IPv6 addresses count by their /64, which one client
usually holds whole.
"""
import datetime as dt
import ipaddress

from sqlalchemy import select, update

from services.common.config import env_int
from services.common.db import add_unless_present

from .models import LoginAddressFailures


def max_failures():
    return env_int("LOGIN_ADDRESS_MAX_FAILURES", 20)


def window():
    return dt.timedelta(minutes=env_int("LOGIN_ADDRESS_WINDOW_MINUTES", 15))


def address_key(ip):
    """The key an address counts under: the address itself, or its /64 for IPv6."""
    try:
        parsed = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return (ip or "").strip()[:64]
    if parsed.version == 6:
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _aware(value):
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _current(row, now):
    return row is not None and _aware(row.window_started_at) > now - window()


def is_throttled(session, ip, now):
    row = session.get(LoginAddressFailures, address_key(ip))
    return _current(row, now) and row.failures >= max_failures()


def count_failure(session, ip, now):
    """One more failed login from the address (atomically, as several workers may count at once)."""
    key = address_key(ip)

    def find():
        return session.scalar(select(LoginAddressFailures).where(LoginAddressFailures.address == key))

    row = find()
    if row is None:
        row, created = add_unless_present(session, LoginAddressFailures(address=key, window_started_at=now,
                                                                        failures=1), find)
        if created:
            return
    table = LoginAddressFailures
    if _current(row, now):
        session.execute(update(table).where(table.address == key).values(failures=table.failures + 1))
    else:
        session.execute(update(table).where(table.address == key).values(failures=1, window_started_at=now))
    session.expire(row)
