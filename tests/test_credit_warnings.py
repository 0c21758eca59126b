"""Early warning rules and interview escalation."""
import json
from datetime import date

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
