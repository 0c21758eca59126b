"""Penalty cases (立案) opened from the findings of an inspection.

The access rule is here, not in a view: the actor must cover the inspection's jurisdiction and
be an inspector, whether it is a terminal or (later) a supervisor at a desk.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from supervision import audit
from supervision.errors import Conflict, Forbidden, ValidationFailed
from supervision.inspections.models import PenaltyCase
from supervision.inspections.reading import visible_inspection


def open_penalty_case(session: Session, actor: audit.Actor, uuid: str, finding_ids: list[int], summary: str) -> PenaltyCase:
    inspection = visible_inspection(session, actor, uuid)
    if actor.inspector_id is None:
        raise Forbidden("立案须由执法人员提出", fields={"actor": ["不是执法人员"]})
    if inspection.superseded_at is not None:
        raise Conflict("该检查记录已被更正，请在最新版本上立案", code="stale_version")
    by_id = {f.id: f for f in inspection.findings}
    unknown = [fid for fid in finding_ids if fid not in by_id]
    if unknown or not finding_ids:
        raise ValidationFailed(fields={"finding_ids": [f"问题 {unknown} 不属于该检查记录" if unknown else "请选择至少一个问题"]})
    taken = [fid for fid in finding_ids if by_id[fid].penalty_case_id is not None]
    if taken:
        raise Conflict("所选问题已立案", fields={"finding_ids": [f"问题 {taken} 已立案"]})
    case = PenaltyCase(establishment_id=inspection.establishment_id, inspection_uuid=uuid, summary=summary,
                       opened_by_id=actor.inspector_id)
    session.add(case)
    session.flush()
    for fid in finding_ids:
        by_id[fid].penalty_case_id = case.id
    audit.record(session, actor, "penalty_case.open", case,
                 after=lambda: case.audit_snapshot() | {"finding_ids": finding_ids})
    return case
