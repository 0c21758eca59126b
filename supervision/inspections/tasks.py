"""Creating and cancelling inspection tasks for a grid."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from supervision import audit
from supervision.errors import Conflict, NotFound, ValidationFailed
from supervision.inspections.models import TASK_KINDS, Task
from supervision.modelbase import utcnow
from supervision.registry import credit_code
from supervision.registry.models import Establishment


def _require_kinds(kinds) -> None:
    if not set(kinds) <= set(TASK_KINDS):
        raise ValidationFailed(fields={"kind": [f"应为 {', '.join(TASK_KINDS)} 之一"]})


def create_task(session: Session, actor: audit.Actor, *, establishment_credit_code: str, kind: str,
                due_on: date | None = None, note: str | None = None) -> Task:
    _require_kinds([kind])
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


@dataclass(frozen=True)
class NewTask:
    establishment_id: int
    grid_id: int | None
    kind: str
    due_on: date | None = None
    note: str | None = None


def create_tasks(session: Session, actor: audit.Actor, new: list[NewTask]) -> list[int]:
    """Many open tasks at once, for a caller that creates them by the thousand (a draw): multi-row
    INSERT … RETURNING instead of an ORM object and a flush per task, each task recorded in the
    chain exactly as `create_task` records one (same action, same snapshot), which is how it
    reaches the devices' next sync. The establishments are the caller's to have checked. Returns
    the new ids in the order given."""
    _require_kinds(t.kind for t in new)
    if not new:
        return []
    now = utcnow()
    rows = [{"establishment_id": t.establishment_id, "grid_id": t.grid_id, "kind": t.kind, "status": "open",
             "due_on": t.due_on, "note": t.note, "origin_inspection_uuid": None, "closed_at": None,
             "created_at": now, "updated_at": now} for t in new]
    ids = list(session.execute(insert(Task).returning(Task.id, sort_by_parameter_order=True), rows).scalars())
    columns = [c.key for c in Task.__table__.columns if c.key not in Task.audit_exclude]  # as `audit_snapshot()`
    for task_id, row in zip(ids, rows):
        row["id"] = task_id
        audit.record(session, actor, "task.create", entity_type="tasks", entity_id=task_id,
                     after={c: row[c] for c in columns})
    return ids


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
