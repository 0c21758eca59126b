"""Credit events for other systems: an outbox written in the same transaction as the change.

When a grading run is published, a list changes or a repair is approved, other departments'
systems and credit portals must hear of it (seed 001 §三(一), 003 §四(五)). The service that
makes the change calls `emit` inside its own unit of work; the event row commits with the change
or not at all, so a publication is never announced without happening, nor happens unannounced.
Delivery (webhooks on the job queue, with retries) reads the outbox afterwards and never holds
up the change itself.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from supervision.extensions import db
from supervision.jsonutil import plain
from supervision.modelbase import Snapshot, utcnow

EVENT_TYPES = ("grading.published", "list.entered", "list.exited", "repair.approved", "objection.decided")


class CreditEvent(Snapshot, db.Model):
    __tablename__ = "credit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_type: Mapped[str] = mapped_column(String(32), index=True)
    subject_id: Mapped[Optional[int]] = mapped_column(ForeignKey("credit_subjects.id"))
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


def emit(session: Session, event_type: str, payload: dict, *, subject_id: int | None = None) -> CreditEvent:
    """Note an event in the caller's transaction. `payload` holds published facts only: it leaves
    the institute."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown credit event type {event_type!r}")
    event = CreditEvent(event_type=event_type, subject_id=subject_id, payload=plain(payload))
    session.add(event)
    return event
