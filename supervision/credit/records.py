"""Recording credit facts, withdrawing them, changing their status, and reading a subject's
records with their publicity.

This module is the only writer of `credit_records`: inspections, penalty decisions, missed
rectification deadlines, other departments' files and supervisors' manual entries all come
through `record()`. It validates a fact against the vocabulary (`codes`) and the dishonesty
catalogue, writes it with its provenance, and audits it. A status change never overwrites the
fact: it adds a row to `credit_record_status_changes` and moves the record's current status.

Services never commit; the caller (CLI, job, API view) does.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from supervision import audit
from supervision.credit import codes
from supervision.credit.catalogue import KIND as CATALOGUE
from supervision.credit.models import (
    CREDIT_KINDS,
    RECORD_STATUSES,
    CreditRecord,
    CreditRecordStatusChange,
    Penalty,
)
from supervision.credit.policies import Policies
from supervision.credit.publicity import Publicity, publicity_of
from supervision.errors import Conflict, NotFound, ValidationFailed
from supervision.modelbase import utcnow
from supervision.registry.models import Establishment, Inspector, Jurisdiction


@dataclass(frozen=True)
class Fact:
    """A new fact about a credit subject, with where it came from."""

    subject_id: int
    kind: str
    code: str | None
    severity: str | None  # None: taken from the dishonesty catalogue (dishonesty), else "none"
    title: str
    arose_on: date
    source_type: str
    source_ref: str
    producing_unit_id: int
    channel: str
    legal_basis: str | None = None
    practice_points: int | None = None
    producing_department: str | None = None
    entered_by: str | None = None  # the named supervisor who entered it, if a person did
    reason: str | None = None
    details: dict = field(default_factory=dict)
    superseded_at: datetime | None = None  # recorded already withdrawn (a corrected inspection)


def named(actor: audit.Actor, name: str | None) -> audit.Actor:
    """The actor, carrying the named supervisor who acted (`--by NAME`) into the audit entry."""
    if not name:
        return actor
    return audit.Actor(actor.kind, actor.ref, {**actor.details, "by": name})


# --- validation -----------------------------------------------------------------------------


def check_fact(fact: Fact, policies: Policies) -> tuple[dict[str, list[str]], str, str | None]:
    """Problems per field (Chinese), the severity the record will carry, and the legal basis
    (a dishonesty record cites its catalogue entry's when it gives none)."""
    problems: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        problems.setdefault(name, []).append(message)

    severity = fact.severity
    legal_basis = fact.legal_basis
    if fact.kind not in CREDIT_KINDS:
        add("kind", f"未知的信用信息类别“{fact.kind}”，应为：{'、'.join(CREDIT_KINDS)}")
        return problems, severity or "none", legal_basis
    allowed = codes.CODES[fact.kind]
    if allowed is None:  # dishonesty: the catalogue in force where and when it arose
        catalogue = policies.resolve(CATALOGUE, fact.producing_unit_id, fact.arose_on).value
        entry = catalogue.entries.get(fact.code or "")
        if entry is None:
            add("code", f"失信行为代码“{fact.code or ''}”不在失信行为目录中（可用 supervision credit catalogue 查看）")
        else:
            if severity not in (None, entry.severity):
                add("severity", f"失信行为“{entry.name}”的严重程度为“{codes.SEVERITY_NAMES[entry.severity]}”，"
                                f"不能记为“{codes.SEVERITY_NAMES.get(severity, severity)}”")
            severity = entry.severity
            legal_basis = legal_basis or entry.legal_basis
    elif fact.code not in allowed:
        add("code", f"“{codes.KIND_NAMES[fact.kind]}”没有子类“{fact.code or ''}”，应为：{'、'.join(allowed)}")
    severity = severity or "none"
    if severity not in codes.ALLOWED_SEVERITIES[fact.kind]:
        names = "、".join(codes.ALLOWED_SEVERITIES[fact.kind])
        add("severity", f"“{codes.KIND_NAMES[fact.kind]}”的严重程度不能为“{severity}”，应为：{names}")
    if fact.kind == "bad_practice_points":
        if fact.practice_points is None or fact.practice_points <= 0:
            add("practice_points", "不良执业行为记分须为正整数")
    elif fact.practice_points is not None:
        add("practice_points", "只有不良执业行为记分类信息才有记分")
    if not fact.title.strip():
        add("title", "请填写信息摘要")
    elif len(fact.title) > 300:
        add("title", "信息摘要不能超过 300 字")
    if fact.channel not in codes.CHANNELS:
        add("channel", f"未知的采集渠道“{fact.channel}”")
    if fact.source_type not in codes.SOURCE_TYPES:
        add("source_type", f"未知的信息来源“{fact.source_type}”")
    if not fact.source_ref or len(fact.source_ref) > 64:
        add("source_ref", "来源编号须为 1–64 个字符")
    if fact.producing_department is not None and len(fact.producing_department) > 100:
        add("producing_department", "产生部门名称不能超过 100 字")
    return problems, severity, legal_basis


def record(session: Session, actor: audit.Actor, fact: Fact, *, policies: Policies | None = None) -> CreditRecord:
    """Validate and write one fact, audited. Raises ValidationFailed naming each bad field, or
    Conflict when its source was already recorded; writes nothing then."""
    policies = policies or Policies.current(session)
    problems, severity, legal_basis = check_fact(fact, policies)
    if problems:
        raise ValidationFailed("信用信息未通过校验，未保存", fields=problems)
    row = CreditRecord(
        subject_id=fact.subject_id, kind=fact.kind, code=fact.code, severity=severity, status="effective",
        title=fact.title.strip(), legal_basis=legal_basis, practice_points=fact.practice_points,
        source_type=fact.source_type, source_ref=fact.source_ref, producing_unit_id=fact.producing_unit_id,
        producing_department=fact.producing_department, channel=fact.channel, arose_on=fact.arose_on,
        entered_at=utcnow(), entered_by=fact.entered_by or actor.ref, reason=fact.reason, details=fact.details,
        superseded_at=fact.superseded_at,
    )
    try:
        with audit.savepoint(session):
            session.add(row)
            session.flush()
    except IntegrityError:
        # The unique key of the source refused it (recorded before, or by a writer that raced
        # this one): no look-up first, which would cost every record a statement. Anything else
        # the database refused is not hidden behind that answer.
        existing = session.execute(select(CreditRecord.id).where(
            CreditRecord.source_type == fact.source_type, CreditRecord.source_ref == fact.source_ref)).scalar()
        if existing is None:
            raise
        raise _already_recorded(fact) from None
    audit.record(session, named(actor, fact.entered_by), "credit_record.create", row)
    return row


def _already_recorded(fact: Fact) -> Conflict:
    return Conflict("该信用信息已记录，不能重复记录", code="already_recorded",
                    fields={"source_ref": [f"来源“{fact.source_type}:{fact.source_ref}”已记录"]})


def supersede_source(session: Session, actor: audit.Actor, source_type: str, source_ref: str,
                     *, at: datetime | None = None) -> int:
    """Withdraw the facts recorded from a source (a corrected inspection): they stay, marked
    superseded, and no longer count anywhere. Returns how many were withdrawn."""
    at = at or utcnow()
    rows = session.execute(select(CreditRecord).where(
        CreditRecord.source_type == source_type, CreditRecord.source_ref == source_ref,
        CreditRecord.superseded_at.is_(None))).scalars().all()
    for row in rows:
        before = {"superseded_at": None}
        row.superseded_at = at
        audit.record(session, actor, "credit_record.supersede", row, before=before, after={"superseded_at": at})
    return len(rows)


# Which status may follow which. Corrected and revoked are final; a repair can be undone
# (back to effective) if it is found to have been granted wrongly.
TRANSITIONS = {
    "effective": {"under_objection", "corrected", "revoked", "repaired"},
    "under_objection": {"effective", "corrected", "revoked"},
    "repaired": {"effective"},
    "corrected": set(),
    "revoked": set(),
}


def change_status(session: Session, actor: audit.Actor, record_id: int, status: str, reason: str,
                  *, by: str | None = None) -> CreditRecordStatusChange:
    """Move a record to `status`, keeping the change as a history row, audited."""
    if status not in RECORD_STATUSES:
        raise ValidationFailed(fields={"status": [f"未知的状态“{status}”，应为：{'、'.join(RECORD_STATUSES)}"]})
    if not (reason or "").strip():
        raise ValidationFailed(fields={"reason": ["请说明变更原因"]})
    row = session.execute(select(CreditRecord).where(CreditRecord.id == record_id).with_for_update()).scalar_one_or_none()
    if row is None:
        raise NotFound("信用信息不存在", fields={"record_id": ["信用信息不存在"]})
    if row.superseded_at is not None:
        raise Conflict("该信用信息已被更正版本取代，不能变更状态", code="superseded")
    if status not in TRANSITIONS[row.status]:
        raise Conflict(f"状态“{codes.STATUS_NAMES[row.status]}”不能变更为“{codes.STATUS_NAMES[status]}”",
                       code="invalid_transition", fields={"status": ["不允许的状态变更"]})
    change = CreditRecordStatusChange(record_id=row.id, from_status=row.status, to_status=status,
                                      changed_at=utcnow(), actor_ref=actor.ref, changed_by=by, reason=reason.strip())
    before = {"status": row.status}
    row.status = status
    session.add(change)
    session.flush()
    audit.record(session, named(actor, by), "credit_record.status", row, before=before,
                 after={"status": status, "reason": change.reason, "change_id": change.id})
    return change


def status_history(session: Session, record_id: int) -> list[CreditRecordStatusChange]:
    return list(session.execute(select(CreditRecordStatusChange).where(CreditRecordStatusChange.record_id == record_id)
                                .order_by(CreditRecordStatusChange.id)).scalars())


# --- reading --------------------------------------------------------------------------------


@dataclass
class RecordView:
    record: CreditRecord
    publicity: Publicity
    penalty: Penalty | None
    producing_unit: Jurisdiction

    @property
    def provenance(self) -> dict:
        r = self.record
        return {"source_type": r.source_type, "producing_unit": self.producing_unit.code,
                "producing_unit_name": self.producing_unit.name, "producing_department": r.producing_department,
                "channel": r.channel, "arose_on": r.arose_on, "entered_at": r.entered_at}


def visible_establishment(session: Session, actor: audit.Actor, establishment_id: int) -> Establishment:
    """The access rule for reading credit records: a terminal sees the establishments of its
    inspector's jurisdiction (others do not exist for it); the CLI and the system see all."""
    establishment = session.get(Establishment, establishment_id)
    if establishment is not None and actor.kind == "device":
        inspector = session.get(Inspector, actor.details.get("inspector_id"))
        if inspector is None or inspector.jurisdiction_id != establishment.jurisdiction_id:
            establishment = None
    if establishment is not None and actor.kind == "establishment" and establishment.id not in actor.establishment_ids:
        establishment = None
    if establishment is None:
        raise NotFound("单位不存在", fields={"establishment_id": ["单位不存在"]})
    return establishment


def subject_records(session: Session, actor: audit.Actor, subject_id: int, *, on: date,
                    policies: Policies | None = None, include_superseded: bool = False) -> list[RecordView]:
    """A credit subject's records, newest first, each with its publicity on `on` and its penalty
    decision if it has one. Applies the access rule of the subject's establishment."""
    establishment = session.execute(select(Establishment).where(Establishment.subject_id == subject_id)).scalar_one_or_none()
    if establishment is None:
        raise NotFound("信用主体不存在", fields={"subject_id": ["信用主体不存在"]})
    visible_establishment(session, actor, establishment.id)
    policies = policies or Policies.current(session)
    query = select(CreditRecord).where(CreditRecord.subject_id == subject_id)
    if not include_superseded:
        query = query.where(CreditRecord.superseded_at.is_(None))
    rows = session.execute(query.order_by(CreditRecord.arose_on.desc(), CreditRecord.id.desc())).scalars().all()
    penalties = {p.credit_record_id: p for p in session.execute(
        select(Penalty).where(Penalty.credit_record_id.in_([r.id for r in rows if r.kind == "penalty"]))).scalars()}
    units = {j.id: j for j in session.execute(
        select(Jurisdiction).where(Jurisdiction.id.in_({r.producing_unit_id for r in rows}))).scalars()}
    return [RecordView(r, publicity_of(r, on=on, policies=policies), penalties.get(r.id), units[r.producing_unit_id])
            for r in rows]


def establishment_by_credit_code(session: Session, credit_code: str) -> Establishment:
    establishment = session.execute(
        select(Establishment).where(Establishment.credit_code == credit_code.strip().upper())).scalar_one_or_none()
    if establishment is None:
        raise NotFound(f"统一社会信用代码“{credit_code}”对应的单位不存在",
                       fields={"credit_code": ["单位不存在"]})
    return establishment


# --- facts from the product's own sources ---------------------------------------------------

# A checklist item's severity → the credit record's (the shared contract).
INSPECTION_SEVERITY = {"minor": "minor", "major": "general", "critical": "serious"}
_SEVERITY_ORDER = ("none", "minor", "general", "serious")


def inspection_fact(establishment: Establishment, inspection) -> Fact:
    """The credit fact of a complete inspection: its severity is that of its worst finding."""
    from supervision.timeutil import with_offset

    findings = list(inspection.findings)
    severity = max((INSPECTION_SEVERITY.get(f.severity, "minor") for f in findings),
                   key=_SEVERITY_ORDER.index, default="none")
    title = ("监督检查：未发现问题" if not findings else
             f"监督检查：发现 {len(findings)} 项问题（最严重：{codes.SEVERITY_NAMES[severity]}）")
    return Fact(
        subject_id=establishment.subject_id, kind="inspection", code="inspection", severity=severity, title=title,
        arose_on=with_offset(inspection.started_at, inspection.started_offset_min).date(),
        source_type="inspection", source_ref=inspection.uuid, producing_unit_id=establishment.jurisdiction_id,
        channel="handheld_terminal",
        legal_basis="；".join(sorted({f.legal_basis for f in findings if f.legal_basis and f.legal_basis != "—"})) or None,
        details={
            "checklist_version_id": inspection.checklist_version_id,
            "findings": [{"item_code": f.item_code, "severity": f.severity} for f in findings],
            "version": inspection.version, "lineage_uuid": inspection.lineage_uuid,
        },
        superseded_at=inspection.superseded_at,
    )
