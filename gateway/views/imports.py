"""顧客管理 > インポート機能: a shop's CSV file (顧客データ or 購入履歴データ) uploaded, read, mapped, checked and run.

The service that owns what a file holds (customers, purchases) keeps the job and runs it in the background; these
pages send it the file in 1 MB chunks, show what it read, start the run and poll its progress. Every label (fields,
formats, encodings, modes, reasons for skipping) comes from the service's ``import_catalogue``.
"""
import base64
import logging
from urllib.parse import quote

from flask import (Blueprint, Response, abort, flash, g, jsonify, redirect, render_template, request,
                   stream_with_context, url_for)

from services.common.csvreading import DELIMITERS, MAX_FILE_BYTES
from services.common.errors import Conflict, ValidationFailed

from ..auth import client_ip, services
from ..forms import checked, errors_of
from ..messages import field_message

log = logging.getLogger(__name__)

bp = Blueprint("imports", __name__, url_prefix="/customers/imports")

KINDS = {"customers": "顧客データ", "purchases": "購入履歴データ"}
"""データ種別: which service owns the file's records."""
CHUNK_BYTES = 1024 * 1024
NOT_IMPORTED = "取り込まない"
STARTED = {True: "チェックを開始しました。", False: "取込を開始しました。"}


def allow_large_files():
    """Installed before the CSRF check, the first to read a form: an import file may be far larger than any other
    form (Werkzeug spools it to disk), up to the service's own limit and a little for the form around it."""
    if request.endpoint == "imports.upload":
        request.max_content_length = MAX_FILE_BYTES + 1024 * 1024


def _scope():
    return g.scope.as_dict()


def _service(kind):
    if kind not in KINDS:
        abort(404)
    return getattr(services(), kind)


def _catalogue(kind):
    catalogue = _service(kind).import_catalogue()
    catalogue["format_labels"] = {f["key"]: f["label"] for f in catalogue["formats"]}
    catalogue["encoding_labels"] = {e["key"]: e["label"] for e in catalogue["encodings"]}
    catalogue["field_labels"] = {f["name"]: f["label"] for f in catalogue["fields"]}
    return catalogue


LISTED_PER_PAGE = 20
LISTED_PER_KIND = 500
"""取込履歴 pages through the newest 500 imports of each file kind (both services' lists merged by time)."""


