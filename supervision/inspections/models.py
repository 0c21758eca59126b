"""Inspections as the terminals submit them, the files that back them, and what follows from
them: findings, rectification orders, re-inspection tasks and penalty cases."""
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
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supervision.checklists.models import ChecklistVersion
from supervision.extensions import db
from supervision.modelbase import Snapshot, Timestamps, utcnow
from supervision.registry.models import Establishment, Grid, Inspector

TASK_KINDS = ("daily_patrol", "special_inspection", "special_campaign", "reinspection", "random", "complaint",
              "interview")
TASK_KIND_NAMES = {
    "daily_patrol": "日常巡查",
    "special_inspection": "专项督查",
    "special_campaign": "专项整治",
    "reinspection": "处罚后复查",
    "random": "双随机抽查",
    "complaint": "投诉举报核查",
    "interview": "约谈",
}


class Task(Snapshot, Timestamps, db.Model):
    """Work for the inspectors of a grid: go and inspect this establishment by this date."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), index=True)
    grid_id: Mapped[Optional[int]] = mapped_column(ForeignKey("grids.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")
    due_on: Mapped[Optional[date]] = mapped_column(Date)
    note: Mapped[Optional[str]] = mapped_column(Text)
    origin_inspection_uuid: Mapped[Optional[str]] = mapped_column(String(36))
    closed_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    establishment: Mapped[Establishment] = relationship()
    grid: Mapped[Optional[Grid]] = relationship()

    __table_args__ = (
        CheckConstraint("status IN ('open', 'done', 'cancelled')", name="status"),
        CheckConstraint(
            "kind IN ('daily_patrol', 'special_inspection', 'special_campaign', 'reinspection', 'random', 'complaint', "
            "'interview')",
            name="kind",
        ),
        Index("ix_tasks_grid_status", "grid_id", "status"),
    )


class Inspection(Snapshot, db.Model):
    """One version of one inspection. The device-generated UUID is the primary key, so a
    resubmission can never create a second row: the database refuses it. A correction is a new
    row naming the version it replaces; `replaces_uuid` is unique, so two corrections of the same
    version cannot both succeed."""

    __tablename__ = "inspections"

    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    lineage_uuid: Mapped[str] = mapped_column(String(36), index=True)  # the first version's uuid
    version: Mapped[int] = mapped_column(Integer, default=1)
    replaces_uuid: Mapped[Optional[str]] = mapped_column(ForeignKey("inspections.uuid"), unique=True)
    superseded_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    content_hash: Mapped[str] = mapped_column(String(64))

    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), index=True)
    checklist_version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id"))
    task_id: Mapped[Optional[int]] = mapped_column(ForeignKey("tasks.id"), index=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("inspectors.id"))

    # Instants in UTC; the device's UTC offset (minutes) kept as it sent them.
    started_at: Mapped[datetime] = mapped_column(DateTime)
    started_offset_min: Mapped[int] = mapped_column(Integer)
    ended_at: Mapped[datetime] = mapped_column(DateTime)
    ended_offset_min: Mapped[int] = mapped_column(Integer)

    gps_lat: Mapped[float] = mapped_column(Float)
    gps_lng: Mapped[float] = mapped_column(Float)
    gps_accuracy_m: Mapped[float] = mapped_column(Float)
    gps_distance_m: Mapped[Optional[float]] = mapped_column(Float)
    flagged_for_review: Mapped[bool] = mapped_column(Boolean, default=False)
    review_reasons: Mapped[list] = mapped_column(JSON, default=list)

    notes: Mapped[Optional[str]] = mapped_column(Text)
    signature: Mapped[dict] = mapped_column(JSON)

    status: Mapped[str] = mapped_column(String(24), default="awaiting_attachments")
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    completed_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    establishment: Mapped[Establishment] = relationship()
    checklist_version: Mapped[ChecklistVersion] = relationship()
    inspectors: Mapped[list["InspectionInspector"]] = relationship(
        order_by="InspectionInspector.position", cascade="all, delete-orphan"
    )
    answers: Mapped[list["Answer"]] = relationship(order_by="Answer.id", cascade="all, delete-orphan")
    manifest: Mapped[list["ManifestEntry"]] = relationship(order_by="ManifestEntry.id", cascade="all, delete-orphan")
    findings: Mapped[list["Finding"]] = relationship(order_by="Finding.id", cascade="all, delete-orphan")

    audit_exclude = ("content_hash",)

    __table_args__ = (
        UniqueConstraint("lineage_uuid", "version"),
        CheckConstraint("status IN ('awaiting_attachments', 'complete')", name="status"),
        CheckConstraint("ended_at >= started_at", name="time_order"),
        # The sweeper's look for inspections still awaiting their files since before a cutoff.
        Index("ix_inspections_status_received", "status", "received_at"),
    )

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None


class InspectionInspector(db.Model):
    __tablename__ = "inspection_inspectors"

    inspection_uuid: Mapped[str] = mapped_column(ForeignKey("inspections.uuid", ondelete="CASCADE"), primary_key=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspectors.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)

    inspector: Mapped[Inspector] = relationship()


class Answer(db.Model):
    __tablename__ = "inspection_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_uuid: Mapped[str] = mapped_column(ForeignKey("inspections.uuid", ondelete="CASCADE"), index=True)
    item_code: Mapped[str] = mapped_column(String(16))
    result: Mapped[str] = mapped_column(String(8))  # pass, fail, na
    number_value: Mapped[Optional[float]] = mapped_column(Float)
    text_value: Mapped[Optional[str]] = mapped_column(Text)
    note: Mapped[Optional[str]] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("inspection_uuid", "item_code"),
        CheckConstraint("result IN ('pass', 'fail', 'na')", name="result"),
    )


class ManifestEntry(db.Model):
    """A file the inspection says it has: photo for an item, or the counterpart's signature."""

    __tablename__ = "inspection_manifest"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_uuid: Mapped[str] = mapped_column(ForeignKey("inspections.uuid", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(64))
    item_code: Mapped[Optional[str]] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(16), default="photo")

    # While a video is still arriving: the bytes the server holds (set by the state read, not stored).
    uploaded_bytes = None

    __table_args__ = (
        UniqueConstraint("inspection_uuid", "sha256"),
        CheckConstraint("purpose IN ('photo', 'signature', 'video')", name="purpose"),
    )


