"""Credit information (信用信息): facts about a credit subject, each with its provenance."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from supervision.extensions import db
from supervision.modelbase import Snapshot, utcnow

CREDIT_KINDS = ("licensing", "inspection", "penalty", "coercive_measure", "levy", "requisition",
                "positive", "adverse", "dishonesty", "bad_practice_points")


class CreditRecord(Snapshot, db.Model):
    """One fact for grading. Provenance on every fact (seed 003 §四(二)): who produced it, through
    which channel, when it arose and when it was entered, so late entries can be found."""

    __tablename__ = "credit_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("credit_subjects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    source_type: Mapped[str] = mapped_column(String(32))  # e.g. "inspection"
    source_ref: Mapped[str] = mapped_column(String(64))  # e.g. the inspection's uuid
    producing_unit_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    channel: Mapped[str] = mapped_column(String(32))  # e.g. "handheld_terminal", "manual", "exchange"
    arose_on: Mapped[date] = mapped_column(Date)
    entered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    details: Mapped[dict] = mapped_column(JSON)
    superseded_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("source_type", "source_ref"),
        Index("ix_credit_records_subject_kind", "subject_id", "kind"),
    )
