"""Rules of the shops service, tested on its plain modules (no Nameko, no broker)."""
import datetime as dt
import functools
from unittest import mock

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from services.common.errors import AuthenticationFailed, Forbidden, ValidationFailed
from services.common.scope import OPERATOR, SHOP, Scope
from services.shops import accounts, companies, networks, passwords, shops
from services.shops.models import Account, Base, OutboxEvent
from services.shops.permissions import DEFAULTS, NAMES


_known_hash = functools.cache(passwords.hash_password)


def _fixture_hash(clear):
    """The hashes of the fixture's accounts, each made once per run (argon2 is slow on purpose): the operator's
    password's, and for the shops (whose generated passwords are replaced) Shop-Secret-123's."""
    return _known_hash(clear if clear == "Op-Secret-123" else "Shop-Secret-123")


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with sessionmaker(engine)() as session:
        with mock.patch.object(passwords, "hash_password", _fixture_hash):
            companies.create_company(session, 102, {"name": "LTV-Innovation"})
            accounts.create_operator(session, 102, "admin", "管理者", "Op-Secret-123")
            for number, name in ((103, "LTV-Innovation Shop"), (5019, "わくわくshop")):
                shop, _ = shops.create_shop(session, Scope(102, OPERATOR), {"shop_number": number, "name": name,
                                                                           "phone": "03-0000-0000"})
                shop.account.password_hash = passwords.hash_password("Shop-Secret-123")
        session.flush()
        yield session


def login(session, login_id, password, ip="127.0.0.1", now=None):
    return accounts.authenticate(session, {"login_id": login_id, "password": password, "ip": ip}, now=now)


def test_shop_login_id_is_company_id_followed_by_shop_number():
    assert shops.shop_login_id(102, 103) == "102103"
    assert shops.shop_login_id(102, 5019) == "1025019"


def test_new_shops_get_the_manuals_default_permissions(session):
    shop = shops.list_shops(session, Scope(102, OPERATOR))[0]
    assert shops.permissions_of(shop) == DEFAULTS
    assert all(DEFAULTS[n] for n in NAMES if n.startswith("may_use_") and n != "may_use_custom_csv_download")
    assert not any(DEFAULTS[n] for n in NAMES if n.startswith("may_export_"))


def test_duplicate_shop_number_is_refused(session):
    with pytest.raises(ValidationFailed) as refused:
        shops.create_shop(session, Scope(102, OPERATOR), {"shop_number": 103, "name": "x", "phone": "03-0000-0000"})
    assert refused.value.fields == {"shop_number": ["taken"]}


def test_generated_password_is_returned_once_and_only_its_hash_is_kept(session):
    shop, password = shops.create_shop(session, Scope(102, OPERATOR),
                                       {"shop_number": 7, "name": "新店", "phone": "03-0000-0000"})
    assert password not in shop.account.password_hash
    assert passwords.verify(shop.account.password_hash, password)


def test_wrong_passwords_lock_the_account_for_a_while(session, monkeypatch):
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "3")
    monkeypatch.setenv("LOGIN_LOCK_MINUTES", "15")
    now = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.timezone.utc)
    assert login(session, "102103", "bad", now=now) == (None, "invalid_credentials")
    assert login(session, "102103", "bad", now=now) == (None, "invalid_credentials")
    assert login(session, "102103", "bad", now=now) == (None, "locked")
    assert login(session, "102103", "Shop-Secret-123", now=now + dt.timedelta(minutes=14)) == (None, "locked")
    context, refusal = login(session, "102103", "Shop-Secret-123", now=now + dt.timedelta(minutes=16))
    assert refusal is None and context["scope"]["shop_id"]


def test_unknown_login_id_reads_like_a_wrong_password(session):
    assert login(session, "nobody", "whatever") == (None, "invalid_credentials")


def test_a_standby_shop_cannot_log_in_but_the_operator_can(session):
    shop = shops.list_shops(session, Scope(102, OPERATOR))[1]
    shop.status = "standby"
    assert login(session, "1025019", "Shop-Secret-123") == (None, "shop_standby")
    context, _ = login(session, "admin", "Op-Secret-123")
    assert [s["shop_number"] for s in context["shops"]] == [103]


def test_login_outside_the_allowlist_is_refused(session):
    companies.replace_allowlist(session, Scope(102, OPERATOR), {"networks": ["192.0.2.0/24"]})
    assert login(session, "admin", "Op-Secret-123", ip="198.51.100.1") == (None, "ip_not_allowed")
    assert login(session, "admin", "Op-Secret-123", ip="192.0.2.99")[1] is None


def test_shop_scope_cannot_reach_another_shop(session):
    first, second = shops.list_shops(session, Scope(102, OPERATOR))
    scope = Scope(102, SHOP, shop_id=first.id)
    assert shops.get_shop(session, scope, first.id) is first
    with pytest.raises(Forbidden):
        shops.get_shop(session, scope, second.id)
    with pytest.raises(Forbidden):
        shops.get_shop(session, Scope(999, OPERATOR), first.id)


