"""Demo data for the quick start: the manual's company 102 "LTV-Innovation" with shops 103 and 5019.

Loaded only into an empty shops database, through the same logic (and outbox) as real changes.
The demo password is DEMO_PASSWORD (default below); the demo logins are printed by ``make run``.
"""
import datetime as dt
import pathlib
import random

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from services.common.config import database_url, env
from services.common.contracts import JST
from services.common.db import make_engine
from services.common.scope import OPERATOR, Scope
from services.customers import customers as customer_master
from services.customers import support
from services.customers.models import Customer
from services.mailhistory import history
from services.mailhistory.models import Mail
from services.purchases import catalog, history_groups
from services.purchases import purchases as purchase_history
from services.shops import accounts, companies, passwords, shops
from services.shops.models import Company, Shop

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

# The two shops' catalogues: category → (product code, product name, price in yen).
CATALOGUE = {
    103: {
        "スキンケア": (("SK-101", "うるおい化粧水 150ml", 3300), ("SK-102", "しっとり乳液 120ml", 3520),
                   ("SK-103", "美容液 エッセンスセラム 30ml", 6600), ("SK-104", "洗顔フォーム 120g", 1650),
                   ("SK-105", "オールインワンジェル 80g", 4180), ("SK-106", "UVミルク SPF50+ 50ml", 2750)),
        "健康食品": (("HF-201", "青汁 30包", 3980), ("HF-202", "黒酢カプセル 90粒", 2980), ("HF-203", "コラーゲンゼリー 14本", 3240),
                 ("HF-204", "乳酸菌サプリ 60粒", 2580), ("HF-205", "ルテイン 30日分", 3480)),
        "食品": (("FD-301", "国産はちみつ 500g", 2160), ("FD-302", "有機ルイボスティー 40包", 1620),
               ("FD-303", "十六穀米 1kg", 1944), ("FD-304", "だし詰め合わせ", 3240), ("FD-305", "ドライフルーツミックス 300g", 1296)),
        "生活雑貨": (("LG-401", "今治タオル フェイスタオル 2枚組", 2200), ("LG-402", "アロマディフューザー", 5500),
                 ("LG-403", "竹の歯ブラシ 4本", 880), ("LG-404", "ステンレスボトル 500ml", 3080)),
    },
    5019: {
        "知育玩具": (("TY-501", "木のつみき 50ピース", 4400), ("TY-502", "知育パズル 日本地図", 2640),
                 ("TY-503", "ひらがなカード", 1320), ("TY-504", "マグネットブロック 60ピース", 5280)),
        "文具": (("ST-601", "色えんぴつ 24色", 1650), ("ST-602", "自由帳 5冊セット", 770), ("ST-603", "名前スタンプ", 2970)),
        "ギフト": (("GF-701", "出産祝いギフトセット", 5500), ("GF-702", "お誕生日ラッピング", 330),
                ("GF-703", "絵本セット 3冊", 3960)),
    },
}
HISTORY_GROUPS = (("管理ステイタス", ("受注", "発送済", "返品")),
                  ("ご購入のきっかけ", ("雑誌広告", "友人の紹介", "検索", "SNS", "メルマガ")))
MEDIA = ("google", "instagram", "雑誌広告", "メルマガ", "yahoo", "")
PAYMENTS = ("クレジットカード", "代金引換", "コンビニ後払い", "銀行振込")
DELIVERIES = ("宅配便", "メール便")

