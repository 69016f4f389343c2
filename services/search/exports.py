"""List downloads: permission-gated, sliced by customer id, and logged."""
import datetime as dt
import json

from sqlalchemy import null, select

from services.common import arguments, csvfiles
from services.common.contracts import Timestamp, field_error
from services.customers.fields import VALUE_LABELS

from . import matching, rfm_reports
from .models import ExportLog
from .store_tables import customers

C = customers.c
_moment = Timestamp()

# The download's columns: name → (header as the screens say it, SQL expression, how a cell is written). Values
# that are codes (性別, 送信許可) are written with the customers service's labels, moments and days as Excel reads
# them in Japan time. The gateway offers these columns through export_columns(); it keeps no list of its own.
_AS_IS, _TIME, _DAY = "as_is", "time", "day"
COLUMNS = {
    "member_number": ("会員番号", C.member_number, _AS_IS),
    "family_name": ("名前（姓）", C.family_name, _AS_IS), "given_name": ("名前（名）", C.given_name, _AS_IS),
    "family_kana": ("フリガナ（セイ）", C.family_kana, _AS_IS), "given_kana": ("フリガナ（メイ）", C.given_kana, _AS_IS),
    "gender": ("性別", C.gender, "gender"), "birth_date": ("生年月日", C.birth_date, _DAY),
    "mail_permission": ("送信許可", C.mail_permission, "mail_permission"),
    "mobile_email": ("携帯メールアドレス", C.mobile_email, _AS_IS), "pc_email": ("PCメールアドレス", C.pc_email, _AS_IS),
    "mobile_phone": ("携帯電話番号", C.mobile_phone, _AS_IS), "home_phone": ("自宅電話番号", C.home_phone, _AS_IS),
    "registered_at": ("登録日時", C.registered_at, _TIME), "points_held": ("保有ポイント", C.points_held, _AS_IS),
    "purchase_count": ("累計購入回数", C.purchase_count, _AS_IS),
    "purchase_total": ("累計購入金額", C.purchase_total, _AS_IS),
    "first_purchase_at": ("初回購入日", C.first_purchase_at, _DAY),
    "latest_purchase_at": ("最新購入日", C.latest_purchase_at, _DAY),
    # today's rank over the caller's shops, written with the company's name for it (RFM設定); not a column of the store
    "rfm_rank": ("RFMランク", None, "rfm_rank"),
}
DEFAULT_COLUMNS = ("member_number", "family_name", "given_name", "family_kana", "given_kana", "mail_permission",
                   "pc_email", "mobile_email", "purchase_count", "purchase_total", "latest_purchase_at")


def export_columns():
    """The catalogue of the download's columns, in the order they are offered: [{name, header, default}]."""
    return [{"name": name, "header": header, "default": name in DEFAULT_COLUMNS}
            for name, (header, _expression, _kind) in COLUMNS.items()]


def cell(kind, value):
    """One value of the index as the download writes it."""
    if kind == _TIME:
        return csvfiles.excel_time(value)
    if kind == _DAY:
        return csvfiles.excel_day(value)
    if kind in VALUE_LABELS:
        return VALUE_LABELS[kind].get(value, value or "")
    return "" if value is None else value


MAX_SLICE = 10_000
MAX_LOGS = 1000


def check_columns(columns):
    columns = arguments.items(columns, "columns", len(COLUMNS)) or list(DEFAULT_COLUMNS)
    unknown = [c for c in columns if not isinstance(c, str) or c not in COLUMNS]
    if unknown or not columns:
        raise field_error("columns", "one_of")
    return columns


def export_rows(session, scope, conditions, columns, after_id=0, limit=5000, store=None):
    """One slice of the download, by customer id (keyset paging, so a huge list is never held at once), read from
    the replica's ``store``; ``session``: the service's database (saved searches)."""
    scope.ensure_permitted("may_export_customers")
    columns = check_columns(columns)
    parsed = matching.parse(conditions)
    after_id = arguments.after_id(after_id)
    limit = min(arguments.integer(limit, "limit", 1), MAX_SLICE)
    expressions = [null() if COLUMNS[c][1] is None else COLUMNS[c][1] for c in columns]
    rows = store.execute(scope.company_id, select(C.id, *expressions)
                         .where(*matching.all_clauses(session, scope, parsed), C.id > after_id)
                         .order_by(C.id).limit(limit))
    kinds = [COLUMNS[c][2] for c in columns]
    if rows and "rfm_rank" in columns:
        # the slice is a range of ids: the ranks of that range, in one statement
        ranks, settings = rfm_reports.ranks_today(session, scope, store,
                                                  lambda column: column.between(rows[0][0], rows[-1][0]))
        at = columns.index("rfm_rank") + 1
        rows = [(*row[:at], settings.names.get(ranks.get(row[0]), ""), *row[at + 1:]) for row in rows]
    return {"headers": [COLUMNS[c][0] for c in columns],
            "rows": [[cell(kind, value) for kind, value in zip(kinds, row[1:])] for row in rows],
            "last_id": rows[-1][0] if rows else None}


def log_export(session, scope, conditions, columns, rows, client_ip="", completed=True):
    scope.ensure_permitted("may_export_customers")
    conditions = arguments.mapping(conditions, "conditions")
    columns = check_columns(columns)
    rows = arguments.integer(rows, "rows", 0, arguments.MAX_ID)
    client_ip = arguments.text(client_ip, "client_ip", 100, allow_none=True) or ""
    completed = arguments.flag(completed, "completed")
    session.add(ExportLog(company_id=scope.company_id, shop_id=scope.shop_id, account_id=scope.account_id,
                          client_ip=client_ip, conditions=json.dumps(conditions, ensure_ascii=False),
                          columns=json.dumps(columns), rows=rows, completed=completed,
                          exported_at=dt.datetime.now(dt.timezone.utc)))


def log_report_export(session, scope, answer, client_ip=""):
    """Record the download of a report (its 出力許可 checked by whoever computed ``answer``): who, when, which report
    with which options, its tables' columns, how many rows."""
    client_ip = arguments.text(client_ip, "client_ip", 100, allow_none=True) or ""
    columns = [column["label"] for table in answer["tables"] for column in table["columns"]]
    session.add(ExportLog(company_id=scope.company_id, shop_id=scope.shop_id, account_id=scope.account_id,
                          client_ip=client_ip,
                          conditions=json.dumps({"report": answer["kind"], "options": answer["options"]},
                                                ensure_ascii=False),
                          columns=json.dumps(columns, ensure_ascii=False),
                          rows=sum(len(table["rows"]) for table in answer["tables"]), completed=True,
                          exported_at=dt.datetime.now(dt.timezone.utc)))


def export_logs(session, scope, limit=100):
    scope.ensure_company_wide()
    limit = min(arguments.integer(limit, "limit", 1), MAX_LOGS)
    rows = session.scalars(select(ExportLog).where(ExportLog.company_id == scope.company_id)
                           .order_by(ExportLog.id.desc()).limit(limit))
    return [{"id": r.id, "account_id": r.account_id, "shop_id": r.shop_id, "client_ip": r.client_ip,
             "conditions": json.loads(r.conditions), "columns": json.loads(r.columns), "rows": r.rows,
             "completed": r.completed, "exported_at": _moment._serialize(r.exported_at, None, None)} for r in rows]
