"""What an operator reads: CSV cells in Japan time as Excel reads them, coded values as the screens name them, and a
refused search condition named by its field on the 検索 screen, never by its key."""
import datetime as dt
import re

import pytest
from marshmallow import fields

from gateway.health import overall
from gateway.messages import LABELS, search_error_lines, search_field_label
from services.common import csvfiles
from services.search import conditions, exports


@pytest.mark.parametrize("value, out", [
    ("2026-11-25T09:00:00+09:00", "2026/11/25 09:00"),
    ("2026-11-25T00:00:00+00:00", "2026/11/25 09:00"),
    (dt.datetime(2026, 11, 24, 15, 30), "2026/11/25 00:30"),  # naive from SQLite: UTC
    (dt.datetime(2026, 11, 24, 15, 30, tzinfo=dt.timezone.utc), "2026/11/25 00:30"),
    (None, ""), ("", ""),
])
def test_moments_are_written_in_japan_time_as_excel_reads_them(value, out):
    assert csvfiles.excel_time(value) == out


@pytest.mark.parametrize("value, out", [
    ("2026-11-25", "2026/11/25"), (dt.date(1975, 3, 8), "1975/03/08"),
    (dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.timezone.utc), "2026/11/25"),  # the day in Japan
    (None, ""),
])
def test_days_are_written_as_excel_reads_them(value, out):
    assert csvfiles.excel_day(value) == out


def test_the_writer_formats_moments_and_days_it_is_given():
    import io

    buffer = io.StringIO()
    csvfiles.writer(buffer).writerow([dt.datetime(2026, 11, 25, 0, 0, tzinfo=dt.timezone.utc), dt.date(2026, 1, 2)])
    assert buffer.getvalue() == "2026/11/25 09:00,2026/01/02\r\n"


def test_the_list_download_writes_coded_values_as_the_screens_do():
    assert exports.cell("mail_permission", "mobile") == "携帯"
    assert exports.cell("mail_permission", "pc") == "PC"
    assert exports.cell("mail_permission", "refused") == "送信拒否"
    assert exports.cell("gender", "female") == "女性"
    assert exports.cell("time", dt.datetime(2026, 11, 25, 0, 0)) == "2026/11/25 09:00"
    assert exports.cell("day", dt.date(1980, 5, 1)) == "1980/05/01"
    assert exports.cell("day", None) == ""
    assert exports.cell("as_is", 0) == 0


def test_the_list_download_offers_its_columns_with_the_screens_headers():
    assert [(c["name"], c["header"], c["default"]) for c in exports.export_columns()] == [
        ("member_number", "会員番号", True), ("family_name", "名前（姓）", True), ("given_name", "名前（名）", True),
        ("family_kana", "フリガナ（セイ）", True), ("given_kana", "フリガナ（メイ）", True), ("gender", "性別", False),
        ("birth_date", "生年月日", False), ("mail_permission", "送信許可", True),
        ("mobile_email", "携帯メールアドレス", True), ("pc_email", "PCメールアドレス", True),
        ("mobile_phone", "携帯電話番号", False), ("home_phone", "自宅電話番号", False), ("registered_at", "登録日時", False),
        ("points_held", "保有ポイント", False), ("purchase_count", "累計購入回数", True),
        ("purchase_total", "累計購入金額", True), ("first_purchase_at", "初回購入日", False),
        ("latest_purchase_at", "最新購入日", True), ("rfm_rank", "RFMランク", False)]


def test_the_screens_labels_are_the_owners_catalogues():
    assert LABELS["mail_permission"] == {"mobile": "携帯", "pc": "PC", "refused": "送信拒否"}
    assert LABELS["counted"] == {True: "対象", False: "対象外"}


# --- refused search conditions -----------------------------------------------------------------

def _paths(schema, prefix=""):
    """Every field path the condition document can name (one list index, one dictionary key per level)."""
    for name, field in schema.fields.items():
        path = f"{prefix}{field.data_key or name}"
        yield path
        yield from _field_paths(field, path)