# The mails of both families (the manual's 手動・手動シナリオ(一通目のみ)・曜日日時 and 自動・自動シナリオ(2通目以降含む)), with
# the day they went out and to what share of the customers who may receive mail (a shop's mail: of the shop's).
MAILS = (
    {"mail_number": 1001, "kind": "manual", "name": "【LTV-Innovation Shop】春の新作スキンケアのご案内", "shop": 103,
     "at": "2026-03-10T10:00:00", "share": 1.0},
    {"mail_number": 1002, "kind": "manual", "name": "【わくわくshop】夏休み 知育玩具フェア", "shop": 5019,
     "at": "2026-07-15T10:00:00", "share": 1.0},
    {"mail_number": 1003, "kind": "scheduled", "name": "毎週金曜 週末限定クーポン", "shop": None,
     "at": "2026-05-08T18:00:00", "share": 0.25},
    {"mail_number": 1004, "kind": "manual", "name": "秋のカタログDM（QRコード付き）", "shop": 103,
     "at": "2026-09-01T09:00:00", "share": 0.0},
    {"mail_number": 1101, "kind": "manual_scenario", "scenario_number": 1, "step": 1,
     "name": "休眠顧客フォロー 1通目", "shop": None, "at": "2026-04-01T12:00:00", "share": 0.3},
    {"mail_number": 1102, "kind": "manual_scenario", "scenario_number": 1, "step": 2,
     "name": "休眠顧客フォロー 2通目", "shop": None, "at": "2026-04-08T12:00:00", "share": 0.15},
    {"mail_number": 2001, "kind": "automatic", "name": "お誕生日おめでとうございます", "shop": None,
     "at": "2026-02-01T08:00:00", "share": 0.2},
    {"mail_number": 2002, "kind": "automatic", "name": "ご購入ありがとうございます", "shop": None,
     "at": "2026-06-20T11:00:00", "share": 0.5},
    {"mail_number": 2101, "kind": "automatic_scenario", "scenario_number": 2, "step": 1,
     "name": "初回購入者フォロー 1通目", "shop": None, "at": "2026-01-20T10:00:00", "share": 0.15},
    {"mail_number": 2102, "kind": "automatic_scenario", "scenario_number": 2, "step": 2,
     "name": "初回購入者フォロー 2通目", "shop": None, "at": "2026-02-03T10:00:00", "share": 0.1},
)
OPENED, CLICKED = 0.4, 0.3  # of the mails delivered, the share opened; of those opened, the share clicked
QR_READS = 24  # customers who scanned the QR code of the printed DM 1004
FAILING = 97  # customers whose id divides by this have an address that bounces: 3 failures make アドレスエラー

SUPPORT_ENTRIES = (
    ("山田", "商品到着が遅れている件でお問い合わせ。配送状況を確認し、翌日到着予定とご案内しました。"),
    ("佐藤", "定期便のお届け周期を30日から45日に変更したいとのご依頼。変更手続き済み。"),
    ("山田", "化粧水でかぶれたとのご連絡。使用中止をお願いし、返品・返金で対応しました。"),
    ("鈴木", "住所変更のご連絡（引っ越し）。顧客情報を更新しました。"),
    ("佐藤", "メールマガジンの配信停止のご希望。送信拒否に変更しました。"),
    ("鈴木", "ギフトラッピングの追加についてお問い合わせ。次回注文時に備考へ記入いただくようご案内。"),
)


def _cdnow_rows():
    """The CDNOW sample purchase log (services/demo_data), as (customer id, date, CDs, dollars)."""

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


def _moment(day, hour=10):
    """A CDNOW day (YYYYMMDD), moved 28 years on, at ``hour`` Japan time."""


    return dt.datetime.strptime(day, "%Y%m%d").replace(year=int(day[:4]) + 28, hour=hour, tzinfo=JST)


def _catalogue(purchases_session, scope, shop_ids):
    """Categories and products of both shops (the shops' own catalogue logic); {shop number: [product codes]}."""

    listed = set(shop_ids.values())
    codes = {}
    for shop_number, categories in CATALOGUE.items():
        for name, products in categories.items():
            category = catalog.add_category(purchases_session, scope, shop_ids[shop_number], {"name": name}, listed)
            for code, product_name, price in products:
                catalog.add_product(purchases_session, scope, shop_ids[shop_number],
                                    {"code": code, "name": product_name, "category_id": category.id, "price": price},
                                    listed)
                codes.setdefault(shop_number, []).append(code)
    return codes


def _history_groups(purchases_session, scope):
    """The 履歴グループ and their choices; [[choice ids of group 1], [choice ids of group 2]] with group ids."""

    groups = []
    for name, labels in HISTORY_GROUPS:
        group = history_groups.add_group(purchases_session, scope, {"name": name})
        for label in labels:
            group = history_groups.add_choice(purchases_session, scope, group.id, {"label": label})
        groups.append((group.id, [c.id for c in sorted(group.choices, key=lambda c: c.position)]))
    return groups


def _say(progress, message):
    if progress:
        progress(message)


