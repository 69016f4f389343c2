"""The command line the quick start relies on."""
import os
import subprocess
import sys

from sqlalchemy import select

from services.common.broker import masked
from services.common.migrations import upgrade
from services.demo import DEMO_COMPANY_ID, demo_password, load_shops_demo
from tests.support import HUNG_SECONDS, ROOT, Databases, session_for


def test_no_broker_is_reported_at_once_with_advice_and_no_password():
    env = dict(os.environ, AMQP_URI="amqp://guest:s3cret@127.0.0.1:1/")
    result = subprocess.run([sys.executable, "-m", "services", "check-broker"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=HUNG_SECONDS)
    assert result.returncode == 1
    assert "No RabbitMQ broker answers" in result.stderr
    assert "apt-get install -y rabbitmq-server" in result.stderr and "docker compose up -d rabbitmq" in result.stderr
    assert "docker run -d -p 5672:5672 rabbitmq" in result.stderr
    assert "s3cret" not in result.stderr


def test_masked_uri():
    assert masked("amqp://user:pw@host:5672/v") == "amqp://user:***@host:5672/v"
    assert masked("amqp://host/") == "amqp://host/"


def test_demo_data_is_the_manuals_company_and_loads_only_once(tmp_path):
    from services.shops import accounts
    from services.shops.models import Shop

    databases = Databases(tmp_path)
    url = databases.create("demo_shops")
    try:
        upgrade("shops", url)
        engine, factory = session_for(url)
        with factory() as session:
            assert load_shops_demo(session) is True
            session.commit()
        with factory() as session:
            assert load_shops_demo(session) is False
            shops = session.scalars(select(Shop).order_by(Shop.shop_number)).all()
            assert [(s.company_id, s.shop_number, s.name) for s in shops] == [
                (DEMO_COMPANY_ID, 103, "LTV-Innovation Shop"), (DEMO_COMPANY_ID, 5019, "わくわくshop")]
            for login_id in ("demo", "102103", "1025019"):
                context, refusal = accounts.authenticate(
                    session, {"login_id": login_id, "password": demo_password(), "ip": "127.0.0.1"})
                assert refusal is None, login_id
        engine.dispose()
    finally:
        databases.drop_all()


def test_demo_customers_and_purchases_come_from_the_cdnow_log(tmp_path, monkeypatch):
    from services.customers.models import Customer
    from services.demo import load_customers_and_purchases_demo
    from services.purchases.models import Purchase

    log = tmp_path / "cdnow.txt"
    log.write_text(" 00001 0001 19970101  2   29.33\n 00002 0001 19970318  1   14.96\n 00003 0002 19970102  1   10.00\n")
    monkeypatch.setenv("DEMO_PURCHASES", str(log))
    databases = Databases(tmp_path)
    try:
        urls = {name: databases.create(f"demo_{name}") for name in ("customers", "purchases")}
        for name, url in urls.items():
            upgrade(name, url)
        (c_engine, c_factory), (p_engine, p_factory) = session_for(urls["customers"]), session_for(urls["purchases"])
        with c_factory() as customers_session, p_factory() as purchases_session:
            assert load_customers_and_purchases_demo(customers_session, purchases_session, {103: 1, 5019: 2}) == 2
            customers_session.commit()
            purchases_session.commit()
        with c_factory() as customers_session, p_factory() as purchases_session:
            assert load_customers_and_purchases_demo(customers_session, purchases_session, {103: 1, 5019: 2}) == 0
            assert sorted(customers_session.scalars(select(Customer.member_number))) == ["1", "2"]
            purchases = purchases_session.scalars(select(Purchase).order_by(Purchase.order_code)).all()
            assert [(p.member_number, p.billed_amount, p.purchased_at.year) for p in purchases] == [
                ("1", 2932, 2025), ("1", 1496, 2025), ("2", 1000, 2025)]  # 2 CDs at 1,466 yen
        c_engine.dispose()
        p_engine.dispose()
    finally:
        databases.drop_all()


def test_the_demo_purchase_log_ships_with_the_project(monkeypatch):
    from services.demo import _cdnow_rows

    monkeypatch.delenv("DEMO_PURCHASES", raising=False)
    rows = _cdnow_rows()
    assert len(rows) == 6919 and len({customer for customer, *_ in rows}) == 2357
