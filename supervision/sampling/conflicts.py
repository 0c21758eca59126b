"""Declared conflicts of interest (回避): an inspector is never drawn for that establishment."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from supervision import audit
from supervision.errors import Conflict, NotFound, ValidationFailed
from supervision.registry import credit_code
from supervision.registry.models import Establishment, Inspector
from supervision.sampling.models import InspectorConflict


def add_conflict(session: Session, actor: audit.Actor, *, badge_no: str, establishment_credit_code: str,
                 reason: str) -> InspectorConflict:
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise ValidationFailed(fields={"reason": ["须说明回避理由（不超过 500 字）"]})
    inspector = session.execute(select(Inspector).where(Inspector.badge_no == badge_no)).scalar_one_or_none()
    if inspector is None:
        raise NotFound("检查人员不存在", fields={"badge": ["检查人员不存在"]})
    establishment = session.execute(select(Establishment).where(
        Establishment.credit_code == credit_code.normalise(establishment_credit_code))).scalar_one_or_none()
    if establishment is None:
        raise NotFound("单位不存在", fields={"credit_code": ["单位不存在"]})
    if not actor.covers(inspector.jurisdiction_id):
        raise NotFound("检查人员不存在", fields={"badge": ["检查人员不存在"]})
    if session.execute(select(InspectorConflict.id).where(InspectorConflict.inspector_id == inspector.id,
                                                          InspectorConflict.establishment_id == establishment.id)).first():
        raise Conflict("该回避关系已登记")
    row = InspectorConflict(inspector_id=inspector.id, establishment_id=establishment.id, reason=reason)
    session.add(row)
    audit.record(session, actor, "inspector_conflict.add", row)
    return row
