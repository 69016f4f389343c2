"""Demo data for the quick start: the manual's company 102 "LTV-Innovation" with shops 103 and 5019.

Loaded only into an empty shops database, through the same logic (and outbox) as real changes.
The demo password is DEMO_PASSWORD (default below); the demo logins are printed by ``make run``.
"""
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from services.common.config import database_url, env
from services.common.db import make_engine
from services.common.scope import OPERATOR, Scope

DEMO_COMPANY_ID = 102
DEMO_OPERATOR = "demo"


def demo_password():
    return env("DEMO_PASSWORD", "Demo-Tsuhan-2026")


DEMO_SHOPS = (
    {"shop_number": 103, "name": "LTV-Innovation Shop", "manager_name": "山田 太郎", "postal_code": "105-0001",
     "address": "東京都港区虎ノ門1-1-1", "phone": "03-0000-0000", "sender_name": "LTV-Lab Shop",
     "sender_address": "crm@example.jp", "felica": False, "status": "active", "registered_on": "2011-05-17"},
    {"shop_number": 5019, "name": "わくわくshop", "manager_name": "佐藤 花子", "postal_code": "530-0001",
     "address": "大阪府大阪市北区梅田1-1-1", "phone": "06-0000-0000", "sender_name": "わくわくshop",
     "sender_address": "info@example.jp", "felica": True, "status": "active", "registered_on": "2011-08-31"},
)


def load_shops_demo(session):
    """Returns False (and does nothing) when the shops database already has a company."""
    from services.shops import accounts, companies, passwords, shops
    from services.shops.models import Company

    if session.scalar(select(func.count()).select_from(Company)):
        return False
    companies.create_company(session, DEMO_COMPANY_ID, {
        "name": "LTV-Innovation", "name_kana": "エルティーブイイノベーション", "postal_code": "105-0001",
        "address": "東京都港区虎ノ門1-1-1", "phone": "03-0000-0000", "email": "info@example.jp"})
    scope = Scope(DEMO_COMPANY_ID, OPERATOR)
    accounts.create_operator(session, DEMO_COMPANY_ID, DEMO_OPERATOR, "デモ担当者", demo_password())
    for data in DEMO_SHOPS:
        shop, _generated = shops.create_shop(session, scope, data)
        shop.account.password_hash = passwords.hash_password(demo_password())
    return True


FAMILY = ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田")
FAMILY_KANA = ("サトウ", "スズキ", "タカハシ", "タナカ", "イトウ", "ワタナベ", "ヤマモト", "ナカムラ", "コバヤシ", "カトウ",
               "ヨシダ", "ヤマダ")
GIVEN = (("花子", "ハナコ", "female"), ("美咲", "ミサキ", "female"), ("陽子", "ヨウコ", "female"), ("太郎", "タロウ", "male"),
         ("健一", "ケンイチ", "male"), ("翔", "ショウ", "male"), ("さくら", "サクラ", "female"), ("大輔", "ダイスケ", "male"))
def _cdnow_rows():
    """The CDNOW sample purchase log (services/demo_data), as (customer id, date, CDs, dollars)."""
    import pathlib

    path = pathlib.Path(env("DEMO_PURCHASES", str(pathlib.Path(__file__).resolve().parent / "demo_data" /
                                                  "cdnow_sample.txt")))
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().split("\n"):
        parts = line.split()
        if len(parts) == 5:
            rows.append((int(parts[1]), parts[2], int(parts[3]), float(parts[4])))
    return rows


def load_customers_and_purchases_demo(customers_session, purchases_session, shop_ids):
    """Customers and their purchase history from the CDNOW log (dates moved 28 years on, dollars as yen × 100).

    Returns the number of customers loaded (0 when the customers database already has some, or no data file).
    """
    import datetime as dt

    from services.customers import customers as customer_master
    from services.customers.models import Customer
    from services.purchases import purchases as purchase_history

    if customers_session.scalar(select(func.count()).select_from(Customer)):
        return 0
    rows = _cdnow_rows()
    scope = Scope(DEMO_COMPANY_ID, OPERATOR)
    people = {}
    for customer_id in sorted({r[0] for r in rows}):
        given, given_kana, gender = GIVEN[customer_id % len(GIVEN)]
        family = customer_id % len(FAMILY)
        permission = ("pc", "mobile", "refused")[customer_id % 3]
        record = {"shop_id": shop_ids[5019] if customer_id % 5 == 0 else shop_ids[103],
                  "member_number": str(customer_id), "family_name": FAMILY[family], "given_name": given,
                  "family_kana": FAMILY_KANA[family], "given_kana": given_kana, "gender": gender,
                  "birth_date": f"{1950 + customer_id % 50}-{1 + customer_id % 12:02d}-{1 + customer_id % 28:02d}",
                  "mail_permission": permission, "dm_permission": customer_id % 4 != 0,
                  "line_permission": customer_id % 6 != 0,
                  "pc_email": f"member{customer_id}@example.jp" if permission == "pc" else "",
                  "mobile_email": f"m{customer_id}@example.ne.jp" if permission == "mobile" else ""}
        created = customer_master.create_customer(customers_session, scope, record)
        people[customer_id] = {"id": created.id, "member_number": created.member_number, "shop_id": created.shop_id}
    customers_session.flush()
    for n, (customer_id, day, cds, dollars) in enumerate(rows):
        person = people[customer_id]
        moment = dt.datetime.strptime(day, "%Y%m%d").replace(year=int(day[:4]) + 28, hour=10)
        amount = int(round(dollars * 100))
        values = purchase_history.validate(purchases_session, scope, {
            "shop_id": person["shop_id"], "order_code": f"CD{n + 1:06d}", "purchased_at": moment.isoformat(),
            "lines": [{"product_code": f"CD-{(customer_id + n) % 40 + 1:03d}", "quantity": max(cds, 1),
                       "unit_price": amount // max(cds, 1)}]})
        purchase_history.record(purchases_session, scope, values, person)
    return len(people)


def _session(service):
    engine = make_engine(database_url(service))
    return engine, sessionmaker(engine)()


def load_demo():
    engine, session = _session("shops")
    try:
        loaded = load_shops_demo(session)
        session.commit()
        from services.shops.models import Shop

        shop_ids = {s.shop_number: s.id for s in session.scalars(select(Shop).where(Shop.company_id == DEMO_COMPANY_ID))}
    finally:
        session.close()
        engine.dispose()
    print("demo company loaded" if loaded else "demo company: the shops database already holds data, left as it is")
    if set(shop_ids) != {103, 5019}:
        return
    customers_engine, customers_session = _session("customers")
    purchases_engine, purchases_session = _session("purchases")
    try:
        count = load_customers_and_purchases_demo(customers_session, purchases_session, shop_ids)
        customers_session.commit()  # customers first: purchases refer to them
        purchases_session.commit()
    finally:
        for session_, engine_ in ((customers_session, customers_engine), (purchases_session, purchases_engine)):
            session_.close()
            engine_.dispose()
    if count:
        print(f"demo customers loaded: {count} customers with their purchases (CDNOW sample)")


def demo_logins():
    return [(DEMO_OPERATOR, "企業オペレーター (全店舗)"),
            (f"{DEMO_COMPANY_ID}103", "店舗アカウント 103: LTV-Innovation Shop"),
            (f"{DEMO_COMPANY_ID}5019", "店舗アカウント 5019: わくわくshop")]

