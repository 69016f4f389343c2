"""顧客管理 > 検索, condition by condition: 属性検索, 最新購入情報 (RFM分析), 期間設定 and both families of メール履歴.

One small company is built through the owner services (customers, purchases, mail history); every test then asks the
search service and checks exactly which customers come back — in the list (``search.search``), in the count
(``search.count``), and in a store loaded afresh from the index database by the test itself, so that a replica
that followed the change journal and one that read everything anew find the same customers.

Customers (member number, shop 103 = S1 / 5019 = S2):
  yamada 1 S1, sato 2 S1, yamamoto 3 S2, suzuki 4 S1, abc 5 S2, takahashi 6 S1, ito 7 S2, watanabe 8 S1,
  nakamura 9 S2, kobayashi W-10 S1.
Counted purchases (集計対象) per customer: yamada 2 (4,000 yen), sato 1 (1,000), yamamoto 1 (2,000; a second one not
counted), takahashi 3 (7,500), ito 2 (8,500 billed), watanabe 1 (1,500); abc only bought uncounted; suzuki, nakamura
and kobayashi never bought. Dates are Japan time.
"""
import datetime as dt

import pytest

from services.common.contracts import JST
from services.common.errors import ValidationFailed
from services.common.scope import Scope
from services.search import searching
from tests.support import japan_today, loaded_store, make_tenant, session_for, wait_for

EVERYONE = {"yamada", "sato", "yamamoto", "suzuki", "abc", "takahashi", "ito", "watanabe", "nakamura", "kobayashi"}
NEVER_BOUGHT = {"suzuki", "abc", "nakamura", "kobayashi"}
SHOP1_CUSTOMERS = {"yamada", "sato", "suzuki", "takahashi", "watanabe", "kobayashi"}
SHOP2_CUSTOMERS = EVERYONE - SHOP1_CUSTOMERS
YEAR_2025 = {"from": "2025-01-01", "to": "2025-12-31"}
AUGUST_2025 = {"from": "2025-08-01", "to": "2025-08-31"}


def years_before(day, years):
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


class World:
    """What the tests need to know of the company built below."""


