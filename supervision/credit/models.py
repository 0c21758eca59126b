"""Credit information (信用信息): facts about a credit subject, each with its provenance."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from supervision.extensions import db
from supervision.modelbase import Snapshot, utcnow

# The six kinds of enforcement information (seed 003 §四(二)), then the other kinds of credit
# information the seeds name.
CREDIT_KINDS = ("licensing", "inspection", "penalty", "coercive_measure", "levy", "requisition",
                "positive", "adverse", "dishonesty", "bad_practice_points")
# How grave a fact is. "none" for neutral facts (a licence granted, a clean inspection).
SEVERITIES = ("none", "minor", "general", "serious")
# A record's status. Changes are kept as history rows and audited; the original fact is never
# overwritten.
RECORD_STATUSES = ("effective", "under_objection", "corrected", "revoked", "repaired")


class CreditRecord(Snapshot, db.Model):
    """One fact for grading. Provenance on every fact (seed 003 §四(二)): who produced it, through
    which channel, when it arose and when it was entered, so late entries can be found.

    `source_type`/`source_ref` name the thing the fact came from (an inspection uuid, a penalty
    decision, an import batch row, a manual entry), unique so the same fact is never recorded
    twice. `code` is the sub-kind: the penalty type, the dishonesty catalogue entry, the kind of
    positive information. `title` is the one line a reader sees, in Chinese."""

    __tablename__ = "credit_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("credit_subjects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    code: Mapped[Optional[str]] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16), default="none")
    status: Mapped[str] = mapped_column(String(16), default="effective")
    title: Mapped[str] = mapped_column(String(300), default="")
    legal_basis: Mapped[Optional[str]] = mapped_column(Text)
    # Bad-practice points (不良执业行为记分) carried by a record of that kind.
    practice_points: Mapped[Optional[int]] = mapped_column(Integer)
    source_type: Mapped[str] = mapped_column(String(32))  # e.g. "inspection", "penalty", "manual", "import"
    source_ref: Mapped[str] = mapped_column(String(64))  # e.g. the inspection's uuid
    producing_unit_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    # An outside department that produced the fact (e.g. 市场监督管理局), when not an institute.
    producing_department: Mapped[Optional[str]] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(32))  # e.g. "handheld_terminal", "manual", "exchange", "system"
    arose_on: Mapped[date] = mapped_column(Date)
    entered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    entered_by: Mapped[Optional[str]] = mapped_column(String(64))  # the actor's ref
    reason: Mapped[Optional[str]] = mapped_column(Text)  # why a person entered it by hand
    details: Mapped[dict] = mapped_column(JSON)
    superseded_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("source_type", "source_ref"),
        Index("ix_credit_records_subject_kind", "subject_id", "kind"),
        Index("ix_credit_records_arose_on", "arose_on"),
        CheckConstraint(
            "kind IN ('licensing', 'inspection', 'penalty', 'coercive_measure', 'levy', 'requisition', "
            "'positive', 'adverse', 'dishonesty', 'bad_practice_points')", name="kind"),
        CheckConstraint("severity IN ('none', 'minor', 'general', 'serious')", name="severity"),
        CheckConstraint("status IN ('effective', 'under_objection', 'corrected', 'revoked', 'repaired')",
                        name="status"),
    )


class CreditRecordStatusChange(Snapshot, db.Model):
    """One change of a record's status (an objection opened, a correction, a revocation, a
    repair). The record's own columns keep the fact as it was entered; its `status` is only the
    latest of these rows, which are never updated or deleted."""

    __tablename__ = "credit_record_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("credit_records.id"), index=True)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor_ref: Mapped[str] = mapped_column(String(64))
    changed_by: Mapped[Optional[str]] = mapped_column(String(64))  # the named supervisor, when one acted
    reason: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("to_status IN ('effective', 'under_objection', 'corrected', 'revoked', 'repaired')",
                        name="to_status"),
    )


# Types of administrative penalty (行政处罚种类), the `code` of their credit records.
PENALTY_TYPES = ("warning", "fine", "confiscation", "suspension", "licence_revocation", "other")
PROCEDURES = ("simple", "general")


class Penalty(Snapshot, db.Model):
    """An administrative penalty decision (行政处罚决定). The decision number is unique per
    issuing unit. Amounts are kept in fen (分) as integers, so no float or decimal rounding
    differs between databases. The credit record it created is linked; its status (objection,
    repair) lives there."""

    __tablename__ = "penalties"

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_no: Mapped[str] = mapped_column(String(64))
    issuing_unit_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    decided_on: Mapped[date] = mapped_column(Date)
    penalty_type: Mapped[str] = mapped_column(String(32))
    amount_fen: Mapped[Optional[int]] = mapped_column(BigInteger)
    procedure: Mapped[str] = mapped_column(String(16))
    serious: Mapped[bool] = mapped_column(Boolean, default=False)
    legal_basis: Mapped[str] = mapped_column(Text)
    case_summary: Mapped[str] = mapped_column(Text)
    fulfilled_on: Mapped[Optional[date]] = mapped_column(Date)
    penalty_case_id: Mapped[Optional[int]] = mapped_column(ForeignKey("penalty_cases.id"), unique=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), index=True)
    credit_record_id: Mapped[Optional[int]] = mapped_column(ForeignKey("credit_records.id"), unique=True)
    decided_by: Mapped[Optional[str]] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("issuing_unit_id", "decision_no"),
        CheckConstraint("penalty_type IN ('warning', 'fine', 'confiscation', 'suspension', 'licence_revocation', "
                        "'other')", name="penalty_type"),
        CheckConstraint("procedure IN ('simple', 'general')", name="procedure"),
        CheckConstraint("amount_fen IS NULL OR amount_fen > 0", name="amount"),
        CheckConstraint("fulfilled_on IS NULL OR fulfilled_on >= decided_on", name="fulfilled_on"),
    )