def _field_paths(field, path):
    if isinstance(field, fields.Nested):
        yield from _paths(field.schema, path + ".")
    elif isinstance(field, fields.List):
        yield path + ".0"
        yield from _field_paths(field.inner, path + ".0")
    elif isinstance(field, fields.Dict):
        yield path + ".7"
        if field.value_field is not None:
            yield from _field_paths(field.value_field, path + ".7")


CONDITION_PATHS = sorted(set(_paths(conditions.Conditions())))


def test_the_walk_reaches_the_deep_paths():
    for path in ("attributes.age.min", "latest.product_rows.0.count.max", "mails.manual.mail_ids.0",
                 "period.bought_products.0", "attributes.choices.7.0", "mails.automatic.period.from"):
        assert path in CONDITION_PATHS


@pytest.mark.parametrize("path", CONDITION_PATHS)
def test_every_condition_path_gets_the_screens_words(path):
    label = search_field_label(path)
    assert not re.search(r"[A-Za-z_]", label.replace("FAX", "").replace("DM", "").replace("LINE", "")
                         .replace("RFM", "").replace("QR", "").replace("ID", "")), (path, label)
    # a field of a section is named beyond the section's own heading
    if path.count(".") >= 1 and not path.startswith("saved_search_id"):
        assert label != search_field_label(path.split(".")[0]), path


@pytest.mark.parametrize("path, label", [
    ("attributes.age.min", "属性検索 年齢（下限）"),
    ("attributes.birth_date.to", "属性検索 生年月日（終了日）"),
    ("attributes.genders.0", "属性検索 性別"),
    ("attributes.remarks.3", "属性検索 備考3"),
    ("attributes.extras.2", "属性検索 追加属性項目2"),
    ("latest.shop_ids", "最新購入情報 RFM分析 購入店舗"),
    ("latest.purchase_total.max", "最新購入情報 RFM分析 累計購入金額（上限）"),
    ("period.product_rows.1.product_codes.0", "期間設定 商品指定2行目（商品番号）"),
    ("period.purchase_count.min", "期間設定 購入回数（下限）"),
    ("mails.manual.mail_ids", "メール履歴 手動・手動シナリオ(一通目のみ)・曜日日時 送信履歴 履歴選択・メールID"),
    ("mails.automatic.period.from", "メール履歴 自動・自動シナリオ(手動シナリオの2通目以降含む) 送信履歴 期間（開始日）"),
    ("saved_search_id", "保存した検索"),
])
def test_refused_conditions_read_as_the_screen(path, label):
    assert search_field_label(path) == label


def test_groups_and_remarks_are_named_as_the_company_named_them():
    assert search_field_label("attributes.choices.7.0", groups={"7": "会員ステータス"}) == "属性検索 会員ステータス"
    assert search_field_label("attributes.remarks.3", remarks={"3": "好きな色"}) == "属性検索 好きな色"
    assert search_error_lines({"attributes.age.min": ["range"], "latest.shop_ids": ["required_with_products"]}) == [
        "属性検索 年齢（下限）: 範囲外の値です。",
        "最新購入情報 RFM分析 購入店舗: 購入商品を指定する場合は購入店舗を選択してください。"]


# --- /healthz while the index fills -------------------------------------------------------------

def _services(search_queued=0, customers_pending=0, search_status="ok", store="ready"):
    reports = {name: {"service": name, "status": "ok", "outbox_pending": 0}
               for name in ("shops", "customers", "purchases", "mailhistory")}
    reports["customers"]["outbox_pending"] = customers_pending
    reports["search"] = {"service": "search", "status": search_status, "outbox_pending": 0,
                         "index": {"state": "indexing" if search_queued else "ready", "queued_events": search_queued},
                         "store": {"state": store}}
    return reports


def test_healthz_says_indexing_with_200_while_events_are_on_their_way():
    assert overall(True, _services(search_queued=1200)) == ("indexing", 200)
    assert overall(True, _services(customers_pending=5)) == ("indexing", 200)
    assert overall(True, _services()) == ("ok", 200)
    assert overall(True, _services(store="loading")) == ("indexing", 200)
    assert overall(True, _services(store="opening")) == ("indexing", 200)
    assert overall(True, _services(search_queued=1200, search_status="down")) == ("degraded", 503)
    assert overall(False, _services()) == ("degraded", 503)