@pytest.fixture(scope="module")
def world(rpc, stack):
    tenant = make_tenant(stack.urls["shops"])
    scope = tenant.operator_scope()
    s1, s2 = tenant.shops[0]["id"], tenant.shops[1]["id"]
    today = japan_today()  # only to place birth dates; the age test makes customers of its own

    status = rpc.customers.add_group(scope, {"name": "会員ステータス"})
    status = rpc.customers.add_choice(scope, status["id"], {"label": "プラチナ"})
    status = rpc.customers.add_choice(scope, status["id"], {"label": "ゴールド"})
    platinum, gold = (c["id"] for c in status["choices"])
    job = rpc.customers.add_group(scope, {"name": "職業"})
    job = rpc.customers.add_choice(scope, job["id"], {"label": "会社員"})
    employee = job["choices"][0]["id"]

    people = {
        "yamada": {"member_number": "1", "shop_id": s1, "family_name": "山田", "given_name": "花子",
                   "family_kana": "やまだ", "given_kana": "はなこ", "gender": "female",
                   "birth_date": years_before(today, 30).isoformat(), "mail_permission": "pc",
                   "pc_email": "Hanako.Yamada@Example.jp", "dm_permission": True, "home_phone": "03-1234-5678",
                   "fax": "03-9999-0001", "remark1": "VIP客", "remark3": "ギフト希望", "extra1": "ゴールド会員",
                   "points_held": 1200, "valid_points": 1000, "points_expiry": "2026-12-31",
                   "earliest_expiry": "2026-06-30", "last_login_at": "2026-03-01T00:30:00",
                   "choices": {str(status["id"]): platinum, str(job["id"]): employee}},
        "sato": {"member_number": "2", "shop_id": s1, "family_name": "佐藤", "given_name": "一郎",
                 "family_kana": "サトウ", "given_kana": "イチロウ", "gender": "male",
                 "birth_date": years_before(today, 60).isoformat(), "mail_permission": "mobile",
                 "mobile_email": "ichiro@docomo.ne.jp", "dm_permission": False, "mobile_phone": "090-1111-2222",
                 "remark2": "VIP", "extra2": "紹介あり", "points_held": 300, "valid_points": 0,
                 "points_expiry": "2026-03-31", "last_login_at": "2026-02-28T23:30:00",
                 "choices": {str(status["id"]): gold}},
        "yamamoto": {"member_number": "3", "shop_id": s2, "family_name": "山本", "given_name": "次郎",
                     "family_kana": "ﾔﾏﾓﾄ", "given_kana": "ｼﾞﾛｳ", "gender": "male",
                     "birth_date": years_before(today, 40).isoformat(), "mail_permission": "refused",
                     "extra3": "法人", "choices": {str(job["id"]): employee}},
        "suzuki": {"member_number": "4", "shop_id": s1, "family_name": "鈴木", "given_name": "愛",
                   "family_kana": "スズキ", "given_kana": "アイ", "gender": "unknown",
                   "birth_date": (years_before(today, 40) + dt.timedelta(days=1)).isoformat(),
                   "mail_permission": "refused", "pc_email": "ai@example.com", "dm_permission": False},
        "abc": {"member_number": "5", "shop_id": s2, "family_name": "ＡＢＣ商事", "family_kana": "エービーシー",
                "gender": "unknown", "mail_permission": "pc", "pc_email": "info@abc.co.jp", "fax": "06-9999-0002",
                "remark10": "法人VIP", "extra4": "卸売"},
        "takahashi": {"member_number": "6", "shop_id": s1, "family_name": "高橋", "given_name": "恵",
                      "family_kana": "タカハシ", "given_kana": "メグミ", "gender": "female", "mail_permission": "pc",
                      "pc_email": "megumi@example.jp", "valid_points": 50, "earliest_expiry": "2026-01-15"},
        "ito": {"member_number": "7", "shop_id": s2, "family_name": "伊藤", "given_name": "美咲",
                "family_kana": "イトウ", "given_kana": "ミサキ", "gender": "female", "mail_permission": "mobile",
                "mobile_email": "misaki@ezweb.ne.jp"},
        "watanabe": {"member_number": "8", "shop_id": s1, "family_name": "渡辺", "given_name": "翔",
                     "family_kana": "ワタナベ", "given_kana": "ショウ", "gender": "male", "mail_permission": "pc",
                     "pc_email": "sho@example.jp"},
        "nakamura": {"member_number": "9", "shop_id": s2, "family_name": "中村", "given_name": "さくら",
                     "family_kana": "ナカムラ", "given_kana": "サクラ", "gender": "female",
                     "mail_permission": "refused"},
        "kobayashi": {"member_number": "W-10", "shop_id": s1, "family_name": "小林", "given_name": "誠",
                      "family_kana": "コバヤシ", "given_kana": "マコト", "gender": "unknown",
                      "mail_permission": "refused"},
    }
    created = {key: rpc.customers.create_customer(scope, record) for key, record in people.items()}
    ids = {key: customer["id"] for key, customer in created.items()}

    def order(key, code, shop, purchased, shipped, lines, **extra):
        return {"shop_id": shop, "order_code": code, "member_number": people[key]["member_number"],
                "purchased_at": purchased, "shipped_at": shipped,
                "lines": [{"product_code": c, "quantity": q, "unit_price": p} for c, q, p in lines], **extra}

    recorded = rpc.purchases.record_orders(scope, [
        order("yamada", "O-101", s1, "2025-04-10T10:00:00", "2025-04-12T10:00:00", [("R-1", 1, 1000)],
              media="google", order_attributes={"支払方法": "代引き"}),
        order("yamada", "O-102", s2, "2025-08-20T10:00:00", "2025-08-22T10:00:00", [("W-1", 2, 1500)],
              media="yahoo", order_attributes={"支払方法": "クレジット"}),
        order("sato", "O-201", s1, "2025-06-01T10:00:00", "2025-06-03T10:00:00", [("R-1", 1, 1000)],
              media="google", order_attributes={"支払方法": "代引き"}),
        order("yamamoto", "O-301", s2, "2025-07-15T10:00:00", None, [("X-1", 1, 2000)]),
        order("yamamoto", "O-302", s2, "2025-09-01T10:00:00", "2025-09-02T10:00:00", [("X-1", 1, 2000)],
              media="google", counted=False),
        order("abc", "O-501", s2, "2025-05-05T10:00:00", "2025-05-06T10:00:00", [("R-1", 1, 1000)],
              order_attributes={"支払方法": "代引き"}, counted=False),
        order("takahashi", "O-601", s1, "2025-01-10T10:00:00", "2025-01-11T10:00:00", [("R-1", 1, 1000)]),
        order("takahashi", "O-602", s1, "2025-05-20T10:00:00", "2025-05-21T10:00:00", [("W-1", 1, 1500)]),
        # just after midnight in Japan: still 31 August in UTC
        order("takahashi", "O-603", s2, "2025-09-01T00:30:00", None, [("Z-9", 1, 5000)],
              media="google", order_attributes={"ギフト": "あり"}),
        order("ito", "O-701", s2, "2025-03-03T10:00:00", "2025-03-05T10:00:00", [("X-1", 1, 2000), ("R-1", 1, 1000)],
              billed_amount=2500),
        order("ito", "O-702", s2, "2025-08-25T10:00:00", "2025-08-27T10:00:00", [("X-1", 3, 2000)], media="line"),
        order("watanabe", "O-801", s1, "2025-08-05T10:00:00", "2025-08-06T10:00:00", [("W-1", 1, 1500)]),
    ])
    assert not recorded["errors"] and recorded["created"] == 12

    saved = rpc.mailhistory.upsert_mails(scope, [
        {"mail_number": 1, "kind": "manual", "name": "春のセール"},
        {"mail_number": 2, "kind": "scheduled", "name": "週刊メルマガ"},
        {"mail_number": 3, "kind": "automatic", "name": "購入お礼"},
        {"mail_number": 4, "kind": "manual_scenario", "name": "ステップ1", "scenario_number": 12, "step": 1},
        {"mail_number": 5, "kind": "manual_scenario", "name": "ステップ2", "scenario_number": 12, "step": 2},
        {"mail_number": 6, "kind": "automatic_scenario", "name": "誕生日", "scenario_number": 20, "step": 1},
        {"mail_number": 7, "kind": "manual", "name": "DM案内"},
    ])
    assert not saved["errors"]
    mail_ids = {m["mail_number"]: m["id"] for m in rpc.mailhistory.find_mails(scope)}

    def delivery(mail, key, at, address, result="delivered"):
        return {"activity": "delivery", "mail_number": mail, "member_number": people[key]["member_number"],
                "result": result, "address": address, "occurred_at": at}

    def seen(activity, mail, key, at):
        report = {"activity": activity, "mail_number": mail, "member_number": people[key]["member_number"],
                  "occurred_at": at}
        return dict(report, url="https://shop.example.jp/sale") if activity == "click" else report

    activities = rpc.mailhistory.record_activities(scope, [
        # manual family: 1 (手動), 2 (曜日日時), 4 (手動シナリオ 1通目), 7 (手動)
        delivery(1, "yamada", "2025-09-01T10:00:00", "hanako.yamada@example.jp"),
        delivery(1, "sato", "2025-09-01T10:00:00", "ichiro@docomo.ne.jp"),
        delivery(1, "yamamoto", "2025-09-01T10:00:00", "jiro@example.net"),
        seen("open", 1, "yamada", "2025-09-01T12:00:00"),
        seen("click", 1, "yamada", "2025-09-01T12:05:00"),
        seen("open", 1, "sato", "2025-09-02T08:00:00"),
        seen("qr_read", 1, "yamamoto", "2025-09-05T15:00:00"),
        delivery(2, "takahashi", "2025-10-01T09:00:00", "megumi@example.jp"),
        seen("open", 2, "takahashi", "2025-10-01T20:00:00"),
        delivery(4, "watanabe", "2025-09-15T10:00:00", "sho@example.jp"),
        *[delivery(7, "suzuki", f"2025-09-0{day}T10:00:00", "ai@example.com", "failed") for day in (1, 2, 3)],
        *[delivery(7, "abc", f"2025-09-0{day}T10:00:00", "info@abc.co.jp", "failed") for day in (1, 2)],
        # automatic family: 3 (自動), 5 (手動シナリオ 2通目), 6 (自動シナリオ)
        delivery(3, "sato", "2025-09-10T10:00:00", "ichiro@docomo.ne.jp"),
        delivery(3, "ito", "2025-09-10T10:00:00", "misaki@ezweb.ne.jp"),
        seen("open", 3, "ito", "2025-09-10T12:00:00"),
        seen("click", 3, "ito", "2025-09-10T12:01:00"),
        seen("qr_read", 3, "sato", "2025-09-12T09:00:00"),
        delivery(5, "watanabe", "2025-09-20T10:00:00", "sho@example.jp"),
        seen("open", 5, "watanabe", "2025-09-20T21:00:00"),
        delivery(6, "yamada", "2025-09-25T10:00:00", "hanako.yamada@example.jp"),
        seen("click", 6, "yamada", "2025-09-25T11:00:00"),
    ])
    assert not activities["errors"] and activities["recorded"] == 24

    w = World()
    w.rpc, w.tenant, w.scope, w.s1, w.s2, w.today = rpc, tenant, scope, s1, s2, today
    w.ids, w.key_of = ids, {v: k for k, v in ids.items()}
    w.status, w.platinum, w.gold, w.job, w.employee = str(status["id"]), platinum, gold, str(job["id"]), employee
    w.mail_ids = mail_ids
    w.registered_days = sorted({dt.datetime.fromisoformat(c["registered_at"]).astimezone(JST).date()
                                for c in created.values()})
    w.engine, w.sessions = session_for(stack.urls["search"])

    probes = [({}, 10), ({"latest": {"purchase_count": {"min": 1}}}, 6),
              ({"latest": {"purchase_total": {"min": 8500}}}, 1), ({"attributes": {"address_error": True}}, 1),
              ({"mails": {"manual": {"sent": "include"}}}, 7), ({"mails": {"manual": {"opened": "include"}}}, 3),
              ({"mails": {"manual": {"clicked": "include"}}}, 1), ({"mails": {"manual": {"qr_read": "include"}}}, 1),
              ({"mails": {"automatic": {"sent": "include"}}}, 4), ({"mails": {"automatic": {"opened": "include"}}}, 2),
              ({"mails": {"automatic": {"clicked": "include"}}}, 2),
              ({"mails": {"automatic": {"qr_read": "include"}}}, 1),
              ({"attributes": {"choices": {w.status: [platinum, gold], w.job: [employee]}}}, 1)]

    def indexed():  # raises with what is still missing, for wait_for to report
        assert rpc.search.health()["store"]["state"] == "ready", "the replica's columns are loading"
        entities = rpc.search.reconcile(scope)["entities"]
        assert all(not e["stale"] and not e["extra"] and e["owner"] == e["index"] for e in entities.values()), entities
        answers = [(probe, expected, rpc.search.count(scope, probe, False)["total"], sql_count(w, scope, probe))
                   for probe, expected in probes]
        assert all(expected == by_rpc == by_sql for _, expected, by_rpc, by_sql in answers), answers
        return True

    wait_for(indexed, interval=0.3, message="the index and the search replicas to catch up")
    yield w
    w.engine.dispose()


