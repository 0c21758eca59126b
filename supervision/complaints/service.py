"""Filing, reading and deciding complaints.

Filing writes the complaint and a task of kind `complaint` for the establishment's grid, so the
inspectors' terminals receive it at their next sync. A supervisor decides it substantiated or
unfounded; a substantiated complaint becomes an adverse credit record
(`complaint_substantiated`). Services never commit.
"""
from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from supervision import audit
from supervision.complaints.models import COMPLAINT_CATEGORIES, Complaint
from supervision.credit import records
from supervision.credit.calendar import china_date
from supervision.errors import Conflict, NotFound, ValidationFailed
from supervision.inspections.models import Task
from supervision.modelbase import utcnow
from supervision.registry.models import Establishment

REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
MAX_DESCRIPTION = 2000
MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTO_PIXELS = 40_000_000
PHOTO_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


@dataclass(frozen=True)
class ComplaintInput:
    category: str
    description: str
    contact_name: str | None = None
    contact_phone: str | None = None
    photo: bytes | None = None


def new_reference() -> str:
    return "TS" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(10))


def normalise_reference(ref: str) -> str:
    return (ref or "").strip().upper()


def check_photo(data: bytes) -> str:
    """The photo's MIME type; raises ValidationFailed unless it is a real image of an allowed
    format and size (decoded fully, so a truncated or forged file is refused)."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_PHOTO_BYTES:
        raise ValidationFailed(fields={"photo": [f"照片不能超过 {MAX_PHOTO_BYTES / (1024 * 1024):g} MB"]})
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in PHOTO_FORMATS:
                raise ValidationFailed(fields={"photo": ["照片应为 JPEG、PNG 或 WebP 格式"]})
            if image.width * image.height > MAX_PHOTO_PIXELS:
                raise ValidationFailed(fields={"photo": ["照片尺寸过大"]})
            image.load()
            return PHOTO_FORMATS[image.format]
    except ValidationFailed:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationFailed(fields={"photo": ["无法识别的图片文件"]}) from None


def _check(data: ComplaintInput) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if data.category not in COMPLAINT_CATEGORIES:
        problems["category"] = ["请选择投诉类别"]
    description = (data.description or "").strip()
    if len(description) < 5:
        problems["description"] = ["请描述问题（至少 5 个字）"]
    elif len(description) > MAX_DESCRIPTION:
        problems["description"] = [f"问题描述不能超过 {MAX_DESCRIPTION} 字"]
    if data.contact_name and len(data.contact_name.strip()) > 64:
        problems["contact_name"] = ["姓名过长"]
    phone = (data.contact_phone or "").strip()
    if phone and (len(phone) > 20 or not all(c.isdigit() or c in "+- " for c in phone)):
        problems["contact_phone"] = ["请填写有效的联系电话"]
    return problems


def file_complaint(session: Session, actor: audit.Actor, establishment: Establishment,
                   data: ComplaintInput) -> Complaint:
    """Record a complaint about `establishment` and give its grid a `complaint` task."""
    problems = _check(data)
    photo_type = None
    if data.photo:
        try:
            photo_type = check_photo(data.photo)
        except ValidationFailed as error:
            problems.update(error.fields)
    if problems:
        raise ValidationFailed("投诉未提交，请检查填写内容", fields=problems)
    if establishment.status == "closed":
        raise ValidationFailed("该单位已注销，无法在线投诉", fields={"establishment": ["单位已注销"]})
    complaint = Complaint(
        reference=new_reference(), establishment_id=establishment.id, category=data.category,
        description=data.description.strip(), contact_name=(data.contact_name or "").strip() or None,
        contact_phone=(data.contact_phone or "").strip() or None, photo=data.photo or None, photo_type=photo_type,
        photo_bytes=len(data.photo) if data.photo else None, status="received", received_at=utcnow())
    session.add(complaint)
    session.flush()
    # The task says what to check; who complained stays with the complaint.
    task = Task(establishment_id=establishment.id, grid_id=establishment.grid_id, kind="complaint", status="open",
                note=f"投诉举报 {complaint.reference}（{COMPLAINT_CATEGORIES[data.category]}）：{complaint.description[:500]}")
    session.add(task)
    session.flush()
    complaint.task_id = task.id
    audit.record(session, actor, "complaint.file", complaint)
    audit.record(session, actor, "task.create", task)
    return complaint


def find(session: Session, reference: str) -> Complaint:
    complaint = session.execute(select(Complaint).where(Complaint.reference == normalise_reference(reference))
                                ).scalar_one_or_none()
    if complaint is None:
        raise NotFound("未找到该投诉编号，请核对后重新输入", fields={"reference": ["投诉编号不存在"]})
    return complaint


def decide(session: Session, actor: audit.Actor, reference: str, *, substantiated: bool, by: str,
           on: date | None = None) -> Complaint:
    """A supervisor's decision. A substantiated complaint becomes an adverse credit record."""
    if not (by or "").strip():
        raise ValidationFailed(fields={"by": ["请填写作出决定的人员姓名"]})
    complaint = session.execute(select(Complaint).where(Complaint.reference == normalise_reference(reference))
                                .with_for_update()).scalar_one_or_none()
    if complaint is None:
        raise NotFound("投诉不存在", fields={"reference": ["投诉编号不存在"]})
    if complaint.status != "received":
        raise Conflict("该投诉已作出核查结论", code="already_decided")
    establishment = session.get(Establishment, complaint.establishment_id)
    if not actor.covers(establishment.jurisdiction_id):
        raise NotFound("投诉不存在", fields={"reference": ["投诉编号不存在"]})
    before = complaint.audit_snapshot()
    now = utcnow()
    complaint.status = "substantiated" if substantiated else "unfounded"
    complaint.decided_at, complaint.decided_by = now, by.strip()
    if substantiated:
        row = records.record(session, actor, records.Fact(
            subject_id=establishment.subject_id, kind="adverse", code="complaint_substantiated", severity="general",
            title=f"投诉举报经核查属实（{complaint.reference}）", arose_on=on or china_date(now),
            # A supervisor's decision entered through the system: "manual" is the vocabulary's
            # source for facts a named person establishes (codes.SOURCE_TYPES has no "complaint").
            source_type="manual", source_ref=f"complaint:{complaint.reference}",
            producing_unit_id=establishment.jurisdiction_id, channel="system", entered_by=by.strip(),
            reason="投诉举报经核查属实",
            details={"complaint_reference": complaint.reference, "category": complaint.category}))
        complaint.credit_record_id = row.id
    audit.record(session, records.named(actor, by.strip()), "complaint.decide", complaint, before=before)
    return complaint
