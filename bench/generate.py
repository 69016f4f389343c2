"""A realistic company at a chosen scale, deterministic by seed, as the owners' event envelopes.

Customers with Japanese names and kana, prefectures, genders and ages; a long-tailed number of purchases per customer
(a fifth never buy, most buy a few times, a few many times) at repeat intervals of 14–120 days, 1–4 lines per order
from a catalogue with a few best sellers and a long tail; mails of both families, each delivered to a quarter of the
customers, with opens, clicks (by those who opened) and QR reads.

About 4 purchases (10 order lines) and 10 mail events per customer: 1,000,000 customers are about 4,000,000
purchases with 10,000,000 lines and 10,000,000 mail events. Everything that repeats (dates, times, product choices)
is drawn from precomputed tables, so generating is cheap next to loading what it yields.
"""
import bisect
import datetime as dt
import itertools
import random

FAMILY = [("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"), ("伊藤", "イトウ"),
          ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"), ("小林", "コバヤシ"), ("加藤", "カトウ"),
          ("吉田", "ヨシダ"), ("山田", "ヤマダ"), ("佐々木", "ササキ"), ("山口", "ヤマグチ"), ("松本", "マツモト")]
GIVEN = [("花子", "ハナコ", "female"), ("美咲", "ミサキ", "female"), ("陽子", "ヨウコ", "female"), ("さくら", "サクラ", "female"),
         ("太郎", "タロウ", "male"), ("健一", "ケンイチ", "male"), ("翔", "ショウ", "male"), ("大輔", "ダイスケ", "male")]
PREFECTURES = ["東京都", "神奈川県", "大阪府", "愛知県", "埼玉県", "千葉県", "兵庫県", "北海道", "福岡県", "静岡県"]
START = dt.datetime(2023, 1, 1, tzinfo=dt.timezone.utc)
DAYS = 3 * 365
BIRTH_START, BIRTH_DAYS = dt.date(1945, 1, 1), 60 * 365
MEAN_PURCHASES = 4.5  # of the exponential whose integer part is a customer's purchase count (mean about 4)
MAX_PURCHASES = 80
REPEAT_DAYS = (14, 120)  # between two purchases of a customer
LINES_PER_ORDER = (1, 2, 3, 4)
MAIL_REACH = 4  # each mail is delivered to 1 / MAIL_REACH of the customers
OPEN, CLICK_IF_OPENED, QR_READ = 0.25, 0.24, 0.01  # per delivery (clicks: 6 % of deliveries)


def _iso(moment):
    return moment.isoformat()


