"""Japanese wording of the error codes services return, for messages next to form fields."""
from services.common.field_messages import FIELD_MESSAGES, field_message, field_messages  # noqa: F401 (re-exported)
from services.customers.fields import VALUE_LABELS as CUSTOMER_LABELS
from services.purchases.fields import VALUE_LABELS as PURCHASE_LABELS

# A locked account reads exactly like an unknown ID or a wrong password: the answer never tells which IDs exist
# (the login page says once, for everyone, that repeated failures lock an account for a while).
LOGIN_MESSAGES = {
    "invalid_credentials": "ログインIDまたはパスワードが正しくありません。",
    "locked": "ログインIDまたはパスワードが正しくありません。",
    "throttled": "この接続元からのログインの失敗が続いたため、しばらくログインできません。時間をおいて再度お試しください。",
    "shop_standby": "この店舗はステータスが「待機」のためログインできません。",
    "ip_not_allowed": "このIPアドレスからの接続は許可されていません（IP設定）。",
    "session_ended": "セッションが終了しました。再度ログインしてください。",
}


# The operator's words for coded values come from the catalogues of the services that own the values (the same
# ones their CSVs are written with); the gateway keeps no copy.
LABELS = {**CUSTOMER_LABELS, **PURCHASE_LABELS}

# --- where a refused search condition is: the 検索 screen's own words for every path the search service's condition
# document can name (services/search/conditions.py). An error line never shows an internal key.
SEARCH_SECTIONS = {"attributes": "属性検索", "latest": "最新購入情報 RFM分析", "period": "期間設定", "mails": "メール履歴",
                   "rfm": "RFM集計",
                   "saved_search_id": "保存した検索", "columns": "CSVダウンロードの出力項目"}
_PURCHASE_FIELDS = {"shop_ids": "購入店舗", "order_code": "受注コード", "order_attributes": "受注属性",
                    "product_rows": "商品指定"}
SEARCH_FIELDS = {
    "attributes": {"name": "姓名・フリガナ", "member_numbers": "会員番号", "genders": "性別", "birth_date": "生年月日",
                   "age": "年齢", "mail_permissions": "送信許可", "dm_permission": "DM配信", "line_permission": "LINE配信",
                   "address_error": "アドレスエラー", "email": "メールアドレス", "phone": "電話番号",
                   "choices": "属性グループ", "remarks": "備考", "fax": "FAX番号", "extras": "追加属性項目",
                   "points_held": "保有ポイント", "valid_points": "有効ポイント", "points_expiry": "ポイント有効期限",
                   "earliest_expiry": "最短有効期限", "last_login": "最終ログイン日時", "shop_ids": "登録店舗",
                   "registered": "登録日"},
    "latest": dict(_PURCHASE_FIELDS, first_purchase="初回購入日", latest_purchase="最新購入日",
                   latest_shipped="最新発送日", purchase_count="累計購入回数", purchase_total="累計購入金額"),
    "period": dict(_PURCHASE_FIELDS, purchased="購入日", shipped="発送日", purchase_count="購入回数",
                   purchase_total="購入金額", media="購入メディア", bought_products="購入商品の有無", bought="購入商品の有無"),
    "rfm": {"day": "基準日", "shop_ids": "購入店舗", "recency_days": "最新購入からの日数", "purchase_count": "購入回数",
            "purchase_total": "購入金額", "ranks": "顧客ランク"},
}
MAIL_FAMILIES = {"manual": "手動・手動シナリオ(一通目のみ)・曜日日時 送信履歴",
                 "automatic": "自動・自動シナリオ(手動シナリオの2通目以降含む) 送信履歴"}
MAIL_FIELDS = {"mail_ids": "履歴選択・メールID", "kinds": "種別", "period": "期間", "sent": "送信履歴", "opened": "開封履歴",
               "clicked": "クリック履歴", "qr_read": "QR読込履歴"}
PARTS = {"min": "下限", "max": "上限", "from": "開始日", "to": "終了日", "product_codes": "商品番号", "count": "購入回数"}


def search_field_label(path, groups=None, remarks=None):
    """``attributes.age.min`` → ``属性検索 年齢（下限）``. ``groups`` and ``remarks`` name the company's 属性グループ and 備考
    fields by id / position (``choices.7`` → its group's name). A path the screen has no word for is named by its
    section alone."""
    section, *rest = path.split(".")
    words = [SEARCH_SECTIONS.get(section, "検索条件")]
    fields = SEARCH_FIELDS.get(section, {})
    if section == "mails" and rest:
        words.append(MAIL_FAMILIES.get(rest[0], ""))
        rest, fields = rest[1:], MAIL_FIELDS
    parts = []
    if rest and rest[0] in fields:
        name, rest = rest[0], rest[1:]
        words.append(fields[name])
        if name == "choices" and rest:
            words[-1] = (groups or {}).get(rest[0], words[-1])
            rest = rest[1:]
        elif name == "remarks" and rest:
            words[-1] = (remarks or {}).get(rest[0], f"備考{rest[0]}" if rest[0].isdigit() else words[-1])
            rest = rest[1:]
        elif name == "extras" and rest:
            words[-1] = f"追加属性項目{rest[0]}" if rest[0].isdigit() else words[-1]
            rest = rest[1:]
        elif name == "product_rows" and rest and rest[0].isdigit():
            words[-1] = f"商品指定{int(rest[0]) + 1}行目"
            rest = rest[1:]
        parts = [PARTS[part] for part in rest if part in PARTS]
    label = " ".join(word for word in words if word)
    return label + (f"（{'・'.join(parts)}）" if parts else "")


def search_error_lines(fields, groups=None, remarks=None):
    """``{"attributes.age.min": ["range"]}`` → ``["属性検索 年齢（下限）: 範囲外の値です。"]``."""
    return [f"{search_field_label(path, groups, remarks)}: {field_message(code)}"
            for path, codes in (fields or {}).items() for code in codes]