def sql_count(world, scope, conditions):
    """The count of a store loaded afresh from the index database."""
    with loaded_store(world.sessions, scope["company_id"]) as store, world.sessions() as session:
        return searching.count(session, Scope.parse(scope), conditions, True, store)["total"]


def found(world, conditions, scope=None):
    """The customers the conditions find: the list, the count and the index's SQL must agree on them."""
    scope = scope or world.scope
    listed = world.rpc.search.search(scope, conditions, {"per_page": 500})["customers"]
    names = {world.key_of[c["id"]] for c in listed}
    assert len(names) == len(listed)
    assert world.rpc.search.count(scope, conditions)["total"] == len(names), "count and list disagree"
    with loaded_store(world.sessions, scope["company_id"]) as store, world.sessions() as session:
        afresh = searching.page(session, Scope.parse(scope), conditions, {"per_page": 500}, store)["customers"]
    assert {world.key_of[c["id"]] for c in afresh} == names, "a store loaded afresh finds other customers"
    return names


def attributes(world, scope=None, **section):
    return found(world, {"attributes": section}, scope)


def latest(world, scope=None, **section):
    return found(world, {"latest": section}, scope)


def period(world, scope=None, **section):
    return found(world, {"period": section}, scope)


def manual(world, scope=None, **family):
    return found(world, {"mails": {"manual": family}}, scope)


def automatic(world, scope=None, **family):
    return found(world, {"mails": {"automatic": family}}, scope)


# --- 1. 顧客の検索 -------------------------------------------------------------------------------

def test_searching_without_conditions_finds_every_customer(world):
    """検索条件を設定せず検索すると、全顧客情報が抽出される。"""
    assert found(world, {}) == EVERYONE
    assert attributes(world) == EVERYONE, "an empty section asks nothing"


# --- 2-1. 属性検索 ①姓名、フリガナ --------------------------------------------------------------

def test_name_matches_name_and_furigana_partially(world):
    """姓名・フリガナ検索: 姓、名、フリガナのどれかの一部で見つかる。"""
    assert attributes(world, name="山田") == {"yamada"}
    assert attributes(world, name="花子") == {"yamada"}, "the given name alone"
    assert attributes(world, name="山") == {"yamada", "yamamoto"}
    assert attributes(world, name="ヤマ") == {"yamada", "yamamoto"}, "furigana"
    assert attributes(world, name="たろう") == set()


def test_name_ignores_kana_kind_width_and_spaces(world):
    """ひらがな・カタカナ・半角ｶﾀｶﾅ、全角・半角、空白の違いは問わない。"""
    assert attributes(world, name="やまだ") == {"yamada"}, "hiragana finds katakana furigana"
    assert attributes(world, name="ﾔﾏﾀﾞ") == {"yamada"}, "half-width katakana"
    assert attributes(world, name="やまもと") == {"yamamoto"}, "furigana typed in half-width kana is found"
    assert attributes(world, name="山田 花子") == {"yamada"}
    assert attributes(world, name="山田\u3000花子") == {"yamada"}, "full-width space"
    assert attributes(world, name="やまだ はなこ") == {"yamada"}
    assert attributes(world, name="abc") == {"abc"}, "full-width letters, any case"
    assert attributes(world, name="ｴｰﾋﾞｰｼｰ") == {"abc"}


# --- ②会員番号 -----------------------------------------------------------------------------------

def test_member_numbers_as_ranges_and_lists(world):
    """会員番号: 1〜100 のような範囲と、特定の会員番号の並び。"""
    assert attributes(world, member_numbers="1-3") == {"yamada", "sato", "yamamoto"}
    assert attributes(world, member_numbers="5,8") == {"abc", "watanabe"}
    assert attributes(world, member_numbers="1-2, 5、9〜100") == {"yamada", "sato", "abc", "nakamura"}
    assert attributes(world, member_numbers="8-12") == {"watanabe", "nakamura"}, "ranges are numeric"
    assert attributes(world, member_numbers="W-10, 4") == {"kobayashi", "suzuki"}
    assert attributes(world, member_numbers="11-20") == set()


def test_member_numbers_typed_in_full_width(world):
    """会員番号は全角で入力しても同じ顧客が見つかる。"""
    assert attributes(world, member_numbers="１－３") == {"yamada", "sato", "yamamoto"}
    assert attributes(world, member_numbers="５，８") == {"abc", "watanabe"}


# --- ③性別、生年月日、年齢 --------------------------------------------------------------------------

def test_genders(world):
    """性別: 女性・男性・不明、複数選べばいずれか。"""
    assert attributes(world, genders=["female"]) == {"yamada", "takahashi", "ito", "nakamura"}
    assert attributes(world, genders=["male"]) == {"sato", "yamamoto", "watanabe"}
    assert attributes(world, genders=["unknown"]) == {"suzuki", "abc", "kobayashi"}
    assert attributes(world, genders=["male", "unknown"]) == {"sato", "yamamoto", "watanabe", "suzuki", "abc",
                                                               "kobayashi"}


def test_birth_date_range(world):
    """生年月日の範囲 (両端を含む)。"""
    today = world.today
    forty, thirty = years_before(today, 40), years_before(today, 30)
    assert attributes(world, birth_date={"from": forty.isoformat(), "to": thirty.isoformat()}) == {
        "yamada", "yamamoto", "suzuki"}
    assert attributes(world, birth_date={"from": forty.isoformat(), "to": forty.isoformat()}) == {"yamamoto"}
    assert attributes(world, birth_date={"to": (forty - dt.timedelta(days=1)).isoformat()}) == {"sato"}
    assert attributes(world, birth_date={"from": (thirty + dt.timedelta(days=1)).isoformat()}) == set()


