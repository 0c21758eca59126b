"""Tables of the credit lifecycle (issue 16): the working-day calendar, objections and their
evidence, repair applications, list entries and interviews."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from supervision.extensions import db
from supervision.modelbase import Snapshot, utcnow


class CalendarYear(db.Model):
    """A year the working-day calendar covers; days of other years are never guessed."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(200))  # e.g. "chinesecalendar 1.11", "国办发明电〔2026〕X号"
    loaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class CalendarDay(db.Model):
    """A day whose status differs from the weekday rule: a holiday on a weekday (is_workday
    false) or a make-up working day on a weekend (调休, is_workday true)."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(64), default="")


class Objection(Snapshot, db.Model):
    """异议 on one credit record."""

    __tablename__ = "credit_objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("credit_records.id"), index=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    raised_by: Mapped[str] = mapped_column(String(64))  # actor ref
    raised_for: Mapped[str] = mapped_column(String(16))  # "self" (portal) or "on_behalf" (a supervisor)
    raised_on: Mapped[date] = mapped_column(Date)
    raised_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    deadline: Mapped[Optional[date]] = mapped_column(Date)
    deadline_flag: Mapped[Optional[str]] = mapped_column(Text)  # why no deadline could be computed
    status: Mapped[str] = mapped_column(String(16), default="open")
    outcome: Mapped[Optional[str]] = mapped_column(String(16))  # corrected / revoked when upheld
    decision_reason: Mapped[Optional[str]] = mapped_column(Text)
    decided_by: Mapped[Optional[str]] = mapped_column(String(64))
    decided_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    regrade_run_ids: Mapped[list] = mapped_column(JSON, default=list)

    __table_args__ = (
        CheckConstraint("status IN ('open', 'upheld', 'rejected')", name="status"),
        Index("ix_credit_objections_status_deadline", "status", "deadline"),
    )


class ObjectionEvidence(db.Model):
    __tablename__ = "credit_objection_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    objection_id: Mapped[int] = mapped_column(ForeignKey("credit_objections.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)


class RepairApplication(Snapshot, db.Model):
    """信用修复 application for one penalty or dishonesty record."""

    __tablename__ = "credit_repairs"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("credit_records.id"), index=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), index=True)
    evidence: Mapped[dict] = mapped_column(JSON)  # {"fulfilment": "...", "commitment": "...", "training": "..."}
    applied_by: Mapped[str] = mapped_column(String(64))
    applied_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decision_reason: Mapped[Optional[str]] = mapped_column(Text)
    decided_by: Mapped[Optional[str]] = mapped_column(String(64))
    decided_on: Mapped[Optional[date]] = mapped_column(Date)
    notice_no: Mapped[Optional[str]] = mapped_column(String(32), unique=True)

    __table_args__ = (CheckConstraint("status IN ('pending', 'approved', 'refused')", name="status"),)


class ListEntry(Snapshot, db.Model):
    """One establishment's way onto (and off) the red list or the blacklist: notified (告知),
    then entered once the objection window closed, then exited; or withdrawn after an objection."""

    __tablename__ = "credit_list_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_name: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(ForeignKey("credit_subjects.id"), index=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"))
    rule_key: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    # The record that caused the entry (serious dishonesty); its approved repair ends the entry.
    cause_record_id: Mapped[Optional[int]] = mapped_column(ForeignKey("credit_records.id"))
    status: Mapped[str] = mapped_column(String(16), default="notified")
    notified_on: Mapped[date] = mapped_column(Date)
    objection_until: Mapped[Optional[date]] = mapped_column(Date)  # last day to object; NULL: calendar gap
    entered_on: Mapped[Optional[date]] = mapped_column(Date)
    expires_on: Mapped[Optional[date]] = mapped_column(Date)
    exited_on: Mapped[Optional[date]] = mapped_column(Date)
    exit_reason: Mapped[Optional[str]] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("list_name IN ('redlist', 'blacklist')", name="list_name"),
        CheckConstraint("status IN ('notified', 'entered', 'withdrawn', 'exited')", name="status"),
        Index("ix_credit_list_entries_list_status", "list_name", "status"),
    )


class Interview(Snapshot, db.Model):
    """约谈 after a missed rectification deadline: a reminder first, a warning if the new
    deadline passes too. Each is a task (kind "interview") for the establishment's grid."""

    __tablename__ = "credit_interviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    rectification_order_id: Mapped[int] = mapped_column(ForeignKey("rectification_orders.id"))
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    scheduled_on: Mapped[date] = mapped_column(Date)
    rectify_by: Mapped[Optional[date]] = mapped_column(Date)
    outcome: Mapped[Optional[str]] = mapped_column(Text)
    recorded_by: Mapped[Optional[str]] = mapped_column(String(64))
    recorded_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("rectification_order_id", "level"),
        CheckConstraint("level IN ('reminder', 'warning')", name="level"),
    )
