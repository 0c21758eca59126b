"""Early warning (信用预警, seed 001 §三(二)): establishments whose credit is deteriorating,
each with the reasons, for supervisors. Rules are policy data (kind `early_warning`):

- the score fell by more than `score_drop` between its last two published years;
- `failed_inspections` or more inspections with a general or serious finding within
  `failed_within_months`;
- `overdue_rectifications` or more open rectification orders past their deadline;
- `complaints` or more substantiated complaints (adverse records, code
  `complaint_substantiated`) within `complaints_within_months`.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supervision import audit
from supervision.credit import lifecycle_rules  # noqa: F401  (registers the policy kinds)
from supervision.credit.calendar import add_months
from supervision.credit.lists import establishments_in_scope, published_grades
from supervision.credit.models import CreditRecord
from supervision.credit.policies import Policies
from supervision.inspections.models import RectificationOrder
from supervision.registry.models import Establishment

KIND = "early_warning"
COUNTING = ("effective", "under_objection")


@dataclass
class Warning:
    establishment: Establishment
    reasons: list[tuple[str, str]]  # (rule key, Chinese text)


def _counts(session: Session, ids: list[int], *conditions) -> Counter:
    if not ids:
        return Counter()
    rows = session.execute(select(CreditRecord.subject_id, func.count()).where(
        CreditRecord.subject_id.in_(ids), CreditRecord.status.in_(COUNTING), CreditRecord.superseded_at.is_(None),
        *conditions).group_by(CreditRecord.subject_id)).all()
    return Counter(dict(rows))


def warnings(session: Session, actor: audit.Actor, *, on: date, jurisdiction: str | None = None,
             policies: Policies | None = None) -> list[Warning]:
    policies = policies or Policies.current(session)
    establishments = establishments_in_scope(session, actor, jurisdiction)
    if not establishments:
        return []
    # Rules resolve per establishment (its jurisdiction's policy); the counts are read once per
    # distinct window, for all establishments at once.
    rules_of = {e.id: policies.resolve(KIND, e.jurisdiction_id, on).value for e in establishments}
    subject_ids = [e.subject_id for e in establishments]
    grades = published_grades(session, subject_ids)
    overdue = Counter(dict(session.execute(select(RectificationOrder.establishment_id, func.count()).where(
        RectificationOrder.status == "open", RectificationOrder.deadline < on,
        RectificationOrder.establishment_id.in_([e.id for e in establishments]))
        .group_by(RectificationOrder.establishment_id)).all()))
    failed_cache: dict[int, Counter] = {}
    complaint_cache: dict[int, Counter] = {}
    result = []
    for e in establishments:
        rules = rules_of[e.id]
        reasons = []
        years = grades.get(e.subject_id, {})
        if len(years) >= 2:
            latest, previous = sorted(years)[-1], sorted(years)[-2]
            drop = years[previous].score - years[latest].score
            if drop > rules.score_drop:
                reasons.append(("score_drop", f"信用分由 {previous} 年度 {years[previous].score} 降至 {latest} 年度 "
                                              f"{years[latest].score}（下降 {drop}，超过 {rules.score_drop}）"))
        if rules.failed_within_months not in failed_cache:
            since = add_months(on, -rules.failed_within_months)
            failed_cache[rules.failed_within_months] = _counts(
                session, subject_ids, CreditRecord.kind == "inspection",
                CreditRecord.severity.in_(("general", "serious")), CreditRecord.arose_on > since,
                CreditRecord.arose_on <= on)
        failed = failed_cache[rules.failed_within_months][e.subject_id]
        if failed >= rules.failed_inspections:
            reasons.append(("failed_inspections", f"{rules.failed_within_months} 个月内 {failed} 次检查发现较重问题"))
        if overdue[e.id] >= rules.overdue_rectifications:
            reasons.append(("overdue_rectifications", f"{overdue[e.id]} 份整改通知逾期未整改"))
        if rules.complaints_within_months not in complaint_cache:
            since = add_months(on, -rules.complaints_within_months)
            complaint_cache[rules.complaints_within_months] = _counts(
                session, subject_ids, CreditRecord.kind == "adverse", CreditRecord.code == "complaint_substantiated",
                CreditRecord.arose_on > since, CreditRecord.arose_on <= on)
        complaints = complaint_cache[rules.complaints_within_months][e.subject_id]
        if complaints >= rules.complaints:
            reasons.append(("complaints", f"{rules.complaints_within_months} 个月内投诉举报查实 {complaints} 次"))
        if reasons:
            result.append(Warning(e, reasons))
    return result