def ages_on(rpc, stack, today):
    """A company of its own whose customers' birthdays fall around ``today``: thirty (30 today), sixty (60 today),
    forty (turns 40 today), almost (turns 40 tomorrow) and unknown (no birth date). What each age condition finds."""
    tenant = make_tenant(stack.urls["shops"])
    scope = tenant.operator_scope()
    births = {"thirty": years_before(today, 30), "sixty": years_before(today, 60), "forty": years_before(today, 40),
              "almost": years_before(today, 40) + dt.timedelta(days=1), "unknown": None}
    w = World()
    w.rpc, w.scope = rpc, scope
    w.key_of = {rpc.customers.create_customer(scope, {"shop_id": tenant.shops[0]["id"], "family_name": key,
                                                      "birth_date": birth and birth.isoformat()})["id"]: key
                for key, birth in births.items()}
    w.engine, w.sessions = session_for(stack.urls["search"])
    wait_for(lambda: rpc.search.count(scope, {})["total"] == 5, message="the index")
    ages = ({"min": 40, "max": 40}, {"min": 39, "max": 39}, {"min": 30, "max": 39}, {"min": 60}, {"max": 39},
            {"min": 61})
    try:
        return [attributes(w, age=age) for age in ages]
    finally:
        w.engine.dispose()


def test_age_is_counted_on_the_search_day(rpc, stack):
    """年齢は検索した日の満年齢。生年月日のない顧客は年齢の条件に当たらない。"""
    today = japan_today()
    found_by_age = ages_on(rpc, stack, today)
    if japan_today() != today:  # midnight in Japan came in between: every birthday moved by a day, ask again
        today = japan_today()
        found_by_age = ages_on(rpc, stack, today)
    assert found_by_age == [{"forty"}, {"almost"}, {"thirty", "almost"}, {"sixty"}, {"thirty", "almost"}, set()]


# --- ④メール・DMの送信可否、アドレスエラー ---------------------------------------------------------

def test_mail_permissions(world):
    """送信許可: 携帯・PC・送信拒否。"""
    assert attributes(world, mail_permissions=["pc"]) == {"yamada", "abc", "takahashi", "watanabe"}
    assert attributes(world, mail_permissions=["mobile"]) == {"sato", "ito"}
    assert attributes(world, mail_permissions=["refused"]) == {"yamamoto", "suzuki", "nakamura", "kobayashi"}
    assert attributes(world, mail_permissions=["pc", "mobile"]) == {"yamada", "abc", "takahashi", "watanabe",
                                                                    "sato", "ito"}


def test_dm_permission(world):
    """DM配信: DM許可・DM拒否。"""
    assert attributes(world, dm_permission=False) == {"sato", "suzuki"}
    assert attributes(world, dm_permission=True) == EVERYONE - {"sato", "suzuki"}


def test_address_error_after_three_failed_deliveries(world):
    """アドレスエラー = 累計3回以上そのアドレスへの配信がエラーとなった顧客。"""
    # suzuki's address failed three times, abc's twice
    assert attributes(world, address_error=True) == {"suzuki"}
    assert attributes(world, address_error=False) == EVERYONE - {"suzuki"}


# --- ⑤メールアドレス、電話番号 ----------------------------------------------------------------------

def test_email_matches_either_address_partially_in_any_case(world):
    """メールアドレス: 携帯・PCのどちらかの一部、大文字小文字を問わない。"""
    assert attributes(world, email="docomo") == {"sato"}
    assert attributes(world, email="HANAKO.YAMADA@") == {"yamada"}
    assert attributes(world, email="example.jp") == {"yamada", "takahashi", "watanabe"}
    assert attributes(world, email="@example.com") == {"suzuki"}, "an address kept while mail is refused"
    assert attributes(world, email="nobody@") == set()


def test_phone_matches_mobile_or_home_whatever_the_separators(world):
    """電話番号: 携帯・自宅のどちらか、ハイフンや空白、全角を問わない。"""
    assert attributes(world, phone="0312345678") == {"yamada"}
    assert attributes(world, phone="03-1234-5678") == {"yamada"}
    assert attributes(world, phone="03 1234 5678") == {"yamada"}
    assert attributes(world, phone="090-1111") == {"sato"}
    assert attributes(world, phone="11112222") == {"sato"}
    assert attributes(world, phone="０９０１１１１") == {"sato"}, "full-width digits"
    assert attributes(world, phone="9999") == set(), "FAX numbers are not phone numbers"


# --- ⑥属性グループ ---------------------------------------------------------------------------------

def test_choices_within_a_group_are_alternatives(world):
    """属性グループ: 同じグループの選択肢はいずれか。"""
    assert attributes(world, choices={world.status: [world.platinum]}) == {"yamada"}
    assert attributes(world, choices={world.status: [world.gold]}) == {"sato"}
    assert attributes(world, choices={world.status: [world.platinum, world.gold]}) == {"yamada", "sato"}
    assert attributes(world, choices={world.job: [world.employee]}) == {"yamada", "yamamoto"}


def test_unselected_means_no_choice_in_that_group(world):
    """未選択 = そのグループのどの選択肢にも該当しない顧客。"""
    assert attributes(world, choices={world.status: ["unselected"]}) == EVERYONE - {"yamada", "sato"}
    assert attributes(world, choices={world.status: [world.gold, "unselected"]}) == EVERYONE - {"yamada"}
    assert attributes(world, choices={world.job: ["unselected"]}) == EVERYONE - {"yamada", "yamamoto"}


def test_groups_combine_with_and(world):
    """別々の属性グループの条件はすべて満たす顧客。"""
    assert attributes(world, choices={world.status: [world.platinum, world.gold],
                                      world.job: [world.employee]}) == {"yamada"}
    assert attributes(world, choices={world.status: ["unselected"], world.job: [world.employee]}) == {"yamamoto"}


# --- ⑦備考&ポイント --------------------------------------------------------------------------------

def test_remarks_match_text_in_the_chosen_position(world):
    """備考1〜10: 指定した位置の備考に文字列を含む顧客。"""
    assert attributes(world, remarks={"1": "VIP"}) == {"yamada"}
    assert attributes(world, remarks={"2": "VIP"}) == {"sato"}
    assert attributes(world, remarks={"10": "VIP"}) == {"abc"}
    assert attributes(world, remarks={"3": "ギフト"}) == {"yamada"}
    assert attributes(world, remarks={"1": "ギフト"}) == set(), "another position's text"
    assert attributes(world, remarks={"1": "VIP", "3": "ギフト"}) == {"yamada"}
    assert attributes(world, remarks={"1": "VIP", "2": "VIP"}) == set(), "positions combine with AND"


def test_fax_is_matched_as_a_phone_number(world):
    """FAX番号: 電話番号と同じく、ハイフンや空白、全角を問わない。"""
    assert attributes(world, fax="03-9999-0001") == {"yamada"}
    assert attributes(world, fax="0399990001") == {"yamada"}
    assert attributes(world, fax="9999") == {"yamada", "abc"}
    assert attributes(world, fax="03 9999 0001") == {"yamada"}
    assert attributes(world, fax="０６９９９９") == {"abc"}, "full-width digits"
    assert attributes(world, fax="1234") == set(), "phone numbers are not FAX numbers"


def test_extra_attributes_one_to_four(world):
    """追加属性項目1〜4: 指定した項目に文字列を含む顧客。"""
    assert attributes(world, extras={"1": "ゴールド"}) == {"yamada"}
    assert attributes(world, extras={"2": "紹介"}) == {"sato"}
    assert attributes(world, extras={"3": "法人"}) == {"yamamoto"}, "abc's 法人 is in a remark, not extra 3"
    assert attributes(world, extras={"4": "卸"}) == {"abc"}
    assert attributes(world, extras={"2": "ゴールド"}) == set()