def test_every_change_records_an_event_with_a_rising_version(session):
    shop = shops.list_shops(session, Scope(102, OPERATOR))[0]
    flags = {name: True for name in NAMES}
    shops.update_permissions(session, Scope(102, OPERATOR), shop.id, flags)
    shops.update_shop(session, Scope(102, OPERATOR), shop.id, {"name": "改名", "phone": "0300000000"})
    versions = list(session.scalars(select(OutboxEvent.version).where(OutboxEvent.entity == "shop",
                                                                     OutboxEvent.entity_id == str(shop.id))
                                    .order_by(OutboxEvent.id)))
    assert versions == [1, 2, 3]


def test_regenerate_all_gives_every_shop_a_new_distinct_password(session):
    before = {a.login_id: a.password_hash for a in session.scalars(select(Account))}
    generated = accounts.regenerate_all_passwords(session, Scope(102, OPERATOR))
    assert [row["login_id"] for row in generated] == ["102103", "1025019"]
    for row in generated:
        account = session.scalar(select(Account).where(Account.login_id == row["login_id"]))
        assert account.password_hash != before[row["login_id"]]
        assert passwords.verify(account.password_hash, row["password"])


@pytest.mark.parametrize("entry, expected", [
    ("192.168.1.5", "192.168.1.5/32"),
    ("１９２．１６８．１．０／２４", "192.168.1.0/24"),
    ("10.1.2.3/8", "10.0.0.0/8"),
    ("2001:DB8::1", "2001:db8::1/128"),
    ("2001:db8::/32", "2001:db8::/32"),
])
def test_allowlist_entries_are_normalised(entry, expected):
    assert networks.normalize(entry) == expected


@pytest.mark.parametrize("entry", ["", "300.1.1.1", "example.com", "10.0.0.0/33"])
def test_bad_allowlist_entries_are_refused(entry):
    with pytest.raises(ValueError):
        networks.normalize(entry)


def test_allowlist_matching():
    allowed = ["192.0.2.0/24", "2001:db8::/32"]
    assert networks.is_allowed("192.0.2.7", allowed)
    assert networks.is_allowed("::ffff:192.0.2.7", allowed)
    assert networks.is_allowed("2001:db8:ffff::1", allowed)
    assert not networks.is_allowed("198.51.100.1", allowed)
    assert not networks.is_allowed("not-an-ip", allowed)
    assert networks.is_allowed("198.51.100.1", []), "an empty list allows every address"


def test_generated_passwords_are_strong_and_unambiguous():
    generated = {passwords.generate() for _ in range(200)}
    assert len(generated) == 200
    for password in generated:
        assert len(password) >= 14
        assert any(c.islower() for c in password) and any(c.isupper() for c in password)
        assert any(c.isdigit() for c in password)
        assert not set(password) & set("0O1lI")


def test_failures_from_one_address_across_login_ids_pause_its_logins_for_the_window(session, monkeypatch):
    monkeypatch.setenv("LOGIN_ADDRESS_MAX_FAILURES", "4")
    monkeypatch.setenv("LOGIN_ADDRESS_WINDOW_MINUTES", "10")
    now = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.timezone.utc)
    ip = "203.0.113.7"
    for login_id in ("nobody", "102103", "1025019", "admin"):
        assert login(session, login_id, "guess", ip=ip, now=now)[1] == "invalid_credentials"
    assert login(session, "admin", "Op-Secret-123", ip=ip, now=now + dt.timedelta(minutes=9)) == (None, "throttled")
    context, refusal = login(session, "admin", "Op-Secret-123", ip="203.0.113.8", now=now)
    assert refusal is None, "another address is not affected"
    context, refusal = login(session, "admin", "Op-Secret-123", ip=ip, now=now + dt.timedelta(minutes=11))
    assert refusal is None, "the window has passed"


def test_a_successful_login_does_not_reset_the_addresss_failures(session, monkeypatch):
    monkeypatch.setenv("LOGIN_ADDRESS_MAX_FAILURES", "3")
    now = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.timezone.utc)
    ip = "2001:db8:5:6::1"
    assert login(session, "102103", "guess", ip=ip, now=now)[1] == "invalid_credentials"
    assert login(session, "admin", "Op-Secret-123", ip=ip, now=now)[1] is None
    assert login(session, "1025019", "guess", ip=ip, now=now)[1] == "invalid_credentials"
    # another address of the same IPv6 /64 counts with it
    assert login(session, "nobody", "guess", ip="2001:db8:5:6::ffff", now=now)[1] == "invalid_credentials"
    assert login(session, "admin", "Op-Secret-123", ip=ip, now=now) == (None, "throttled")


def test_a_lock_and_a_new_password_end_the_accounts_sessions(session, monkeypatch):
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "2")
    context, _ = login(session, "102103", "Shop-Secret-123")
    account_id, opened = context["account"]["id"], context["session_generation"]
    assert accounts.session_context(session, account_id, "127.0.0.1", opened)["scope"]["shop_id"]
    login(session, "102103", "bad", ip="192.0.2.1")
    login(session, "102103", "bad", ip="192.0.2.1")
    with pytest.raises(AuthenticationFailed) as refused:
        accounts.session_context(session, account_id, "127.0.0.1", opened)
    assert refused.value.message == "session_ended"
    operator = Scope(102, OPERATOR)
    shop_id = context["scope"]["shop_id"]
    current = session.get(Account, account_id).session_generation
    accounts.regenerate_password(session, operator, shop_id)
    with pytest.raises(AuthenticationFailed):
        accounts.session_context(session, account_id, "127.0.0.1", current)
