"""A replica's StoreKeeper (``dependencies.py``): told to stop while its store is loading, it lets the DuckDB call under
way end, starts no other and closes the store without an error; the next start loads the store afresh and answers
every customer (an interrupted load never passes for a finished one)."""
import threading

import eventlet
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import sessionmaker

from bench.generate import generate
from services.common import allocator
from services.search import indexer
from services.search import store as store_module
from services.search import store_tables as T
from services.search.dependencies import StoreKeeper
from services.search.models import Base

CUSTOMERS = 120


def _index(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'index.db'}")
    Base.metadata.create_all(engine)
    with sessionmaker(engine)() as session:
        for event in generate(company_id=1, shop_ids=[1, 2], customers=CUSTOMERS, seed=5, products=6, mails=3):
            indexer.apply(session, event)
        session.commit()
    return engine


def _until(condition, what):
    for _ in range(6000):  # a minute: only a hung keeper waits that long
        if condition():
            return
        eventlet.sleep(0.01)
    raise AssertionError(f"never {what}")


def test_a_replica_stopped_while_loading_closes_cleanly_and_loads_afresh_next_time(tmp_path, monkeypatch):
    engine = _index(tmp_path)
    directory = tmp_path / "store"
    writing, go_on = threading.Event(), threading.Event()
    write = store_module.IndexStore._write

    def held_write(self, *arguments, **options):  # the load's first chunk waits until the stop is asked
        writing.set()
        go_on.wait(60)
        return write(self, *arguments, **options)

    monkeypatch.setattr(store_module.IndexStore, "_write", held_write)
    keeper = StoreKeeper(sessionmaker(engine), directory, poll_seconds=0.01)
    runner = eventlet.spawn(keeper.run)
    _until(writing.is_set, "started loading")
    assert keeper.state == "loading"
    closing = eventlet.spawn(keeper.close)
    eventlet.sleep(0.05)
    assert not closing.dead, "the store is not closed while a DuckDB call is under way"
    go_on.set()
    closing.wait()  # no ResourceInUseException: the call under way ended first
    runner.wait()
    assert keeper.store is None

    monkeypatch.setattr(store_module.IndexStore, "_write", write)
    again = StoreKeeper(sessionmaker(engine), directory, poll_seconds=0.01)
    runner = eventlet.spawn(again.run)
    try:
        _until(lambda: again.report()["state"] == "ready", "ready again")
        assert again.execute(1, select(func.count()).select_from(T.customers)) == [(CUSTOMERS,)]
    finally:
        again.close()
        runner.wait()
        engine.dispose()


def test_a_step_waits_a_poll_after_a_quiet_step_a_second_after_a_busy_one_none_when_it_could_not_take_all():
    keeper = StoreKeeper(None, None, poll_seconds=0.1)
    assert [keeper.pause_after(n) for n in (0, 1, 99)] == [0.1, 0.1, 0.1]
    assert [keeper.pause_after(n) for n in (100, 5000, 19999)] == [1.0, 1.0, 1.0]
    assert keeper.pause_after(20000) == 0
    slow = StoreKeeper(None, None, poll_seconds=2.0)  # a replica set to poll seldom never polls more often when busy
    assert [slow.pause_after(n) for n in (1, 100, 20000)] == [2.0, 2.0, 0]


def test_a_step_that_followed_changes_hands_the_memory_it_freed_back(tmp_path, monkeypatch):
    engine = _index(tmp_path)
    trimmed = []
    monkeypatch.setattr(allocator, "trim", lambda: trimmed.append(True) or True)
    keeper = StoreKeeper(sessionmaker(engine), tmp_path / "store", poll_seconds=0.01)
    runner = eventlet.spawn(keeper.run)
    try:
        _until(lambda: keeper.report()["state"] == "ready", "ready")
        eventlet.sleep(0.1)  # steps that follow nothing
        assert trimmed == []
        with sessionmaker(engine)() as session:
            first = next(generate(company_id=1, shop_ids=[1, 2], customers=CUSTOMERS, seed=5, products=6, mails=3))
            assert indexer.apply(session, dict(first, version=first["version"] + 1))  # a customer changed
            session.commit()
        _until(lambda: trimmed, "trimmed after a step that followed the changes")
    finally:
        keeper.close()
        runner.wait()
        engine.dispose()
