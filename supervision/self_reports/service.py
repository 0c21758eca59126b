"""Self-reported information: submitted by the establishment's own account with evidence and a
truthfulness pledge, verified or rejected by a supervisor. Only a verified report becomes a
credit record (kind `positive`), which the next grading run counts like any other; a pending or
rejected one counts for nothing and is never public.

Access: an establishment account submits and reads its own establishments' reports only;
supervisors (command line, system) read and decide all; a terminal reads those of its
jurisdiction. Services never commit (supervision/transaction.py).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from supervision import audit
from supervision.accounts.service import own_establishment
from supervision.credit import codes, records
from supervision.credit.calendar import china_today
from supervision.documents.evidence import EvidenceFile, check_files, held_file, keep
from supervision.errors import Conflict, Forbidden, NotFound, ValidationFailed
from supervision.modelbase import utcnow
from supervision.registry.models import Establishment
from supervision.self_reports.models import REPORT_KINDS, SelfReport, SelfReportEvidence

KIND_NAMES = {"honour": "荣誉表彰", "certification": "资质认证", "public_welfare": "公益活动"}
STATUS_NAMES = {"pending": "待核实", "verified": "已核实", "rejected": "未通过核实"}
PLEDGE_TEXT = ("本单位承诺所申报的信息及所附证明材料真实、准确、完整，如有虚假，"
               "愿意承担相应法律责任，并同意将虚假申报行为记入本单位信用记录。")
# The credit codes a verified report may become (codes.CODES["positive"]); the verifying
# supervisor chooses, "voluntary_disclosure" unless the report is an honour or commendation.
POSITIVE_CODES = tuple(codes.CODES["positive"])
EARLIEST = date(2000, 1, 1)
assert set(KIND_NAMES) == set(REPORT_KINDS)


def _supervisor(actor: audit.Actor) -> None:
    if actor.kind not in ("cli", "user", "system"):
        raise Forbidden("只有监督人员可以核实自愿申报信息")


def _establishment_for(session: Session, actor: audit.Actor, establishment_id: int) -> Establishment:
    """The establishment, if the actor may see it: its own account, or a supervisor."""
    if actor.kind == "establishment":
        return own_establishment(session, actor, establishment_id)
    return records.visible_establishment(session, actor, establishment_id)


def submit(session: Session, actor: audit.Actor, establishment_id: int, *, kind: str, title: str, issuer: str,
           occurred_on: date | None, description: str, pledged_by: str, pledge: bool,
           evidence: list[EvidenceFile], store, today: date | None = None) -> SelfReport:
    """A new report from the establishment's own account; refused whole (nothing stored) when a
    field, the pledge or the evidence is missing or wrong."""
    if actor.kind != "establishment":
        raise Forbidden("自愿申报须由单位本身通过自助服务账号提交")
    establishment = _establishment_for(session, actor, establishment_id)
    today = today or china_today()
    errors: dict[str, list[str]] = {}
    title, issuer = (title or "").strip(), (issuer or "").strip()
    description, pledged_by = (description or "").strip(), " ".join((pledged_by or "").split())
    if kind not in REPORT_KINDS:
        errors["kind"] = [f"应为：{'、'.join(KIND_NAMES.values())}"]
    if not title:
        errors["title"] = ["请填写名称"]
    elif len(title) > 200:
        errors["title"] = ["名称不能超过 200 字"]
    if not issuer:
        errors["issuer"] = ["请填写颁发、认证或组织单位"]
    elif len(issuer) > 200:
        errors["issuer"] = ["不能超过 200 字"]
    if occurred_on is None:
        errors["occurred_on"] = ["请填写日期"]
    elif occurred_on > today:
        errors["occurred_on"] = ["日期不能晚于今天"]
    elif occurred_on < EARLIEST:
        errors["occurred_on"] = ["日期不能早于 2000 年"]
    if len(description) > 2000:
        errors["description"] = ["说明不能超过 2000 字"]
    if not pledged_by:
        errors["pledged_by"] = ["请填写承诺人姓名"]
    elif len(pledged_by) > 64:
        errors["pledged_by"] = ["姓名不能超过 64 字"]
    if not pledge:
        errors["pledge"] = ["须勾选如实申报承诺"]
    try:
        checked = check_files(list(evidence))
        if not checked:
            errors["evidence"] = ["请附上证明材料（PDF、JPEG 或 PNG）"]
    except ValidationFailed as refused:
        errors.update(refused.fields)
        checked = []
    if errors:
        raise ValidationFailed("自愿申报信息有误，未保存", fields=errors)
    report = SelfReport(establishment_id=establishment.id, kind=kind, title=title, issuer=issuer,
                        occurred_on=occurred_on, description=description, pledged_by=pledged_by,
                        pledge_text=PLEDGE_TEXT, submitted_by=actor.ref, status="pending")
    session.add(report)
    session.flush()
    keep(session, store, checked, SelfReportEvidence, report_id=report.id)
    audit.record(session, actor, "self_report.submit", report)
    return report


def get(session: Session, actor: audit.Actor, report_id: int) -> SelfReport:
    report = session.get(SelfReport, report_id)
    if report is None:
        raise NotFound("自愿申报信息不存在", fields={"report_id": ["不存在"]})
    _establishment_for(session, actor, report.establishment_id)
    return report


def reports_of(session: Session, actor: audit.Actor, establishment_id: int) -> list[SelfReport]:
    _establishment_for(session, actor, establishment_id)
    return list(session.execute(select(SelfReport).where(SelfReport.establishment_id == establishment_id)
                                .order_by(SelfReport.id.desc())).scalars())


def pending(session: Session, actor: audit.Actor) -> list[SelfReport]:
    """What waits for a supervisor, oldest first."""
    _supervisor(actor)
    return list(session.execute(select(SelfReport).where(SelfReport.status == "pending")
                                .order_by(SelfReport.id)).scalars())


def evidence_of(session: Session, report_id: int) -> list[SelfReportEvidence]:
    return list(session.execute(select(SelfReportEvidence).where(SelfReportEvidence.report_id == report_id)
                                .order_by(SelfReportEvidence.id)).scalars())


def evidence_file(session: Session, actor: audit.Actor, report_id: int, evidence_id: int, *, store):
    """One evidence file and its path, for the establishment that reported it and supervisors."""
    get(session, actor, report_id)
    return held_file(session, store, SelfReportEvidence, evidence_id, what="证明材料", report_id=report_id)


def _open(session: Session, actor: audit.Actor, report_id: int, by: str) -> tuple[SelfReport, str]:
    _supervisor(actor)
    report = get(session, actor, report_id)
    if report.status != "pending":
        raise Conflict(f"该申报已处理（{STATUS_NAMES[report.status]}）", code="already_decided")
    by = (by or "").strip()
    if not by:
        raise ValidationFailed(fields={"by": ["请填写核实人姓名"]})
    return report, by


def verify(session: Session, actor: audit.Actor, report_id: int, *, by: str, code: str = "voluntary_disclosure",
           note: str = "") -> SelfReport:
    """The supervisor confirms the report against its evidence: it becomes a positive credit
    record (source `self_report`), counted by the next grading run."""
    report, by = _open(session, actor, report_id, by)
    if code not in POSITIVE_CODES:
        raise ValidationFailed(fields={"code": [f"应为：{'、'.join(POSITIVE_CODES)}"]})
    establishment = session.get(Establishment, report.establishment_id)
    before = report.audit_snapshot()
    row = records.record(session, actor, records.Fact(
        subject_id=establishment.subject_id, kind="positive", code=code, severity="none",
        title=f"{KIND_NAMES[report.kind]}：{report.title}（{report.issuer}）", arose_on=report.occurred_on,
        source_type="self_report", source_ref=str(report.id), producing_unit_id=establishment.jurisdiction_id,
        channel="system", entered_by=by, reason="单位自愿申报，经监督机构核实",
        details={"self_report_id": report.id, "kind": report.kind}))
    report.status, report.decided_by, report.decided_at = "verified", by, utcnow()
    report.decision_reason = (note or "").strip() or None
    report.credit_record_id = row.id
    audit.record(session, records.named(actor, by), "self_report.verify", report, before=before)
    return report


def reject(session: Session, actor: audit.Actor, report_id: int, *, by: str, reason: str) -> SelfReport:
    """Not confirmed: nothing is recorded; the reason is shown to the establishment."""
    report, by = _open(session, actor, report_id, by)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": ["请填写不予核实的理由"]})
    before = report.audit_snapshot()
    report.status, report.decided_by, report.decided_at, report.decision_reason = "rejected", by, utcnow(), reason
    audit.record(session, records.named(actor, by), "self_report.reject", report, before=before)
    return report
