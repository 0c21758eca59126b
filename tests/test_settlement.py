"""Receive, then settle: a failure between the two steps never leaves an inspection stuck.

The second step is made to fail after the upload of the last file has committed: on any
database by an engine event that breaks the settlement statement once, and on PostgreSQL the
way it happens in production, by holding the inspection's row lock from another session and
terminating the backend that waits for it. Then each later touch of the inspection (its state
read, a re-upload, a resubmission) and the sweeper settle it, exactly once.
"""
import threading

import pytest
from sqlalchemy import event, func, select, text

from supervision.audit import verify_chain
from supervision.audit.models import AuditEntry
from supervision.credit.models import CreditRecord
from supervision.extensions import db
from supervision.inspections.models import Inspection
from tests.conftest import TEST_DATABASE_URL
from tests.terminal import make_field, upload

URL = "/api/v1/inspections"
TOUCHES = ["state_read", "reupload", "resubmission", "sweeper"]


def settled_once(uuid: str) -> bool:
    db.session.expire_all()
    credits = db.session.scalar(select(func.count()).select_from(CreditRecord).where(CreditRecord.source_ref == uuid))
    completions = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "inspection.complete", AuditEntry.entity_id == uuid))
    status = db.session.get(Inspection, uuid).status
    assert (status, credits, completions) in {("complete", 1, 1), ("awaiting_attachments", 0, 0)}
    return status == "complete"


def stuck(client, field, uuid: str) -> bool:
    """Awaiting its files with none missing: what the failed second step leaves."""
    db.session.expire_all()
    inspection = db.session.get(Inspection, uuid)
    return inspection.status == "awaiting_attachments" and not settled_once(uuid)


def touch(how: str, client, runner, field, body: dict) -> None:
    if how == "state_read":
        state = client.get(f"{URL}/{body['uuid']}", headers=field.headers)
        assert state.status_code == 200 and state.get_json()["status"] == "complete"
    elif how == "reupload":
        data = next(iter(field.files_of(body).values()))
        assert upload(client, field, data).status_code == 200  # already held
    elif how == "resubmission":
        again = client.post(URL, json=body, headers=field.headers)
        assert again.status_code == 200 and again.get_json()["status"] == "complete"
    else:
        result = runner.invoke(args=["inspections", "settle", "--stale", "--older-than", "0"])
        assert result.exit_code == 0, result.output
        assert f"settled {body['uuid']}" in result.output


def submit_all_but_last_file(client, field) -> tuple[dict, bytes]:
    body = field.submission()
    assert client.post(URL, json=body, headers=field.headers).status_code == 201
    *first, last = field.files_of(body).values()
    for data in first:
        assert upload(client, field, data).status_code == 201
    return body, last


class BreakSettlementOnce:
    """Fail the next settlement statement, as a dropped connection would."""

    def __init__(self, engine):
        self.engine, self.fired = engine, False

    def __call__(self, conn, cursor, statement, *args):
        if not self.fired and statement.lstrip().startswith("UPDATE inspections SET status"):
            self.fired = True
            raise ConnectionResetError("injected: connection lost before settlement")

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self)


@pytest.mark.parametrize("how", TOUCHES)
def test_a_failed_second_step_is_settled_exactly_once_by_the_next_touch(client, runner, field, app, how,
                                                                         tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path))
    body, last = submit_all_but_last_file(client, field)
    with BreakSettlementOnce(db.engine) as fault:
        response = upload(client, field, last)
    assert fault.fired and response.status_code == 500
    assert stuck(client, field, body["uuid"])

    touch(how, client, runner, field, body)
    assert settled_once(body["uuid"])
    touch("state_read", client, runner, field, body)  # and again: nothing doubles
    runner.invoke(args=["inspections", "settle", "--stale", "--older-than", "0"])
    assert settled_once(body["uuid"])


def test_the_sweeper_leaves_inspections_that_still_miss_files_and_recent_ones(client, runner, field):
    body = field.submission()
    client.post(URL, json=body, headers=field.headers)
    result = runner.invoke(args=["inspections", "settle", "--stale", "--older-than", "0"])
    assert result.exit_code == 0 and "0 inspection(s) settled" in result.output
    assert not settled_once(body["uuid"])


def test_the_sweeper_needs_the_stale_flag(runner, app):
    assert runner.invoke(args=["inspections", "settle"]).exit_code != 0


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="terminates a PostgreSQL backend")
@pytest.mark.parametrize("how", TOUCHES)
def test_a_backend_terminated_while_waiting_to_settle_is_settled_by_the_next_touch(fresh_app, how, tmp_path):
    field = make_field(fresh_app)
    client, runner = fresh_app.test_client(), fresh_app.test_cli_runner()
    body, last = submit_all_but_last_file(client, field)
    db.session.close()

    holder = db.engine.connect()
    holder_tx = holder.begin()
    # pg_stat_activity is a snapshot per transaction: watch it from outside any transaction.
    watcher = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    holder.execute(text("SELECT uuid FROM inspections WHERE uuid = :u FOR UPDATE"), {"u": body["uuid"]})
    answers = []
    uploader = threading.Thread(target=lambda: answers.append(upload(fresh_app.test_client(), field, last)))
    uploader.start()
    try:
        # Wait (bounded) until the upload's settlement blocks on the lock, then kill its backend.
        for _ in range(2000):
            pid = watcher.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
                " AND query LIKE 'UPDATE inspections SET status%'")).scalar()
            if pid is not None:
                break
            threading.Event().wait(0.01)
        assert pid is not None, "the settlement never waited for the lock"
        watcher.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        uploader.join(timeout=60)
    finally:
        holder_tx.rollback()
        holder.close()
        watcher.close()
    assert answers and answers[0].status_code >= 500
    assert stuck(client, field, body["uuid"])

    touch(how, client, runner, field, body)
    assert settled_once(body["uuid"])
    touch("state_read", client, runner, field, body)
    assert settled_once(body["uuid"])
    assert verify_chain(db.session)[1] == []


class BreakSettlement(BreakSettlementOnce):
    """Fail every settlement statement while active."""

    def __call__(self, conn, cursor, statement, *args):
        if statement.lstrip().startswith("UPDATE inspections SET status"):
            self.fired = True
            raise ConnectionResetError("injected: connection lost before settlement")


def test_sweepers_running_at_once_settle_each_stuck_inspection_exactly_once(fresh_app):
    from supervision.inspections.jobs import settle_stale_inspections

    field = make_field(fresh_app)
    client = fresh_app.test_client()
    bodies = [field.submission(notes=f"第{n}份") for n in range(6)]  # all six share the same two files
    for body in bodies:
        assert client.post(URL, json=body, headers=field.headers).status_code == 201
    with BreakSettlement(db.engine):
        answers = [upload(client, field, data).status_code for data in field.files_of(bodies[0]).values()]
    assert answers[-1] == 500  # the file arrived; settling the six failed
    uuids = [body["uuid"] for body in bodies]
    assert all(stuck(client, field, u) for u in uuids)
    db.session.close()

    results, errors = [], []

    def sweep():
        try:
            with fresh_app.app_context():
                results.append(settle_stale_inspections(older_than_minutes=0, batch_size=2))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    settled = sorted(u for batch in results for u in batch)
    assert settled == sorted(uuids)  # each by exactly one sweeper
    assert all(settled_once(u) for u in uuids)
    assert verify_chain(db.session)[1] == []