def load_customers_and_purchases_demo(customers_session, purchases_session, shop_ids, progress=None):
    """Customers and their purchase history from the CDNOW log (dates moved 28 years on, dollars as yen × 100), the
    shops' catalogues (categories and named products), 履歴グループ answered on the purchases, media and order
    attributes. A customer is registered a few days before the first purchase.

    Returns {member number: {"id", "member_number", "shop_id", "mail_permission", "email"}} of the customers loaded
    (empty when the customers database already has some, or no data file).
    """


    if customers_session.scalar(select(func.count()).select_from(Customer)):
        return {}
    rows = _cdnow_rows()
    if not rows:
        return {}
    scope = Scope(DEMO_COMPANY_ID, OPERATOR)
    first_day = {}
    for customer_id, day, _cds, _dollars in rows:
        first_day[customer_id] = min(first_day.get(customer_id, day), day)
    people = {}
    ids = sorted(first_day)
    for n, customer_id in enumerate(ids, start=1):
        given, given_kana, gender = GIVEN[customer_id % len(GIVEN)]
        family = customer_id % len(FAMILY)
        permission = ("pc", "mobile", "refused")[customer_id % 3]
        email = {"pc": f"member{customer_id}@example.jp", "mobile": f"m{customer_id}@example.ne.jp"}.get(permission, "")
        # registered a few days before the first purchase, as a cart would send it with the new customer
        registered = _moment(first_day[customer_id], hour=9) - dt.timedelta(days=customer_id % 9 + 1)
        record = {"shop_id": shop_ids[5019] if customer_id % 5 == 0 else shop_ids[103],
                  "registered_at": registered.isoformat(),
                  "member_number": str(customer_id), "family_name": FAMILY[family], "given_name": given,
                  "family_kana": FAMILY_KANA[family], "given_kana": given_kana, "gender": gender,
                  "birth_date": f"{1950 + customer_id % 50}-{1 + customer_id % 12:02d}-{1 + customer_id % 28:02d}",
                  "mail_permission": permission, "dm_permission": customer_id % 4 != 0,
                  "line_permission": customer_id % 6 != 0,
                  "pc_email": email if permission == "pc" else "",
                  "mobile_email": email if permission == "mobile" else ""}
        created = customer_master.create_customer(customers_session, scope, record)
        people[customer_id] = {"id": created.id, "member_number": created.member_number,
                               "shop_id": created.shop_id, "mail_permission": permission, "email": email}
        if n % 500 == 0 or n == len(ids):
            _say(progress, f"  customers: {n:,} of {len(ids):,}")
    customers_session.flush()
    codes = _catalogue(purchases_session, scope, shop_ids)
    groups = _history_groups(purchases_session, scope)
    number_of = {shop_id: number for number, shop_id in shop_ids.items()}
    for n, (customer_id, day, cds, dollars) in enumerate(rows):
        person = people[customer_id]
        moment = _moment(day)
        amount = int(round(dollars * 100))
        quantity = max(cds, 1)
        shop_codes = codes[number_of[person["shop_id"]]]
        code = shop_codes[(customer_id + n) % len(shop_codes)]
        answers = {str(group_id): choices[(customer_id + n * (position + 1)) % len(choices)]
                   for position, (group_id, choices) in enumerate(groups) if (customer_id + n) % (position + 2)}
        values = purchase_history.validate(purchases_session, scope, {
            "shop_id": person["shop_id"], "order_code": f"CD{n + 1:06d}", "purchased_at": moment.isoformat(),
            "shipped_at": (moment + dt.timedelta(days=1 + n % 3)).isoformat(),
            "media": MEDIA[(customer_id * 7 + n) % len(MEDIA)],
            "order_attributes": {"支払方法": PAYMENTS[(customer_id + n) % len(PAYMENTS)],
                                 "配送方法": DELIVERIES[n % len(DELIVERIES)]},
            "answers": answers,
            "lines": [{"product_code": code, "quantity": quantity, "unit_price": amount // quantity}]})
        purchase_history.record(purchases_session, scope, values, person)
        if (n + 1) % 2000 == 0 or n + 1 == len(rows):
            _say(progress, f"  purchases: {n + 1:,} of {len(rows):,}")
    return {person["member_number"]: person for person in people.values()}


def demo_mail_reports(people):
    """The mail system's reports for the demo's mails: deliveries, opens, clicks and QR reads (deterministic)."""

    by_id = sorted(people.values(), key=lambda person: int(person["member_number"]))
    reports = []
    for mail in MAILS:
        sent = dt.datetime.fromisoformat(mail["at"])
        if mail["mail_number"] == 1004:  # a printed DM: what comes back is its QR code scanned
            for person in [p for p in by_id if int(p["member_number"]) % 11 == 0][:QR_READS]:
                number = int(person["member_number"])
                reports.append({"activity": "qr_read", "mail_number": 1004, "member_number": person["member_number"],
                                "occurred_at": (sent + dt.timedelta(days=2 + number % 5, hours=number % 9)).isoformat()})
            continue
        for person in by_id:
            number = int(person["member_number"])
            chance = random.Random(mail["mail_number"] * 1_000_003 + number)  # the same on every machine
            if not person["email"] or chance.random() >= mail["share"]:
                continue
            if mail["shop"] == 103 and number % 5 == 0 or mail["shop"] == 5019 and number % 5:
                continue  # a shop's mail goes to the shop's customers
            failed = number % FAILING == 0
            reports.append({"activity": "delivery", "mail_number": mail["mail_number"],
                            "member_number": person["member_number"], "occurred_at": sent.isoformat(),
                            "result": "failed" if failed else "delivered", "address": person["email"]})
            if failed or chance.random() >= OPENED:
                continue
            opened = sent + dt.timedelta(hours=1 + number % 30)
            reports.append({"activity": "open", "mail_number": mail["mail_number"],
                            "member_number": person["member_number"], "occurred_at": opened.isoformat()})
            if chance.random() < CLICKED:
                reports.append({"activity": "click", "mail_number": mail["mail_number"],
                                "member_number": person["member_number"],
                                "occurred_at": (opened + dt.timedelta(minutes=3)).isoformat(),
                                "url": f"https://shop.example.jp/campaign/{mail['mail_number']}"})
    return reports


def load_mails_demo(mail_session, people, shop_ids, progress=None):
    """The demo's mails and what happened to them, through the mail-history service's own ingestion. Returns the
    number of reports recorded (0 when the database already has mails)."""

    if not people or mail_session.scalar(select(func.count()).select_from(Mail)):
        return 0
    scope = Scope(DEMO_COMPANY_ID, OPERATOR)
    mails = [{key: value for key, value in dict(mail, shop_id=shop_ids[mail["shop"]] if mail["shop"] else None).items()
              if key not in ("shop", "at", "share")} for mail in MAILS]
    history.upsert_mails(mail_session, scope, mails, set(shop_ids.values()))
    reports = demo_mail_reports(people)
    recorded = 0
    for start in range(0, len(reports), 2000):
        result = history.record_activities(mail_session, scope, reports[start:start + 2000], people)
        recorded += result["recorded"]
        _say(progress, f"  mail reports: {recorded:,} of {len(reports):,}")
    return recorded


def load_support_demo(customers_session, people):
    """A few 対応履歴 entries on the first customers of each shop (the customers service's own logic)."""


    scope = Scope(DEMO_COMPANY_ID, OPERATOR)
    chosen = sorted(people.values(), key=lambda person: int(person["member_number"]))[:len(SUPPORT_ENTRIES) * 2:2]
    for n, (person, (staff, content)) in enumerate(zip(chosen, SUPPORT_ENTRIES)):
        entered = dt.datetime(2026, 4, 1, 10, 30) + dt.timedelta(days=9 * n, hours=n)
        support.add_entry(customers_session, scope, person["id"],
                          {"staff": staff, "entered_at": entered.isoformat(), "content": content})
    return len(chosen)


def _session(service):
    engine = make_engine(database_url(service))
    return engine, sessionmaker(engine)()


def load_demo(progress=print):
    engine, session = _session("shops")
    try:
        loaded = load_shops_demo(session)
        session.commit()
        shop_ids = {s.shop_number: s.id for s in session.scalars(select(Shop).where(Shop.company_id == DEMO_COMPANY_ID))}
    finally:
        session.close()
        engine.dispose()
    progress("demo company loaded: 102 LTV-Innovation, shops 103 and 5019" if loaded else
             "demo company: the shops database already holds data, left as it is")
    if set(shop_ids) != {103, 5019}:
        return
    customers_engine, customers_session = _session("customers")
    purchases_engine, purchases_session = _session("purchases")
    mail_engine, mail_session = _session("mailhistory")
    try:
        rows = len(_cdnow_rows())
        progress(f"loading the demo customers and their {rows:,} purchases (CDNOW sample)")
        people = load_customers_and_purchases_demo(customers_session, purchases_session, shop_ids, progress)
        entries = load_support_demo(customers_session, people) if people else 0
        customers_session.commit()  # customers first: purchases and mail history refer to them
        purchases_session.commit()
        if people:
            progress(f"loading the demo mails ({len(MAILS)}) and their deliveries, opens, clicks and QR reads")
        reports = load_mails_demo(mail_session, people, shop_ids, progress)
        mail_session.commit()
    finally:
        for session_, engine_ in ((customers_session, customers_engine), (purchases_session, purchases_engine),
                                  (mail_session, mail_engine)):
            session_.close()
            engine_.dispose()
    if people:
        progress(f"demo loaded: {len(people):,} customers, {rows:,} purchases, {len(MAILS)} mails with {reports:,} "
                 f"reports, {entries} 対応履歴 entries")


def demo_logins():
    return [(DEMO_OPERATOR, "企業オペレーター (全店舗)"),
            (f"{DEMO_COMPANY_ID}103", "店舗アカウント 103: LTV-Innovation Shop"),
            (f"{DEMO_COMPANY_ID}5019", "店舗アカウント 5019: わくわくshop")]