def test_points_held_and_valid_points(world):
    """保有ポイント・有効ポイントの範囲。"""
    assert attributes(world, points_held={"min": 300}) == {"yamada", "sato"}
    assert attributes(world, points_held={"min": 300, "max": 1000}) == {"sato"}
    assert attributes(world, points_held={"max": 0}) == EVERYONE - {"yamada", "sato"}
    assert attributes(world, valid_points={"min": 1}) == {"yamada", "takahashi"}
    assert attributes(world, valid_points={"min": 50, "max": 50}) == {"takahashi"}


def test_points_expiry_and_earliest_expiry(world):
    """ポイント有効期限・最短有効期限の日付範囲 (両端を含む)。"""
    assert attributes(world, points_expiry={"from": "2026-12-01"}) == {"yamada"}
    assert attributes(world, points_expiry={"to": "2026-06-30"}) == {"sato"}
    assert attributes(world, points_expiry={"from": "2026-03-31", "to": "2026-12-31"}) == {"yamada", "sato"}
    assert attributes(world, earliest_expiry={"from": "2026-06-30", "to": "2026-06-30"}) == {"yamada"}
    assert attributes(world, earliest_expiry={"to": "2026-05-31"}) == {"takahashi"}


def test_last_login_days_are_japan_days(world):
    """最終ログイン日時の日付範囲は日本時間の日付。"""
    # yamada logged in at 00:30 on 1 March, sato at 23:30 on 28 February (Japan time)
    assert attributes(world, last_login={"from": "2026-03-01", "to": "2026-03-01"}) == {"yamada"}
    assert attributes(world, last_login={"from": "2026-02-28", "to": "2026-02-28"}) == {"sato"}
    assert attributes(world, last_login={"to": "2026-02-28"}) == {"sato"}
    assert attributes(world, last_login={"from": "2026-02-01"}) == {"yamada", "sato"}


def test_registered_shop(world):
    """登録店舗。"""
    assert attributes(world, shop_ids=[world.s1]) == SHOP1_CUSTOMERS
    assert attributes(world, shop_ids=[world.s2]) == SHOP2_CUSTOMERS
    assert attributes(world, shop_ids=[world.s1, world.s2]) == EVERYONE


def test_registered_date_range(world):
    """登録日の日付範囲。"""
    first, last = world.registered_days[0], world.registered_days[-1]
    day = dt.timedelta(days=1)
    assert attributes(world, registered={"from": first.isoformat(), "to": last.isoformat()}) == EVERYONE
    assert attributes(world, registered={"from": first.isoformat()}) == EVERYONE
    assert attributes(world, registered={"to": (first - day).isoformat()}) == set()
    assert attributes(world, registered={"from": (last + day).isoformat()}) == set()


def test_attribute_conditions_combine_with_and(world):
    """属性検索の条件はすべて満たす顧客。"""
    assert attributes(world, genders=["female"], mail_permissions=["pc"]) == {"yamada", "takahashi"}
    assert attributes(world, name="ヤマ", shop_ids=[world.s2]) == {"yamamoto"}


# --- 2-2. 最新購入情報 RFM分析 --------------------------------------------------------------------------

def test_first_purchase_date(world):
    """初回購入日の日付範囲。"""
    assert latest(world, first_purchase={"from": "2025-01-01", "to": "2025-03-31"}) == {"takahashi", "ito"}
    assert latest(world, first_purchase={"from": "2025-04-10", "to": "2025-04-10"}) == {"yamada"}
    assert latest(world, first_purchase={"from": "2025-08-01"}) == {"watanabe"}


def test_latest_purchase_date_in_japan_days_over_counted_purchases(world):
    """最新購入日: 日本時間の日付、集計対象の購入だけ。"""
    assert latest(world, latest_purchase=AUGUST_2025) == {"yamada", "ito", "watanabe"}
    # takahashi's latest is 00:30 on 1 September; yamamoto's purchase that day is not counted
    assert latest(world, latest_purchase={"from": "2025-09-01"}) == {"takahashi"}
    assert latest(world, latest_purchase={"to": "2025-07-31"}) == {"sato", "yamamoto"}


def test_latest_shipped_date(world):
    """最新発送日: いちばん新しい発送の日付 (店舗を全部選んでも選ばなくても同じ)。"""
    assert latest(world, latest_shipped=AUGUST_2025) == {"yamada", "ito", "watanabe"}
    # takahashi's latest purchase is not shipped yet: the latest shipment is the one of 21 May
    assert latest(world, latest_shipped={"from": "2025-05-01", "to": "2025-05-31"}) == {"takahashi"}
    everywhere = [world.s1, world.s2]
    assert latest(world, shop_ids=everywhere, latest_shipped={"from": "2025-05-01", "to": "2025-05-31"}) == {
        "takahashi"}, "every shop chosen means the same as none chosen"
    assert latest(world, latest_shipped={"from": "2025-09-01"}) == set(), "an uncounted shipment"


def test_chosen_shops_decide_which_purchases_are_first_and_latest(world):
    """購入店舗を選ぶと、初回・最新はその店舗での購入から決まる。"""
    april = {"from": "2025-04-01", "to": "2025-04-30"}
    assert latest(world, latest_purchase=april) == set()
    assert latest(world, shop_ids=[world.s1], latest_purchase=april) == {"yamada"}
    assert latest(world, shop_ids=[world.s2], first_purchase={"from": "2025-08-01", "to": "2025-09-30"}) == {
        "yamada", "takahashi"}
    assert latest(world, shop_ids=[world.s1], latest_shipped={"from": "2025-05-01", "to": "2025-05-31"}) == {
        "takahashi"}
    assert latest(world, shop_ids=[world.s2], latest_purchase=AUGUST_2025) == {"yamada", "ito"}


def test_purchase_count_0_to_0_finds_customers_who_never_bought(world):
    """累計購入回数 0〜0 = 貴社で一度も購入がない顧客。"""
    assert latest(world, purchase_count={"min": 0, "max": 0}) == NEVER_BOUGHT


def test_purchase_count_1_to_1_finds_customers_who_bought_once_only(world):
    """累計購入回数 1〜1 = 初回購入後、2回目の購入がない顧客。"""
    assert latest(world, purchase_count={"min": 1, "max": 1}) == {"sato", "yamamoto", "watanabe"}


def test_purchase_count_ranges(world):
    """累計購入回数の範囲。"""
    assert latest(world, purchase_count={"min": 2}) == {"yamada", "takahashi", "ito"}
    assert latest(world, purchase_count={"min": 2, "max": 2}) == {"yamada", "ito"}
    assert latest(world, purchase_count={"max": 1}) == {"sato", "yamamoto", "watanabe"} | NEVER_BOUGHT
    assert latest(world, purchase_count={"min": 0}) == EVERYONE


def test_purchase_count_is_over_every_shop_of_the_company(world):
    """累計購入回数は選んだ店舗によらず貴社全店での回数。"""
    # ito bought twice, at shop 2 only
    assert latest(world, shop_ids=[world.s1], purchase_count={"min": 2, "max": 2}) == {"yamada", "ito"}


