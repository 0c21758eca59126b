"""While the database is down or drops the connection, every interface answers 503 with
Retry-After (the API with the code `database_unavailable`), never 500 — tried against a real
server that cannot be reached, and a real backend terminated mid-request."""
from __future__ import annotations

import pytest
from sqlalchemy import event, text

from supervision.app import create_app
from supervision.extensions import db
from tests.conftest import TEST_DATABASE_URL, base_config
from tests.terminal import make_field
from tests.test_api_errors import assert_error


@pytest.fixture
def unreachable_app(tmp_path):
    """An app whose database cannot be reached: nothing listens on port 1; the SQLite file
    lies in a directory that does not exist."""
    if TEST_DATABASE_URL:
        url = "postgresql+psycopg://postgres@127.0.0.1:1/postgres?connect_timeout=2"
    else:
        url = f"sqlite:///{tmp_path}/missing/dir/x.db"
    app = create_app(base_config(url, tmp_path))
    yield app
    with app.app_context():
        db.engine.dispose()


def assert_unavailable(response) -> dict:
    error = assert_error(response, 503, "database_unavailable")
    assert int(response.headers["Retry-After"]) > 0
    return error


@pytest.mark.parametrize("method, url, body", [
    ("GET", "/api/v1/sync/bootstrap", None),
    ("GET", "/api/v1/inspections/00000000-0000-4000-8000-000000000000", None),
    ("POST", "/api/v1/devices/enrol", {"code": "ABCDEF-123456"}),
    ("POST", "/api/v1/inspections/batch", {"inspections": [{}]}),
])
def test_api_answers_503_with_retry_after_when_the_database_is_unreachable(unreachable_app, method, url, body):
    response = unreachable_app.test_client().open(url, method=method, json=body,
                                                  headers={"Authorization": "Bearer some-token"})
    assert_unavailable(response)


def test_plate_page_answers_503_with_retry_after(unreachable_app):
    response = unreachable_app.test_client().get("/P/ABCDEFGH")
    assert response.status_code == 503 and response.mimetype == "text/html"
    assert int(response.headers["Retry-After"]) > 0
    assert "稍后" in response.get_data(as_text=True)


def test_healthz_stays_503(unreachable_app):
    response = unreachable_app.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["database"] == "unreachable"


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="terminates a PostgreSQL backend")
def test_backend_terminated_mid_request_is_a_503_and_the_next_request_recovers(fresh_app, databases):
    field = make_field(fresh_app)
    client = fresh_app.test_client()
    terminated = []

    def terminate_own_backend(conn, cursor, statement, *args):
        if "FROM establishments" in statement and not terminated:
            pid = conn.connection.dbapi_connection.info.backend_pid
            with databases.admin.connect() as admin:
                admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            terminated.append(pid)

    event.listen(db.engine, "before_cursor_execute", terminate_own_backend)
    try:
        assert_unavailable(client.get("/api/v1/sync/bootstrap", headers=field.headers))
    finally:
        event.remove(db.engine, "before_cursor_execute", terminate_own_backend)
    assert terminated
    db.session.remove()
    assert client.get("/api/v1/sync/bootstrap", headers=field.headers).status_code == 200
