"""Early warning rules and interview escalation."""
import json
from datetime import date, datetime

from sqlalchemy import select

from supervision.credit.lifecycle_models import Interview
from supervision.extensions import db
from supervision.inspections.models import Task
from tests import credit_factory as credit
from tests.lifecycle_support import establishment, ok, publish_year, refused

URL = "/api/v1/inspections"
FAILING = [{"item_code": "T01", "result": "fail"}, {"item_code": "T02", "result": "pass"},
           {"item_code": "T03", "number": 0.05}]


def warned(runner, on="2026-06-01") -> dict:
    out = ok(runner, "warnings", "list", "--on", on, "--json")
    return {w["credit_code"]: [r["rule"] for r in w["reasons"]] for w in json.loads(out.strip().splitlines()[-1])}


def test_a_score_that_fell_by_more_than_the_limit_is_warned(runner, app):
    est = establishment()
    credit.record(est.subject_id, "penalty", code="fine", severity="general", arose_on=date(2025, 3, 1))
    publish_year(runner, 2024)  # 90
    publish_year(runner, 2025)  # 75: fell by 15 > 10
    assert warned(runner) == {est.credit_code: ["score_drop"]}


def test_a_fall_within_the_limit_is_not_warned(runner, app):
    est = establishment()
    credit.record(est.subject_id, "penalty", code="fine", severity="minor", arose_on=date(2025, 3, 1))
    publish_year(runner, 2024)
    publish_year(runner, 2025)  # fell by 5
    assert warned(runner) == {}


def test_failed_inspections_within_twelve_months_are_warned(runner, app):
    est = establishment()
    credit.record(est.subject_id, "inspection", severity="general", arose_on=date(2025, 6, 2))
    credit.record(est.subject_id, "inspection", severity="serious", arose_on=date(2026, 1, 5))
    assert warned(runner, "2026-06-01") == {est.credit_code: ["failed_inspections"]}
    assert warned(runner, "2026-06-02") == {}  # the first has left the 12 months


def test_substantiated_complaints_are_warned(runner, app):
    est = establishment()
    credit.record(est.subject_id, "adverse", code="complaint_substantiated", severity="general",
                  arose_on=date(2026, 5, 1))
    out = ok(runner, "warnings", "list", "--on", "2026-06-01")
    assert "预警单位 1 家" in out and "投诉举报查实 1 次" in out


def test_overdue_rectification_orders_are_warned(runner, client, field):
    client.post(URL, json=field.submission(answers=FAILING), headers=field.headers)  # deadline 2026-11-27
    assert warned(runner, "2026-11-27") == {}
    assert warned(runner, "2026-11-28") == {field.establishment.credit_code: ["overdue_rectifications"]}


def test_a_missed_deadline_schedules_a_reminder_then_a_warning_interview(runner, client, field):
    client.post(URL, json=field.submission(answers=FAILING), headers=field.headers)  # deadline 2026-11-27
    assert "提示约谈 0 次" in ok(runner, "interviews", "schedule", "--on", "2026-11-27")
    assert "提示约谈 1 次，警示约谈 0 次" in ok(runner, "interviews", "schedule", "--on", "2026-11-30")
    reminder = db.session.execute(select(Interview)).scalar_one()
    assert (reminder.level, reminder.rectify_by) == ("reminder", date(2026, 12, 14))  # 10 working days
    task = db.session.get(Task, reminder.task_id)
    assert (task.kind, task.grid_id, task.status) == ("interview", field.establishment.grid_id, "open")
    assert "提示约谈" in task.note
    assert "提示约谈 0 次，警示约谈 0 次" in ok(runner, "interviews", "schedule", "--on", "2026-12-14")
    assert "提示约谈 0 次，警示约谈 1 次" in ok(runner, "interviews", "schedule", "--on", "2026-12-15")
    assert "警示约谈 0 次" in ok(runner, "interviews", "schedule", "--on", "2026-12-16")  # once
    levels = db.session.execute(select(Interview.level).order_by(Interview.id)).scalars().all()
    assert levels == ["reminder", "warning"]


