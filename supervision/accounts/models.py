"""An establishment's portal account and its server-side sessions.

Passwords are stored as argon2 hashes. A session is a random id kept only as its SHA-256 hash;
signing out revokes it, so a copied cookie stops working at once.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supervision.extensions import db
from supervision.modelbase import Snapshot, utcnow
from supervision.registry.models import Establishment


class EstablishmentAccount(Snapshot, db.Model):
    __tablename__ = "establishment_accounts"
    audit_exclude = ("password_hash",)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The sign-in name: the unified social credit code of the establishment it was issued for.
    login: Mapped[str] = mapped_column(String(18), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[Optional[datetime]] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    password_changed_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    establishments: Mapped[list["AccountEstablishment"]] = relationship(back_populates="account",
                                                                        cascade="all, delete-orphan")


class AccountEstablishment(db.Model):
    """Which establishments an account acts for (several of one legal person are possible)."""

    __tablename__ = "account_establishments"

    account_id: Mapped[int] = mapped_column(ForeignKey("establishment_accounts.id"), primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), primary_key=True, index=True)

    account: Mapped[EstablishmentAccount] = relationship(back_populates="establishments")
    establishment: Mapped[Establishment] = relationship()


class AccountSession(db.Model):
    __tablename__ = "account_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("establishment_accounts.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    account: Mapped[EstablishmentAccount] = relationship()
