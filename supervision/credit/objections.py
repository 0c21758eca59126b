"""Objections (异议, seed 003 §四(七)) to credit records.

Raised by the establishment (through the portal, later) or by a supervisor on its behalf, with a
reason and evidence files (PDF, JPEG, PNG; checked by their signatures, stored by SHA-256 in the
attachment store). While open, the record is `under_objection`: it keeps counting and stays
public, marked as under review (`publicity_of`). A supervisor decides within a deadline counted
in working days (policy kind `objections`, China's official calendar as data); a deadline that
runs into a year the calendar does not cover is not guessed: the objection is flagged.

Upheld: the record is corrected or revoked, and the published grades of the establishment are
re-computed in a partial run that supersedes them (`grading.runs.regrade_subjects`). Rejected:
the record is effective again and the reason is kept. Every step is audited; the decision is
an event for other systems.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from supervision import audit
from supervision.credit import lifecycle_rules  # noqa: F401  (registers the policy kinds)
from supervision.credit import records
from supervision.credit.calendar import CalendarGap, WorkingDays
from supervision.credit.events import emit
from supervision.credit.lifecycle_models import Objection, ObjectionEvidence
from supervision.credit.models import CreditRecord
from supervision.credit.policies import Policies
from supervision.documents.evidence import MAX_EVIDENCE_FILES, EvidenceFile, check_files, held_file, keep
from supervision.errors import Conflict, NotFound, ValidationFailed
from supervision.modelbase import utcnow
from supervision.registry.models import Establishment

KIND = "objections"
OUTCOMES = ("corrected", "revoked")


def deadline_for(session: Session, policies: Policies, jurisdiction_id: int, raised_on: date,
                 workdays: WorkingDays | None = None) -> tuple[date | None, str | None]:
    """The decision deadline, or (None, why) when the calendar does not cover it."""
    rules = policies.resolve(KIND, jurisdiction_id, raised_on).value
    try:
        return (workdays or WorkingDays(session)).add(raised_on, rules.deadline_working_days), None
    except CalendarGap as gap:
        return None, f"处理时限（{rules.deadline_working_days} 个工作日）跨入 {gap.year} 年：{gap}"


def _record_of(session: Session, actor: audit.Actor, record_id: int) -> tuple[CreditRecord, Establishment]:
    row = session.get(CreditRecord, record_id)
    if row is None:
        raise NotFound("信用信息不存在", fields={"record_id": ["信用信息不存在"]})
    establishment = session.execute(select(Establishment).where(Establishment.subject_id == row.subject_id)).scalar_one_or_none()
    if establishment is None:
        raise NotFound("信用信息不存在", fields={"record_id": ["信用信息不存在"]})
    records.visible_establishment(session, actor, establishment.id)
    return row, establishment


def raise_objection(session: Session, actor: audit.Actor, record_id: int, *, on_behalf_of: int, reason: str,
                    evidence: list[EvidenceFile] = (), store=None, on: date, by: str | None = None,
                    policies: Policies | None = None) -> Objection:
    """Open an objection to a record of establishment `on_behalf_of`."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": ["请填写异议理由"]})
    if len(reason) > 2000:
        raise ValidationFailed(fields={"reason": ["异议理由不能超过 2000 字"]})
    checked = check_files(list(evidence))
    if checked and store is None:
        raise ValidationFailed(fields={"evidence": ["未配置证据材料存储"]})
    row, establishment = _record_of(session, actor, record_id)
    if establishment.id != on_behalf_of:
        raise ValidationFailed(fields={"establishment_id": ["该信用信息不属于此单位"]})
    if row.status == "under_objection":
        raise Conflict("该信用信息已有未决异议", code="objection_open", fields={"record_id": ["已有未决异议"]})
    if row.status != "effective":
        raise Conflict("该信用信息当前状态不能提出异议", code="invalid_transition", fields={"record_id": ["状态不允许"]})
    policies = policies or Policies.current(session)
    deadline, flag = deadline_for(session, policies, establishment.jurisdiction_id, on)
    records.change_status(session, actor, row.id, "under_objection", f"提出异议：{reason}", by=by)
    objection = Objection(record_id=row.id, establishment_id=establishment.id, reason=reason,
                          raised_by=by or actor.ref, raised_for="self" if actor.kind == "establishment" else "on_behalf",
                          raised_on=on, raised_at=utcnow(), deadline=deadline, deadline_flag=flag, status="open",
                          regrade_run_ids=[])
    session.add(objection)
    session.flush()
    _attach(session, objection, checked, store)
    audit.record(session, records.named(actor, by), "objection.raise", objection,
                 after=lambda: {**objection.audit_snapshot(), "evidence": [sha for _, _, sha in checked]})
    return objection


def _attach(session: Session, objection: Objection, checked, store) -> None:
    keep(session, store, checked, ObjectionEvidence, objection_id=objection.id)


