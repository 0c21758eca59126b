"""Engine settings that make SQLite behave like the production database where it matters.

SQLite: foreign keys on, WAL so readers do not block the writer, a busy timeout, and every
transaction begun IMMEDIATE. The last one is what makes "check, then write" inside a
transaction safe: a deferred SQLite transaction that read an old snapshot cannot upgrade to a
writer once someone else has committed, and fails instead of waiting.
"""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def is_postgresql(bind) -> bool:
    return bind.dialect.name == "postgresql"



def include_object_for(dialect_name: str):
    """Alembic's `include_object` hook for a database of `dialect_name`: an index declared for
    one dialect only (`.ddl_if(dialect=...)`, such as PostgreSQL's trigram index on names) is
    compared only on that dialect, as `create_all` would create it. Used by autogenerate
    (migrations/env.py) and by the test proving migrations equal to the models."""

    def include_object(obj, name, type_, reflected, compare_to) -> bool:
        ddl_if = getattr(obj if obj is not None else compare_to, "_ddl_if", None)
        return ddl_if is None or ddl_if.dialect is None or ddl_if.dialect == dialect_name

    return include_object