def _listing(page):
    """Both services' imports, newest first (each lists the caller's own: a shop account, its shop's): the newest of
    each kind up to the page asked, merged by time."""
    wanted = min(LISTED_PER_KIND, LISTED_PER_PAGE * page)
    imports, total = [], 0
    for kind in KINDS:
        answer = _service(kind).list_imports(_scope(), 1, wanted)
        imports += answer["imports"]
        total += min(answer["total"], LISTED_PER_KIND)
    imports.sort(key=lambda job: job["created_at"] or "", reverse=True)
    page = min(page, max(1, -(-total // LISTED_PER_PAGE)))
    shown = imports[LISTED_PER_PAGE * (page - 1):LISTED_PER_PAGE * page]
    return {"imports": shown, "page": page, "per_page": LISTED_PER_PAGE, "total": total, "kinds": KINDS}


def _upload_page(errors=None, status=200, form=None):
    page = max(1, request.args.get("page", 1, type=int) or 1)  # past the last: the last (``_listing``)
    encodings = services().customers.import_catalogue()["encodings"]  # the same readers serve both kinds
    return render_template("imports/index.html", errors=errors or {}, form=form or {}, encodings=encodings,
                           kinds=KINDS, listing=_listing(page)), status


@bp.route("/")
def index():
    """The upload form and the past imports."""
    return _upload_page()


@bp.route("/", methods=["POST"])
def upload():
    """The file streamed to the owning service in 1 MB chunks, then read by it; a refused file is shown here."""
    form = request.form
    errors = {}
    kind = form.get("kind", "")
    if kind not in KINDS:
        errors["kind"] = ["データ種別を選択してください。"]
    shop_id = form.get("shop_id", "")
    if not shop_id.isdigit() or int(shop_id) not in {s["id"] for s in g.shops}:
        errors["shop_id"] = ["店舗を選択してください。"]
    upload_file = request.files.get("file")
    if upload_file is None or not upload_file.filename:
        errors["file"] = ["ファイルを選択してください。"]
    encoding = form.get("encoding", "") or None
    if errors:
        return _upload_page(errors, 400, form)
    rpc, scope = _service(kind), _scope()
    try:
        job = rpc.create_import(scope, int(shop_id), upload_file.filename)
        offset = 0
        while True:
            chunk = upload_file.stream.read(CHUNK_BYTES)
            if not chunk:
                break
            rpc.append_import_chunk(scope, job["id"], offset, base64.b64encode(chunk).decode("ascii"))
            offset += len(chunk)
        job = rpc.inspect_import(scope, job["id"], encoding)
    except ValidationFailed as refused:
        return _upload_page(_upload_errors(refused), 400, form)
    if job["status"] == "failed":
        return _upload_page({"file": [job["error"]]}, 400, form)
    log.info("import %s/%s uploaded by account %s: %s, %d bytes", kind, job["id"], scope["account_id"],
             job["file_name"], job["size"])
    return redirect(url_for(".show", kind=kind, import_id=job["id"]))


def _upload_errors(refused):
    where = {"shop_id": "shop_id", "file_name": "file", "data": "file", "offset": "file", "encoding": "encoding"}
    errors = {}
    for name, messages in errors_of(refused).items():
        errors.setdefault(where.get(name, "file"), []).extend(messages)
    return errors


@bp.route("/<kind>/<int:import_id>")
def show(kind, import_id):
    """The import as far as it is: its mapping page while it waits, else its progress and report."""
    job = _service(kind).get_import(_scope(), import_id)
    if job["status"] == "ready":
        return _mapping_page(kind, job, job["mapping"], job["options"] or {})
    return _job_page(kind, job)


def _shop_label(shop_id):
    return next((f"{s['shop_number']}: {s['name']}" for s in g.shops if s["id"] == shop_id), str(shop_id))


def _mapping_page(kind, job, mapping, options, errors=None, preview=None, status=200):
    catalogue = _catalogue(kind)
    if preview is None:
        try:
            preview = _service(kind).preview_import(_scope(), job["id"], mapping)["preview"]
        except ValidationFailed as refused:  # a mapping saved for the shop's earlier file: the operator corrects it
            errors = dict(_mapping_errors(refused, catalogue), **(errors or {}))
            preview = []
    shape = job["shape"]
    return render_template("imports/mapping.html", kind=kind, kind_label=KINDS[kind], job=job, catalogue=catalogue,
                           mapping=mapping, options=options, errors=errors or {}, preview=preview,
                           delimiter=DELIMITERS.get(shape["delimiter"], shape["delimiter"]),
                           shop=_shop_label(job["shop_id"]), not_imported=NOT_IMPORTED,
                           extra_labels=catalogue["record_labels"]), status


def _mapping_errors(refused, catalogue):
    """``{"mapping.birth_date": ["unknown_column"]}`` → messages by field name (and ``_`` for the rest)."""
    errors = {}
    for path, codes in refused.fields.items():
        section, _, name = path.partition(".")
        key = name if section == "mapping" and name in catalogue["field_labels"] else "_"
        label = catalogue["field_labels"].get(name, "")
        for code in codes:
            text = field_message(code)
            errors.setdefault(key, []).append(text if key != "_" or not label else f"{label}: {text}")
    return errors


def _posted_mapping(catalogue):
    mapping = {}
    for field in catalogue["fields"]:
        column = request.form.get(f"map_{field['name']}", "")
        if column:
            mapping[field["name"]] = column
    return mapping


def _posted_options(kind):
    options = {"mode": request.form.get("mode", "create_update")}
    if kind == "customers":
        options["keep_existing"] = checked(request.form, "keep_existing")
    return options


@bp.route("/<kind>/<int:import_id>/encoding", methods=["POST"])
def reread(kind, import_id):
    """読み直す: the file read again with the 文字コード chosen (empty: detected again)."""
    try:
        job = _service(kind).inspect_import(_scope(), import_id, request.form.get("encoding") or None)
    except ValidationFailed as refused:
        for messages in errors_of(refused).values():
            for text in messages:
                flash(f"文字コード: {text}", "error")
        return redirect(url_for(".show", kind=kind, import_id=import_id))
    except Conflict:
        flash("取込を開始した後は読み直せません。", "error")
        return redirect(url_for(".show", kind=kind, import_id=import_id))
    if job["status"] == "failed":
        flash(job["error"], "error")
        return redirect(url_for(".index"))
    flash(f"文字コード「{_catalogue(kind)['encoding_labels'].get(job['shape']['encoding'])}」で読み直しました。", "info")
    return redirect(url_for(".show", kind=kind, import_id=import_id))


@bp.route("/<kind>/<int:import_id>/start", methods=["POST"])
def start(kind, import_id):
    """プレビュー更新, チェックのみ実行 (dry run) or 取込実行, with the mapping and options posted. From a dry run's report,
    取込実行 posts no mapping: the run takes the dry run's own mapping and options."""
    rpc, scope = _service(kind), _scope()
    action = request.form.get("action", "")
    job = rpc.get_import(scope, import_id)
    if job["status"] != "ready" and not (job["status"] == "finished" and job["dry_run"]):
        flash("この取込は開始できません（ファイルが読めていないか、すでに開始されています）。", "error")
        return redirect(url_for(".show", kind=kind, import_id=import_id))
    if request.form.get("from_dry_run") == "1":
        mapping, options = job["mapping"], job["options"]
    else:
        catalogue = _catalogue(kind)
        mapping, options = _posted_mapping(catalogue), _posted_options(kind)
    if action not in ("preview", "dry_run", "run"):
        action = "preview"
    try:
        if action == "preview":
            preview = rpc.preview_import(scope, import_id, mapping)["preview"]
            return _mapping_page(kind, job, mapping, options, preview=preview)
        rpc.start_import(scope, import_id, mapping, options, action == "dry_run")
    except ValidationFailed as refused:
        if job["status"] != "ready":  # 取込実行 from a dry run's report, which has no form to correct
            flash("取込を開始できませんでした。", "error")
            return redirect(url_for(".show", kind=kind, import_id=import_id))
        catalogue = _catalogue(kind)
        return _mapping_page(kind, job, mapping, options, errors=_mapping_errors(refused, catalogue), preview=[],
                             status=400)
    except Conflict:
        flash("この取込はすでに開始されています。", "error")
        return redirect(url_for(".show", kind=kind, import_id=import_id))
    log.info("import %s/%s started by account %s%s", kind, import_id, scope["account_id"],
             " (dry run)" if action == "dry_run" else "")
    flash(STARTED[action == "dry_run"], "info")
    return redirect(url_for(".show", kind=kind, import_id=import_id))


def _progress(job):
    """What the progress bar and the report show, for the page and its JSON."""
    report = job["report"] or {}
    return {"status": job["status"], "status_label": job["status_label"], "dry_run": job["dry_run"],
            "progress": job["progress"], "percent": int(job["progress"] * 100),
            "rows_done": job["rows_done"], "rows_per_second": job["rows_per_second"],
            "seconds_left": job["seconds_left"], "done": job["status"] in ("finished", "failed"),
            "error": job["error"], "has_failed_rows": job["has_failed_rows"],
            "counts": {key: report.get(key, 0) for key in ("created", "updated", "unchanged", "failed", "cancelled")},
            "skipped": report.get("skipped", {}), "skipped_total": sum(report.get("skipped", {}).values())}


def _job_page(kind, job):
    catalogue = _catalogue(kind)
    return render_template("imports/job.html", kind=kind, kind_label=KINDS[kind], job=job, catalogue=catalogue,
                           progress=_progress(job), report=job["report"] or {}, shop=_shop_label(job["shop_id"]))


@bp.route("/<kind>/<int:import_id>/progress.json")
def progress(kind, import_id):
    """The job's progress, polled by its page every second."""
    return jsonify(_progress(_service(kind).get_import(_scope(), import_id)))


@bp.route("/<kind>/<int:import_id>/failed.csv")
def failed_rows(kind, import_id):
    """エラー行をダウンロード: the failed rows as the service wrote them (the file's own columns and encoding, with
    行番号 and エラー内容), streamed slice by slice, and logged: they hold customers' data."""
    rpc, scope = _service(kind), _scope()
    job = rpc.get_import(scope, import_id)
    first = rpc.import_failed_rows(scope, import_id, 0, CHUNK_BYTES)
    ip = client_ip()

    def generate():
        part, offset, completed = first, 0, False
        try:
            while True:
                data = base64.b64decode(part["data"])
                if data:
                    yield data
                offset += len(data)
                if part["last"] or not data:
                    break
                part = rpc.import_failed_rows(scope, import_id, offset, CHUNK_BYTES)
            completed = True
        finally:
            log.info("personal data export: failed rows of import %s/%s by account %s from %s, %d bytes%s", kind,
                     import_id, scope["account_id"], ip, offset, "" if completed else " (interrupted)")

    stem = job["file_name"].rsplit(".", 1)[0] or "import"
    name = f"{stem}_エラー行.csv"
    response = Response(stream_with_context(generate()), mimetype="text/csv")
    charset = {"cp932": "Shift_JIS", "euc_jp": "EUC-JP"}.get((job["shape"] or {}).get("encoding"), "UTF-8")
    response.headers["Content-Type"] = f"text/csv; charset={charset}"
    response.headers["Content-Disposition"] = _attachment(name)
    if first["size"]:
        response.headers["Content-Length"] = str(first["size"])
    return response


def _attachment(name):
    """Content-Disposition for a Japanese file name: RFC 6266's filename* with an ASCII fallback."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
