"""Jobs that keep inspections moving when nobody touches them: plain functions that the CLI
runs inline and that an RQ worker can run as they are (`queue.enqueue(settle_stale_inspections)`).

A job is an interface in the transaction rule's sense: it commits, once per batch, so a long
sweep holds its locks briefly and a crash loses at most one batch of work, which the next run
redoes.
"""
from __future__ import annotations

from datetime import timedelta

from flask import has_app_context

from supervision.modelbase import utcnow

DEFAULT_STALE_MINUTES = 5
DEFAULT_BATCH_SIZE = 200
MAX_BATCHES = 10_000  # a bound, never reached in practice: each batch settles or stops


def settle_stale_inspections(older_than_minutes: float = DEFAULT_STALE_MINUTES,
                             batch_size: int = DEFAULT_BATCH_SIZE) -> list[str]:
    """Settle every inspection received more than `older_than_minutes` ago that has all its
    files but is still awaiting them (its second step never ran). Safe to run at any time, on
    several workers at once, and beside uploads. Returns the uuids it settled."""
    if not has_app_context():
        from supervision.app import create_app

        with create_app().app_context():
            return settle_stale_inspections(older_than_minutes, batch_size)

    from supervision.extensions import db
    from supervision.inspections import settlement
    from supervision.transaction import unit_of_work

    cutoff = utcnow() - timedelta(minutes=older_than_minutes)
    settled: list[str] = []
    for _ in range(MAX_BATCHES):
        with unit_of_work(db.session):
            batch = settlement.settle_stale(db.session, received_before=cutoff, limit=batch_size)
        settled += batch
        if len(batch) < batch_size:
            break
    return settled


def cleanup_expired_uploads(batch_size: int = DEFAULT_BATCH_SIZE) -> list[str]:
    """Remove every video upload past its expiry: the partial file and the row (a completed
    upload's file stays in the store). For cron (`supervision uploads cleanup`) or an RQ worker
    (`jobs.enqueue(cleanup_expired_uploads)`); commits per batch. Returns the removed ids."""
    if not has_app_context():
        from supervision.app import create_app

        with create_app().app_context():
            return cleanup_expired_uploads(batch_size)

    from flask import current_app

    from supervision.extensions import db
    from supervision.inspections import video_uploads
    from supervision.inspections.attachments import AttachmentStore
    from supervision.transaction import unit_of_work

    store = AttachmentStore(current_app.config["ATTACHMENT_DIR"])
    now = utcnow()
    removed: list[str] = []
    for _ in range(MAX_BATCHES):
        with unit_of_work(db.session):
            batch = video_uploads.cleanup_expired(db.session, store, now=now, limit=batch_size)
        removed += batch
        if len(batch) < batch_size:
            break
    return removed
