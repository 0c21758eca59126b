"""First-run experience of the command line: one clear line when the database is missing,
and no Flask-Migrate `db` commands beside `supervision init`."""
from __future__ import annotations

from sqlalchemy.engine import make_url

from supervision.app import create_app
from supervision.extensions import db
from tests.conftest import TEST_DATABASE_URL, base_config


def missing_database_url(tmp_path) -> str:
    if TEST_DATABASE_URL:
        return make_url(TEST_DATABASE_URL).set(database="hs_no_such_database").render_as_string(hide_password=False)
    return f"sqlite:///{tmp_path}/no/such/dir/x.db"


def test_init_with_a_missing_database_prints_one_clear_line(tmp_path):
    app = create_app(base_config(missing_database_url(tmp_path), tmp_path))
    result = app.test_cli_runner().invoke(args=["init"])
    with app.app_context():
        db.engine.dispose()
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("无法连接数据库") and "Traceback" not in result.output
    if TEST_DATABASE_URL:
        assert "hs_no_such_database" in lines[0] and "createdb" in lines[0]


def test_init_upgrades_a_database_that_exists(fresh_app):
    result = fresh_app.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert "database at head" in result.output


def test_flask_migrate_db_commands_are_not_offered(runner):
    result = runner.invoke(args=["db", "migrate"])
    assert result.exit_code != 0
    assert "No such command" in result.output
