"""A realistic company at a chosen scale, deterministic by seed, as the owners' event envelopes.

Customers with Japanese names and kana, prefectures, genders and ages; a long-tailed number of purchases per customer
(most buy once, a few many times) at repeat intervals; a product catalogue with popular and rare products; mails of
both families with delivery, open and click rates.
"""
import datetime as dt
import random

FAMILY = [("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"), ("伊藤", "イトウ"),
          ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"), ("小林", "コバヤシ"), ("加藤", "カトウ"),
          ("吉田", "ヨシダ"), ("山田", "ヤマダ"), ("佐々木", "ササキ"), ("山口", "ヤマグチ"), ("松本", "マツモト")]
GIVEN = [("花子", "ハナコ", "female"), ("美咲", "ミサキ", "female"), ("陽子", "ヨウコ", "female"), ("さくら", "サクラ", "female"),
         ("太郎", "タロウ", "male"), ("健一", "ケンイチ", "male"), ("翔", "ショウ", "male"), ("大輔", "ダイスケ", "male")]
PREFECTURES = ["東京都", "神奈川県", "大阪府", "愛知県", "埼玉県", "千葉県", "兵庫県", "北海道", "福岡県", "静岡県"]
START = dt.datetime(2023, 1, 1, tzinfo=dt.timezone.utc)
DAYS = 3 * 365


def _iso(moment):
    return moment.isoformat()


def generate(company_id, shop_ids, customers, seed=1, products=500, mails=30):
    """Yields event envelopes: customers first, then purchases, mails and mail activities."""
    rng = random.Random(seed)
    codes = [f"P{n:04d}" for n in range(products)]
    weights = [1 / (n + 1) for n in range(products)]  # a few best sellers, a long tail
    version = {"version": 1, "company_id": company_id}
    for cid in range(1, customers + 1):
        family, given = rng.choice(FAMILY), rng.choice(GIVEN)
        permission = rng.choices(["pc", "mobile", "refused"], [5, 3, 2])[0]
        birth = dt.date(1945, 1, 1) + dt.timedelta(days=rng.randrange(60 * 365))
        yield dict(version, event_type="customer_created", entity="customer", entity_id=str(cid), data={
            "id": cid, "shop_id": shop_ids[cid % len(shop_ids)], "member_number": str(cid), "family_name": family[0],
            "given_name": given[0], "family_kana": family[1], "given_kana": given[1], "gender": given[2],
            "birth_date": birth.isoformat(), "mail_permission": permission, "dm_permission": rng.random() < 0.8,
            "mobile_email": f"m{cid}@example.ne.jp" if permission == "mobile" else "",
            "pc_email": f"c{cid}@example.jp" if permission == "pc" else "", "mobile_phone": "", "home_phone": "",
            "fax": "", "remarks": [rng.choice(PREFECTURES)] + [""] * 9, "extras": ["", "", "", ""],
            "points_held": rng.randrange(0, 3000), "valid_points": 0, "points_expiry": None,
            "earliest_expiry": None, "last_login_at": None,
            "registered_at": _iso(START + dt.timedelta(days=rng.randrange(DAYS))), "choices": {}})
    purchase_id = 0
    for cid in range(1, customers + 1):
        count = min(int(rng.expovariate(1 / 4)), 80)  # long-tailed purchase frequency; some never buy
        moment = START + dt.timedelta(days=rng.randrange(DAYS))
        for _ in range(count):
            purchase_id += 1
            lines = [{"product_code": rng.choices(codes, weights)[0], "quantity": rng.randint(1, 3)}
                     for _ in range(rng.choice((1, 2, 3, 4)))]
            amount = sum(line["quantity"] * 1000 for line in lines)
            yield dict(version, event_type="purchase_recorded", entity="purchase", entity_id=str(purchase_id), data={
                "id": purchase_id, "customer_id": cid, "shop_id": shop_ids[rng.randrange(len(shop_ids))],
                "order_code": f"O{purchase_id}", "purchased_at": _iso(moment), "shipped_at": _iso(moment +
                                                                                           dt.timedelta(days=2)),
                "billed_amount": amount, "media": rng.choice(["", "google", "yahoo", "instagram"]),
                "order_attributes": {}, "counted": rng.random() < 0.98, "lines": lines})
            moment += dt.timedelta(days=rng.randint(14, 120))  # the repeat interval
    for mail_id in range(1, mails + 1):
        family = "manual" if mail_id % 3 else "automatic"
        yield dict(version, event_type="mail_updated", entity="mail", entity_id=str(mail_id), data={
            "id": mail_id, "mail_number": mail_id, "kind": "manual" if family == "manual" else "automatic",
            "family": family, "scenario_number": None, "step": None, "name": f"メール{mail_id}"})
    activity_id = 0
    for mail_id in range(1, mails + 1):
        sent_at = START + dt.timedelta(days=rng.randrange(DAYS))
        for cid in rng.sample(range(1, customers + 1), k=max(1, customers // 3)):
            for activity, chance in (("delivery", 1.0), ("open", 0.25), ("click", 0.06)):
                if rng.random() < chance:
                    activity_id += 1
                    yield dict(version, event_type="mail_activity_recorded", entity="mail_activity",
                               entity_id=str(activity_id), data={
                                   "id": activity_id, "mail_id": mail_id, "customer_id": cid,
                                   "member_number": str(cid), "activity": activity,
                                   "result": "delivered" if activity == "delivery" else "",
                                   "occurred_at": _iso(sent_at + dt.timedelta(hours=rng.randint(0, 72)))})
