"""List downloads (permission-gated and logged) and saved searches (live or frozen)."""
import datetime as dt
import json

from sqlalchemy import delete, select

from services.common import arguments, csvfiles
from services.common.contracts import Timestamp, field_error, load
from services.common.errors import NotFound
from services.customers.fields import VALUE_LABELS

from . import conditions as contract
from .models import CustomerSummary, ExportLog, IndexedCustomer, SavedSearch, SavedSearchMember
from .query import section_clauses
from .searching import today_jst

C, S = IndexedCustomer, CustomerSummary
_conditions = contract.Conditions()
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
    "purchase_count": ("累計購入回数", S.purchase_count, _AS_IS),
    "purchase_total": ("累計購入金額", S.purchase_total, _AS_IS),
    "first_purchase_at": ("初回購入日", S.first_purchase_at, _DAY),
    "latest_purchase_at": ("最新購入日", S.latest_purchase_at, _DAY),
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


def _clauses(session, scope, parsed):
    from .searching import _base

    sections = section_clauses(parsed, scope.company_id, today_jst())
    return _base(session, scope, parsed) + [c for group in sections.values() for c in group]


MAX_SLICE = 10_000
MAX_LOGS = 1000


def check_columns(columns):
    columns = arguments.items(columns, "columns", len(COLUMNS)) or list(DEFAULT_COLUMNS)
    unknown = [c for c in columns if not isinstance(c, str) or c not in COLUMNS]
    if unknown or not columns:
        raise field_error("columns", "one_of")
    return columns


def export_rows(session, scope, conditions, columns, after_id=0, limit=5000, store=None):
    """One slice of the download, by customer id (keyset paging, so a huge list is never held at once). ``store``:
    the replica's in-memory columns, which choose the slice's customers when loaded (the rows are then read from the
    database by id)."""
    from .searching import answers_from_memory

    scope.ensure_permitted("may_export_customers")
    columns = check_columns(columns)
    parsed = load(_conditions, conditions or {})
    after_id = arguments.after_id(after_id)
    limit = min(arguments.integer(limit, "limit", 1), MAX_SLICE)
    query = select(C.id, *[COLUMNS[c][1] for c in columns]).outerjoin(S, S.customer_id == C.id).order_by(C.id)
    if answers_from_memory(store, parsed):
        ids = store.ids_after(store.matching(scope, parsed, today_jst()), after_id, limit)
        rows = session.execute(query.where(C.id.in_(ids))).all() if ids else []
    else:
        rows = session.execute(query.where(*_clauses(session, scope, parsed), C.id > after_id).limit(limit)).all()
    kinds = [COLUMNS[c][2] for c in columns]
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


def export_logs(session, scope, limit=100):
    scope.ensure_company_wide()
    limit = min(arguments.integer(limit, "limit", 1), MAX_LOGS)
    rows = session.scalars(select(ExportLog).where(ExportLog.company_id == scope.company_id)
                           .order_by(ExportLog.id.desc()).limit(limit))
    return [{"id": r.id, "account_id": r.account_id, "shop_id": r.shop_id, "client_ip": r.client_ip,
             "conditions": json.loads(r.conditions), "columns": json.loads(r.columns), "rows": r.rows,
             "completed": r.completed, "exported_at": _moment._serialize(r.exported_at, None, None)} for r in rows]


# --- saved searches ----------------------------------------------------------------------------

def _saved(session, scope, saved_id):
    saved = session.get(SavedSearch, arguments.entity_id(saved_id, "saved_search_id"))
    if saved is None or saved.company_id != scope.company_id or (scope.is_shop and saved.shop_id != scope.shop_id):
        raise NotFound("saved search not found")
    return saved


def saved_members_clause(session, scope, saved_id, depth=0):
    """The customers of a saved search: its fixed list, or its conditions evaluated now (within the saved search
    it was itself narrowed to, if any: that one was saved before it, so the chain ends)."""
    from sqlalchemy import and_, true

    saved = _saved(session, scope, saved_id)
    if saved.frozen:
        return C.id.in_(select(SavedSearchMember.customer_id).where(SavedSearchMember.saved_search_id == saved.id))
    parsed = load(_conditions, json.loads(saved.conditions))
    sections = section_clauses(parsed, scope.company_id, today_jst())
    clauses = [c for group in sections.values() for c in group]
    within = parsed.get("saved_search_id")
    if within and within != saved.id and depth < 10:
        clauses.append(saved_members_clause(session, scope, within, depth + 1))
    return and_(*clauses) if clauses else true()


def save_search(session, scope, name, conditions, frozen):
    name = (arguments.text(name, "name", allow_none=True) or "").strip()
    conditions = arguments.mapping(conditions, "conditions")
    frozen = arguments.flag(frozen, "frozen")
    if not name or len(name) > 100:
        raise field_error("name", "required" if not name else "max_length:100")
    parsed = load(_conditions, conditions or {})  # refuse what would not run
    saved = SavedSearch(company_id=scope.company_id, shop_id=scope.shop_id if scope.is_shop else None, name=name,
                        conditions=json.dumps(conditions, ensure_ascii=False), frozen=frozen,
                        created_by=scope.account_id, created_at=dt.datetime.now(dt.timezone.utc))
    session.add(saved)
    session.flush()
    if frozen:
        ids = session.scalars(select(C.id).where(*_clauses(session, scope, parsed))).all()
        session.add_all([SavedSearchMember(saved_search_id=saved.id, customer_id=i) for i in ids])
        saved.customer_count = len(ids)
    return saved


def list_saved(session, scope):
    query = select(SavedSearch).where(SavedSearch.company_id == scope.company_id)
    if scope.is_shop:
        query = query.where(SavedSearch.shop_id == scope.shop_id)
    return [{"id": s.id, "name": s.name, "frozen": s.frozen, "conditions": json.loads(s.conditions),
             "customer_count": s.customer_count, "created_at": _moment._serialize(s.created_at, None, None)}
            for s in session.scalars(query.order_by(SavedSearch.id.desc()))]


def delete_saved(session, scope, saved_id):
    saved = _saved(session, scope, saved_id)
    session.execute(delete(SavedSearchMember).where(SavedSearchMember.saved_search_id == saved.id))
    session.delete(saved)
