"""各種設定 > 基本設定 (per shop) / 備考 / 顧客グループ (per company)."""
from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from services.common.errors import ValidationFailed
from services.customers.fields import DISPLAY_MODES, FORM_FIELDS, REMARK_COUNT

from ..auth import operator_required, services
from ..forms import errors_of, posted_request_id

bp = Blueprint("settings_customers", __name__, url_prefix="/settings")


def _scope():
    return g.scope.as_dict()


def _basic_target():
    """Whose 基本設定 the page shows: the company's defaults (?defaults=1, operators), else the shop chosen in the
    header's shop picker (a shop account: always its own)."""
    if request.values.get("defaults") == "1" and not g.scope.is_shop:
        return None
    return g.current_shop["id"] if g.current_shop else None


@bp.route("/basic", methods=["GET", "POST"])
def basic():
    """基本設定 per shop: each field of the shop's member-registration form 表示 / 非表示 / 必須, and its お知らせメール;
    operators also set the company's defaults, which shops without settings of their own follow."""
    shop_id = _basic_target()
    settings = services().customers.get_registration_settings(_scope(), shop_id)
    errors = {}
    if request.method == "POST":
        payload = {"fields": {name: request.form.get(f"field_{name}", "") for name, _label in FORM_FIELDS},
                   "notification_subject": request.form.get("notification_subject", ""),
                   "notification_body": request.form.get("notification_body", "").replace("\r\n", "\n")}
        try:
            services().customers.update_registration_settings(_scope(), payload, shop_id)
        except ValidationFailed as failure:
            errors = errors_of(failure)
            settings.update(payload)
        else:
            flash("基本設定（企業の初期値）を登録しました。" if shop_id is None else
                  f"基本設定（店舗 {g.current_shop['shop_number']}: {g.current_shop['name']}）を登録しました。", "info")
            return redirect(url_for(".basic", defaults="1") if shop_id is None else url_for(".basic"))
    return render_template("settings/basic.html", settings=settings, form_fields=FORM_FIELDS, modes=DISPLAY_MODES,
                           errors=errors, editing_defaults=shop_id is None), (400 if errors else 200)


@bp.route("/remarks", methods=["GET", "POST"])
@operator_required
def remarks():
    """備考: 備考1〜10 の名称と 表示 / 非表示."""
    current = services().customers.get_remark_settings(_scope())
    errors = {}
    if request.method == "POST":
        payload = [{"position": i, "name": request.form.get(f"name{i}", "").strip(),
                    "shown": request.form.get(f"shown{i}") == "1"} for i in range(1, REMARK_COUNT + 1)]
        try:
            services().customers.update_remark_settings(_scope(), payload)
        except ValidationFailed as failure:
            errors = {int(path.split(".")[1]) + 1: messages for path, messages in errors_of(failure).items()
                      if path.count(".") == 2}
            current = payload
        else:
            flash("備考を登録しました。", "info")
            return redirect(url_for(".remarks"))
    return render_template("settings/remarks.html", remarks=current, errors=errors), (400 if errors else 200)


# 顧客グループ: 属性グループ (customers service) and 履歴グループ (purchases service) share one set of screens.
GROUP_KINDS = {
    "attribute": {"service": "customers", "title": "属性グループ", "list": "list_groups", "add": "add_group",
                  "update": "update_group", "retire": "retire_group", "reorder": "reorder_groups",
                  "add_choice": "add_choice", "update_choice": "update_choice", "retire_choice": "retire_choice",
                  "reorder_choices": "reorder_choices", "has_required": False},
    "history": {"service": "purchases", "title": "履歴グループ", "list": "list_history_groups",
                "add": "add_history_group", "update": "update_history_group", "retire": "retire_history_group",
                "reorder": "reorder_history_groups", "add_choice": "add_history_choice",
                "update_choice": "update_history_choice", "retire_choice": "retire_history_choice",
                "reorder_choices": "reorder_history_choices", "has_required": True},
}


def _call(kind, action, *args, **kwargs):
    spec = GROUP_KINDS[kind]
    return getattr(getattr(services(), spec["service"]), spec[action])(_scope(), *args, **kwargs)


def _group_values(form, kind):
    values = {"name": form.get("name", "").strip(), "in_use": form.get("in_use") == "1"}
    if GROUP_KINDS[kind]["has_required"]:
        values["required"] = form.get("required") == "1"
    return values


