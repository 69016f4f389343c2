"""A repair on SQLite asks the owner before it claims the entity (a claim locks the whole database, and the process's
other green threads would wait for it in SQLite's blocking wait while the owner's answer is on its way): the owner's
state is kept when nothing was applied meanwhile, and an event applied meanwhile is kept, the entity left for the
next repair."""
import copy

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from services.search import indexer
from services.search.models import AppliedVersion, Base, IndexedCustomer
from tests.unit.report_company import customer_event


def _version(event, version, **data):
    changed = copy.deepcopy(event)
    changed["version"] = version
    changed["data"].update(data)
    return changed


@pytest.fixture
def factory(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'index.db'}")  # a file: other sessions see what one commits
    Base.metadata.create_all(engine)
    made = sessionmaker(engine)
    with made() as session:
        indexer.apply(session, _version(customer_event(1), 1, family_name="古い"))
        session.commit()
    yield made
    engine.dispose()


def _held(factory):
    with factory() as session:
        version = session.scalar(select(AppliedVersion.version).where(AppliedVersion.entity == "customer",
                                                                      AppliedVersion.entity_id == "1"))
        return version, session.scalar(select(IndexedCustomer.family_name).where(IndexedCustomer.id == 1))


def test_the_owners_state_is_applied(factory):
    def owner(entity, entity_id, company_id):
        assert (entity, entity_id, company_id) == ("customer", 1, 1)
        return _version(customer_event(1), 3, family_name="修復")

    with factory() as session:
        assert indexer.repair_entity(session, "customer", 1, 1, owner)
        session.commit()
    assert _held(factory) == (3, "修復")


def test_an_event_applied_while_the_owner_is_asked_is_kept(factory):
    def owner(entity, entity_id, company_id):
        with factory() as other:  # the owner's version 4 comes as an event while its answer (3) is on its way
            indexer.apply(other, _version(customer_event(1), 4, family_name="最新"))
            other.commit()
        return _version(customer_event(1), 3, family_name="修復")

    with factory() as session:
        assert not indexer.repair_entity(session, "customer", 1, 1, owner)
        session.commit()
    assert _held(factory) == (4, "最新")