def add_evidence(session: Session, actor: audit.Actor, objection_id: int, evidence: list[EvidenceFile], *, store,
                 by: str | None = None) -> list[ObjectionEvidence]:
    """More evidence for an open objection (files are sent one request at a time by the API)."""
    checked = check_files(list(evidence))
    if not checked:
        raise ValidationFailed(fields={"file": ["请附上证据材料（PDF、JPEG 或 PNG）"]})
    objection = get(session, actor, objection_id)
    if objection.status != "open":
        raise Conflict("异议已处理，不能再补充材料", code="already_decided")
    held = len(evidence_of(session, objection.id))
    if held + len(checked) > MAX_EVIDENCE_FILES:
        raise ValidationFailed(fields={"file": [f"证据材料最多 {MAX_EVIDENCE_FILES} 个文件"]})
    _attach(session, objection, checked, store)
    audit.record(session, records.named(actor, by), "objection.evidence", objection,
                 after={"evidence": [sha for _, _, sha in checked]})
    return evidence_of(session, objection.id)


def get(session: Session, actor: audit.Actor, objection_id: int) -> Objection:
    objection = session.get(Objection, objection_id)
    if objection is None:
        raise NotFound("异议不存在", fields={"objection_id": ["异议不存在"]})
    _record_of(session, actor, objection.record_id)
    return objection


def evidence_of(session: Session, objection_id: int) -> list[ObjectionEvidence]:
    return list(session.execute(select(ObjectionEvidence).where(ObjectionEvidence.objection_id == objection_id)
                                .order_by(ObjectionEvidence.id)).scalars())


def evidence_file(session: Session, actor: audit.Actor, objection_id: int, evidence_id: int, *, store):
    """One evidence file and where its bytes are, for whoever may see the objection: the
    establishment that raised it and the supervisors of its jurisdiction (`get` applies that rule)."""
    get(session, actor, objection_id)
    return held_file(session, store, ObjectionEvidence, evidence_id, what="证据材料", objection_id=objection_id)


def decide(session: Session, actor: audit.Actor, objection_id: int, *, upheld: bool, reason: str, by: str,
           outcome: str | None = None, policy_roots=(), now=None) -> Objection:
    """Decide an open objection. Upheld: the record becomes `outcome` (corrected or revoked) and
    the establishment's published grades are re-computed; rejected: the record is effective
    again. `reason` is kept either way."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": ["请填写处理意见"]})
    if not (by or "").strip():
        raise ValidationFailed(fields={"by": ["须写明经办人姓名"]})
    if upheld and outcome not in OUTCOMES:
        raise ValidationFailed(fields={"outcome": ["异议成立时须选择更正（corrected）或撤销（revoked）"]})
    if not upheld and outcome is not None:
        raise ValidationFailed(fields={"outcome": ["异议不成立时不能选择处理结果"]})
    objection = get(session, actor, objection_id)
    if objection.status != "open":
        raise Conflict("该异议已处理", code="already_decided", fields={"objection_id": ["已处理"]})
    before = objection.audit_snapshot()
    row = session.get(CreditRecord, objection.record_id)
    if upheld:
        records.change_status(session, actor, row.id, outcome, f"异议成立：{reason}", by=by)
        from supervision.credit.grading.runs import regrade_subjects

        runs = regrade_subjects(session, actor, [row.subject_id], reason=f"异议 {objection.id} 成立：{reason}", by=by,
                                since_year=row.arose_on.year, policy_roots=policy_roots, now=now)
        objection.regrade_run_ids = [r.id for r in runs]
    else:
        records.change_status(session, actor, row.id, "effective", f"异议不成立：{reason}", by=by)
    objection.status = "upheld" if upheld else "rejected"
    objection.outcome = outcome
    objection.decision_reason, objection.decided_by, objection.decided_at = reason, by.strip(), utcnow()
    audit.record(session, records.named(actor, by), "objection.decide", objection, before=before)
    establishment = session.get(Establishment, objection.establishment_id)
    emit(session, "objection.decided", {"objection_id": objection.id, "record_id": row.id,
                                        "credit_code": establishment.credit_code, "decision": objection.status,
                                        "outcome": outcome, "regrade_run_ids": objection.regrade_run_ids},
         subject_id=row.subject_id)
    return objection


def overdue(session: Session, actor: audit.Actor, on: date) -> tuple[list[Objection], list[Objection]]:
    """Open objections past their deadline, and open ones with no deadline (calendar gap)."""
    open_ = select(Objection).join(Establishment, Establishment.id == Objection.establishment_id).where(
        Objection.status == "open")
    late = [o for o in session.execute(open_.where(Objection.deadline < on).order_by(Objection.deadline, Objection.id))
            .scalars() if actor.covers(session.get(Establishment, o.establishment_id).jurisdiction_id)]
    flagged = [o for o in session.execute(open_.where(Objection.deadline.is_(None)).order_by(Objection.id)).scalars()
               if actor.covers(session.get(Establishment, o.establishment_id).jurisdiction_id)]
    return late, flagged
