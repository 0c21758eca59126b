"""Credit repair (信用修复, seed 003 §四(六)) of a penalty or dishonesty record.

Eligibility is policy data (kind `repair`): the minimum publicity period has passed (a penalty:
`publicity_of(...).repair_from`; a dishonesty record: `dishonesty_min_months` after it arose),
the penalty decision is fulfilled, the establishment is not on the blacklist, no record of the
same kind arose within `repeat_window_months` before the application, and the evidence the
rules ask for is given (fulfilment, repair commitment, training). A refusal says every reason
and, where one exists, the first day the establishment may apply.

Approval marks the record `repaired`: it stops being public (`publicity_of`) and stops counting
for grades from the next run (the engine counts only effective records and records under
objection; the grading policy says so), takes the establishment off the blacklist, issues a
numbered confirmation notice (信用修复确认书, HTML and PDF) and is an event for other systems.
Refusal keeps the reason.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supervision import audit
from supervision.credit import codes, lifecycle_rules, records
from supervision.credit import lists as credit_lists
from supervision.credit.calendar import add_months
from supervision.credit.events import emit
from supervision.credit.lifecycle_models import RepairApplication
from supervision.credit.models import CreditRecord, Penalty
from supervision.credit.policies import Policies
from supervision.credit.publicity import publicity_of
from supervision.errors import Conflict, NotFound, ValidationFailed
from supervision.registry.models import Establishment, Jurisdiction

KIND = "repair"
EVIDENCE = lifecycle_rules.EVIDENCE


@dataclass
class Eligibility:
    eligible: bool
    reasons: list[str] = field(default_factory=list)
    eligible_from: date | None = None  # the first day the time conditions hold, when known
    missing_evidence: list[str] = field(default_factory=list)


def _record(session: Session, actor: audit.Actor, record_id: int) -> tuple[CreditRecord, Establishment]:
    row = session.get(CreditRecord, record_id)
    establishment = None if row is None else session.execute(
        select(Establishment).where(Establishment.subject_id == row.subject_id)).scalar_one_or_none()
    if row is None or establishment is None:
        raise NotFound("信用信息不存在", fields={"record_id": ["信用信息不存在"]})
    records.visible_establishment(session, actor, establishment.id)
    return row, establishment


def eligibility(session: Session, actor: audit.Actor, record_id: int, *, on: date, evidence: dict | None = None,
                policies: Policies | None = None) -> Eligibility:
    """Whether the record may be repaired on `on` with this evidence, and if not, why and from when."""
    row, establishment = _record(session, actor, record_id)
    policies = policies or Policies.current(session)
    rules = policies.resolve(KIND, establishment.jurisdiction_id, on).value
    evidence = {k: (v or "").strip() for k, v in (evidence or {}).items()}
    reasons: list[str] = []
    dates: list[date] = []
    if row.kind not in rules.kinds:
        return Eligibility(False, [f"“{codes.KIND_NAMES[row.kind]}”类信息不适用信用修复"])
    if row.superseded_at is not None or row.status != "effective":
        return Eligibility(False, [f"该信息当前状态为“{codes.STATUS_NAMES[row.status]}”，不能申请修复"])
    penalty = session.execute(select(Penalty).where(Penalty.credit_record_id == row.id)).scalar_one_or_none()
    if row.kind == "penalty":
        p = publicity_of(penalty, on=on, policies=policies, record=row) if penalty else publicity_of(
            row, on=on, policies=policies)
        if p.public_from is None:
            return Eligibility(False, [f"该处罚信息不予公示，无需修复（{p.note}）"])
        repair_from = p.repair_from
        if rules.require_fulfilled and penalty is not None and penalty.fulfilled_on is None:
            reasons.append("行政处罚决定尚未履行完毕")
    else:
        repair_from = add_months(row.arose_on, rules.dishonesty_min_months)
    if repair_from is not None and on < repair_from:
        reasons.append(f"最短公示期未满，{repair_from.isoformat()} 起可申请")
        dates.append(repair_from)
    blocking = [e for e in credit_lists.memberships(session, establishment.subject_id, on)
                if e.list_name == "blacklist" and e.cause_record_id != row.id]
    if rules.refuse_blacklisted and blocking:
        # Repairing the record that caused the entry is how the entry ends; any other record
        # waits for the entry to end.
        entry = blocking[0]
        until = min(d for d in (entry.expires_on, entry.exited_on) if d) if (entry.expires_on or entry.exited_on) else None
        reasons.append("列入失信黑名单期间不能修复" + (f"，名单期限至 {until.isoformat()}" if until else ""))
        if until:
            dates.append(until)
    if rules.repeat_window_months:
        since = add_months(on, -rules.repeat_window_months)
        latest = session.execute(select(func.max(CreditRecord.arose_on)).where(
            CreditRecord.subject_id == row.subject_id, CreditRecord.kind == row.kind, CreditRecord.id != row.id,
            CreditRecord.status.in_(("effective", "under_objection")), CreditRecord.superseded_at.is_(None),
            CreditRecord.arose_on > since, CreditRecord.arose_on <= on)).scalar()
        if latest is not None:
            again = add_months(latest, rules.repeat_window_months)
            reasons.append(f"{rules.repeat_window_months} 个月内（{latest.isoformat()}）再次发生同类信息，"
                           f"{again.isoformat()} 起可申请")
            dates.append(again)
    missing = [k for k in rules.evidence if not evidence.get(k)]
    if missing:
        reasons.append("缺少材料：" + "、".join(EVIDENCE[k] for k in missing))
    return Eligibility(not reasons, reasons, max(dates) if dates else None, missing)


def apply(session: Session, actor: audit.Actor, record_id: int, *, on_behalf_of: int, evidence: dict, on: date,
          by: str | None = None, policies: Policies | None = None) -> RepairApplication:
    """An application, accepted only when eligible (a refusal lists why, and from when)."""
    unknown = sorted(set(evidence) - set(EVIDENCE))
    if unknown:
        raise ValidationFailed(fields={"evidence": [f"未知的材料类型“{unknown[0]}”"]})
    if any(len(v or "") > 1000 for v in evidence.values()):
        raise ValidationFailed(fields={"evidence": ["材料说明不能超过 1000 字"]})
    row, establishment = _record(session, actor, record_id)
    if establishment.id != on_behalf_of:
        raise ValidationFailed(fields={"establishment_id": ["该信用信息不属于此单位"]})
    pending = session.execute(select(RepairApplication.id).where(RepairApplication.record_id == row.id,
                                                                 RepairApplication.status == "pending")).first()
    if pending:
        raise Conflict(f"该信息已有待审核的修复申请 {pending[0]}", code="repair_pending")
    answer = eligibility(session, actor, record_id, on=on, evidence=evidence, policies=policies)
    if not answer.eligible:
        raise _not_eligible(answer)
    application = RepairApplication(record_id=row.id, establishment_id=establishment.id,
                                    evidence={k: v.strip() for k, v in evidence.items() if v and v.strip()},
                                    applied_by=by or actor.ref, applied_on=on, status="pending")
    session.add(application)
    session.flush()
    audit.record(session, records.named(actor, by), "repair.apply", application)
    return application


def _not_eligible(answer: Eligibility) -> Conflict:
    message = "不符合信用修复条件：" + "；".join(answer.reasons)
    if answer.eligible_from:
        message += f"（最早 {answer.eligible_from.isoformat()} 起可申请）"
    return Conflict(message, code="not_eligible", fields={"record_id": answer.reasons})


def get(session: Session, actor: audit.Actor, repair_id: int) -> RepairApplication:
    application = session.get(RepairApplication, repair_id)
    if application is None:
        raise NotFound("修复申请不存在", fields={"repair_id": ["不存在"]})
    _record(session, actor, application.record_id)
    return application


def approve(session: Session, actor: audit.Actor, repair_id: int, *, by: str, on: date, reason: str = "",
            policies: Policies | None = None) -> RepairApplication:
    """Approve a pending application (eligibility is checked again on the day of approval)."""
    if not (by or "").strip():
        raise ValidationFailed(fields={"by": ["须写明经办人姓名"]})
    application = get(session, actor, repair_id)
    if application.status != "pending":
        raise Conflict("该申请已处理", code="already_decided")
    answer = eligibility(session, actor, application.record_id, on=on, evidence=application.evidence,
                         policies=policies)
    if not answer.eligible:
        raise _not_eligible(answer)
    before = application.audit_snapshot()
    row = session.get(CreditRecord, application.record_id)
    records.change_status(session, actor, row.id, "repaired", f"信用修复申请 {application.id} 审核通过"
                          + (f"：{reason.strip()}" if reason.strip() else ""), by=by)
    application.status, application.decided_by, application.decided_on = "approved", by.strip(), on
    application.decision_reason = reason.strip() or None
    application.notice_no = f"XYXF-{on.year}-{application.id:06d}"
    audit.record(session, records.named(actor, by), "repair.approve", application, before=before)
    credit_lists.exit_on_repair(session, actor, row.id, on, f"信用修复已通过（{application.notice_no}）")
    establishment = session.get(Establishment, application.establishment_id)
    emit(session, "repair.approved", {"repair_id": application.id, "notice_no": application.notice_no,
                                      "record_id": row.id, "credit_code": establishment.credit_code,
                                      "name": establishment.name, "approved_on": on}, subject_id=row.subject_id)
    return application


def refuse(session: Session, actor: audit.Actor, repair_id: int, *, by: str, reason: str, on: date) -> RepairApplication:
    if not (reason or "").strip():
        raise ValidationFailed(fields={"reason": ["请说明不予修复的理由"]})
    if not (by or "").strip():
        raise ValidationFailed(fields={"by": ["须写明经办人姓名"]})
    application = get(session, actor, repair_id)
    if application.status != "pending":
        raise Conflict("该申请已处理", code="already_decided")
    before = application.audit_snapshot()
    application.status, application.decided_by, application.decided_on = "refused", by.strip(), on
    application.decision_reason = reason.strip()
    audit.record(session, records.named(actor, by), "repair.refuse", application, before=before)
    return application


# --- the confirmation notice (信用修复确认书) -------------------------------------------------

@dataclass
class Notice:
    number: str
    establishment: Establishment
    record: CreditRecord
    application: RepairApplication
    issuer: Jurisdiction

    @property
    def lines(self) -> list[tuple[str, str]]:
        r = self.record
        return [("确认书编号", self.number), ("单位名称", self.establishment.name),
                ("统一社会信用代码", self.establishment.credit_code),
                ("修复信息", f"{codes.KIND_NAMES[r.kind]}：{r.title}"), ("信息产生日期", r.arose_on.isoformat()),
                ("申请日期", self.application.applied_on.isoformat()),
                ("审核通过日期", self.application.decided_on.isoformat()),
                ("出具单位", self.issuer.name)]

    @property
    def body(self) -> str:
        return (f"经审核，{self.establishment.name}（统一社会信用代码 {self.establishment.credit_code}）"
                f"申请的信用修复符合条件，准予修复。自 {self.application.decided_on.isoformat()} 起，"
                "该信息停止公示，仍作为内部记录保存。")


def notice(session: Session, actor: audit.Actor, repair_id: int) -> Notice:
    application = get(session, actor, repair_id)
    if application.status != "approved":
        raise Conflict("只有审核通过的修复申请才有确认书", code="no_notice")
    establishment = session.get(Establishment, application.establishment_id)
    return Notice(application.notice_no, establishment, session.get(CreditRecord, application.record_id), application,
                  session.get(Jurisdiction, establishment.jurisdiction_id))


def notice_html(n: Notice) -> str:
    from markupsafe import escape

    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in n.lines)
    return ("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<title>信用修复确认书 {escape(n.number)}</title></head><body>"
            f"<h1>信用修复确认书</h1><p>编号：{escape(n.number)}</p><table>{rows}</table>"
            f"<p>{escape(n.body)}</p><p>{escape(n.issuer.name)}</p></body></html>")


def notice_pdf(n: Notice) -> bytes:
    from supervision.documents import pdf

    document = pdf.ChinesePDF(f"信用修复确认书 {n.number}", footer=f"信用修复确认书 {n.number}")
    document.heading("信用修复确认书")
    document.paragraph(f"编号：{n.number}", size=10)
    document.rows(n.lines)
    document.paragraph(n.body)
    document.ln(8)
    document.paragraph(f"{n.issuer.name}（盖章）\n{n.application.decided_on.isoformat()}")
    return pdf.render(document)
