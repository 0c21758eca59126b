"""Handheld terminals (手持移动执法终端) and the credentials they hold.

Secrets (enrolment codes, tokens) are stored only as SHA-256 hashes: they are long random
values, so a fast hash is enough, and a leaked table gives nobody a working credential.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supervision.extensions import db
from supervision.modelbase import Snapshot, utcnow
from supervision.registry.models import Inspector


class Device(Snapshot, db.Model):
    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspectors.id"), index=True)
    label: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    enrolled_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    inspector: Mapped[Inspector] = relationship()


class EnrolmentCode(Snapshot, db.Model):
    """A one-time code a supervisor hands to the inspector to enrol one device."""

    __tablename__ = "enrolment_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    device: Mapped[Device] = relationship()

    audit_exclude = ("code_hash",)


class DeviceToken(Snapshot, db.Model):
    __tablename__ = "device_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    device: Mapped[Device] = relationship()

    audit_exclude = ("token_hash",)
