"""A draw, what it drew, and the inspector directory's declared conflicts of interest."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import JSON, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from supervision.extensions import db
from supervision.modelbase import Snapshot, utcnow


class Draw(Snapshot, db.Model):
    """One draw of one plan. Created (status "seeded") with its seed in a unit of work of its
    own, before any candidate is read; the draw itself fills in the candidate digest and the
    result (status "drawn")."""

    __tablename__ = "draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_code: Mapped[str] = mapped_column(String(64), index=True)
    plan_text: Mapped[str] = mapped_column(Text)
    plan_sha256: Mapped[str] = mapped_column(String(64))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    chain_hash: Mapped[str] = mapped_column(String(64))  # the audit chain's head hash when seeded
    seed: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="seeded")
    candidate_count: Mapped[Optional[int]] = mapped_column(Integer)
    candidate_sha256: Mapped[Optional[str]] = mapped_column(String(64))
    # The candidate list and inspector directory as read, gzipped canonical JSON lines: what
    # `draw verify` re-runs and `draw export` writes.
    candidates_blob: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    result_sha256: Mapped[Optional[str]] = mapped_column(String(64))
    summary: Mapped[Optional[dict]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    drawn_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    audit_exclude = ("candidates_blob", "plan_text", "summary")

    __table_args__ = (CheckConstraint("status IN ('seeded', 'drawn')", name="status"),)


class DrawTarget(db.Model):
    """One drawn establishment, its stratum, why it was drawn, and its inspectors (or why none).

    A draw writes all of its targets at once (313,063 for the 1,000,000-establishment bench),
    so the table is shaped for that write (docs/draws.md, "Where it runs"): the key is the
    draw and the establishment, written in that order; a target's task is indexed only once it
    has one; and `draw_id` and `establishment_id` carry no foreign key. A row-by-row foreign-key
    check cost more than the whole rest of storing, and neither can fail: rows are written only
    by `sampling.service.perform_draw`, in the draw's own unit of work, from the establishment
    ids it has just read, and neither draws nor establishments are ever deleted (the registry
    closes an establishment; a draw is part of the audit record). `draw verify` checks the rows
    against the digest in the audit chain."""

    __tablename__ = "draw_targets"

    draw_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    establishment_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False, index=True)
    stratum: Mapped[str] = mapped_column(String(8))  # A–E or "ungraded"
    reason: Mapped[str] = mapped_column(String(16))  # "high_risk", "ratio" or "floor"
    position: Mapped[int] = mapped_column(Integer)  # order in the draw
    inspector_ids: Mapped[list] = mapped_column(JSON)  # empty when no valid pair
    no_pair_reason: Mapped[Optional[str]] = mapped_column(Text)
    task_id: Mapped[Optional[int]] = mapped_column(ForeignKey("tasks.id"))

    __table_args__ = (
        Index("ix_draw_targets_task_id", "task_id", postgresql_where=text("task_id IS NOT NULL"),
              sqlite_where=text("task_id IS NOT NULL")),
    )


class InspectorConflict(Snapshot, db.Model):
    """A declared conflict of interest (利益冲突回避) between an inspector and an establishment."""

    __tablename__ = "inspector_conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspectors.id"), index=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    declared_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("inspector_id", "establishment_id"),)


class TaskInspector(db.Model):
    """The inspectors a task is assigned to (a drawn pair); tasks without rows are for the grid."""

    __tablename__ = "task_inspectors"

    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspectors.id"), primary_key=True, index=True)
