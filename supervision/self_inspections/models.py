"""A self-inspection as submitted: the answers to one checklist version and, for each item it
found non-compliant, the correction (整改措施) and when it was completed, if it was."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from supervision.extensions import db
from supervision.modelbase import Snapshot, utcnow


class SelfInspection(Snapshot, db.Model):
    __tablename__ = "self_inspections"

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), index=True)
    checklist_version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id"))
    # [{"item_code", "result", "number", "text", "note"}] in checklist order; `result` is what
    # the answer means (pass, fail, na), derived as for an inspection.
    answers: Mapped[list] = mapped_column(JSON)
    # {item_code: {"measure": "…", "completed_on": "YYYY-MM-DD" or null (in progress)}}
    corrections: Mapped[dict] = mapped_column(JSON)
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)  # UTC
    account_id: Mapped[int] = mapped_column(ForeignKey("establishment_accounts.id"))
