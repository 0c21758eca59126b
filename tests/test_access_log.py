"""Device reads go to the access log, attributed to device and inspector; the hash chain keeps
state changes only."""
import json

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from supervision.audit.models import AccessLogEntry, AuditEntry
from supervision.extensions import db


def chain_length() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


def test_a_read_is_attributed_in_the_access_log_and_the_chain_gets_no_entry(client, field):
    before = chain_length()
    response = client.get("/api/v1/establishments?name=宾馆", headers=field.headers)
    assert response.status_code == 200
    entry = db.session.execute(select(AccessLogEntry)).scalar_one()
    assert (entry.device_id, entry.inspector_id) == (field.device.id, field.inspector.id)
    assert entry.method == "GET" and entry.path == "/api/v1/establishments" and entry.status == 200
    assert json.loads(entry.query) == {"name": ["宾馆"]}
    assert chain_length() == before


def test_refused_reads_are_not_logged_as_reads(client, field):
    client.get("/api/v1/establishments", headers=field.headers)  # 422: no parameter
    assert db.session.execute(select(AccessLogEntry)).first() is None


def test_reading_an_inspection_state_is_logged_not_chained(client, field):
    body = field.submission()
    client.post("/api/v1/inspections", json=body, headers=field.headers)
    before = chain_length()
    client.get(f"/api/v1/inspections/{body['uuid']}", headers=field.headers)
    assert [e.path for e in db.session.execute(select(AccessLogEntry)).scalars()] == [f"/api/v1/inspections/{body['uuid']}"]
    assert chain_length() == before


@pytest.mark.parametrize("statement", ["UPDATE access_log SET status = 500", "DELETE FROM access_log"])
def test_the_access_log_is_append_only(client, field, statement):
    client.get("/api/v1/establishments?name=宾馆", headers=field.headers)
    with pytest.raises(DatabaseError, match="append-only"):
        with db.session.begin_nested():
            db.session.execute(text(statement))
