"""The target library (随机抽查对象库) and the inspector directory (执法检查人员名录库)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supervision.extensions import db
from supervision.modelbase import Snapshot, Timestamps, utcnow

ESTABLISHMENT_STATUSES = ("active", "suspended", "closed")
STATUS_NAMES = {"active": "正常", "suspended": "停业", "closed": "注销"}
JURISDICTION_LEVELS = ("province", "city", "district")


class Jurisdiction(Snapshot, db.Model):
    """A province, city or county/district institute's area. Every grid, establishment and
    inspector sits in one; policies are keyed by jurisdiction."""

    __tablename__ = "jurisdictions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)  # administrative division code
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("jurisdictions.id"))

    parent: Mapped[Optional["Jurisdiction"]] = relationship(remote_side="Jurisdiction.id")

    __table_args__ = (CheckConstraint("level IN ('province', 'city', 'district')", name="level"),)


class Grid(Snapshot, db.Model):
    """A supervision grid (网格): fixed area, fixed staff, fixed duty."""

    __tablename__ = "grids"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)

    jurisdiction: Mapped[Jurisdiction] = relationship()


class EstablishmentCategory(db.Model):
    __tablename__ = "establishment_categories"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    group_name: Mapped[str] = mapped_column(String(32))


class CreditSubject(Snapshot, db.Model):
    """Whoever credit information is about: an establishment today, a practitioner later."""

    __tablename__ = "credit_subjects"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "establishment" or "practitioner"
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (CheckConstraint("kind IN ('establishment', 'practitioner')", name="kind"),)


class Establishment(Snapshot, Timestamps, db.Model):
    """An administrative counterpart (管理相对人)."""

    __tablename__ = "establishments"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("credit_subjects.id"), unique=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category_code: Mapped[str] = mapped_column(ForeignKey("establishment_categories.code"), index=True)
    address: Mapped[str] = mapped_column(String(300))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    grid_id: Mapped[Optional[int]] = mapped_column(ForeignKey("grids.id"), index=True)
    latitude: Mapped[Optional[float]] = mapped_column(Float)
    longitude: Mapped[Optional[float]] = mapped_column(Float)
    legal_representative: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="active")

    subject: Mapped[CreditSubject] = relationship()
    category: Mapped[EstablishmentCategory] = relationship()
    jurisdiction: Mapped[Jurisdiction] = relationship()
    grid: Mapped[Optional[Grid]] = relationship()
    licences: Mapped[list["Licence"]] = relationship(
        back_populates="establishment", cascade="all, delete-orphan", order_by="Licence.id"
    )
    plate_tokens: Mapped[list["PlateToken"]] = relationship(back_populates="establishment")

    __table_args__ = (
        CheckConstraint("status IN ('active', 'suspended', 'closed')", name="status"),
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude"),
        CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude"),
        # The public search finds a name by any part of it (LIKE '%…%'); on PostgreSQL a trigram
        # index answers that without reading every establishment. SQLite has no such index.
        Index("ix_establishments_name_trgm", "name", postgresql_using="gin",
              postgresql_ops={"name": "gin_trgm_ops"}).ddl_if(dialect="postgresql"),
    )

    @property
    def active_plate(self) -> Optional["PlateToken"]:
        return next((p for p in self.plate_tokens if p.revoked_at is None), None)

    def audit_snapshot(self) -> dict:
        data = super().audit_snapshot()
        data["licences"] = [lic.audit_snapshot() for lic in self.licences]
        return data


class Licence(Snapshot, db.Model):
    __tablename__ = "licences"

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[Optional[date]] = mapped_column(Date)

    establishment: Mapped[Establishment] = relationship(back_populates="licences")

    audit_exclude = ("id", "establishment_id")

    __table_args__ = (
        UniqueConstraint("establishment_id", "number"),
        CheckConstraint("expires_on IS NULL OR expires_on >= issued_on", name="validity"),
    )


class PlateToken(Snapshot, db.Model):
    """The token printed in an establishment's QR identity plate. A reprinted plate gets a new
    token and the old one is revoked, so a torn-down plate stops resolving."""

    __tablename__ = "plate_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(16), unique=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    establishment: Mapped[Establishment] = relationship(back_populates="plate_tokens")


inspector_grids = Table(
    "inspector_grids",
    db.metadata,
    Column("inspector_id", ForeignKey("inspectors.id", ondelete="CASCADE"), primary_key=True),
    Column("grid_id", ForeignKey("grids.id", ondelete="CASCADE"), primary_key=True),
)


class Inspector(Snapshot, Timestamps, db.Model):
    """An enforcement officer (执法人员). Phone numbers are kept for the institute only; no
    public surface reads them."""

    __tablename__ = "inspectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    badge_no: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    certificate_no: Mapped[str] = mapped_column(String(64), unique=True)
    certificate_valid_from: Mapped[date] = mapped_column(Date)
    certificate_valid_until: Mapped[date] = mapped_column(Date)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    phone: Mapped[Optional[str]] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)

    jurisdiction: Mapped[Jurisdiction] = relationship()
    grids: Mapped[list[Grid]] = relationship(secondary=inspector_grids, order_by="Grid.id")

    audit_exclude = ("phone",)

    __table_args__ = (
        CheckConstraint("certificate_valid_until >= certificate_valid_from", name="certificate_validity"),
    )

    def certificate_valid_on(self, day: date) -> bool:
        return self.certificate_valid_from <= day <= self.certificate_valid_until

    def audit_snapshot(self) -> dict:
        data = super().audit_snapshot()
        data["grid_ids"] = [g.id for g in self.grids]
        return data


Index("ix_establishments_name", Establishment.name)
