"""The field catalogues of the customers service's settings (part of its contract)."""
# 基本設定: fields of the public member-registration form, with the manual's labels.
FORM_FIELDS = (
    ("kana", "カナ入力"),
    ("birth_date", "誕生日入力"),
    ("gender", "性別入力"),
    ("mail_permission", "送信許可入力"),
    ("postal_code", "郵便番号入力"),
    ("address", "住所入力"),
    ("phone", "電話番号入力"),
    ("email", "携帯入力"),
    ("remarks", "備考入力"),
    ("survey", "アンケート入力"),
)
FORM_FIELD_NAMES = tuple(name for name, _label in FORM_FIELDS)
DISPLAY_MODES = ("shown", "hidden", "required")
DEFAULT_FORM = {"kana": "shown", "birth_date": "shown", "gender": "shown", "mail_permission": "required",
                "postal_code": "hidden", "address": "hidden", "phone": "hidden", "email": "shown",
                "remarks": "hidden", "survey": "hidden"}

DEFAULT_NOTIFICATION_SUBJECT = "【{shop_name}】会員登録ありがとうございます"
DEFAULT_NOTIFICATION_BODY = (
    "{family_name} {given_name} 様\n\n"
    "{shop_name} の会員にご登録いただき、ありがとうございます。\n"
    "会員番号: {member_number}\n\n"
    "今後ともよろしくお願いいたします。\n"
)
TEMPLATE_KEYS = ("shop_name", "family_name", "given_name", "member_number")

REMARK_COUNT = 10
DEFAULT_REMARKS_SHOWN = 8  # the manual's screen: 備考1〜8 表示, 9〜10 非表示

GENDERS = ("female", "male", "unknown")
MAIL_PERMISSIONS = ("mobile", "pc", "refused")
CUSTOMER_CLASSES = ("new", "existing")

# The operator's words for the customers' coded values, the one catalogue of them: the screens and every CSV the
# product writes use these labels (the search download included).
VALUE_LABELS = {
    "gender": {"female": "女性", "male": "男性", "unknown": "不明"},
    "mail_permission": {"mobile": "携帯", "pc": "PC", "refused": "送信拒否"},
    "customer_class": {"new": "新規", "existing": "既存"},
    "display_mode": {"shown": "表示", "hidden": "非表示", "required": "必須"},
}
