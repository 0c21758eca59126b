from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from supervision.extensions import db

GENESIS_HASH = "0" * 64


class AuditEntry(db.Model):
    """One link of the chain. `payload` is the canonical JSON that `hash` covers; the other
    columns repeat parts of it for querying, and verification checks that they agree."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_ref: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    # Unique: two entries can never claim the same predecessor, so the chain cannot fork.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (
        Index("ix_audit_entries_entity", "entity_type", "entity_id"),
        Index("ix_audit_entries_actor_ref", "actor_ref"),
        # Delta sync reads "entries of these types after seq N": the synced types must not be
        # found by walking past every other entry.
        Index("ix_audit_entries_type_seq", "entity_type", "seq"),
    )


class AuditHead(db.Model):
    """The single row naming the newest link. Locking it is how writers take their turn, and it
    lets verification notice entries deleted from the end of the chain."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)


class AccessLogEntry(db.Model):
    """One read by a terminal: who (device and inspector) looked at what, when, and with what
    answer. Reads are kept out of the hash chain, which holds state changes only: writing one
    here is a single INSERT with no lock, where a chain entry would take the chain's head lock.
    Append-only in the database itself, as the chain is (triggers in the migration)."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    device_id: Mapped[int] = mapped_column(Integer)
    inspector_id: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(512))
    query: Mapped[str] = mapped_column(Text)  # canonical JSON of the query parameters
    status: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_access_log_device_at", "device_id", "at"),)
