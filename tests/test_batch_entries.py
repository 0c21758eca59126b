"""A batch answers every entry on its own, whatever is wrong with another: wrong types,
entries that are not objects, and an entry that fails with an unexpected error (answered as a
500-shaped error of its own, rolled back alone)."""
import pytest
from sqlalchemy import event, func, select

from supervision.audit.models import AuditEntry
from supervision.extensions import db
from supervision.inspections.models import Inspection

URL = "/api/v1/inspections/batch"


def post_batch(client, field, entries):
    response = client.post(URL, headers=field.headers, json={"inspections": entries})
    assert response.status_code == 200
    return response.get_json()["results"]


@pytest.mark.parametrize("entry", [42, "text", None, [1, 2], True, {"answers": "x", "gps": [], "inspectors": 7}])
def test_an_entry_of_the_wrong_type_is_refused_alone(client, field, entry):
    first, last = field.submission(), field.submission()
    results = post_batch(client, field, [first, entry, last])
    assert [(r["index"], r["status"], r["outcome"]) for r in results] == [
        (0, 201, "created"), (1, 422, "refused"), (2, 201, "created")]
    assert results[1]["error"]["code"] == "validation_failed" and results[1]["error"]["fields"]
    assert db.session.get(Inspection, first["uuid"]) and db.session.get(Inspection, last["uuid"])


class FailInsertOf:
    """An unexpected error while storing one particular inspection."""

    def __init__(self, uuid):
        self.uuid = uuid

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO inspections ") and self.uuid in str(parameters):
            raise RuntimeError("injected: unexpected failure")


def test_an_entry_that_fails_unexpectedly_gets_its_own_500_and_the_others_are_stored(client, field):
    entries = [field.submission(), field.submission(), field.submission()]
    chain_before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    fault = FailInsertOf(entries[1]["uuid"])
    event.listen(db.engine, "before_cursor_execute", fault)
    try:
        results = post_batch(client, field, entries)
    finally:
        event.remove(db.engine, "before_cursor_execute", fault)
    assert [(r["status"], r["outcome"]) for r in results] == [(201, "created"), (500, "failed"), (201, "created")]
    assert results[1]["error"] == {"code": "internal_error", "message": "服务器内部错误，请稍后再试", "fields": {}}
    assert results[1]["uuid"] == entries[1]["uuid"]
    assert db.session.get(Inspection, entries[1]["uuid"]) is None
    assert [db.session.get(Inspection, e["uuid"]) is not None for e in (entries[0], entries[2])] == [True, True]
    submits = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "inspection.submit"))
    assert submits == 2 and db.session.scalar(select(func.count()).select_from(AuditEntry)) == chain_before + 2


def test_an_entry_with_an_integer_outside_the_database_range_is_answered_alone(client, field):
    entries = [field.submission(), field.submission(establishment_id=2**70), field.submission()]
    results = post_batch(client, field, entries)
    assert [r["outcome"] for r in results][::2] == ["created", "created"]
    assert results[1]["status"] >= 400 and results[1]["error"]["code"]
    assert db.session.get(Inspection, entries[1]["uuid"]) is None
