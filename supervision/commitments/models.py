"""Signatures of the commitment letter. A row is what one legal representative signed, word for
word, and when: it is evidence, so it is never updated or deleted — not by the service, which
has no such operation, and not by anyone with SQL, which the table's triggers refuse."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from supervision.extensions import db
from supervision.modelbase import Snapshot, utcnow


class CommitmentLetter(Snapshot, db.Model):
    __tablename__ = "commitment_letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), index=True)
    letter_version: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)  # exactly what was signed, the name filled in
    text_sha256: Mapped[str] = mapped_column(String(64))  # SHA-256 hex of `text` as UTF-8
    signer_name: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)  # UTC
    account_id: Mapped[int] = mapped_column(ForeignKey("establishment_accounts.id"))

    # One signature per version: two concurrent signings of the same version cannot both land.
    __table_args__ = (UniqueConstraint("establishment_id", "letter_version"),)


# The same statements as the migration, so that a schema built from the metadata (never the
# app's way, but a tool's) is just as unchangeable.
PG_APPEND_ONLY = [
    """CREATE FUNCTION commitment_letters_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'commitment_letters is append-only';
END
$$ LANGUAGE plpgsql""",
    """CREATE TRIGGER commitment_letters_append_only BEFORE UPDATE OR DELETE ON commitment_letters
    FOR EACH ROW EXECUTE FUNCTION commitment_letters_append_only()""",
]
SQLITE_APPEND_ONLY = [
    """CREATE TRIGGER commitment_letters_no_update BEFORE UPDATE ON commitment_letters
       BEGIN SELECT RAISE(ABORT, 'commitment_letters is append-only'); END""",
    """CREATE TRIGGER commitment_letters_no_delete BEFORE DELETE ON commitment_letters
       BEGIN SELECT RAISE(ABORT, 'commitment_letters is append-only'); END""",
]
for _statement in PG_APPEND_ONLY:
    event.listen(CommitmentLetter.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
for _statement in SQLITE_APPEND_ONLY:
    event.listen(CommitmentLetter.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
