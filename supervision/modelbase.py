"""What every domain model shares."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.orm import Mapped, mapped_column


def utcnow() -> datetime:
    """Naive UTC: the one convention for stored instants, identical on SQLite and PostgreSQL."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Snapshot:
    """The audit trail's picture of a row: its columns, minus anything secret."""

    audit_exclude: tuple[str, ...] = ()

    def audit_snapshot(self) -> dict:
        return {
            c.key: getattr(self, c.key)
            for c in self.__table__.columns  # type: ignore[attr-defined]
            if c.key not in self.audit_exclude
        }


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
