"""Creating and cancelling inspection tasks for a grid."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from supervision import audit
from supervision.errors import Conflict, NotFound, ValidationFailed
from supervision.inspections.models import TASK_KINDS, Task
from supervision.modelbase import utcnow
from supervision.registry import credit_code
from supervision.registry.models import Establishment


def create_task(session: Session, actor: audit.Actor, *, establishment_credit_code: str, kind: str,
                due_on: date | None = None, note: str | None = None) -> Task:
    if kind not in TASK_KINDS:
        raise ValidationFailed(fields={"kind": [f"应为 {', '.join(TASK_KINDS)} 之一"]})
    establishment = session.execute(
        select(Establishment).where(Establishment.credit_code == credit_code.normalise(establishment_credit_code))
    ).scalar_one_or_none()
    if establishment is None:
        raise NotFound("单位不存在", fields={"credit_code": ["单位不存在"]})
    if establishment.status == "closed":
        raise ValidationFailed(fields={"credit_code": ["单位已注销"]})
    task = Task(establishment=establishment, grid_id=establishment.grid_id, kind=kind, due_on=due_on, note=note)
    session.add(task)
    audit.record(session, actor, "task.create", task)
    return task


def cancel_task(session: Session, actor: audit.Actor, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound("任务不存在")
    if task.status != "open":
        raise Conflict("任务已结束")
    before = task.audit_snapshot()
    task.status, task.closed_at = "cancelled", utcnow()
    audit.record(session, actor, "task.cancel", task, before=before)
    return task