def test_purchase_total_is_the_billed_amount_over_every_shop(world):
    """累計購入金額: 貴社全店での請求金額の合計、0〜 は購入のない顧客を含む。"""
    assert latest(world, purchase_total={"min": 4000}) == {"yamada", "takahashi", "ito"}
    assert latest(world, purchase_total={"min": 8500, "max": 8500}) == {"ito"}, "billed, not sales"
    assert latest(world, purchase_total={"min": 2000, "max": 2000}) == {"yamamoto"}, "the uncounted one left out"
    assert latest(world, purchase_total={"max": 1500}) == {"sato", "watanabe"} | NEVER_BOUGHT
    assert latest(world, purchase_total={"min": 0, "max": 0}) == NEVER_BOUGHT


def test_order_code_of_the_latest_purchase(world):
    """受注コード: 最新購入時の受注コード。"""
    assert latest(world, order_code="O-102") == {"yamada"}
    assert latest(world, order_code="O-603") == {"takahashi"}
    assert latest(world, order_code="O-101") == set(), "not yamada's latest"
    assert latest(world, order_code="O-302") == set(), "not counted"


def test_order_attributes_of_the_latest_purchase(world):
    """受注属性: 最新購入時の受注属性。"""
    assert latest(world, order_attributes={"支払方法": "クレジット"}) == {"yamada"}
    assert latest(world, order_attributes={"支払方法": "代引き"}) == {"sato"}, "yamada's 代引き order is older"
    assert latest(world, order_attributes={"ギフト": "あり"}) == {"takahashi"}
    assert latest(world, order_attributes={"ギフト": "なし"}) == set()


def test_product_row_finds_buyers_of_any_of_its_products(world):
    """商品指定: 1行内の商品はいずれか (OR)。0〜0 は一度も買っていない顧客。"""
    both = [world.s1, world.s2]
    assert latest(world, shop_ids=both, product_rows=[{"product_codes": ["R-1"], "count": {"min": 1}}]) == {
        "yamada", "sato", "takahashi", "ito"}
    assert latest(world, shop_ids=both, product_rows=[{"product_codes": ["Z-9", "W-1"], "count": {"min": 1}}]) == {
        "yamada", "takahashi", "watanabe"}
    assert latest(world, shop_ids=both, product_rows=[{"product_codes": ["R-1"], "count": {"min": 0, "max": 0}}]) \
        == EVERYONE - {"yamada", "sato", "takahashi", "ito"}
    # products named without a count: bought any of them at least once
    assert latest(world, shop_ids=both, product_rows=[{"product_codes": ["Z-9", "W-1"]}]) == {
        "yamada", "takahashi", "watanabe"}


def test_product_row_count_is_the_number_of_purchases_with_any_of_its_products(world):
    """1行の回数は、その行の商品のいずれかを含む購入の回数。"""
    both = [world.s1, world.s2]
    assert latest(world, shop_ids=both, product_rows=[{"product_codes": ["W-1", "X-1"], "count": {"min": 2}}]) \
        == {"ito"}
    assert latest(world, shop_ids=both, product_rows=[{"product_codes": ["W-1", "X-1"],
                                                       "count": {"min": 1, "max": 1}}]) == {
        "yamada", "yamamoto", "takahashi", "watanabe"}
    # ito's first order holds both: one purchase
    assert latest(world, shop_ids=both, product_rows=[{"product_codes": ["X-1", "R-1"],
                                                       "count": {"min": 2, "max": 2}}]) == {"ito"}
    assert latest(world, shop_ids=both, product_rows=[{"product_codes": ["X-1", "R-1"], "count": {"min": 3}}]) \
        == set()


def test_product_rows_combine_with_and(world):
    """2行・3行にわたる商品指定は、各行の商品群をどれも購入した顧客 (AND)。"""
    both = [world.s1, world.s2]
    rows = [{"product_codes": ["R-1"], "count": {"min": 1}}, {"product_codes": ["W-1"], "count": {"min": 1}}]
    assert latest(world, shop_ids=both, product_rows=rows) == {"yamada", "takahashi"}
    rows.append({"product_codes": ["Z-9"], "count": {"min": 1}})
    assert latest(world, shop_ids=both, product_rows=rows) == {"takahashi"}


def test_product_rows_look_at_the_chosen_shops_and_counted_purchases_only(world):
    """商品指定は選んだ店舗の、集計対象の購入だけを見る。"""
    # at shop 2, R-1 was bought by ito, and by abc in a purchase that is not counted
    assert latest(world, shop_ids=[world.s2], product_rows=[{"product_codes": ["R-1"], "count": {"min": 1}}]) == {
        "ito"}
    assert latest(world, shop_ids=[world.s1], product_rows=[{"product_codes": ["X-1"], "count": {"min": 1}}]) \
        == set()


def test_product_rows_need_shops_and_at_most_three_rows(world):
    """購入商品を指定する場合は購入店舗の選択が必須。行は3行まで。"""
    row = {"product_codes": ["R-1"], "count": {"min": 1}}
    for section in ("latest", "period"):
        with pytest.raises(ValidationFailed) as refused:
            world.rpc.search.count(world.scope, {section: {"product_rows": [row]}})
        assert refused.value.fields == {f"{section}.shop_ids": ["required_with_products"]}
    with pytest.raises(ValidationFailed) as refused:
        world.rpc.search.search(world.scope, {"latest": {"shop_ids": [world.s1], "product_rows": [row] * 4}})
    assert refused.value.fields == {"latest.product_rows": ["at_most_three_rows"]}


# --- 2-3. 期間設定 ------------------------------------------------------------------------------------

def test_period_shops_alone_find_who_bought_there(world):
    """期間設定: 購入店舗だけを選ぶと、その店舗で購入した顧客。"""
    assert period(world, shop_ids=[world.s2]) == {"yamada", "yamamoto", "takahashi", "ito"}
    assert period(world, shop_ids=[world.s1]) == {"yamada", "sato", "takahashi", "watanabe"}


def test_period_purchased_date_range_in_japan_days(world):
    """購入日の日付範囲 (日本時間の日付、集計対象の購入だけ)。"""
    assert period(world, purchased=AUGUST_2025) == {"yamada", "ito", "watanabe"}
    assert period(world, purchased={"from": "2025-09-01", "to": "2025-09-01"}) == {"takahashi"}
    assert period(world, purchased={"from": "2025-10-01"}) == set()
    assert period(world, shop_ids=[world.s1], purchased=AUGUST_2025) == {"watanabe"}


def test_period_shipped_date_range(world):
    """発送日の日付範囲。"""
    assert period(world, shipped=AUGUST_2025) == {"yamada", "ito", "watanabe"}
    assert period(world, shipped={"from": "2025-09-01"}) == set(), "only an uncounted purchase shipped then"
    assert period(world, purchased=YEAR_2025, shipped={"to": "2025-03-31"}) == {"takahashi", "ito"}


def test_period_count(world):
    """期間内の購入回数。"""
    assert period(world, purchased=YEAR_2025, count={"min": 2}) == {"yamada", "takahashi", "ito"}
    assert period(world, purchased=YEAR_2025, count={"min": 1, "max": 1}) == {"sato", "yamamoto", "watanabe"}
    assert period(world, count={"min": 3}) == {"takahashi"}