def test_recording_the_outcome_closes_the_interview_task(runner, client, field):
    client.post(URL, json=field.submission(answers=FAILING), headers=field.headers)
    ok(runner, "interviews", "schedule", "--on", "2026-11-30")
    interview = db.session.execute(select(Interview)).scalar_one()
    ok(runner, "interviews", "record", interview.id, "--outcome", "负责人到场，承诺三日内整改", "--by", "张科长")
    db.session.refresh(interview)
    assert interview.outcome == "负责人到场，承诺三日内整改" and interview.recorded_by == "张科长"
    assert db.session.get(Task, interview.task_id).status == "done"
    assert "已记录" in refused(runner, "interviews", "record", interview.id, "--outcome", "again", "--by", "张科长")


def test_the_interview_task_reaches_the_grid_s_terminals(runner, client, field):
    client.post(URL, json=field.submission(answers=FAILING), headers=field.headers)
    ok(runner, "interviews", "schedule", "--on", "2026-11-30")
    interview = db.session.execute(select(Interview)).scalar_one()
    body = client.get("/api/v1/sync/bootstrap", headers=field.headers).get_json()
    assert interview.task_id in [t["id"] for t in body["tasks"]]


def test_the_set_based_list_gives_the_same_answer_as_warnings(client, field, tmp_path):
    """Every rule fires, a second district has rules of its own, and the near misses (a fall
    within the limit, a single failed inspection, a complaint outside the window, a closed
    establishment) stay off both."""
    from pathlib import Path

    from sqlalchemy import update

    from supervision import audit
    from supervision.credit.grading import current
    from supervision.credit.grading.models import Grade, GradingRun
    from supervision.credit.policies import Policies
    from supervision.credit.warnings import flagged_establishment_ids, warnings
    from supervision.registry.models import Establishment, Jurisdiction
    from tests import factories

    client.post(URL, json=field.submission(answers=FAILING), headers=field.headers)  # overdue from 2026-11-28
    other = factories.jurisdiction(code="320105", name="建邺区")
    dropped, kept, failed, once, complained, old_complaint, closed, twice = [
        establishment(name=f"预警单位{n}") for n in range(8)]
    moved = establishment(name="预警单位他区一次", district="320105")
    moved_twice = establishment(name="预警单位他区两次", district="320105")
    for year, scores in ((2024, {dropped: 90, kept: 90}), (2025, {dropped: 70, kept: 85})):
        run = GradingRun(year=year, status="draft", data_as_of=datetime(year + 1, 1, 1), counts={}, created_by="test")
        db.session.add(run)
        db.session.flush()
        db.session.add_all([Grade(run_id=run.id, subject_id=e.subject_id, establishment_id=e.id, score=s, grade="B",
                                  policy_id=0) for e, s in scores.items()])
        db.session.flush()
        db.session.execute(update(GradingRun).where(GradingRun.id == run.id).values(
            status="published", published_at=datetime(year + 1, 1, 10)))
        current.refresh(db.session, [run.id])
    for est in (failed, failed, once):
        credit.record(est.subject_id, "inspection", severity="general", arose_on=date(2026, 9, 1))
    for est, on in ((complained, date(2026, 10, 1)), (old_complaint, date(2025, 1, 1)), (closed, date(2026, 10, 1)),
                    (moved, date(2026, 10, 1)), (moved_twice, date(2026, 10, 1)), (moved_twice, date(2026, 10, 2))):
        credit.record(est.subject_id, "adverse", code="complaint_substantiated", severity="general", arose_on=on)
    db.session.execute(update(Establishment).where(Establishment.id == closed.id).values(status="closed"))
    rules = Path("supervision/policy/data/early_warning/default/2020-01-01.toml").read_text(encoding="utf-8")
    own = tmp_path / "early_warning" / "320105"
    own.mkdir(parents=True)
    (own / "2020-01-01.toml").write_text(rules.replace("complaints = 1 ", "complaints = 2 "), encoding="utf-8")
    on = date(2026, 12, 1)
    policies = Policies(db.session, [tmp_path])
    listed = {w.establishment.id for w in warnings(db.session, audit.Actor.system("test"), on=on, policies=policies)}
    ids = list(db.session.execute(select(Jurisdiction.id)).scalars())
    assert listed == {dropped.id, failed.id, complained.id, field.establishment.id, moved_twice.id}
    assert flagged_establishment_ids(db.session, ids, on, policies=Policies(db.session, [tmp_path])) == listed
