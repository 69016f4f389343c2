"""顧客 files the インポート機能 and the connector read: EC-CUBE 4's 会員CSV, or any file mapped column by column.

Each row becomes one record of ``upsert_customers`` (keyed by 会員番号, folded there as at every entrance). What the
contract normalises (kana, phones, postal codes, widths) is left to it; here only what a file writes differently
from the contract is read: days and moments, 性別 as words or EC-CUBE's ids, flags, points, and an address in parts.
"""
from services.common import cells
from services.common.import_mapping import Cells, Field, ImportFormat, ImportItem
from services.common.importing import Kind

FIELDS = (
    Field("member_number", "会員番号", required=True, aliases=("会員ID", "顧客ID", "顧客番号", "customer id", "customerid")),
    Field("family_name", "名前（姓）", required=True, aliases=("姓", "お名前(姓)", "氏名", "名前", "last name")),
    Field("given_name", "名前（名）", aliases=("名", "お名前(名)", "first name")),
    Field("family_kana", "フリガナ（セイ）", aliases=("セイ", "お名前(セイ)", "フリガナ(姓)")),
    Field("given_kana", "フリガナ（メイ）", aliases=("メイ", "お名前(メイ)", "フリガナ(名)")),
    Field("gender", "性別", aliases=("性別(名称)", "gender")),
    Field("birth_date", "生年月日", aliases=("誕生日", "birthday")),
    Field("pc_email", "PCメールアドレス", aliases=("メールアドレス", "email", "e-mail")),
    Field("mobile_email", "携帯メールアドレス"),
    Field("mail_permission", "送信許可", aliases=("メール配信", "メルマガ")),
    Field("home_phone", "自宅電話番号", aliases=("電話番号", "tel", "phone")),
    Field("mobile_phone", "携帯電話番号", aliases=("携帯番号",)),
    Field("fax", "FAX番号", aliases=("fax",)),
    Field("postal_code", "郵便番号", aliases=("zip",)),
    Field("prefecture", "都道府県", aliases=("都道府県(名称)",)),
    Field("address", "住所", aliases=("住所1",)),
    Field("address2", "住所2", aliases=("建物名",)),
    Field("registered_at", "登録日時", aliases=("登録日", "入会日")),
    Field("customer_class", "顧客区分"),
    Field("points_held", "保有ポイント", aliases=("ポイント",)),
    Field("remark1", "備考1", aliases=("ショップ用メモ欄", "備考")),
    Field("remark2", "備考2"),
    Field("remark3", "備考3"),
)
FIELD_NAMES = tuple(field.name for field in FIELDS)

ECCUBE4_MEMBERS = ImportFormat(
    key="eccube4_members", label="EC-CUBE 4 会員CSV",
    columns={"member_number": "会員ID", "family_name": "お名前(姓)", "given_name": "お名前(名)",
             "family_kana": "お名前(セイ)", "given_kana": "お名前(メイ)", "postal_code": "郵便番号",
             "prefecture": "都道府県(名称)", "address": "住所1", "address2": "住所2", "pc_email": "メールアドレス",
             "home_phone": "TEL", "gender": "性別(ID)", "birth_date": "誕生日", "registered_at": "登録日",
             "points_held": "ポイント", "remark1": "ショップ用メモ欄"},
    signature=("会員ID", "お名前(姓)", "お名前(セイ)", "会員ステータス(ID)", "登録日"))
FORMATS = (ECCUBE4_MEMBERS,)

_GENDERS = {"male": ("男", "男性", "m", "male", "1"), "female": ("女", "女性", "f", "female", "2"),
            "unknown": ("不明", "その他", "未回答", "0", "3")}
_GENDER_OF = {word: code for code, words in _GENDERS.items() for word in words}
_PERMISSIONS = {"pc": ("pc", "ｐｃ", "パソコン"), "mobile": ("携帯", "mobile"), "refused": ("送信拒否", "拒否", "refused")}
_PERMISSION_OF = {word: code for code, words in _PERMISSIONS.items() for word in words}
_CLASSES = {"新規": "new", "new": "new", "既存": "existing", "existing": "existing"}
_MOBILE_PREFIXES = ("070", "080", "090")


def _coded(table, code):
    def parse(value):
        value = cells.text(value).lower()
        if not value:
            return None
        if value not in table:
            raise cells.CellUnreadable(code)
        return table[value]
    return parse


def _digits(value):
    return "".join(ch for ch in cells.text(value) if ch.isdigit())


def record_of(item, row, columns, shop_id):
    """The upsert record of one row; unreadable cells noted on ``item``. Empty cells are left out, so that an update
    keeps what the file does not say."""
    record = {"shop_id": shop_id}
    for name in ("member_number", "family_name", "given_name", "family_kana", "given_kana", "pc_email",
                 "mobile_email", "fax", "postal_code", "remark1", "remark2", "remark3"):
        if columns.has(name):
            value = columns.raw(row, name).strip()
            if value:
                record[name] = value
    for name in ("home_phone", "mobile_phone"):
        value = columns.raw(row, name).strip() if columns.has(name) else ""
        if value:
            # carts keep one TEL: a mobile number there is the customer's 携帯電話番号
            target = "mobile_phone" if name == "home_phone" and _digits(value).startswith(_MOBILE_PREFIXES) \
                and not columns.has("mobile_phone") else name
            record[target] = value
    address = " ".join(columns.raw(row, part).strip() for part in ("prefecture", "address", "address2")
                       if columns.has(part) and columns.raw(row, part).strip())
    if address:
        record["address"] = address
    readers = {"gender": _coded(_GENDER_OF, "one_of"), "mail_permission": _coded(_PERMISSION_OF, "one_of"),
               "customer_class": _coded(_CLASSES, "one_of"), "birth_date": cells.day,
               "registered_at": cells.moment, "points_held": lambda v: cells.integer(v, allow_negative=False)}
    for name, parse in readers.items():
        if columns.has(name):
            value = columns.read(item, row, name, parse)
            if value is not None:
                record[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return record


def items(rows, header, mapping, shop_id):
    """The file's rows as ``ImportItem``s, one customer each; a row without a 会員番号 is skipped."""
    columns = Cells(header, mapping)
    for row in rows:
        item = ImportItem(rows=[row])
        if row.undecodable:
            item.problems.append({"row": row.row_number, "column": "", "code": "undecodable_row"})
            yield item
            continue
        record = record_of(item, row, columns, shop_id)
        if not record.get("member_number"):
            item.skip_reason = "no_member_number"
        elif not item.problems:
            item.record = record
        yield item


def column_of(mapping, path):
    """The file's column for a field path of an error the service answered (``birth_date`` → ``誕生日``)."""
    name = path.split(".")[0]
    if name == "address":
        return mapping.get("address") or mapping.get("prefecture") or ""
    return mapping.get(name, "")


def row_of(item, _path):
    return item.first_row


KIND = Kind(name="customers", fields=FIELDS, formats=FORMATS, items=items, column_of=column_of, row_of=row_of)
