"""The job queue: RQ over the local Redis when it answers, inline when it does not."""
import uuid

import pytest
from rq import Queue, SimpleWorker
from sqlalchemy import func, select

from supervision import jobs
from supervision.audit.models import AuditEntry
from supervision.extensions import db
from tests.jobs_sample import fail_until, note_in_chain

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def queued_app(fresh_app):
    """An app whose jobs go to a queue of its own on the real Redis."""
    fresh_app.config.update(REDIS_URL=REDIS_URL, JOB_QUEUE=f"test-{uuid.uuid4().hex[:10]}")
    connection = jobs.redis_connection(fresh_app)
    if connection is None:
        pytest.fail("Redis at 127.0.0.1:6379 does not answer: .ci/run starts it (redis-server --daemonize yes)")
    yield fresh_app
    Queue(fresh_app.config["JOB_QUEUE"], connection=connection).empty()


def _entries(label):
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.entity_id == label))


def _work(app):
    connection = jobs.redis_connection(app)
    SimpleWorker([Queue(app.config["JOB_QUEUE"], connection=connection)], connection=connection).work(burst=True)


def test_without_redis_a_job_runs_inline(app):
    submitted = jobs.enqueue(note_in_chain, "inline")
    assert not submitted.queued and submitted.result == "inline@supervision"
    assert _entries("inline") == 1


def test_an_unreachable_redis_means_inline_too(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    assert jobs.enqueue(note_in_chain, "nobody-answers").queued is False


def test_a_queued_job_waits_for_a_worker_and_commits_there(queued_app):
    submitted = jobs.enqueue(note_in_chain, "queued")
    assert submitted.queued and submitted.job_id
    assert _entries("queued") == 0
    _work(queued_app)
    db.session.rollback()  # see the worker's commit
    assert _entries("queued") == 1


def test_a_failing_job_is_retried_until_it_succeeds(queued_app):
    key = f"test-attempts-{uuid.uuid4().hex}"
    submitted = jobs.enqueue(fail_until, key, 2, retry_intervals=[0, 0])
    for _ in range(3):
        _work(queued_app)
    connection = jobs.redis_connection(queued_app)
    job = Queue(queued_app.config["JOB_QUEUE"], connection=connection).fetch_job(submitted.job_id)
    assert job.is_finished and job.return_value() == "attempt 3"
    connection.delete(key)


def test_the_worker_command_runs_the_queue_in_burst_mode(queued_app):
    jobs.enqueue(note_in_chain, "by-command")
    result = queued_app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    assert _entries("by-command") == 1


def test_a_job_must_be_a_module_level_function(app):
    with pytest.raises(ValueError):
        jobs.function_path(lambda: None)
