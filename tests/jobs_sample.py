"""Module-level functions for tests/test_jobs.py: a queued job is stored as a dotted path."""
from flask import current_app

from supervision import audit
from supervision.extensions import db
from supervision.transaction import unit_of_work


def note_in_chain(label: str) -> str:
    """A job that writes (an audit entry) and commits itself, as every job does."""
    with unit_of_work(db.session):
        audit.record(db.session, audit.Actor.system("test-job"), "test.job", entity_type="test", entity_id=label)
    return f"{label}@{current_app.name}"


def fail_until(key: str, failures: int) -> str:
    """Fails `failures` times (counted in Redis), then succeeds."""
    from supervision.jobs import redis_connection

    count = redis_connection().incr(key)
    if count <= failures:
        raise RuntimeError(f"attempt {count} fails")
    return f"attempt {count}"
