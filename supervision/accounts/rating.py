"""'My rating' for an establishment's own account: the current grade and score, the policy
thresholds around it, the grades by year, the explanation record by record, and what would
change it (when each counting record stops counting, when a repair may be applied for)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from supervision import policy
from supervision.accounts.service import own_establishment
from supervision.audit.actor import Actor
from supervision.credit.calendar import china_today
from supervision.credit.grading import explain as explaining
from supervision.credit.grading import policy as grading_policy
from supervision.credit.grading.models import Grade, GradingRun, GradingRunPolicy
from supervision.credit.grading.policy import GRADES
from supervision.credit.models import CreditRecord
from supervision.credit.records import subject_records
from supervision.registry.models import Establishment


@dataclass(frozen=True)
class Threshold:
    grade: str
    lowest_score: int | None  # None for E: below D's lowest


@dataclass(frozen=True)
class Change:
    """What would change one counting record's effect."""

    record_id: int
    title: str
    points: int
    rule_text: str
    last_counted_year: int | None  # the last grading year the record counts in
    public_until: date | None
    repair_from: date | None


@dataclass
class MyRating:
    establishment: Establishment
    explanation: explaining.Explanation | None
    thresholds: list[Threshold] = field(default_factory=list)
    next_better: Threshold | None = None  # the grade above, and the score it needs
    history: list[tuple[int, str, int]] = field(default_factory=list)  # (year, grade, score), newest first
    changes: list[Change] = field(default_factory=list)


def my_rating(session: Session, actor: Actor, establishment_id: int, *, on: date | None = None) -> MyRating:
    establishment = own_establishment(session, actor, establishment_id)
    on = on or china_today()
    grade = explaining.find_grade(session, establishment.subject_id)
    if grade is None:
        return MyRating(establishment, None)
    explanation = explaining.explain(session, actor, establishment, run_id=grade.run_id)
    own = session.get(GradingRunPolicy, grade.policy_id)
    rules = policy.parse(grading_policy.KIND, own.text, path=own.path, jurisdiction=own.jurisdiction,
                         effective_from=own.effective_from).value
    thresholds = [Threshold(g, rules.thresholds.get(g)) for g in GRADES]
    position = GRADES.index(grade.grade)
    next_better = thresholds[position - 1] if position > 0 else None
    history = [(year, g, score) for year, g, score in session.execute(
        select(GradingRun.year, Grade.grade, Grade.score).join(GradingRun, GradingRun.id == Grade.run_id)
        .where(Grade.subject_id == establishment.subject_id, GradingRun.status == "published")
        .order_by(GradingRun.year.desc(), GradingRun.published_at.desc())).all()]
    seen: set[int] = set()
    history = [h for h in history if not (h[0] in seen or seen.add(h[0]))]  # the newest publication of each year
    publicity = {view.record.id: view.publicity
                 for view in subject_records(session, actor, establishment.subject_id, on=on)}
    changes = []
    for contribution in explanation.contributions:
        record = session.get(CreditRecord, contribution.record_id)
        window = rules.windows.get(record.kind)
        shown = publicity.get(record.id)  # None: superseded since the grade was computed
        changes.append(Change(record.id, record.title, contribution.points, contribution.rule_text,
                              record.arose_on.year + window - 1 if window else None,
                              shown.public_until if shown is not None and shown.public else None,
                              shown.repair_from if shown is not None else None))
    return MyRating(establishment, explanation, thresholds, next_better, history, changes)
