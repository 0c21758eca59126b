"""Grading a province through the job queue: `supervision grade run --queue`."""
import uuid

import pytest
from rq import Queue

from supervision import jobs


@pytest.fixture
def queued_app(fresh_app):
    fresh_app.config.update(REDIS_URL="redis://127.0.0.1:6379/0", JOB_QUEUE=f"test-{uuid.uuid4().hex[:10]}")
    connection = jobs.redis_connection(fresh_app)
    if connection is None:
        pytest.fail("Redis at 127.0.0.1:6379 does not answer: .ci/run starts it (redis-server --daemonize yes)")
    yield fresh_app
    Queue(fresh_app.config["JOB_QUEUE"], connection=connection).empty()


def test_grade_run_with_queue_hands_the_run_to_a_worker(queued_app):
    result = queued_app.test_cli_runner().invoke(args=["grade", "run", "--year", "2025", "--jurisdiction", "320000",
                                                       "--queue"])
    assert result.exit_code == 0, result.output
    queue = Queue(queued_app.config["JOB_QUEUE"], connection=jobs.redis_connection(queued_app))
    [job] = queue.get_jobs()
    assert job.args[0] == "supervision.credit.grading.runs.grading_job" and job.args[1][:2] == (2025, "320000")
    assert job.id in result.output


def test_grade_run_with_queue_but_no_redis_says_so(runner):
    result = runner.invoke(args=["grade", "run", "--year", "2025", "--queue"])
    assert result.exit_code == 1 and "Redis" in result.output
