"""An establishment's portal account and its server-side sessions.

Passwords are stored as argon2 hashes. A session is a random id kept only as its SHA-256 hash;
signing out revokes it, so a copied cookie stops working at once.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String
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
    """Which establishments an account acts for (several of one legal person are possible).
    An establishment is held by one account at most: whoever signs in for it is never in doubt."""

    __tablename__ = "account_establishments"

    account_id: Mapped[int] = mapped_column(ForeignKey("establishment_accounts.id"), primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), primary_key=True, index=True,
                                                  unique=True)

    account: Mapped[EstablishmentAccount] = relationship(back_populates="establishments")
    establishment: Mapped[Establishment] = relationship()


SESSION_KINDS = ("cookie", "api")


class AccountSession(db.Model):
    """A signed-in session: a portal cookie ("cookie") or a bearer token of the JSON API ("api").
    Both end on sign-out, on a password change (the others) and on a supervisor's reset."""

    __tablename__ = "account_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("establishment_accounts.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8), default="cookie", server_default="cookie")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[Optional[datetime]] = mapped_column(DateTime)  # API tokens only
    revoked_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    __table_args__ = (CheckConstraint("kind IN ('cookie', 'api')", name="kind"),)

    account: Mapped[EstablishmentAccount] = relationship()
