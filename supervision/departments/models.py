"""Departments, their API keys (stored only as SHA-256 hashes) and the log of their checks."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supervision.extensions import db
from supervision.modelbase import Snapshot, utcnow


class Department(Snapshot, db.Model):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class DepartmentKey(Snapshot, db.Model):
    __tablename__ = "department_keys"
    audit_exclude = ("key_hash",)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 hex of the key
    prefix: Mapped[str] = mapped_column(String(12))  # the key's first characters, to tell keys apart
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    department: Mapped[Department] = relationship()


class CreditCheck(db.Model):
    """One check by a department: who asked (department, key), about whom, when, and the
    answer. Append-only in the database (triggers in the migration), like the access log."""

    __tablename__ = "credit_checks"
    __table_args__ = (Index("ix_credit_checks_department_at", "department_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    department_id: Mapped[int] = mapped_column(Integer)
    key_id: Mapped[int] = mapped_column(Integer)
    credit_code: Mapped[str] = mapped_column(String(32))
    result: Mapped[str] = mapped_column(String(16))  # "found" or "not_found"
    grade: Mapped[Optional[str]] = mapped_column(String(1))