@bp.route("/groups", defaults={"kind": "attribute"})
@bp.route("/groups/<any(attribute, history):kind>")
@operator_required
def groups(kind):
    """顧客グループ: the group list of one kind (属性グループ / 履歴グループ)."""
    return render_template("settings/groups.html", groups=_call(kind, "list"), kind=kind, spec=GROUP_KINDS[kind])


@bp.route("/groups/<any(attribute, history):kind>/new", methods=["GET", "POST"])
@operator_required
def new_group(kind):
    errors, values = {}, {"name": "", "in_use": True, "required": False}
    if request.method == "POST":
        values = _group_values(request.form, kind)
        try:
            group = _call(kind, "add", values, request_id=posted_request_id(request.form))
        except ValidationFailed as failure:
            errors = errors_of(failure)
        else:
            flash("グループを登録しました。続けて選択肢を追加してください。", "info")
            return redirect(url_for(".group", kind=kind, group_id=group["id"]))
    return render_template("settings/group_new.html", values=values, errors=errors, kind=kind,
                           spec=GROUP_KINDS[kind]), (400 if errors else 200)


def _group(kind, group_id):
    for group in _call(kind, "list"):
        if group["id"] == group_id:
            return group
    from services.common.errors import NotFound

    raise NotFound("group not found")


def _group_page(kind, group, errors=None, choice_errors=None, new_label="", status=200):
    return render_template("settings/group.html", group=group, errors=errors or {}, choice_errors=choice_errors or {},
                           new_label=new_label, kind=kind, spec=GROUP_KINDS[kind]), status


@bp.route("/groups/<any(attribute, history):kind>/<int:group_id>", methods=["GET", "POST"])
@operator_required
def group(kind, group_id):
    """グループ編集 with its 選択肢."""
    current = _group(kind, group_id)
    if request.method == "POST":
        values = _group_values(request.form, kind)
        try:
            _call(kind, "update", group_id, values)
        except ValidationFailed as failure:
            current.update(values)
            return _group_page(kind, current, errors=errors_of(failure), status=400)
        flash("グループを登録しました。", "info")
        return redirect(url_for(".group", kind=kind, group_id=group_id))
    return _group_page(kind, current)


@bp.route("/groups/<any(attribute, history):kind>/<int:group_id>/choices", methods=["POST"])
@operator_required
def add_choice(kind, group_id):
    label = request.form.get("label", "").strip()
    try:
        _call(kind, "add_choice", group_id, {"label": label}, request_id=posted_request_id(request.form))
    except ValidationFailed as failure:
        return _group_page(kind, _group(kind, group_id), choice_errors=errors_of(failure), new_label=label, status=400)
    flash("選択肢を追加しました。", "info")
    return redirect(url_for(".group", kind=kind, group_id=group_id))


@bp.route("/groups/<any(attribute, history):kind>/<int:group_id>/choices/<int:choice_id>", methods=["POST"])
@operator_required
def edit_choice(kind, group_id, choice_id):
    action = request.form.get("action")
    current = _group(kind, group_id)
    try:
        if action == "retire":
            _call(kind, "retire_choice", group_id, choice_id)
        elif action in ("up", "down"):
            ids = [c["id"] for c in current["choices"] if not c["retired"]]
            _call(kind, "reorder_choices", group_id, _moved(ids, choice_id, action)
                  + [c["id"] for c in current["choices"] if c["retired"]])
        else:
            _call(kind, "update_choice", group_id, choice_id, {"label": request.form.get("label", "")})
    except ValidationFailed as failure:
        return _group_page(kind, current, choice_errors={f"choice_{choice_id}": sum(errors_of(failure).values(), [])},
                           status=400)
    return redirect(url_for(".group", kind=kind, group_id=group_id))


@bp.route("/groups/<any(attribute, history):kind>/<int:group_id>/order", methods=["POST"])
@operator_required
def move_group(kind, group_id):
    action = request.form.get("action")
    if action == "retire":
        _call(kind, "retire", group_id)
        flash("グループを廃止しました。", "info")
    else:
        ids = [grp["id"] for grp in _call(kind, "list")]
        _call(kind, "reorder", _moved(ids, group_id, action))
    return redirect(url_for(".groups", kind=kind))


def _moved(ids, item, direction):
    ids = list(ids)
    if item not in ids:
        return ids
    i = ids.index(item)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(ids):
        ids[i], ids[j] = ids[j], ids[i]
    return ids
