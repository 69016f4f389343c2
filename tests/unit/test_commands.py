"""The command line the quick start relies on."""
import json
import os
import re
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


def test_make_run_and_make_test_install_the_browser_libraries_first():
    """A fresh clone's ``make run`` and ``make test`` install the pinned date picker and chart library into
    gateway/static/vendor/ (and again when package-lock.json changes) before anything else; the gateway serves them
    from there."""
    env = {name: value for name, value in os.environ.items() if name not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    for target, first_after in (("run", "services check-broker"), ("test", "-m pytest")):
        plan = subprocess.run(["make", "--dry-run", "--no-print-directory", "-W", "package-lock.json", target],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=HUNG_SECONDS).stdout
        assert "npm ci --ignore-scripts" in plan and "npm run --silent vendor" in plan, plan
        assert plan.index("npm run --silent vendor") < plan.index(first_after), plan
    package = json.loads((ROOT / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())
    for name, version in package["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} {version} is not pinned"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
        assert lock["packages"][f"node_modules/{name}"]["integrity"].startswith("sha512-")
    vendor = package["scripts"]["vendor"]
    assert "gateway/static/vendor" in vendor and "node_modules/flatpickr/dist/" in vendor
    # of ECharts, only its one built file (with its licence): the gateway serves no package sources
    assert "node_modules/echarts/dist/echarts.min.js" in vendor and "node_modules/echarts/src" not in vendor
    ignored = (ROOT / ".gitignore").read_text().split()
    # made, never committed: ignored as folders and as links to another checkout's
    assert "gateway/static/vendor" in ignored and "node_modules" in ignored and ".venv" in ignored


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
            assert len(load_customers_and_purchases_demo(customers_session, purchases_session, {103: 1, 5019: 2})) == 2
            customers_session.commit()
            purchases_session.commit()
        with c_factory() as customers_session, p_factory() as purchases_session:
            assert load_customers_and_purchases_demo(customers_session, purchases_session, {103: 1, 5019: 2}) == {}
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


def test_the_demo_company_looks_like_a_real_one(tmp_path, monkeypatch):
    """Named products in categories, 履歴グループ answered, media and order attributes, customers registered before
    their first purchase, mails of both families with deliveries, opens and QR reads, 対応履歴 entries."""
    import datetime as dt

    from services.customers.models import Customer, SupportEntry
    from services.demo import load_customers_and_purchases_demo, load_mails_demo, load_support_demo
    from services.mailhistory.models import AddressState, Mail, MailActivity
    from services.purchases.models import Category, HistoryGroup, Product, Purchase

    # customer 3: PC mail, shop 103; 5: 送信拒否, shop 5019; 10: 携帯, shop 5019; 22: 携帯, shop 103, scans the DM's QR
    # code (its id divides by 11); 97: 携帯, shop 103, an address that bounces
    log = tmp_path / "cdnow.txt"
    log.write_text(" 1 0003 19970101 1 10.00\n 2 0003 19970301 2 20.00\n 3 0005 19970105 1 12.34\n"
                   " 4 0010 19970110 1 30.00\n 5 0022 19970201 3 45.00\n 6 0097 19970315 1 9.99\n")
    monkeypatch.setenv("DEMO_PURCHASES", str(log))
    databases = Databases(tmp_path)
    try:
        urls = {name: databases.create(f"demo_{name}") for name in ("customers", "purchases", "mailhistory")}
        for name, url in urls.items():
            upgrade(name, url)
        makers = {name: session_for(url) for name, url in urls.items()}
        sessions = {name: factory() for name, (_engine, factory) in makers.items()}
        people = load_customers_and_purchases_demo(sessions["customers"], sessions["purchases"], {103: 1, 5019: 2})
        assert sorted(people, key=int) == ["3", "5", "10", "22", "97"]
        assert load_support_demo(sessions["customers"], people) == 3  # every other of the first customers
        for name in ("customers", "purchases"):
            sessions[name].commit()
        assert load_mails_demo(sessions["mailhistory"], people, {103: 1, 5019: 2}) > 0
        sessions["mailhistory"].commit()

        customers, purchases, mails = sessions["customers"], sessions["purchases"], sessions["mailhistory"]
        registered = {c.member_number: c.registered_at.replace(tzinfo=None)
                      for c in customers.scalars(select(Customer))}
        # 1997-01-01 moved to 2025-01-01 09:00 Japan time, 3 % 9 + 1 = 4 days before: 2024-12-28 00:00 UTC
        assert registered["3"] == dt.datetime(2024, 12, 28, 0, 0)
        assert sorted(e.customer_id for e in customers.scalars(select(SupportEntry))) == [
            people["3"]["id"], people["10"]["id"], people["97"]["id"]]

        categories = {(c.shop_id, c.name) for c in purchases.scalars(select(Category))}
        assert categories == {(1, "default"), (1, "スキンケア"), (1, "健康食品"), (1, "食品"), (1, "生活雑貨"),
                              (2, "default"), (2, "知育玩具"), (2, "文具"), (2, "ギフト")}
        assert {shop: len([p for p in purchases.scalars(select(Product)) if p.shop_id == shop]) for shop in (1, 2)} == {
            1: 20, 2: 10}
        assert [(g.name, [c.label for c in sorted(g.choices, key=lambda c: c.position)])
                for g in purchases.scalars(select(HistoryGroup).order_by(HistoryGroup.position))] == [
            ("管理ステイタス", ["受注", "発送済", "返品"]), ("ご購入のきっかけ", ["雑誌広告", "友人の紹介", "検索", "SNS", "メルマガ"])]
        bought = purchases.scalars(select(Purchase).order_by(Purchase.order_code)).all()
        assert len(bought) == 6 and all(p.shipped_at and p.order_attributes != "{}" for p in bought)
        assert [p.billed_amount for p in bought] == [1000, 2000, 1234, 3000, 4500, 999]
        # MEDIA[(customer * 7 + row) % 6]; 履歴グループ answered where (customer + row) % (position + 2) is not 0
        assert [p.media for p in bought] == ["メルマガ", "yahoo", "instagram", "instagram", "雑誌広告", "google"]
        labels = {c.id: c.label for g in purchases.scalars(select(HistoryGroup)) for c in g.choices}
        assert [sorted(labels[a.choice_id] for a in p.answers) for p in bought] == [
            ["受注"], ["雑誌広告"], ["メルマガ", "発送済"], ["友人の紹介", "発送済"], ["雑誌広告"], []]
        names = {line.product_name for p in bought for line in p.lines}
        assert not any(name.startswith("CD-") for name in names)
        assert all(line.product_code[:2] in ("TY", "ST", "GF") for p in bought if p.shop_id == 2 for line in p.lines)

        assert sorted(m.mail_number for m in mails.scalars(select(Mail))) == [
            1001, 1002, 1003, 1004, 1101, 1102, 2001, 2002, 2101, 2102]
        assert {m.kind for m in mails.scalars(select(Mail))} == {  # both families, every kind
            "manual", "manual_scenario", "scheduled", "automatic", "automatic_scenario"}
        activities = mails.scalars(select(MailActivity)).all()
        by_customer = {}
        for a in activities:
            by_customer.setdefault(a.member_number, set()).add((a.activity, a.result))
        assert "5" not in by_customer  # 送信拒否: no mail
        assert ("qr_read", "") in by_customer["22"]
        assert by_customer["97"] == {("delivery", "failed")}  # its address bounces, every time
        shop_mail = {(a.member_number, a.mail_id) for a in activities if a.activity == "delivery"}
        mail_id = {m.mail_number: m.id for m in mails.scalars(select(Mail))}
        assert ("3", mail_id[1001]) in shop_mail and ("10", mail_id[1002]) in shop_mail  # each shop's own mail
        assert ("10", mail_id[1001]) not in shop_mail and ("3", mail_id[1002]) not in shop_mail
        states = mails.scalars(select(AddressState)).all()
        assert [(s.address, s.failed_count > 0) for s in states] == [("m97@example.ne.jp", True)]
        for session in sessions.values():
            session.close()
        for engine, _factory in makers.values():
            engine.dispose()
    finally:
        databases.drop_all()
