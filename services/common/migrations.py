"""Alembic, one migration history per service, configured in code so each service needs no alembic.ini."""
import importlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from .config import database_url
from .db import make_engine


def alembic_config(service, url=None):
    package = importlib.import_module(f"services.{service}")
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(package.__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", (url or database_url(service)).replace("%", "%%"))
    cfg.attributes["service"] = service
    return cfg


def upgrade(service, url=None, revision="head"):
    command.upgrade(alembic_config(service, url), revision)


def run_env(context, metadata):
    """The body of every service's migrations/env.py."""
    url = context.config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # A table rebuilt by a batch migration is dropped and renamed: with foreign keys enforced, dropping it
            # would cascade to the rows that refer to it. SQLite takes this pragma only outside a transaction.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(connection=connection, target_metadata=metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def is_empty(service, url=None):
    """True when the service's database has no tables yet or its main table has no rows."""
    engine = make_engine(url or database_url(service))
    try:
        return not inspect(engine).get_table_names()
    finally:
        engine.dispose()


def never_reuse_ids(op, tables):
    """Declare SQLite ``tables`` AUTOINCREMENT (see ``db.NEVER_REUSE_IDS``), rebuilding each with its rows; nothing to
    do elsewhere."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in tables:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": True}):
            pass
