"""Test harness.

The schema is built by the migrations, once per run, into a template database. Each test then
gets either
- `app`/`client`/`runner` on a shared database, inside a transaction rolled back at the end
  (fast; the default), or
- `fresh_app`, a brand-new database copied from the template, where a test needs real commits
  seen by other connections (races, gunicorn, the audit chain across transactions).

Set TEST_DATABASE_URL to a PostgreSQL server URL to run everything on PostgreSQL; the suite
creates and drops its own databases there. Unset, it runs on SQLite files.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from flask_sqlalchemy.session import Session as FsaSession
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from supervision.app import create_app
from supervision.extensions import db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()


def pytest_report_header(config):
    if TEST_DATABASE_URL:
        return f"database: PostgreSQL ({make_url(TEST_DATABASE_URL).render_as_string(hide_password=True)})"
    return "database: SQLite (set TEST_DATABASE_URL to run on PostgreSQL)"


class Databases:
    """Makes databases for tests: a migrated template, then copies of it."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.created: list[str] = []
        self.admin = None
        if TEST_DATABASE_URL:
            self.admin = create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
        self.template_url = self._create_template()

    def _pg_url(self, name: str) -> str:
        return make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)

    def _create_template(self) -> str:
        if self.admin is not None:
            name = f"hs_tmpl_{uuid.uuid4().hex[:10]}"
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            self.created.append(name)
            url = self._pg_url(name)
        else:
            url = f"sqlite:///{self.workdir / 'template.db'}"
        migrate_app = create_app(base_config(url, self.workdir))
        with migrate_app.app_context():
            from flask_migrate import upgrade

            upgrade(directory=migrate_app.extensions["migrate"].directory)
            db.engine.dispose()
        return url

    def new(self) -> str:
        if self.admin is not None:
            name = f"hs_test_{uuid.uuid4().hex[:10]}"
            template = make_url(self.template_url).database
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
            self.created.append(name)
            return self._pg_url(name)
        path = self.workdir / f"test_{uuid.uuid4().hex[:10]}.db"
        shutil.copyfile(self.workdir / "template.db", path)
        return f"sqlite:///{path}"

    def drop_all(self) -> None:
        if self.admin is None:
            return
        with self.admin.connect() as conn:
            for name in reversed(self.created):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


def base_config(url: str, workdir: Path) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-only-secret",
        "ATTACHMENT_DIR": str(workdir / f"attachments_{uuid.uuid4().hex[:8]}"),
        "PUBLIC_BASE_URL": "https://hs.example.cn",
        # Jobs run inline unless a test asks for the queue (tests/test_jobs.py).
        "REDIS_URL": "",
    }


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    dbs = Databases(tmp_path_factory.mktemp("db"))
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session")
def _shared_app(databases, tmp_path_factory):
    # Its session is bound to one connection per test (below): the plate fast path reads through it.
    app = create_app({**base_config(databases.new(), tmp_path_factory.mktemp("shared")),
                      "PLATE_FAST_PATH_READER": "session"})
    yield app
    with app.app_context():
        db.engine.dispose()


class _ConnectionBoundSession(FsaSession):
    """Flask-SQLAlchemy's session always picks the app's engine; tests pin it to one connection
    whose outer transaction is rolled back at the end of the test."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        return self.bind


@pytest.fixture
def app(_shared_app):
    with _shared_app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {"bind": connection, "join_transaction_mode": "create_savepoint", "class_": _ConnectionBoundSession}
        )
        try:
            yield _shared_app
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def fresh_app(databases, tmp_path):
    """An app on its own new database; commits are real."""
    app = create_app(base_config(databases.new(), tmp_path))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def field(app):
    """A grid, an establishment in it, two inspectors, a checklist and an enrolled device."""
    from tests.terminal import make_field

    return make_field(app)


@pytest.fixture
def count_queries(app):
    """Count the SQL statements a block runs: `with count_queries() as n: ...; n()`."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def counter():
        statements = []

        def before(conn, cursor, statement, *args):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
                statements.append(statement)

        engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield lambda: len(statements)
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counter
