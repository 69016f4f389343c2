"""インポート機能's RPC methods and timer, mixed into the service that owns a file kind (customers, purchases).

The service sets ``import_jobs`` (an ``import_jobs.Jobs``) and ``db``, lists the caller's shops with
``_shop_ids(scope)``, and applies a batch with ``_import_batch(scope, records, request_id, options, dry_run)`` — its
own batch write, run in a transaction that is rolled back for a dry run.
"""
import logging

from nameko.exceptions import RpcTimeout

from . import csvreading, import_mapping, importing
from .entrypoints import rpc, timer
from .errors import EXPECTED_ERRORS, Conflict, Unavailable
from .outages import database_errors
from .scope import Scope

log = logging.getLogger(__name__)
rpc_method = rpc(expected_exceptions=EXPECTED_ERRORS)
TICK_SECONDS = 1.0


class ImportEntrypoints:
    import_jobs = None  # set by the service

    @rpc_method
    def import_catalogue(self):
        """What the import page offers for this service's files: {kind, fields [{name, label, required}], formats
        [{key, label}] (generic last), record_labels {key: label} (what a preview's records hold beyond the fields),
        encodings [{key, label}], modes [{key, label}], skip_reasons, max_file_bytes, generic}."""
        kind = self.import_jobs.kind
        return {"kind": kind.name,
                "fields": [{"name": f.name, "label": f.label, "required": f.required} for f in kind.fields],
                "formats": [{"key": f.key, "label": f.label} for f in kind.formats]
                + [{"key": import_mapping.GENERIC, "label": import_mapping.GENERIC_LABEL}],
                "record_labels": dict(kind.record_labels),
                "encodings": [{"key": k, "label": v} for k, v in csvreading.ENCODINGS.items()],
                "modes": [{"key": k, "label": importing.MODE_LABELS[k]} for k in importing.MODES],
                "skip_reasons": dict(importing.SKIP_REASONS), "max_file_bytes": csvreading.MAX_FILE_BYTES,
                "generic": import_mapping.GENERIC}

    @rpc_method
    def create_import(self, scope, shop_id, file_name):
        """A new import of a file for a shop (the caller's): {id, ...}; the file follows with append_import_chunk.
        Raises ValidationFailed, Forbidden."""
        scope = Scope.parse(scope)
        shop_ids = self._shop_ids(scope)
        with self.db.unit_of_work() as session:
            return self.import_jobs.as_dict(self.import_jobs.create(session, scope, shop_id, file_name, shop_ids))

    @rpc_method
    def append_import_chunk(self, scope, import_id, offset, data):
        """Add ``data`` (base64, at most 4 MB) at byte ``offset`` of the file; the same chunk sent again changes
        nothing. Returns {id, size}. Raises ValidationFailed (offset, too large), Conflict (upload over), NotFound."""
        with self.db.unit_of_work() as session:
            job = self.import_jobs.append(session, Scope.parse(scope), import_id, offset, data)
            return {"id": job.id, "size": job.size}

    @rpc_method
    def inspect_import(self, scope, import_id, encoding=None):
        """The uploaded file read: the import with its shape (encoding, delimiter, header), the format recognised,
        the mapping offered (the format's, or the shop's last, or by column names) and ``preview``. A file that is no
        usable CSV comes back with status failed and ``error`` saying why. ``encoding`` (a key of the catalogue)
        overrides detection. Raises ValidationFailed (encoding), Conflict (already started), NotFound."""
        scope = Scope.parse(scope)
        with self.db.unit_of_work() as session:
            job = self.import_jobs.inspect(session, scope, import_id, encoding)
            answer = self.import_jobs.as_dict(job)
            answer["preview"] = self.import_jobs.preview(job) if job.status == "ready" else []
            return answer

    @rpc_method
    def preview_import(self, scope, import_id, mapping):
        """The preview with another mapping ({field: column}). Raises ValidationFailed (mapping), Conflict (the file
        not read yet), NotFound."""
        scope = Scope.parse(scope)
        with self.db.read() as session:
            job = self.import_jobs.get(session, scope, import_id)
            if not job.shape:
                raise Conflict("the file has not been read")
            header = tuple(self.import_jobs.as_dict(job)["shape"]["header"])
            checked = import_mapping.check_mapping(header, mapping, self.import_jobs.kind.fields)
            return {"preview": self.import_jobs.preview(job, checked)}

    @rpc_method
    def start_import(self, scope, import_id, mapping=None, options=None, dry_run=False):
        """Run the import in the background (``dry_run``: check every row, write nothing). ``options``: {mode:
        create_update|update_only|create_only, keep_existing (customers)}. A file of no known format keeps its
        mapping for the shop's next file. Returns the import. Raises ValidationFailed, Conflict, NotFound."""
        scope = Scope.parse(scope)
        with self.db.unit_of_work() as session:
            return self.import_jobs.as_dict(self.import_jobs.start(session, scope, import_id, mapping, options,
                                                                   bool(dry_run)))

    @rpc_method
    def get_import(self, scope, import_id):
        """One import: status, progress (0–1 of the file), rows_done, rows_per_second, seconds_left, report
        {created, updated, unchanged, skipped {reason: n}, failed, cancelled, problems [{row, column, message}]}.
        Raises NotFound, Forbidden."""
        with self.db.read() as session:
            return self.import_jobs.as_dict(self.import_jobs.get(session, Scope.parse(scope), import_id))

    @rpc_method
    def list_imports(self, scope, page=1, per_page=20):
        """Past and running imports of the caller's company (a shop account: its shop), newest first: {page,
        per_page (at most 500), total, has_more, imports}."""
        with self.db.read() as session:
            return self.import_jobs.listing(session, Scope.parse(scope), page, per_page)

    @rpc_method
    def import_failed_rows(self, scope, import_id, offset=0, limit=1048576):
        """A slice of the failed-rows CSV (the file's columns and encoding, with 行番号 and エラー内容): {data (base64),
        size, last}. Raises NotFound, Forbidden."""
        with self.db.read() as session:
            return self.import_jobs.failed_rows(session, Scope.parse(scope), import_id, offset, limit)

    @timer(interval=TICK_SECONDS)
    def work_on_imports(self):
        """Go on with one queued or running import for a time slice (one job at a time per worker)."""
        try:
            with database_errors():
                job_id = self.import_jobs.claim(self.db.session_factory)
                if job_id is not None:
                    self.import_jobs.work(self.db.session_factory, job_id, self._import_batch)
        except (Unavailable, RpcTimeout) as away:  # the job's lease lapses; it goes on from its checkpoint
            log.warning("import work put off: %s: %s", type(away).__name__, away)
