"""Tables of self-reported information: the report and its evidence files."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from supervision.extensions import db
from supervision.modelbase import Snapshot, utcnow

REPORT_KINDS = ("honour", "certification", "public_welfare")
REPORT_STATUSES = ("pending", "verified", "rejected")


class SelfReport(Snapshot, db.Model):
    __tablename__ = "self_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(200))  # who awarded, certified or organised it
    occurred_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, default="")
    # The truthfulness pledge (如实申报承诺): who made it for the establishment, and its exact words.
    pledged_by: Mapped[str] = mapped_column(String(64))
    pledge_text: Mapped[str] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(String(64))  # actor ref
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[Optional[str]] = mapped_column(String(64))
    decided_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    decision_reason: Mapped[Optional[str]] = mapped_column(Text)
    credit_record_id: Mapped[Optional[int]] = mapped_column(ForeignKey("credit_records.id"))

    __table_args__ = (
        CheckConstraint("kind IN ('honour', 'certification', 'public_welfare')", name="kind"),
        CheckConstraint("status IN ('pending', 'verified', 'rejected')", name="status"),
        Index("ix_self_reports_status", "status"),
    )


class SelfReportEvidence(db.Model):
    __tablename__ = "self_report_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("self_reports.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