def test_period_count_from_0_includes_customers_without_purchases_in_the_period(world):
    """期間内の購入回数 0〜 は期間内に購入のない顧客を含む。"""
    assert period(world, purchased=AUGUST_2025, count={"min": 0, "max": 0}) == EVERYONE - {"yamada", "ito",
                                                                                          "watanabe"}
    assert period(world, shop_ids=[world.s2], count={"min": 0, "max": 1}) == EVERYONE - {"ito"}
    assert period(world, purchased=AUGUST_2025, count={"min": 0}) == EVERYONE


def test_period_total(world):
    """期間内の購入金額。"""
    assert period(world, purchased=YEAR_2025, total={"min": 3000}) == {"yamada", "takahashi", "ito"}
    assert period(world, purchased=AUGUST_2025, total={"min": 3000}) == {"yamada", "ito"}
    assert period(world, purchased=YEAR_2025, count={"min": 1}, total={"max": 1500}) == {"sato", "watanabe"}


def test_period_total_from_0_includes_customers_without_purchases_in_the_period(world):
    """期間内の購入金額 0〜 は期間内に購入のない顧客を含む。"""
    assert period(world, purchased=YEAR_2025, total={"min": 0, "max": 1500}) == {"sato", "watanabe"} | NEVER_BOUGHT
    assert period(world, purchased=AUGUST_2025, total={"max": 1500}) == EVERYONE - {"yamada", "ito"}
    assert period(world, purchased=AUGUST_2025, count={"min": 0, "max": 0}, total={"max": 0}) == EVERYONE - {
        "yamada", "ito", "watanabe"}


def test_period_order_code(world):
    """期間内の受注コード。"""
    assert period(world, purchased=AUGUST_2025, order_code="O-102") == {"yamada"}
    assert period(world, purchased=AUGUST_2025, order_code="O-101") == set(), "bought in April"
    assert period(world, order_code="O-101") == {"yamada"}, "any earlier purchase, not only the latest"
    assert period(world, order_code="O-302") == set(), "not counted"


def test_period_media(world):
    """購入メディア。"""
    assert period(world, media="google") == {"yamada", "sato", "takahashi"}
    assert period(world, purchased={"from": "2025-06-01"}, media="google") == {"sato", "takahashi"}
    assert period(world, media="line") == {"ito"}
    assert period(world, media="facebook") == set()


def test_period_bought_products_true_and_false(world):
    """期間内の特定商品の購入有無: 購入あり・購入なし (期間内に購入のない顧客も購入なし)。"""
    both = [world.s1, world.s2]
    since_may = {"from": "2025-05-01", "to": "2025-12-31"}
    assert period(world, shop_ids=both, purchased=since_may, bought_products=["R-1"], bought=True) == {"sato"}
    assert period(world, shop_ids=both, purchased=since_may, bought_products=["R-1"], bought=False) \
        == EVERYONE - {"sato"}
    assert period(world, shop_ids=both, purchased=since_may, bought_products=["R-1", "Z-9"]) \
        == {"sato", "takahashi"}
    assert period(world, shop_ids=both, bought_products=["R-1"]) == {"yamada", "sato", "takahashi", "ito"}, \
        "abc's is uncounted"
    assert period(world, shop_ids=[world.s2], bought_products=["R-1"], bought=False) == EVERYONE - {"ito"}
    with pytest.raises(ValidationFailed) as refused:  # 購入商品を指定する場合選択必須
        period(world, bought_products=["R-1"])
    assert refused.value.fields == {"period.shop_ids": ["required_with_products"]}


def test_period_order_attributes(world):
    """期間内の受注属性。"""
    assert period(world, order_attributes={"支払方法": "代引き"}) == {"yamada", "sato"}, "abc's is uncounted"
    assert period(world, purchased={"from": "2025-05-01"}, order_attributes={"支払方法": "代引き"}) == {"sato"}
    assert period(world, purchased=AUGUST_2025, order_attributes={"支払方法": "クレジット"}) == {"yamada"}


def test_period_product_rows_count_purchases_inside_the_period(world):
    """期間内の特定商品の購入回数。0〜0 は期間内に買っていない顧客。"""
    both = [world.s1, world.s2]
    assert period(world, shop_ids=both, purchased=YEAR_2025,
                  product_rows=[{"product_codes": ["X-1"], "count": {"min": 2}}]) == {"ito"}
    assert period(world, shop_ids=both, purchased=YEAR_2025,
                  product_rows=[{"product_codes": ["R-1", "W-1"], "count": {"min": 2}}]) == {"yamada", "takahashi"}
    assert period(world, shop_ids=both, purchased={"from": "2025-05-01"},
                  product_rows=[{"product_codes": ["R-1", "W-1"], "count": {"min": 1}}]) == {
        "yamada", "sato", "takahashi", "watanabe"}
    assert period(world, shop_ids=both, purchased={"from": "2025-05-01"},
                  product_rows=[{"product_codes": ["R-1", "W-1"]}]) == {"yamada", "sato", "takahashi", "watanabe"}
    assert period(world, shop_ids=[world.s2], purchased=AUGUST_2025,
                  product_rows=[{"product_codes": ["X-1"], "count": {"min": 0, "max": 0}}]) == EVERYONE - {"ito"}


def test_period_product_rows_combine_with_and(world):
    """期間設定の商品指定も、行内は OR、行間は AND。"""
    both = [world.s1, world.s2]
    assert period(world, shop_ids=both, purchased=YEAR_2025,
                  product_rows=[{"product_codes": ["R-1", "W-1"], "count": {"min": 2}},
                                {"product_codes": ["Z-9"], "count": {"min": 1}}]) == {"takahashi"}
    assert period(world, shop_ids=both, purchased={"from": "2025-05-01"},
                  product_rows=[{"product_codes": ["W-1"], "count": {"min": 1}},
                                {"product_codes": ["R-1"], "count": {"min": 1}}]) == set()


# --- 2-4. 手動・手動シナリオ(一通目のみ)・曜日日時 送信履歴 -----------------------------------------------

def test_manual_mails_sent_include_and_exclude(world):
    """手動・手動シナリオ(一通目のみ)・曜日日時: 送信履歴を対象にする・除外する。"""
    sent = {"yamada", "sato", "yamamoto", "takahashi", "watanabe", "suzuki", "abc"}
    assert manual(world, sent="include") == sent, "failed deliveries were sent too"
    assert manual(world, sent="exclude") == EVERYONE - sent


def test_manual_mails_opened_include_and_exclude(world):
    """開封履歴を対象にする・除外する。"""
    assert manual(world, opened="include") == {"yamada", "sato", "takahashi"}
    assert manual(world, opened="exclude") == EVERYONE - {"yamada", "sato", "takahashi"}
    assert manual(world, sent="include", opened="exclude") == {"yamamoto", "watanabe", "suzuki", "abc"}


def test_manual_mails_clicked_include_and_exclude(world):
    """クリック履歴を対象にする・除外する。"""
    assert manual(world, clicked="include") == {"yamada"}
    assert manual(world, clicked="exclude") == EVERYONE - {"yamada"}
    assert manual(world, opened="include", clicked="exclude") == {"sato", "takahashi"}


