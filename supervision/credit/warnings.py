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

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from supervision import audit
from supervision.credit import lifecycle_rules  # noqa: F401  (registers the policy kinds)
from supervision.credit.calendar import add_months
from supervision.credit.grading.models import Grade, GradingRun
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


def _rule_key(rules) -> tuple:
    return (rules.score_drop, rules.failed_inspections, rules.failed_within_months, rules.overdue_rectifications,
            rules.complaints, rules.complaints_within_months)


def flagged_establishment_ids(session: Session, jurisdiction_ids: list[int], on: date, *,
                              policies: Policies | None = None) -> set[int]:
    """The ids of the establishments of these jurisdictions that `warnings()` lists on `on` (the
    same rules, the same answer), computed set-based for a draw of up to a million: the
    jurisdictions are grouped by their resolved rules, and each group is read with one
    GROUP BY … HAVING query per rule; no establishment is loaded as an object."""
    if not jurisdiction_ids:
        return set()
    policies = policies or Policies.current(session)
    groups: dict[tuple, tuple[object, list[int]]] = {}
    for jid in jurisdiction_ids:
        rules = policies.resolve(KIND, jid, on).value
        groups.setdefault(_rule_key(rules), (rules, []))[1].append(jid)
    E = Establishment
    flagged: set[int] = set()
    # A fall needs two published years; with fewer, nobody can have one (a cheap exact check).
    two_years = session.execute(select(func.count(func.distinct(GradingRun.year)))
                                .where(GradingRun.status == "published")).scalar() >= 2
    for rules, jids in groups.values():
        in_scope = (E.status == "active", E.jurisdiction_id.in_(jids))

        def at_least(threshold: int, query) -> None:
            # A threshold of 0 or less flags every establishment, counted or not (as warnings() does).
            if threshold <= 0:
                flagged.update(session.execute(select(E.id).where(*in_scope)).scalars())
            else:
                flagged.update(session.execute(query.having(func.count() >= threshold)).scalars())

        def records(*conditions):
            return (select(E.id).join(CreditRecord, CreditRecord.subject_id == E.subject_id)
                    .where(*in_scope, CreditRecord.status.in_(COUNTING), CreditRecord.superseded_at.is_(None),
                           *conditions).group_by(E.id))

        # The score drop: each year's newest publication, then the last two years compared.
        per_year = func.row_number().over(partition_by=(Grade.subject_id, GradingRun.year),
                                          order_by=(GradingRun.published_at.desc(), GradingRun.id.desc()))
        yearly = (select(Grade.subject_id.label("subject_id"), GradingRun.year.label("year"),
                         Grade.score.label("score"), per_year.label("rn"))
                  .join(GradingRun, GradingRun.id == Grade.run_id)
                  .where(GradingRun.status == "published", Grade.subject_id.in_(select(E.subject_id).where(*in_scope)))
                  .subquery())
        newest = func.row_number().over(partition_by=yearly.c.subject_id, order_by=yearly.c.year.desc())
        ranked = (select(yearly.c.subject_id, yearly.c.score, newest.label("yr"))
                  .where(yearly.c.rn == 1).subquery())
        latest = func.max(case((ranked.c.yr == 1, ranked.c.score)))
        previous = func.max(case((ranked.c.yr == 2, ranked.c.score)))
        dropped = (select(ranked.c.subject_id).where(ranked.c.yr <= 2).group_by(ranked.c.subject_id)
                   .having(func.count() == 2, previous - latest > rules.score_drop).subquery())
        if two_years:
            flagged.update(session.execute(select(E.id).where(*in_scope, E.subject_id.in_(select(dropped.c.subject_id))))
                           .scalars())

        since = add_months(on, -rules.failed_within_months)
        at_least(rules.failed_inspections, records(
            CreditRecord.kind == "inspection", CreditRecord.severity.in_(("general", "serious")),
            CreditRecord.arose_on > since, CreditRecord.arose_on <= on))
        at_least(rules.overdue_rectifications, select(E.id).join(RectificationOrder, RectificationOrder.establishment_id == E.id)
                 .where(*in_scope, RectificationOrder.status == "open", RectificationOrder.deadline < on).group_by(E.id))
        since = add_months(on, -rules.complaints_within_months)
        at_least(rules.complaints, records(
            CreditRecord.kind == "adverse", CreditRecord.code == "complaint_substantiated",
            CreditRecord.arose_on > since, CreditRecord.arose_on <= on))
    return flagged
