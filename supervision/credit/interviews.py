"""Interviews (约谈, seed 000 §三(三)) after a missed rectification deadline.

An open rectification order past its deadline schedules a reminder interview (提示约谈) with a
new deadline of working days (policy kind `early_warning`, `interview_rectify_working_days`);
if the order is still open after that deadline, a warning interview (警示约谈). Each interview
is a task of kind "interview" for the establishment's grid, so it reaches the terminals through
sync; its outcome is recorded and closes the task. Idempotent: one interview per order and
level (a unique key), so the job is safe to run daily.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from supervision import audit
from supervision.credit import lifecycle_rules  # noqa: F401  (registers the policy kinds)
from supervision.credit import records
from supervision.credit.calendar import CalendarGap, WorkingDays
from supervision.credit.lifecycle_models import Interview
from supervision.credit.policies import Policies
from supervision.errors import Conflict, NotFound, ValidationFailed
from supervision.inspections.models import RectificationOrder, Task
from supervision.modelbase import utcnow
from supervision.registry.models import Establishment

LEVEL_NAMES = {"reminder": "提示约谈", "warning": "警示约谈"}


@dataclass
class ScheduleReport:
    reminders: list[Interview] = field(default_factory=list)
    warnings: list[Interview] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)  # deadlines the calendar could not count


def _schedule(session: Session, actor: audit.Actor, order: RectificationOrder, level: str, on: date,
              days: int, workdays: WorkingDays, report: ScheduleReport) -> Interview | None:
    establishment = session.get(Establishment, order.establishment_id)
    try:
        rectify_by = workdays.add(on, days)
    except CalendarGap as gap:
        report.flagged.append(f"整改通知 {order.id}：{gap}")
        rectify_by = None
    note = (f"{LEVEL_NAMES[level]}：整改通知 {order.id}（整改期限 {order.deadline.isoformat()}）逾期未整改"
            + (f"，约谈后须于 {rectify_by.isoformat()} 前完成整改" if rectify_by else ""))
    task = Task(establishment_id=establishment.id, grid_id=establishment.grid_id, kind="interview", status="open",
                due_on=on, note=note)
    session.add(task)
    session.flush()
    audit.record(session, actor, "task.create", task)
    interview = Interview(rectification_order_id=order.id, establishment_id=establishment.id, level=level,
                          task_id=task.id, scheduled_on=on, rectify_by=rectify_by)
    session.add(interview)
    session.flush()
    audit.record(session, actor, "interview.schedule", interview)
    return interview


def schedule(session: Session, actor: audit.Actor, *, on: date, policies: Policies | None = None) -> ScheduleReport:
    """Schedule the reminder interviews for open orders past their deadline, and the warning
    interviews for those still open after the reminder's deadline."""
    policies = policies or Policies.current(session)
    workdays = WorkingDays(session)
    report = ScheduleReport()
    reminded = {i.rectification_order_id: i for i in session.execute(select(Interview)).scalars()
                if i.level == "reminder"}
    warned = set(session.execute(select(Interview.rectification_order_id).where(Interview.level == "warning")).scalars())
    orders = session.execute(select(RectificationOrder).where(RectificationOrder.status == "open",
                                                              RectificationOrder.deadline < on)
                             .order_by(RectificationOrder.id)).scalars().all()
    for order in orders:
        establishment = session.get(Establishment, order.establishment_id)
        if not actor.covers(establishment.jurisdiction_id):
            continue
        days = policies.resolve("early_warning", establishment.jurisdiction_id, on).value.interview_rectify_working_days
        reminder = reminded.get(order.id)
        if reminder is None:
            report.reminders.append(_schedule(session, actor, order, "reminder", on, days, workdays, report))
        elif order.id not in warned and reminder.rectify_by is not None and reminder.rectify_by < on:
            report.warnings.append(_schedule(session, actor, order, "warning", on, days, workdays, report))
    return report


def get(session: Session, actor: audit.Actor, interview_id: int) -> Interview:
    interview = session.get(Interview, interview_id)
    if interview is None or not actor.covers(session.get(Establishment, interview.establishment_id).jurisdiction_id):
        raise NotFound("约谈不存在", fields={"interview_id": ["不存在"]})
    return interview


def record_outcome(session: Session, actor: audit.Actor, interview_id: int, *, outcome: str,
                   by: str | None = None) -> Interview:
    outcome = (outcome or "").strip()
    if not outcome:
        raise ValidationFailed(fields={"outcome": ["请填写约谈结果"]})
    if len(outcome) > 2000:
        raise ValidationFailed(fields={"outcome": ["约谈结果不能超过 2000 字"]})
    interview = get(session, actor, interview_id)
    if interview.outcome is not None:
        raise Conflict("该约谈结果已记录", code="already_recorded")
    before = interview.audit_snapshot()
    interview.outcome, interview.recorded_by, interview.recorded_at = outcome, by or actor.ref, utcnow()
    audit.record(session, records.named(actor, by), "interview.outcome", interview, before=before)
    task = session.get(Task, interview.task_id)
    if task.status == "open":
        task_before = task.audit_snapshot()
        task.status, task.closed_at = "done", utcnow()
        audit.record(session, actor, "task.close", task, before=task_before)
    return interview


def listing(session: Session, actor: audit.Actor, *, open_only: bool = False) -> list[Interview]:
    query = select(Interview).order_by(Interview.id)
    if open_only:
        query = query.where(Interview.outcome.is_(None))
    rows = session.execute(query).scalars().all()
    return [i for i in rows if actor.covers(session.get(Establishment, i.establishment_id).jurisdiction_id)]
