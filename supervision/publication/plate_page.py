"""The content of the public plate page (/P/<token>) and the cheap "public version" that tells
whether a cached rendering of it is still current.

Everything shown comes from the owning services: the grade from `grading.current.current_grade`
and `grading.explain`, list status from `grading.lists.members`, the penalties' publicity from
`credit.publicity.publicity_of`. Nothing private is read: no ID number, no phone, nothing about
complainants.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import String, and_, bindparam, case, cast, func, select
from sqlalchemy.orm import Session, joinedload

from supervision import policy
from supervision.audit.models import AuditEntry
from supervision.commitments.models import CommitmentLetter
from supervision.credit import codes
from supervision.credit.calendar import china_date
from supervision.credit.grading import explain as grading_explain
from supervision.credit import lists as credit_lists
from supervision.credit.lifecycle_models import ListEntry
from supervision.credit.grading import policy as grading_policy
from supervision.credit.grading.models import Grade, GradeContribution, GradingRunPolicy
from supervision.credit.grading.current import current_grade
from supervision.credit.models import CreditRecord, Penalty
from supervision.credit.policies import Policies
from supervision.credit.publicity import publicity_of
from supervision.inspections.models import TASK_KIND_NAMES, Finding, Inspection, RectificationOrder, Task
from supervision.policy import PolicySet
from supervision.publication.page_store import PlatePageEpoch, StoredPlatePage
from supervision.registry.models import Establishment, PlateToken

RECENT_INSPECTIONS = 5
MAX_CONTRIBUTIONS = 8

GRADE_MEANINGS = {
    "A": ("诚信守法，信用优秀", "依法享受减少检查频次等激励措施。"),
    "B": ("信用良好", "可享受适当的激励措施。"),
    "C": ("信用一般", "按常规频次监督检查。"),
    "D": ("信用较差，存在较多违法违规记录", "列为重点监管对象，提高检查频次，限制申报评优评先。"),
    "E": ("信用差，存在严重违法失信行为", "列为重点监管对象，全面检查，限制申报评优评先。"),
}
RECTIFICATION_NAMES = {"open": "整改中", "fulfilled": "已整改", "superseded": "已重新认定"}
@dataclass
class PenaltyLine:
    decision_no: str
    decided_on: date
    type_name: str
    legal_basis: str
    fulfilled: bool
    under_review: bool
    public_until: date | None


@dataclass
class InspectionLine:
    day: date
    kind_name: str
    result: str
    rectification: str


@dataclass
class GradeInfo:
    grade: str
    year: int
    score: int
    meaning: str
    consequence: str
    hard_rule: str | None
    reasons: list[str] = field(default_factory=list)


@dataclass
class CommitmentInfo:
    """The signed commitment letter as the public reads it (seed 000 §三(一): published)."""

    version: str
    signer_name: str
    signed_on: date  # China date
    text: str
    hash_prefix: str


@dataclass
class PlatePage:
    establishment: Establishment
    grade: GradeInfo | None
    lists: list[str]
    penalties: list[PenaltyLine]
    inspections: list[InspectionLine]
    today: date
    commitment: CommitmentInfo | None = None


# Policy files change rarely; reading and validating them on every page would cost more than the
# page's queries. A new file is picked up within this many seconds.
POLICY_TTL_SECONDS = 30.0
_policy_sets: dict[tuple, tuple[float, PolicySet]] = {}


def policies_for(session: Session, roots: list) -> Policies:
    """A `Policies` whose publicity set is shared by the requests of this process for
    POLICY_TTL_SECONDS."""
    policies = Policies(session, roots)
    key = ("publicity", tuple(str(r) for r in policies.roots))
    now = time.monotonic()
    cached = _policy_sets.get(key)
    if cached is None or now - cached[0] > POLICY_TTL_SECONDS:
        cached = (now, PolicySet.load("publicity", policies.roots))
        _policy_sets[key] = cached
    policies._sets["publicity"] = cached[1]
    return policies


def list_status(session: Session, subject_id: int, on: date) -> list[str]:
    """The credit lists the subject is on (the one call site of the list provider)."""
    return credit_lists.titles_on(session, subject_id, on)


def _version_columns(establishment_id, establishment_key, subject_id) -> list:
    """A fingerprint of everything that feeds the page (the arguments are columns of
    `establishments`, to which the id lists correlate): the newest audit entry of the
    establishment (licences and status included), of its credit records (new records,
    objections, repairs, corrections), of its penalties (fulfilment), of its inspections and
    rectification orders, of its list entries (notice, entry, exit), and of any grading run (a
    publication changes grades in bulk)."""
    def newest(entity_type: str, ids):
        return (select(func.max(AuditEntry.seq))
                .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id.in_(ids))
                .scalar_subquery())

    def ids(column, where):
        return select(column).where(where).correlate(Establishment)

    record_ids = ids(cast(CreditRecord.id, String), CreditRecord.subject_id == subject_id)
    penalty_ids = ids(cast(Penalty.id, String), Penalty.establishment_id == establishment_id)
    inspection_ids = ids(Inspection.uuid, Inspection.establishment_id == establishment_id)
    order_ids = ids(cast(RectificationOrder.id, String), RectificationOrder.establishment_id == establishment_id)
    entry_ids = ids(cast(ListEntry.id, String), ListEntry.subject_id == subject_id)
    return [
        (select(func.max(AuditEntry.seq)).where(AuditEntry.entity_type == "establishments",
                                                 AuditEntry.entity_id == establishment_key).scalar_subquery()),
        newest("credit_records", record_ids), newest("penalties", penalty_ids),
        newest("inspections", inspection_ids), newest("rectification_orders", order_ids),
        newest("credit_list_entries", entry_ids),
        select(func.max(AuditEntry.seq)).where(AuditEntry.entity_type == "grading_runs").scalar_subquery(),
        # Rows written without an audit entry (bulk demo data) still change the counts.
        select(func.count()).where(CreditRecord.subject_id == subject_id).scalar_subquery(),
        select(func.max(ListEntry.id)).where(ListEntry.subject_id == subject_id).scalar_subquery(),
        select(func.max(CommitmentLetter.id)).where(CommitmentLetter.establishment_id == establishment_id)
        .scalar_subquery(),
    ]


@dataclass(frozen=True)
class CurrentPlate:
    establishment_id: int
    subject_id: int
    version: tuple
    # The stored page (page_store): its generation as read in this statement (None: no row yet),
    # the current epoch, and whether a page stored on `stored_on` is there and of that epoch.
    page_generation: int | None = None
    epoch: int = 0
    stored_on: date | None = None

    def needs_store(self, today: date) -> bool:
        return self.stored_on != today


_VERSION = _version_columns(Establishment.id, cast(Establishment.id, String), Establishment.subject_id)
# Built once: building the expression on every request cost more than running it.
_CURRENT_PLATE = (
    select(Establishment.id, Establishment.subject_id, *_VERSION,
           StoredPlatePage.generation, select(PlatePageEpoch.epoch).where(PlatePageEpoch.id == 1).scalar_subquery(),
           case((and_(StoredPlatePage.body.is_not(None), StoredPlatePage.epoch == select(PlatePageEpoch.epoch)
                      .where(PlatePageEpoch.id == 1).scalar_subquery()), StoredPlatePage.rendered_on), else_=None))
    .select_from(PlateToken).join(Establishment, Establishment.id == PlateToken.establishment_id)
    .outerjoin(StoredPlatePage, StoredPlatePage.establishment_id == Establishment.id)
    .where(PlateToken.token == bindparam("token"), PlateToken.revoked_at.is_(None)))


def current_plate(session: Session, token: str) -> CurrentPlate | None:
    """The establishment behind an unrevoked (normalised) token, its page's fingerprint and the
    state of its stored page, in one indexed statement: all a cached page costs. None for
    anything else (unknown or replaced token), which `plates.resolve_token` then tells apart."""
    row = session.execute(_CURRENT_PLATE, {"token": token}).first()
    if row is None:
        return None
    n = 2 + len(_VERSION)
    return CurrentPlate(row[0], row[1], tuple(row[2:n]), row[n], row[n + 1] or 0, row[n + 2])


# Hard-rule titles of the policy documents published runs used: immutable once published, so
# read and parsed once per process.
_hard_rule_titles: dict[int, dict[str, str]] = {}


def _hard_rule_title(session: Session, policy_id: int, key: str) -> str:
    if policy_id not in _hard_rule_titles:
        stored = session.get(GradingRunPolicy, policy_id)
        document = policy.parse(grading_policy.KIND, stored.text, path=stored.path, jurisdiction=stored.jurisdiction,
                                effective_from=stored.effective_from)
        _hard_rule_titles[policy_id] = {r.key: r.title for r in document.value.hard_rules}
    return _hard_rule_titles[policy_id].get(key, key)


def _grade(session: Session, establishment: Establishment) -> GradeInfo | None:
    """The latest published grade, what it means, and the records that moved its score, in
    the words of grading.explain (rule_text), read in one query."""
    current = current_grade(session, establishment.subject_id)
    if current is None:
        return None
    meaning, consequence = GRADE_MEANINGS.get(current.grade, ("", ""))
    info = GradeInfo(current.grade, current.year, current.score, meaning, consequence, None)
    rows = session.execute(
        select(Grade.hard_rule, Grade.policy_id, GradeContribution.points, GradeContribution.rule_key,
               CreditRecord.kind, CreditRecord.arose_on)
        .outerjoin(GradeContribution, GradeContribution.grade_id == Grade.id)
        .outerjoin(CreditRecord, CreditRecord.id == GradeContribution.record_id)
        .where(Grade.id == current.grade_id).order_by(CreditRecord.arose_on, CreditRecord.id)).all()
    if rows and rows[0].hard_rule:
        info.hard_rule = _hard_rule_title(session, rows[0].policy_id, rows[0].hard_rule)
    for row in rows:
        if row.rule_key is not None and len(info.reasons) < MAX_CONTRIBUTIONS:
            text = grading_explain.rule_text(row.rule_key, row.points)
            info.reasons.append(f"{row.arose_on.isoformat()} {text}")
    return info


def _penalties(session: Session, establishment: Establishment, today: date, policies: Policies) -> list[PenaltyLine]:
    rows = session.execute(
        select(Penalty, CreditRecord).join(CreditRecord, CreditRecord.id == Penalty.credit_record_id)
        .where(Penalty.establishment_id == establishment.id)
        .order_by(Penalty.decided_on.desc(), Penalty.id.desc())).all()
    lines = []
    for penalty, record in rows:
        publicity = publicity_of(penalty, on=today, policies=policies, record=record)
        if not publicity.public:
            continue
        lines.append(PenaltyLine(penalty.decision_no, penalty.decided_on,
                                 codes.PENALTY_TYPE_NAMES.get(penalty.penalty_type, penalty.penalty_type),
                                 penalty.legal_basis, penalty.fulfilled_on is not None, publicity.under_review,
                                 publicity.public_until))
    return lines


def _inspections(session: Session, establishment: Establishment) -> list[InspectionLine]:
    rows = session.execute(
        select(Inspection.started_at, Task.kind, func.count(Finding.id),
               RectificationOrder.status)
        .outerjoin(Task, Task.id == Inspection.task_id)
        .outerjoin(Finding, Finding.inspection_uuid == Inspection.uuid)
        .outerjoin(RectificationOrder, RectificationOrder.inspection_uuid == Inspection.uuid)
        .where(Inspection.establishment_id == establishment.id, Inspection.status == "complete",
               Inspection.superseded_at.is_(None))
        .group_by(Inspection.uuid, Inspection.started_at, Task.kind, RectificationOrder.status)
        .order_by(Inspection.started_at.desc()).limit(RECENT_INSPECTIONS)).all()
    lines = []
    for started_at, kind, findings, order_status in rows:
        result = "未发现问题" if not findings else f"发现 {findings} 项问题"
        rectification = RECTIFICATION_NAMES.get(order_status, "—") if order_status else (
            "无需整改" if not findings else "当场整改")
        lines.append(InspectionLine(started_at.date(), TASK_KIND_NAMES.get(kind, "日常监督检查") if kind else
                                    "日常监督检查", result, rectification))
    return lines


def _commitment(signed: CommitmentLetter | None) -> CommitmentInfo | None:
    if signed is None:
        return None
    return CommitmentInfo(signed.letter_version, signed.signer_name, china_date(signed.signed_at), signed.text,
                          signed.text_sha256[:16])


def load_page(session: Session, establishment_id: int, *, today: date, policy_roots: list) -> PlatePage:
    # The latest commitment signature rides along in the same statement (the page's query budget).
    newest_signature = (select(func.max(CommitmentLetter.id))
                        .where(CommitmentLetter.establishment_id == establishment_id).scalar_subquery())
    establishment, signed = session.execute(
        select(Establishment, CommitmentLetter).where(Establishment.id == establishment_id)
        .outerjoin(CommitmentLetter, CommitmentLetter.id == newest_signature)
        .options(joinedload(Establishment.licences), joinedload(Establishment.category),
                 joinedload(Establishment.jurisdiction))).unique().one()
    policies = policies_for(session, policy_roots)
    return PlatePage(establishment, _grade(session, establishment), list_status(session, establishment.subject_id, today),
                     _penalties(session, establishment, today, policies), _inspections(session, establishment), today,
                     _commitment(signed))
