"""``index_versions``, the RPC method search.reconcile asks every owner of indexed entities, mixed into the service
(customers, purchases, mailhistory). The service sets ``index_entities`` (its {entity: model} for
``index_versions.versions_after``) and ``db``."""
from .entrypoints import rpc
from .errors import EXPECTED_ERRORS
from .index_versions import MAX_VERSIONS, versions_after
from .scope import Scope

rpc_method = rpc(expected_exceptions=EXPECTED_ERRORS)


class IndexVersionsEntrypoint:
    index_entities = None  # set by the service

    @rpc_method
    def index_versions(self, scope, entity, after_id=0, limit=MAX_VERSIONS):
        """For search.reconcile: [[id, version], ...] of the company's ``entity`` (one of ``index_entities``) with
        id > after_id, by id, at most 50,000 a call. Operators and systems only."""
        scope = Scope.parse(scope)
        scope.ensure_company_wide()
        with self.db.read() as session:
            return versions_after(session, self.index_entities, entity, scope.company_id, after_id, limit)