def test_manual_mails_qr_read_include_and_exclude(world):
    """QR読込履歴を対象にする・除外する。"""
    assert manual(world, qr_read="include") == {"yamamoto"}
    assert manual(world, qr_read="exclude") == EVERYONE - {"yamamoto"}


def test_manual_mails_chosen_by_id(world):
    """履歴選択: メールIDで選んだメールだけ。"""
    first = [world.mail_ids[1]]
    assert manual(world, mail_ids=first, sent="include") == {"yamada", "sato", "yamamoto"}
    assert manual(world, mail_ids=first, sent="include", opened="exclude") == {"yamamoto"}
    assert manual(world, mail_ids=[world.mail_ids[2]], opened="include") == {"takahashi"}
    assert manual(world, mail_ids=[world.mail_ids[3]], sent="include") == set(), "an automatic mail"


def test_manual_mails_chosen_by_kind(world):
    """履歴選択: メール種類で選んだメールだけ。手動シナリオは一通目だけが手動メール。"""
    assert manual(world, kinds=["scheduled"], sent="include") == {"takahashi"}
    assert manual(world, kinds=["manual_scenario"], sent="include") == {"watanabe"}, "the scenario's first mail"
    assert manual(world, kinds=["manual"], opened="include") == {"yamada", "sato"}


def test_manual_mails_within_a_period(world):
    """送信 (開封、クリック、QR読込) の期間。"""
    second = {"from": "2025-09-02", "to": "2025-09-02"}
    assert manual(world, mail_ids=[world.mail_ids[1]], opened="include", period=second) == {"sato"}
    assert manual(world, sent="include", period={"from": "2025-09-10"}) == {"takahashi", "watanabe"}
    assert manual(world, sent="exclude", period={"from": "2025-09-10"}) == EVERYONE - {"takahashi", "watanabe"}
    assert manual(world, qr_read="include", period={"to": "2025-09-04"}) == set()


def test_scenario_mails_are_chosen_with_the_s_prefix(world):
    """シナリオのメールIDは頭にSをつけて選ぶ。手動シナリオの2通目以降は自動メール扱い。"""
    scenario = [m["id"] for m in world.rpc.mailhistory.find_mails(world.scope, "S12")]
    assert sorted(scenario) == sorted([world.mail_ids[4], world.mail_ids[5]])
    # watanabe got step 1 (a manual mail) and opened step 2 (an automatic mail)
    assert manual(world, mail_ids=scenario, sent="include") == {"watanabe"}
    assert manual(world, mail_ids=scenario, opened="include") == set()
    assert automatic(world, mail_ids=scenario, opened="include") == {"watanabe"}


# --- 2-5. 自動・自動シナリオ(手動シナリオの2通目以降含む) 送信履歴 ----------------------------------------------

def test_automatic_mails_sent_include_and_exclude(world):
    """自動・自動シナリオ(手動シナリオの2通目以降含む): 送信履歴を対象にする・除外する。"""
    assert automatic(world, sent="include") == {"yamada", "sato", "ito", "watanabe"}
    assert automatic(world, sent="exclude") == EVERYONE - {"yamada", "sato", "ito", "watanabe"}


def test_automatic_mails_opened_include_and_exclude(world):
    """開封履歴を対象にする・除外する。"""
    assert automatic(world, opened="include") == {"ito", "watanabe"}
    assert automatic(world, opened="exclude") == EVERYONE - {"ito", "watanabe"}
    assert automatic(world, sent="include", opened="exclude") == {"yamada", "sato"}


def test_automatic_mails_clicked_include_and_exclude(world):
    """クリック履歴を対象にする・除外する。"""
    assert automatic(world, clicked="include") == {"yamada", "ito"}
    assert automatic(world, clicked="exclude") == EVERYONE - {"yamada", "ito"}


def test_automatic_mails_qr_read_include_and_exclude(world):
    """QR読込履歴を対象にする・除外する。"""
    assert automatic(world, qr_read="include") == {"sato"}
    assert automatic(world, qr_read="exclude") == EVERYONE - {"sato"}


def test_automatic_mails_chosen_by_id_and_kind(world):
    """履歴選択: 自動メールのIDやメール種類で絞り込む。"""
    assert automatic(world, mail_ids=[world.mail_ids[3]], sent="include", clicked="exclude") == {"sato"}
    assert automatic(world, mail_ids=[world.mail_ids[1]], sent="include") == set(), "a manual mail"
    assert automatic(world, kinds=["automatic_scenario"], sent="include") == {"yamada"}
    assert automatic(world, kinds=["manual_scenario"], sent="include") == {"watanabe"}, "second and later mails"
    assert automatic(world, kinds=["automatic"], clicked="include") == {"ito"}


def test_automatic_mails_within_a_period(world):
    """送信 (開封、クリック) の期間。"""
    assert automatic(world, sent="include", period={"from": "2025-09-20"}) == {"yamada", "watanabe"}
    assert automatic(world, clicked="include", period={"to": "2025-09-24"}) == {"ito"}
    assert automatic(world, opened="exclude", period={"from": "2025-09-11"}) == EVERYONE - {"watanabe"}


def test_both_families_combine_with_and(world):
    """手動と自動の送信履歴の条件は両方を満たす顧客。"""
    assert found(world, {"mails": {"manual": {"opened": "include"}, "automatic": {"sent": "include"}}}) == {
        "yamada", "sato"}


# --- a shop account ----------------------------------------------------------------------------------

def test_a_shop_account_finds_only_its_shops_customers(world):
    """店舗アカウントは、どの条件でも自店舗の顧客だけが見つかる。"""
    shop1, shop2 = world.tenant.shop_scope(0), world.tenant.shop_scope(1)
    assert found(world, {}, shop1) == SHOP1_CUSTOMERS
    assert found(world, {}, shop2) == SHOP2_CUSTOMERS
    assert attributes(world, shop1, name="ヤマ") == {"yamada"}
    assert attributes(world, shop2, name="ヤマ") == {"yamamoto"}
    assert attributes(world, shop2, shop_ids=[world.s1]) == set()
    assert latest(world, shop2, purchase_count={"min": 2}) == {"ito"}
    assert latest(world, shop1, purchase_count={"min": 0, "max": 0}) == {"suzuki", "kobayashi"}
    assert period(world, shop2, purchased=AUGUST_2025) == {"ito"}
    assert manual(world, shop2, sent="include") == {"yamamoto", "abc"}
    assert automatic(world, shop1, clicked="include") == {"yamada"}


# --- sections together ---------------------------------------------------------------------------------

def test_sections_combine_with_and_and_each_is_counted_alone(world):
    """属性・最新購入情報・期間設定・メール履歴の条件はすべて満たす顧客。各セクションの人数も出る。"""
    conditions = {"attributes": {"genders": ["female"]}, "latest": {"purchase_count": {"min": 2}},
                  "mails": {"manual": {"opened": "include"}}}
    assert found(world, conditions) == {"yamada", "takahashi"}
    conditions["period"] = {"purchased": AUGUST_2025}
    assert found(world, conditions) == {"yamada"}
    counts = world.rpc.search.count(world.scope, conditions)
    assert counts == {"total": 1, "sections": {"attributes": 4, "latest": 3, "period": 3, "mails": 3}}
