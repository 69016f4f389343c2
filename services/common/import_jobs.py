"""インポート機能's background jobs, kept by the service that owns what a file holds (customers, purchases).

A job is a file uploaded in chunks into the service's import directory, then inspected (encoding, delimiter,
header, format, a preview), then run: as a dry run that writes nothing, or for real. Runs are done by a timer of the
service: a worker claims one job with a lease, goes through batches for a time slice, saving its checkpoint (the byte
offset after the last batch, and the report so far) after every batch, and lets the lease go. A service restarted
mid-job leaves a lease that expires; a worker then claims the job again and goes on from its checkpoint. Batches carry
request ids made from the job and their offset, so a batch whose commit was not checkpointed is applied once.
"""
import base64
import datetime as dt
import json
import logging
import os
import time

from nameko.exceptions import RpcTimeout

from sqlalchemy import BigInteger, Boolean, DateTime, Float, Integer, String, Text, func, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from . import arguments, csvreading, import_mapping, importing
from .config import import_dir, import_lease_seconds
from .contracts import Timestamp, field_error
from .errors import Conflict, NotFound, Unavailable
from .outbox import utcnow

log = logging.getLogger(__name__)
STOPPED = "取込中に予期しないエラーが発生したため中断しました。"

UPLOADING, READY, QUEUED, RUNNING, FINISHED, FAILED = "uploading", "ready", "queued", "running", "finished", "failed"
STATUS_LABELS = {UPLOADING: "アップロード中", READY: "取込待ち", QUEUED: "待機中", RUNNING: "実行中", FINISHED: "完了",
                 FAILED: "中断"}
MAX_CHUNK_BYTES = 4 * 1024 * 1024
"""The most one upload call carries (before base64); the gateway sends 1 MB."""
TIME_SLICE_SECONDS = 5.0
"""How long one timer worker goes on with a job before it lets the service do other work (and stop cleanly)."""
PREVIEW_ROWS = 5
MAX_LISTED = 500
"""The most imports one ``list_imports`` page holds."""


