"""The Japanese wording of the field error codes services return: next to a form's fields in the gateway, and in
the reports of an import (a file's bad rows, with the reason in a column of their own). One catalogue for both."""

FIELD_MESSAGES = {
    "required": "必須項目です。",
    "invalid": "入力内容が正しくありません。",
    "not_integer": "半角数字で入力してください。",
    "invalid_email": "メールアドレスの形式が正しくありません。",
    "invalid_phone": "電話番号の形式が正しくありません（例: 03-0000-0000）。",
    "invalid_postal_code": "郵便番号は7桁の数字で入力してください（例: 105-0001）。",
    "invalid_network": "IPアドレスまたはCIDR（例: 192.168.0.0/24、2001:db8::/32）の形式が正しくありません。",
    "one_of": "選択肢から選んでください。",
    "taken": "既に使われています。",
    "login_id_taken": "この店舗番号のログインIDは既に使われています。別の店舗番号を入力してください。",
    "unknown_field": "不明な項目です。",
    "range": "範囲外の値です。",
    "excludes_current_ip": "現在の接続元アドレスが含まれていません。このまま登録するとログインできなくなります。",
}

def field_message(code):
    if code.startswith("max_value:"):
        return f"{int(code.split(':', 1)[1]):,}以下の数値で入力してください。"
    if code.startswith("max_days:"):
        return f"期間は{int(code.split(':', 1)[1]):,}日以内で指定してください。"
    if code.startswith("max_items:"):
        return f"{int(code.split(':', 1)[1]):,}件以内で指定してください。"
    if code.startswith("max_length:"):
        return f"{code.split(':', 1)[1]}文字以内で入力してください。"
    if code.startswith("must_be:"):
        return f"{int(code.split(':', 1)[1]):,}を入力してください。"
    if code.startswith("items:"):
        return f"{int(code.split(':', 1)[1]):,}個の値を指定してください。"
    if code.startswith("length:"):
        _, lo, hi = code.split(":")
        return f"{lo}〜{hi}文字で入力してください。"
    return FIELD_MESSAGES.get(code, FIELD_MESSAGES["invalid"])


def field_messages(fields):
    """``{"phone": ["invalid_phone"]}`` → ``{"phone": ["電話番号の形式が…"]}``."""
    return {path: [field_message(code) for code in codes] for path, codes in (fields or {}).items()}

FIELD_MESSAGES.update({
    "invalid_kana": "フリガナはカタカナまたはひらがなで入力してください。",
    "invalid_date": "日付が正しくありません。",
    "invalid_member_number": "会員番号は半角英数字・ハイフン・アンダースコアで50文字以内で入力してください。",
    "required_for_mail_permission": "送信許可に合わせてメールアドレスを入力してください。",
    "unknown_shop": "店舗を選択してください。",
    "must_agree": "利用規約に同意してください。",
    "unknown_choice": "選択肢が正しくありません。",
    "unknown_group": "グループが正しくありません。",
    "invalid_template": "差し込み項目が正しくありません（使えるのは {shop_name} {family_name} {given_name} {member_number}）。",
    "unknown_postal_code": "該当する住所が見つかりません。",
    "too_small": "範囲外の値です。",
})

FIELD_MESSAGES.update({
    "half_width_only": "半角英数記号で入力してください（空白は使えません）。",
    "half_width_printable": "半角の英数字・記号・空白で入力してください。",
    "unknown_customer": "会員番号に該当する顧客がいません。",
    "unknown_category": "カテゴリを選んでください。",
    "cannot_change": "変更できません。",
})

FIELD_MESSAGES.update({"unknown_mail": "メールが見つかりません。"})

FIELD_MESSAGES.update({
    "invalid_text": "使用できない文字（制御文字など）が含まれています。",
    "too_deep": "入力内容が正しくありません。",
    "total_too_large": "合計金額が上限（999,999,999円）を超えています。",
})

FIELD_MESSAGES.update({
    "min_above_max": "下限が上限を超えています。",
    "from_after_to": "開始日が終了日より後です。",
    "required_with_products": "購入商品を指定する場合は購入店舗を選択してください。",
    "unknown_mail": "指定したメールIDのメールが見つかりません。",
    "at_most_three_rows": "商品指定は3行までです。",
    "invalid_range": "範囲の指定が正しくありません（例: 1-100）。",
})

FIELD_MESSAGES.update({"not_increasing": "前の区分より大きい値を入力してください。"})  # RFM設定's band starts

# Why a file brought to インポート機能 or the connector is refused, and what is wrong with a row of it.
FILE_MESSAGES = {
    "empty": "ファイルが空です。",
    "no_header": "1行目に項目名（ヘッダー）がありません。",
    "not_csv": "CSVファイルではありません。",
    "excel": "Excelファイルはそのまま取り込めません。Excelで「CSV」形式で保存してから選んでください。",
    "too_large": "ファイルが大きすぎます（上限 2GB）。ファイルを分けて取り込んでください。",
    "undecodable": "文字コードを判別できません。Shift_JIS・EUC-JP・UTF-8 のいずれかで保存してください。",
    "wrong_encoding": "指定された文字コードでは読めません。文字コードを確かめてください。",
    "unknown_encoding": "この文字コードには対応していません。",
    "record_too_long": "1件のデータが長すぎます（改行を含む項目の引用符が閉じていない可能性があります）。",
    "unknown_column": "ファイルにない列です。",
    "undecodable_row": "ファイルの文字コードでは読めない文字が含まれています。",
}
"""Why a file is refused, by code, in the words the import page shows."""
FIELD_MESSAGES.update(FILE_MESSAGES)