class Attachment(Snapshot, db.Model):
    """A received file, addressed by its SHA-256; the bytes live in the attachment store."""

    __tablename__ = "attachments"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(64))
    width: Mapped[Optional[int]] = mapped_column(Integer)
    height: Mapped[Optional[int]] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    device_id: Mapped[Optional[int]] = mapped_column(ForeignKey("devices.id"))


class VideoUpload(Snapshot, db.Model):
    """A resumable (tus) upload of a video in progress. The bytes received so far live in a
    partial file of the attachment store; when the last byte arrives and the whole file's
    SHA-256 is the declared one, the file moves into the store and an `attachments` row is
    written. The row stays, complete, until it expires, so a client that lost the last answer
    can still ask for the offset."""

    __tablename__ = "video_uploads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, the upload URL's last segment
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # declared hash of the whole file
    media_type: Mapped[str] = mapped_column(String(64))
    length: Mapped[int] = mapped_column(BigInteger)
    upload_offset: Mapped[int] = mapped_column(BigInteger, default=0)  # bytes received so far
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    completed_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint("upload_offset >= 0 AND upload_offset <= length", name="offset_range"),
    )


class Finding(Snapshot, db.Model):
    """A failed checklist item: what was wrong, how serious, and on what legal basis."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_uuid: Mapped[str] = mapped_column(ForeignKey("inspections.uuid", ondelete="CASCADE"), index=True)
    item_code: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    penalty_case_id: Mapped[Optional[int]] = mapped_column(ForeignKey("penalty_cases.id"), index=True)

    __table_args__ = (UniqueConstraint("inspection_uuid", "item_code"),)


class RectificationOrder(Snapshot, db.Model):
    """责令整改: issued when a major or critical item fails; re-inspected by its deadline."""

    __tablename__ = "rectification_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_uuid: Mapped[str] = mapped_column(ForeignKey("inspections.uuid"), unique=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), index=True)
    issued_on: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    item_codes: Mapped[list] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="open")
    reinspection_task_id: Mapped[Optional[int]] = mapped_column(ForeignKey("tasks.id"))

    __table_args__ = (CheckConstraint("status IN ('open', 'fulfilled', 'superseded')", name="status"),)


class PenaltyCase(Snapshot, db.Model):
    """A penalty case (立案) opened from findings; the case procedure itself comes later."""

    __tablename__ = "penalty_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), index=True)
    inspection_uuid: Mapped[str] = mapped_column(ForeignKey("inspections.uuid"), index=True)
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="opened")
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("inspectors.id"))
    opened_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# An inspection's order, for reading its state in the same query as the inspection.
Inspection.rectification_order = relationship(RectificationOrder, uselist=False, viewonly=True)