class ImportJobRecord:
    """Columns of a service's ``import_jobs`` table; mix into a model of the service's own metadata."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(Integer, index=True)
    shop_id: Mapped[int] = mapped_column(Integer, index=True)
    account_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    scope: Mapped[str] = mapped_column(Text)  # the caller's, the job's writes run with it
    file_name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    status: Mapped[str] = mapped_column(String(20), default=UPLOADING, index=True)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    format_key: Mapped[str] = mapped_column(String(50), default="")
    mapping: Mapped[str] = mapped_column(Text, default="{}")
    options: Mapped[str] = mapped_column(Text, default="{}")
    shape: Mapped[str] = mapped_column(Text, default="")
    checkpoint: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    seconds_run: Mapped[float] = mapped_column(Float, default=0)  # time spent running (a rate's denominator)


class ImportMappingRecord:
    """Columns of a service's ``import_mappings`` table: the mapping last used for a shop's files of no known
    format, offered again for the next file."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(Integer, index=True)
    shop_id: Mapped[int] = mapped_column(Integer, unique=True)
    mapping: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Jobs:
    """The jobs of one service: its models, its file kind, and where its files lie."""

    def __init__(self, model, mapping_model, kind, service_name):
        self.model, self.mapping_model, self.kind, self.service_name = model, mapping_model, kind, service_name

    @property
    def directory(self):
        return str(import_dir(self.service_name))

    # --- paths --------------------------------------------------------------------------------

    def file_path(self, job):
        return os.path.join(self.directory, f"{job.id}.csv")

    def failed_path(self, job):
        return os.path.join(self.directory, f"{job.id}.failed.csv")

    # --- the steps an operator takes ------------------------------------------------------------

    def get(self, session, scope, job_id, lock=False):
        query = select(self.model).where(self.model.id == arguments.entity_id(job_id, "import_id"))
        job = session.scalar(query.with_for_update() if lock else query)
        if job is None:
            raise NotFound("import not found")
        scope.ensure_shop(job.company_id, job.shop_id)
        return job

    def create(self, session, scope, shop_id, file_name, shop_ids):
        shop_id = arguments.entity_id(shop_id, "shop_id")
        scope.ensure_listed_shop(shop_id, shop_ids)
        file_name = arguments.text(file_name, "file_name", 255) or "import.csv"
        job = self.model(company_id=scope.company_id, shop_id=shop_id, account_id=scope.account_id,
                         scope=json.dumps(scope.as_dict()), file_name=os.path.basename(file_name), size=0,
                         status=UPLOADING)
        session.add(job)
        session.flush()
        open(self.file_path(job), "wb").close()
        return job

    def append(self, session, scope, job_id, offset, data):
        """Add a chunk at ``offset`` (base64). A chunk sent again (its answer lost) changes nothing."""
        job = self.get(session, scope, job_id, lock=True)
        if job.status != UPLOADING:
            raise Conflict("the file is complete")
        offset = arguments.integer(offset, "offset", 0)
        if not isinstance(data, str):
            raise field_error("data", "invalid")
        try:
            chunk = base64.b64decode(data, validate=True)
        except ValueError:
            raise field_error("data", "invalid") from None
        if len(chunk) > MAX_CHUNK_BYTES:
            raise field_error("data", f"max_length:{MAX_CHUNK_BYTES}")
        if offset + len(chunk) <= job.size:
            return job  # sent before
        if offset != job.size:
            raise field_error("offset", "invalid")
        if job.size + len(chunk) > csvreading.MAX_FILE_BYTES:
            raise field_error("data", "too_large")
        with open(self.file_path(job), "r+b") as stream:
            stream.seek(offset)
            stream.write(chunk)
            stream.truncate()
        job.size = offset + len(chunk)
        return job

    def inspect(self, session, scope, job_id, encoding=None):
        """The file complete: its shape, format, the mapping offered and a preview. Raises CsvFileRefused (the file
        stays, marked failed, with the reason)."""
        job = self.get(session, scope, job_id, lock=True)
        if job.status not in (UPLOADING, READY):
            raise Conflict("the import has started")
        if encoding not in (None, "") and encoding not in csvreading.ENCODINGS:
            raise field_error("encoding", "one_of")
        try:
            shape = csvreading.inspect_file(self.file_path(job), encoding or None)
        except csvreading.CsvFileRefused as refused:
            if encoding:  # the operator's choice was wrong: the file stays, to be read with another
                raise field_error("encoding", refused.code) from None
            job.status, job.error = FAILED, refused.message
            return job
        key, mapping = import_mapping.default_mapping(shape.header, self.kind.fields, self.kind.formats)
        if key == import_mapping.GENERIC:
            saved = session.scalar(select(self.mapping_model).where(self.mapping_model.shop_id == job.shop_id))
            if saved is not None:
                remembered = {f: c for f, c in json.loads(saved.mapping).items() if c in shape.header}
                mapping = remembered or mapping
        job.status, job.shape, job.format_key, job.mapping = READY, json.dumps(shape.as_dict()), key, json.dumps(mapping)
        return job

    def preview(self, job, mapping=None):
        """The first rows as read and as they will be sent: [{row, values, record, problems, skip_reason}]."""
        shape = csvreading.FileShape.from_dict(json.loads(job.shape))
        mapping = json.loads(job.mapping) if mapping is None else mapping
        rows = csvreading.decode_sample(self.file_path(job), shape, PREVIEW_ROWS * 4)
        shown = []
        for item in self.kind.items(iter(rows), shape.header, mapping, job.shop_id):
            if item.rows[-1] is rows[-1] and len(rows) == PREVIEW_ROWS * 4:
                break  # an order possibly cut by the sample's end
            shown.append({"rows": [row.row_number for row in item.rows], "record": item.record,
                          "problems": [dict(p, message=importing.message(p["code"])) for p in item.problems],
                          "skip_reason": item.skip_reason})
            if len(shown) == PREVIEW_ROWS:
                break
        return shown

    def start(self, session, scope, job_id, mapping, options, dry_run):
        job = self.get(session, scope, job_id, lock=True)
        if job.status not in (READY, FINISHED) or (job.status == FINISHED and not job.dry_run):
            raise Conflict("the import cannot start")
        shape = csvreading.FileShape.from_dict(json.loads(job.shape))
        mapping = import_mapping.check_mapping(shape.header, json.loads(job.mapping) if mapping is None else mapping,
                                               self.kind.fields)
        options = check_options(options, self.kind.name)
        if job.format_key == import_mapping.GENERIC:
            self._remember(session, job, mapping)
        job.mapping, job.options, job.dry_run = json.dumps(mapping), json.dumps(options), bool(dry_run)
        job.checkpoint = json.dumps(importing.new_checkpoint(shape))
        job.status, job.error, job.started_at, job.finished_at, job.seconds_run = QUEUED, "", utcnow(), None, 0
        job.lease_until = None
        if os.path.exists(self.failed_path(job)):
            os.remove(self.failed_path(job))
        return job

    def _remember(self, session, job, mapping):
        saved = session.scalar(select(self.mapping_model).where(self.mapping_model.shop_id == job.shop_id))
        if saved is None:
            session.add(self.mapping_model(company_id=job.company_id, shop_id=job.shop_id, mapping=json.dumps(mapping)))
        else:
            saved.mapping = json.dumps(mapping)

    def listing(self, session, scope, page, per_page):
        page, per_page = arguments.paging(page, per_page, MAX_LISTED)
        query = select(self.model).where(self.model.company_id == scope.company_id)
        if scope.is_shop:
            query = query.where(self.model.shop_id == scope.shop_id)
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(query.order_by(self.model.id.desc()).offset((page - 1) * per_page).limit(per_page + 1))
        rows = list(rows)
        return {"page": page, "per_page": per_page, "total": total, "has_more": len(rows) > per_page,
                "imports": [self.as_dict(job) for job in rows[:per_page]]}

    def failed_rows(self, session, scope, job_id, offset, limit):
        """A slice of the failed-rows file (base64) and whether it is the last."""
        job = self.get(session, scope, job_id)
        offset, limit = arguments.integer(offset, "offset", 0), min(arguments.integer(limit, "limit", 1), MAX_CHUNK_BYTES)
        path = self.failed_path(job)
        if not os.path.exists(path):
            return {"data": "", "size": 0, "last": True}
        size = os.path.getsize(path)
        with open(path, "rb") as stream:
            stream.seek(offset)
            chunk = stream.read(limit)
        return {"data": base64.b64encode(chunk).decode(), "size": size, "last": offset + len(chunk) >= size}

    def as_dict(self, job):
        checkpoint = json.loads(job.checkpoint) if job.checkpoint else None
        shape = json.loads(job.shape) if job.shape else None
        done = checkpoint["offset"] if checkpoint else 0
        data_size = (shape["size"] - shape["data_offset"]) if shape else 0
        progress = (done - shape["data_offset"]) / data_size if shape and data_size > 0 and checkpoint else 0.0
        rows_done = checkpoint["report"]["rows_done"] if checkpoint else 0
        rate = rows_done / job.seconds_run if job.seconds_run else None
        remaining = None
        if rate and progress and job.status in (QUEUED, RUNNING):
            remaining = job.seconds_run * (1 - progress) / progress
        return {"id": job.id, "kind": self.kind.name, "shop_id": job.shop_id, "file_name": job.file_name,
                "size": job.size, "status": job.status, "status_label": STATUS_LABELS[job.status],
                "dry_run": job.dry_run, "format": job.format_key, "mapping": json.loads(job.mapping or "{}"),
                "options": json.loads(job.options or "{}"), "shape": shape, "error": job.error,
                "progress": round(min(max(progress, 0.0), 1.0), 4), "rows_done": rows_done,
                "rows_per_second": round(rate, 1) if rate else None,
                "seconds_left": round(remaining) if remaining is not None else None,
                "report": checkpoint["report"] if checkpoint else None,
                "has_failed_rows": os.path.exists(self.failed_path(job)) and os.path.getsize(self.failed_path(job)) > 0,
                "created_at": _moment(job.created_at), "started_at": _moment(job.started_at),
                "finished_at": _moment(job.finished_at)}

    # --- the timer's work ---------------------------------------------------------------------

    def claim(self, session_factory):
        """The id of a job to work on, leased to this worker, or None."""
        now = utcnow()
        with session_factory() as session:
            candidates = session.scalars(select(self.model.id).where(
                self.model.status.in_((QUEUED, RUNNING)),
                or_(self.model.lease_until.is_(None), self.model.lease_until < now)).order_by(self.model.id).limit(5))
            for job_id in list(candidates):
                claimed = session.execute(update(self.model).where(
                    self.model.id == job_id, self.model.status.in_((QUEUED, RUNNING)),
                    or_(self.model.lease_until.is_(None), self.model.lease_until < now)).values(
                    status=RUNNING, lease_until=now + dt.timedelta(seconds=import_lease_seconds())))
                session.commit()
                if claimed.rowcount == 1:
                    return job_id
        return None

    def work(self, session_factory, job_id, send, time_slice=TIME_SLICE_SECONDS, clock=time.monotonic):
        """Go on with a claimed job for about ``time_slice`` seconds. ``send(scope_dict, records, request_id,
        options, dry_run)`` is the owner's batch write."""
        with session_factory() as session:
            job = session.get(self.model, job_id)
            shape = csvreading.FileShape.from_dict(json.loads(job.shape))
            checkpoint, mapping = json.loads(job.checkpoint), json.loads(job.mapping)
            options, scope, dry_run = json.loads(job.options), json.loads(job.scope), job.dry_run
            shop_id, seconds_run = job.shop_id, job.seconds_run or 0
            identity = f"{job_id}-{'dry' if dry_run else 'run'}-{int(job.started_at.timestamp())}"
            path, failed_path = self.file_path(job), self.failed_path(job)
        began = clock()

        def persist(state, **values):
            values = {"lease_until": utcnow() + dt.timedelta(seconds=import_lease_seconds()), **values}
            with session_factory() as session:
                session.execute(update(self.model).where(self.model.id == job_id).values(
                    checkpoint=json.dumps(state), seconds_run=seconds_run + (clock() - began), **values))
                session.commit()

        def save(state):
            if state["finished"]:
                return
            persist(state)
            if clock() - began >= time_slice:
                raise _SliceOver

        try:
            importing.run(path, shape, self.kind, mapping, shop_id,
                          lambda records, request_id, opts, _after: send(scope, records, request_id, opts, dry_run),
                          checkpoint, save, identity=identity, options=options,
                          failed_rows=importing.FailedRows(failed_path, shape.header, shape.encoding))
        except _SliceOver:
            with session_factory() as session:  # let the lease go: the next tick claims it again at once
                session.execute(update(self.model).where(self.model.id == job_id).values(lease_until=None))
                session.commit()
            return False
        except csvreading.CsvFileRefused as refused:
            persist(checkpoint, status=FAILED, error=refused.message, finished_at=utcnow(), lease_until=None)
            return True
        except (Unavailable, RpcTimeout):
            raise  # the lease lapses and the job is taken up again from its checkpoint
        except Exception:
            log.exception("import %s stopped", job_id)
            persist(checkpoint, status=FAILED, error=STOPPED, finished_at=utcnow(), lease_until=None)
            return True
        persist(checkpoint, status=FINISHED, finished_at=utcnow(), lease_until=None)
        return True


def _moment(value):
    """A moment as every RPC answers it: ISO 8601 in Japan time."""
    return _TIMESTAMP._serialize(value, None, None)


_TIMESTAMP = Timestamp()


class _SliceOver(Exception):
    pass


def check_options(options, kind_name):
    options = arguments.mapping(options or {}, "options")
    unknown = set(options) - {"mode", "keep_existing"}
    if unknown:
        raise field_error(f"options.{sorted(unknown)[0]}", "unknown_field")
    mode = options.get("mode", "create_update")
    if mode not in importing.MODES:
        raise field_error("options.mode", "one_of")
    checked = {"mode": mode}
    if kind_name == "customers":
        checked["keep_existing"] = arguments.flag(options.get("keep_existing", False), "options.keep_existing")
    return checked
