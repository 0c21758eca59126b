"""Checklist templates (执法监督检查表) and their immutable published versions."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, CheckConstraint, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supervision.extensions import db
from supervision.modelbase import Snapshot, utcnow

SEVERITIES = ("minor", "major", "critical")
ANSWER_TYPES = ("pass_fail", "number", "text", "photo")
SEVERITY_NAMES = {"minor": "一般", "major": "较重", "critical": "严重"}


class ChecklistTemplate(Snapshot, db.Model):
    __tablename__ = "checklist_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(100))
    specialty: Mapped[str] = mapped_column(String(32))
    categories: Mapped[list] = mapped_column(JSON)  # establishment category codes it applies to

    versions: Mapped[list["ChecklistVersion"]] = relationship(
        back_populates="template", order_by="ChecklistVersion.version"
    )


class ChecklistVersion(Snapshot, db.Model):
    """A published version never changes; a change is a new version. Submissions name the
    exact version they answer, so an old inspection is always read against its own items."""

    __tablename__ = "checklist_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("checklist_templates.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="published")
    content_hash: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    retired_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    template: Mapped[ChecklistTemplate] = relationship(back_populates="versions")
    items: Mapped[list["ChecklistItem"]] = relationship(
        back_populates="version", order_by="ChecklistItem.position", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("template_id", "version"),
        CheckConstraint("status IN ('published', 'retired')", name="status"),
    )

    def item_by_code(self) -> dict[str, "ChecklistItem"]:
        return {item.code: item for item in self.items}


class ChecklistItem(Snapshot, db.Model):
    __tablename__ = "checklist_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)
    section: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))
    answer_type: Mapped[str] = mapped_column(String(16))
    unit: Mapped[Optional[str]] = mapped_column(String(16))
    min_value: Mapped[Optional[float]] = mapped_column(Float)
    max_value: Mapped[Optional[float]] = mapped_column(Float)
    # What a measurement can physically be (a pH of 0–14), wider than the legal limits: a value
    # outside is a typing or device error, refused on arrival instead of becoming a finding.
    plausible_min: Mapped[Optional[float]] = mapped_column(Float)
    plausible_max: Mapped[Optional[float]] = mapped_column(Float)
    required: Mapped[bool] = mapped_column(default=True)
    checks_commitment: Mapped[bool] = mapped_column(default=False)

    version: Mapped[ChecklistVersion] = relationship(back_populates="items")

    __table_args__ = (
        UniqueConstraint("version_id", "code"),
        CheckConstraint("severity IN ('minor', 'major', 'critical')", name="severity"),
        CheckConstraint("answer_type IN ('pass_fail', 'number', 'text', 'photo')", name="answer_type"),
    )

    def implausible(self, value: float) -> str | None:
        """Why a measured `value` cannot be right, or None when it is plausible."""
        low, high = self.plausible_min, self.plausible_max
        if (low is None or value >= low) and (high is None or value <= high):
            return None
        unit = f" {self.unit}" if self.unit else ""
        bounds = f"{'' if low is None else f'{low:g}'}～{'' if high is None else f'{high:g}'}"
        return f"检测值超出合理范围（{bounds}{unit}），请核对后重新填写"

    def within_limits(self, value: float) -> bool:
        return (self.min_value is None or value >= self.min_value) and (self.max_value is None or value <= self.max_value)
