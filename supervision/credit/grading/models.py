"""Grading runs, the grades they give, and the records each grade was computed from.

A run is a draft until a named supervisor approves it and then publishes it; a published run
is immutable (refused by the service, and by database triggers on its grades and
contributions). Re-opening makes a new draft that supersedes the published one when it is
itself published. The policy documents a run used are stored with their text and hash, so the
run can be recomputed exactly (`verify`) even after the files changed.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import JSON, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supervision.extensions import db
from supervision.modelbase import Snapshot, utcnow

RUN_STATUSES = ("draft", "approved", "published", "superseded")


class GradingRun(Snapshot, db.Model):
    __tablename__ = "grading_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    # The scope: a jurisdiction and everything under it; NULL for every jurisdiction.
    jurisdiction_id: Mapped[Optional[int]] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # Records entered after this instant are not counted (the cut-off, or the run's start if earlier).
    data_as_of: Mapped[datetime] = mapped_column(DateTime)
    counts: Mapped[dict] = mapped_column(JSON)  # {"A": n, ..., "E": n}
    digest: Mapped[Optional[str]] = mapped_column(String(64))  # set when published
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    approved_by: Mapped[Optional[str]] = mapped_column(String(64))
    approved_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    published_by: Mapped[Optional[str]] = mapped_column(String(64))
    published_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    supersedes_id: Mapped[Optional[int]] = mapped_column(ForeignKey("grading_runs.id"))
    reopen_reason: Mapped[Optional[str]] = mapped_column(Text)
    superseded_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    policies: Mapped[list["GradingRunPolicy"]] = relationship(order_by="GradingRunPolicy.id")

    __table_args__ = (
        CheckConstraint("status IN ('draft', 'approved', 'published', 'superseded')", name="status"),
        Index("ix_grading_runs_year_status", "year", "status"),
    )


class GradingRunPolicy(db.Model):
    """A policy document exactly as a run used it."""

    __tablename__ = "grading_run_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("grading_runs.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    jurisdiction: Mapped[str] = mapped_column(String(12))
    effective_from: Mapped[date] = mapped_column(Date)
    path: Mapped[str] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))

    @property
    def version(self) -> str:
        return f"{self.kind}/{self.jurisdiction}/{self.effective_from.isoformat()}#{self.sha256[:12]}"


class Grade(db.Model):
    """One subject's grade in one run. `policy_id` is the document whose thresholds, windows
    and hard rules applied; `hard_rule` the key of the rule that capped it, if any.

    No foreign keys here or in `grade_contributions`: a provincial run writes a million grades
    and millions of contributions in two statements, and PostgreSQL checks foreign keys row by
    row (measured at 200,000 establishments: the two inserts took 14 s with the keys, 3 s
    without; docs/benchmarks.md). The
    rows are written only by the engine from rows it has just joined, deleted only with their
    draft run (`runs._delete_run`), frozen by triggers once published, and recomputed by
    `verify`; the references are plain integers.
    """

    __tablename__ = "grades"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(Integer)
    subject_id: Mapped[int] = mapped_column(Integer, index=True)
    establishment_id: Mapped[Optional[int]] = mapped_column(Integer)
    jurisdiction_id: Mapped[Optional[int]] = mapped_column(Integer)
    category_code: Mapped[Optional[str]] = mapped_column(String(32))
    score: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(1))
    hard_rule: Mapped[Optional[str]] = mapped_column(String(64))
    policy_id: Mapped[int] = mapped_column(Integer)

    run: Mapped[GradingRun] = relationship(primaryjoin="foreign(Grade.run_id) == GradingRun.id")

    __table_args__ = (
        UniqueConstraint("run_id", "subject_id"),
        CheckConstraint("grade IN ('A', 'B', 'C', 'D', 'E')", name="grade"),
    )


class GradeContribution(db.Model):
    """One record that counted for a grade: the points it gave, the rule that gave them, the
    policy document the rule came from, and a hash of the record as it was, so an edit to the
    record afterwards is caught by `verify`.

    Five million of these are written per provincial run: the key is (grade, record), which is
    also the index explanations read by; no foreign keys (see `Grade`)."""

    __tablename__ = "grade_contributions"

    grade_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    points: Mapped[int] = mapped_column(Integer)
    rule_key: Mapped[str] = mapped_column(String(100))
    policy_id: Mapped[int] = mapped_column(Integer)
    record_hash: Mapped[str] = mapped_column(String(64))


class GradeInForce(db.Model):
    """Each subject's current grade: its latest published grade (newest year, then newest
    publication, then newest run), one row per subject, a copy of that `grades` row's values.

    Derived, never edited by hand: `current.refresh` rewrites the rows of a run's subjects in the
    very transaction that publishes or supersedes the run. It exists for readers of many
    current grades at once: a draw joins a million establishments to their grades, and ranking
    every publication of every subject for that (a window over all grades) cannot be split
    across the server's workers, while a join to this table can (docs/grading.md, "The current
    grade"). Plain integers, no foreign keys, as in `Grade`."""

    __tablename__ = "grades_in_force"

    subject_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    grade_id: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[int] = mapped_column(Integer)
    year: Mapped[int] = mapped_column(Integer)
    score: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(1))
