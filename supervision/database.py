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
