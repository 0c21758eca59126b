"""A complaint (投诉举报). The complainant's contact details are kept for the institute only:
no public page and no audit payload carries them."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from supervision.extensions import db
from supervision.modelbase import Snapshot, utcnow

COMPLAINT_CATEGORIES = {
    "hygiene": "卫生状况差",
    "licence": "无证或超范围经营",
    "water": "饮用水/泳池水质问题",
    "medical": "医疗服务或非法行医",
    "disinfection": "消毒不规范",
    "other": "其他",
}
COMPLAINT_STATUSES = {"received": "已受理，待核查", "substantiated": "经核查属实，已依法处理",
                      "unfounded": "经核查不属实"}


class Complaint(Snapshot, db.Model):
    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    contact_name: Mapped[Optional[str]] = mapped_column(String(64))
    contact_phone: Mapped[Optional[str]] = mapped_column(String(32))
    photo: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    photo_type: Mapped[Optional[str]] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="received")
    task_id: Mapped[Optional[int]] = mapped_column(ForeignKey("tasks.id"))
    credit_record_id: Mapped[Optional[int]] = mapped_column(ForeignKey("credit_records.id"))
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    decided_by: Mapped[Optional[str]] = mapped_column(String(64))
    photo_bytes: Mapped[Optional[int]] = mapped_column(Integer)

    # Personal data and the photo stay out of the hash chain.
    audit_exclude = ("contact_name", "contact_phone", "photo")

    __table_args__ = (
        CheckConstraint("status IN ('received', 'substantiated', 'unfounded')", name="status"),
        CheckConstraint("category IN ('hygiene', 'licence', 'water', 'medical', 'disinfection', 'other')",
                        name="category"),
    )
