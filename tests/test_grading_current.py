"""The current grade (`grades_in_force`): kept by publication and supersession, equal to the
rule (newest year, then newest publication, then newest run) whatever the history."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text, update

from supervision.credit.grading import current, current_grades, runs
from supervision.credit.grading.models import Grade, GradeInForce, GradingRun
from supervision.extensions import db
from tests import factories


@pytest.fixture
def subjects(app):
    factories.jurisdiction()
    return [factories.establishment(name=f"现行等级单位{n}") for n in range(3)]


def graded_run(grades: dict, year: int, status: str = "approved", supersedes: GradingRun | None = None,
               published_at: datetime | None = None) -> GradingRun:
    """A run of `year` holding these grades, in `status` (inserted directly, as the engine
    would leave it: the engine itself is tested elsewhere)."""
    run = GradingRun(year=year, status="draft", data_as_of=datetime(year + 1, 1, 1), counts={}, created_by="test",
                     supersedes_id=supersedes.id if supersedes else None)
    db.session.add(run)
    db.session.flush()
    db.session.add_all([Grade(run_id=run.id, subject_id=e.subject_id, establishment_id=e.id, score=score, grade=g,
                              policy_id=0) for e, (g, score) in grades.items()])
    db.session.flush()
    db.session.execute(update(GradingRun).where(GradingRun.id == run.id).values(status=status, published_at=published_at))
    db.session.expire(run)
    return run


def publish(run: GradingRun) -> None:
    runs.publish(db.session, factories.ACTOR, run.id, by="李所长")


def in_force() -> dict[int, tuple[str, int]]:
    return {s: (g, r) for s, g, r in db.session.execute(select(GradeInForce.subject_id, GradeInForce.grade,
                                                                GradeInForce.run_id))}


def by_the_rule() -> dict[int, tuple[str, int]]:
    """The rule computed here, independently of the table and of its SQL."""
    rows = db.session.execute(select(Grade.subject_id, Grade.grade, GradingRun.id, GradingRun.year,
                                     GradingRun.published_at)
                              .join(GradingRun, GradingRun.id == Grade.run_id)
                              .where(GradingRun.status == "published")).all()
    best: dict[int, tuple] = {}
    for subject, grade, run_id, year, published_at in rows:
        rank = (year, published_at, run_id)
        if subject not in best or rank > best[subject][0]:
            best[subject] = (rank, (grade, run_id))
    return {s: value for s, (_, value) in best.items()}


def test_publishing_makes_the_runs_grades_current_and_an_approved_run_is_nobodys(subjects):
    a, b, _ = subjects
    run = graded_run({a: ("A", 95), b: ("C", 70)}, 2025)
    assert in_force() == {}
    publish(run)
    assert in_force() == {a.subject_id: ("A", run.id), b.subject_id: ("C", run.id)}
    got = current_grades(db.session, [a.subject_id, b.subject_id, subjects[2].subject_id])
    assert (got[a.subject_id].score, got[a.subject_id].year) == (95, 2025) and subjects[2].subject_id not in got


def test_an_older_year_published_later_does_not_replace_a_newer_years_grade(subjects):
    a, b, _ = subjects
    newer = graded_run({a: ("B", 85)}, 2025)
    publish(newer)
    older = graded_run({a: ("E", 30), b: ("D", 50)}, 2024)
    publish(older)
    assert in_force() == {a.subject_id: ("B", newer.id), b.subject_id: ("D", older.id)} == by_the_rule()


def test_superseding_a_run_falls_back_to_the_previous_year_for_subjects_the_new_run_leaves_out(subjects):
    a, b, c = subjects
    publish(graded_run({a: ("B", 85), b: ("B", 85)}, 2024))
    old = graded_run({a: ("C", 70), b: ("C", 70), c: ("A", 95)}, 2025)
    publish(old)
    new = graded_run({a: ("A", 92)}, 2025, supersedes=old)
    publish(new)
    assert db.session.get(GradingRun, old.id).status == "superseded"
    assert in_force()[a.subject_id] == ("A", new.id)
    assert in_force()[b.subject_id][0] == "B"  # back to its 2024 grade
    assert c.subject_id not in in_force()  # graded only by the superseded run
    assert in_force() == by_the_rule()


def test_a_partial_publication_changes_only_its_subjects(subjects):
    a, b, _ = subjects
    run = graded_run({a: ("C", 70), b: ("C", 70)}, 2025)
    publish(run)
    later = db.session.get(GradingRun, run.id).published_at + timedelta(days=1)
    partial = graded_run({a: ("B", 80)}, 2025, status="published", published_at=later)
    current.refresh(db.session, [partial.id])  # what regrade_subjects does after publishing it
    assert in_force() == {a.subject_id: ("B", partial.id), b.subject_id: ("C", run.id)} == by_the_rule()


def test_an_upheld_objection_keeps_the_table_equal_to_the_rule(subjects):
    from tests import credit_factory as credit

    a, b, _ = subjects
    credit.record(a.subject_id, "penalty", code="fine", severity="general", arose_on=datetime(2025, 3, 1).date())
    result = runs.run_grading(db.session, factories.ACTOR, year=2025, by="张主任")
    runs.approve(db.session, factories.ACTOR, result.run.id, by="张主任")
    runs.publish(db.session, factories.ACTOR, result.run.id, by="李所长")
    before = in_force()
    new_runs = runs.regrade_subjects(db.session, factories.ACTOR, [a.subject_id], reason="异议成立", by="张主任")
    assert len(new_runs) == 1
    after = in_force()
    assert after[a.subject_id][1] == new_runs[0].id and after[b.subject_id] == before[b.subject_id]
    assert after == by_the_rule()


def test_the_migration_fills_the_table_from_the_published_runs(fresh_app):
    from flask_migrate import downgrade, upgrade

    directory = fresh_app.extensions["migrate"].directory
    downgrade(directory=directory, revision="e18c4d2a7f60")
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO grading_runs (id, year, status, data_as_of, counts, created_by, created_at, published_at) VALUES "
            "(1, 2024, 'published', '2025-01-01', '{}', 't', '2025-01-01', '2025-01-10'), "
            "(2, 2025, 'published', '2026-01-01', '{}', 't', '2026-01-01', '2026-01-10'), "
            "(3, 2025, 'draft', '2026-02-01', '{}', 't', '2026-02-01', NULL), "
            "(4, 2025, 'superseded', '2026-01-01', '{}', 't', '2026-01-01', '2026-01-05')"))
        conn.execute(text(
            "INSERT INTO grades (id, run_id, subject_id, score, grade, policy_id) VALUES "
            "(1, 1, 10, 80, 'B', 0), (2, 1, 11, 60, 'D', 0), (3, 2, 10, 90, 'A', 0), (4, 3, 11, 95, 'A', 0), "
            "(5, 4, 12, 70, 'C', 0)"))
    upgrade(directory=directory)
    rows = db.session.execute(select(GradeInForce.subject_id, GradeInForce.grade_id, GradeInForce.run_id,
                                     GradeInForce.year, GradeInForce.score, GradeInForce.grade)
                              .order_by(GradeInForce.subject_id)).all()
    assert [tuple(r) for r in rows] == [(10, 3, 2, 2025, 90, "A"), (11, 2, 1, 2024, 60, "D")]


@pytest.mark.parametrize("tamper", [
    "UPDATE grades_in_force SET grade = 'A' WHERE subject_id = :s",
    "DELETE FROM grades_in_force WHERE subject_id = :s",
], ids=["edited", "removed"])
def test_grade_verify_names_a_current_grade_that_disagrees_with_the_rule(runner, subjects, tamper):
    a, b, _ = subjects
    run = runs.run_grading(db.session, factories.ACTOR, year=2025, by="张主任").run
    runs.approve(db.session, factories.ACTOR, run.id, by="张主任")
    runs.publish(db.session, factories.ACTOR, run.id, by="李所长")
    assert current.disagreements(db.session, [run.id]) == []
    db.session.execute(text(tamper), {"s": b.subject_id})
    assert current.disagreements(db.session, [run.id]) == [b.subject_id]
    result = runner.invoke(args=["grade", "verify", str(run.id)])
    assert result.exit_code == 1 and "现行等级表中 1 个信用主体" in result.output and str(b.subject_id) in result.output


def test_a_row_left_behind_for_a_superseded_run_is_a_disagreement(subjects):
    a, b, _ = subjects
    old = graded_run({a: ("C", 70), b: ("C", 70)}, 2025)
    publish(old)
    new = graded_run({a: ("B", 80)}, 2025, supersedes=old)
    publish(new)
    db.session.execute(text("INSERT INTO grades_in_force (subject_id, grade_id, run_id, year, score, grade) "
                            "SELECT subject_id, id, run_id, 2025, score, grade FROM grades WHERE run_id = :r "
                            "AND subject_id = :s"), {"r": old.id, "s": b.subject_id})
    assert current.disagreements(db.session, [old.id]) == [b.subject_id]
