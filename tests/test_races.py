"""Concurrency, with real commits on separate connections: the database, not a Python check,
keeps one copy of everything."""
import threading

from sqlalchemy import func, select

from supervision.audit import verify_chain
from supervision.audit.models import AuditEntry
from supervision.credit.models import CreditRecord
from supervision.extensions import db
from supervision.inspections.models import Attachment, Inspection
from tests.terminal import make_field, sha


def run_together(n, action):
    """Start `n` calls of action(i) at the same instant; return their results."""
    db.session.close()  # the test's own transaction must not hold SQLite's write lock meanwhile
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def worker(i):
        try:
            barrier.wait()
            results[i] = action(i)
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    return results


def test_identical_submissions_racing_store_exactly_one(fresh_app):
    field = make_field(fresh_app)
    body = field.submission()

    def post(_):
        response = fresh_app.test_client().post("/api/v1/inspections", json=body, headers=field.headers)
        return response.status_code

    statuses = run_together(4, post)
    assert sorted(statuses) == [200, 200, 200, 201]
    assert db.session.scalar(select(func.count()).select_from(Inspection)) == 1
    submits = db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "inspection.submit"))
    assert submits == 1
    assert verify_chain(db.session)[1] == []


def test_two_corrections_of_one_version_racing_only_one_wins(fresh_app):
    field = make_field(fresh_app)
    original = field.submission()
    fresh_app.test_client().post("/api/v1/inspections", json=original, headers=field.headers)
    corrections = [field.submission(replaces=original["uuid"], notes=f"更正{i}") for i in range(3)]

    def post(i):
        return fresh_app.test_client().post("/api/v1/inspections", json=corrections[i], headers=field.headers).status_code

    statuses = run_together(3, post)
    assert sorted(statuses) == [201, 409, 409]
    current = db.session.execute(select(Inspection).where(Inspection.superseded_at.is_(None))).scalars().all()
    assert len(current) == 1 and current[0].version == 2


def test_uploads_and_submission_racing_complete_the_inspection_once(fresh_app):
    field = make_field(fresh_app)
    body = field.submission()
    files = list(field.files_of(body).items())

    def act(i):
        client = fresh_app.test_client()
        if i < len(files):
            digest, data = files[i]
            return client.put(f"/api/v1/attachments/{digest}", data=data,
                              headers={**field.headers, "Content-Type": "image/png"}).status_code
        return client.post("/api/v1/inspections", json=body, headers=field.headers).status_code

    run_together(len(files) + 1, act)
    inspection = db.session.get(Inspection, body["uuid"])
    assert inspection.status == "complete"
    assert db.session.scalar(select(func.count()).select_from(CreditRecord)) == 1
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 2
    assert {sha(d) for _, d in files} == set(db.session.execute(select(Attachment.sha256)).scalars())


def test_same_file_uploaded_on_many_connections_is_stored_once(fresh_app):
    field = make_field(fresh_app)
    data = field.photo(9)

    def put(_):
        return fresh_app.test_client().put(f"/api/v1/attachments/{sha(data)}", data=data,
                                           headers={**field.headers, "Content-Type": "image/png"}).status_code

    statuses = run_together(4, put)
    assert statuses.count(201) == 1 and statuses.count(200) == 3
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 1