def generate(company_id, shop_ids, customers, seed=1, products=500, mails=30):
    """Yields event envelopes: customers first, then purchases, mails and mail activities."""
    rng = random.Random(seed)
    rand = rng.random
    codes = [f"P{n:04d}" for n in range(products)]
    cumulative = list(itertools.accumulate(1 / (n + 1) for n in range(products)))  # a few best sellers, a long tail
    total_weight = cumulative[-1]
    # ISO strings of every day a purchase or registration can fall on, and of every birth date
    day_iso = [_iso(START + dt.timedelta(days=d)) for d in range(DAYS + MAX_PURCHASES * REPEAT_DAYS[1] + 3)]
    birth_iso = [(BIRTH_START + dt.timedelta(days=d)).isoformat() for d in range(BIRTH_DAYS)]
    version = {"version": 1, "company_id": company_id}
    shop_count = len(shop_ids)
    for cid in range(1, customers + 1):
        family, given = FAMILY[int(rand() * len(FAMILY))], GIVEN[int(rand() * len(GIVEN))]
        r = rand()
        permission = "pc" if r < 0.5 else "mobile" if r < 0.8 else "refused"
        yield dict(version, event_type="customer_created", entity="customer", entity_id=str(cid), data={
            "id": cid, "shop_id": shop_ids[cid % shop_count], "member_number": str(cid), "family_name": family[0],
            "given_name": given[0], "family_kana": family[1], "given_kana": given[1], "gender": given[2],
            "birth_date": birth_iso[int(rand() * BIRTH_DAYS)], "mail_permission": permission,
            "dm_permission": rand() < 0.8,
            "line_permission": cid % 5 != 0,
            "mobile_email": f"m{cid}@example.ne.jp" if permission == "mobile" else "",
            "pc_email": f"c{cid}@example.jp" if permission == "pc" else "", "mobile_phone": "", "home_phone": "",
            "fax": "", "remarks": [PREFECTURES[int(rand() * len(PREFECTURES))]] + [""] * 9, "extras": ["", "", "", ""],
            "points_held": int(rand() * 3000), "valid_points": 0, "points_expiry": None,
            "earliest_expiry": None, "last_login_at": None,
            "registered_at": day_iso[int(rand() * DAYS)], "choices": {},
            "customer_class": "existing" if cid % 3 == 0 else "new"})
    purchase_id = 0
    low, span = REPEAT_DAYS[0], REPEAT_DAYS[1] - REPEAT_DAYS[0] + 1
    for cid in range(1, customers + 1):
        count = min(int(rng.expovariate(1 / MEAN_PURCHASES)), MAX_PURCHASES)  # long-tailed; some never buy
        day = int(rand() * DAYS)
        for _ in range(count):
            purchase_id += 1
            lines = [{"product_code": codes[bisect.bisect(cumulative, rand() * total_weight)],
                      "quantity": 1 + int(rand() * 3), "unit_price": 1000}
                     for _ in range(LINES_PER_ORDER[int(rand() * len(LINES_PER_ORDER))])]
            yield dict(version, event_type="purchase_recorded", entity="purchase", entity_id=str(purchase_id), data={
                "id": purchase_id, "customer_id": cid, "shop_id": shop_ids[int(rand() * shop_count)],
                "order_code": f"O{purchase_id}", "purchased_at": day_iso[day], "shipped_at": day_iso[day + 2],
                "billed_amount": sum(line["quantity"] for line in lines) * 1000,
                "sales": sum(line["quantity"] for line in lines) * 1000,
                "media": ("", "google", "yahoo", "instagram")[int(rand() * 4)],
                "order_attributes": {}, "counted": rand() < 0.98, "lines": lines})
            day += low + int(rand() * span)  # the repeat interval
    for mail_id in range(1, mails + 1):
        family = "manual" if mail_id % 3 else "automatic"
        yield dict(version, event_type="mail_updated", entity="mail", entity_id=str(mail_id), data={
            "id": mail_id, "mail_number": mail_id, "kind": "manual" if family == "manual" else "automatic",
            "family": family, "scenario_number": None, "step": None, "name": f"メール{mail_id}"})
    activity_id = 0
    for mail_id in range(1, mails + 1):
        sent_at = START + dt.timedelta(days=int(rand() * DAYS))
        hour_iso = [_iso(sent_at + dt.timedelta(hours=h)) for h in range(80)]  # delivered in 3 h, read in 3 days

        def activity(name, cid, hour, result=""):
            nonlocal activity_id
            activity_id += 1
            return dict(version, event_type="mail_activity_recorded", entity="mail_activity",
                        entity_id=str(activity_id), data={
                            "id": activity_id, "mail_id": mail_id, "customer_id": cid, "member_number": str(cid),
                            "activity": name, "result": result, "occurred_at": hour_iso[hour]})

        for cid in rng.sample(range(1, customers + 1), k=max(1, customers // MAIL_REACH)):
            delivered = int(rand() * 3)
            yield activity("delivery", cid, delivered, "delivered")
            if rand() < OPEN:
                opened = delivered + int(rand() * 73)
                yield activity("open", cid, opened)
                if rand() < CLICK_IF_OPENED:
                    yield activity("click", cid, opened + int(rand() * 2))
            if rand() < QR_READ:
                yield activity("qr_read", cid, delivered + int(rand() * 73))
