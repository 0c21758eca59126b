"""The current grade of a subject, and the table that holds it (`GradeInForce`).

The rule, stated once here: a subject's current grade is its grade in the published run of
the newest year; among publications of that year, the newest publication (a partial run from an
upheld objection supersedes the year's run for its subjects only); then the newest run.
`refresh` applies it in the database for the subjects of the runs whose publication changed,
in the transaction that changes it, so every reader (`current_grades`, the draw's candidate
join) reads one row per subject instead of ranking every publication.

Transaction rule as everywhere: nothing here commits; the caller's unit of work does.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import delete, except_, func, insert, select
from sqlalchemy.orm import Session

from supervision.credit.grading.models import Grade, GradeInForce, GradingRun


@dataclass(frozen=True)
class CurrentGrade:
    subject_id: int
    grade: str
    score: int
    year: int
    run_id: int
    grade_id: int


_COLUMNS = ("subject_id", "grade_id", "run_id", "year", "score", "grade")


def ranked_latest(subjects=None):
    """The rule as a query: per subject (of the selectable `subjects`, or all), the values of
    its current grade, in `_COLUMNS` order."""
    rank = func.row_number().over(
        partition_by=Grade.subject_id,
        order_by=(GradingRun.year.desc(), GradingRun.published_at.desc(), GradingRun.id.desc()))
    ranked = (select(Grade.subject_id, Grade.id.label("grade_id"), Grade.run_id, GradingRun.year, Grade.score,
                     Grade.grade, rank.label("rn"))
              .join(GradingRun, GradingRun.id == Grade.run_id).where(GradingRun.status == "published"))
    if subjects is not None:
        ranked = ranked.where(Grade.subject_id.in_(subjects))
    ranked = ranked.subquery()
    return select(*(ranked.c[c] for c in _COLUMNS)).where(ranked.c.rn == 1)


def refresh(session: Session, run_ids: Iterable[int]) -> None:
    """Re-derive the current grade of every subject graded in these runs, after their status
    changed (published, superseded): their rows are replaced by what the rule gives now, which
    may be a grade of another run, or none. Two statements whatever the number of subjects."""
    ids = sorted(set(run_ids))
    if not ids:
        return
    session.flush()  # the runs' new status must be visible to the statements below
    subjects = select(Grade.subject_id).where(Grade.run_id.in_(ids))
    session.execute(delete(GradeInForce).where(GradeInForce.subject_id.in_(subjects)),
                    execution_options={"synchronize_session": False})
    session.execute(insert(GradeInForce).from_select(list(_COLUMNS), ranked_latest(subjects)))


def disagreements(session: Session, run_ids: Iterable[int]) -> list[int]:
    """The subjects graded in these runs whose row in `grades_in_force` is not what the rule
    gives (edited, missing, or left behind): `grade verify` reports them. Empty when the table
    is as `refresh` keeps it."""
    ids = sorted(set(run_ids))
    if not ids:
        return []
    subjects = select(Grade.subject_id).where(Grade.run_id.in_(ids))
    g = GradeInForce
    table = select(*(getattr(g, c) for c in _COLUMNS)).where(g.subject_id.in_(subjects))
    rule = ranked_latest(subjects)
    wrong = set(session.execute(select(except_(rule, table).subquery().c.subject_id)).scalars())
    wrong |= set(session.execute(select(except_(table, rule).subquery().c.subject_id)).scalars())
    return sorted(wrong)


def current_grades(session: Session, subject_ids: Iterable[int]) -> dict[int, CurrentGrade]:
    """The current grade of each of these subjects that has one: one query whatever their number."""
    ids = sorted(set(subject_ids))
    if not ids:
        return {}
    g = GradeInForce
    rows = session.execute(select(g.subject_id, g.grade, g.score, g.year, g.run_id, g.grade_id)
                           .where(g.subject_id.in_(ids))).all()
    return {row[0]: CurrentGrade(*row) for row in rows}


def current_grade(session: Session, subject_id: int) -> CurrentGrade | None:
    return current_grades(session, [subject_id]).get(subject_id)
