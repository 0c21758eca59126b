"""What makes demo data usable from a terminal at once: the starter checklists, open tasks in
the grids, and one enrolled-ready device."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from supervision import audit
from supervision.checklists import service as checklists
from supervision.devices import service as devices
from supervision.devices.models import Device
from supervision.inspections.models import TASK_KINDS, Task
from supervision.registry.models import Establishment, Inspector, PlateToken, inspector_grids

DEMO_ACTOR = audit.Actor.system("demo")


@dataclass
class DemoField:
    checklist_versions: int
    tasks: int
    device_id: int | None
    badge_no: str | None
    enrolment_code: str | None
    sample_plate_token: str | None


def has_establishments(session: Session) -> bool:
    return session.execute(select(exists().where(Establishment.id.isnot(None)))).scalar()


DEMO_DEVICE_LABEL = "演示终端"


def prepare_field(session: Session, actor: audit.Actor, *, seed: int, tasks: int, today: date,
                  code_ttl: timedelta) -> DemoField:
    published = sum(created for _, created in checklists.load_directory(session, actor))
    created_tasks = _open_tasks(session, random.Random(f"tasks:{seed}"), tasks, today)
    device, code = _new_demo_device(session, actor, today, code_ttl)
    return DemoField(published, created_tasks, device.id if device else None,
                     device.inspector.badge_no if device else None, code, _sample_plate(session))


def demo_access(session: Session, actor: audit.Actor, *, today: date, code_ttl: timedelta) -> DemoField:
    """For a database that already holds demo data: a fresh enrolment code for the demo device
    (a new demo device once the last one has enrolled) and a plate to open, so that every
    start of the server can say where to begin."""
    device = session.execute(
        select(Device).join(Inspector)
        .where(Device.label == DEMO_DEVICE_LABEL, Device.enrolled_at.is_(None), Device.revoked_at.is_(None),
               Inspector.active.is_(True), Inspector.certificate_valid_from <= today,
               Inspector.certificate_valid_until >= today)
        .order_by(Device.id.desc()).limit(1)
    ).scalar_one_or_none()
    if device is not None:
        code = devices.reissue_enrolment_code(session, actor, device, code_ttl=code_ttl, today=today)
    else:
        device, code = _new_demo_device(session, actor, today, code_ttl)
    return DemoField(0, 0, device.id if device else None, device.inspector.badge_no if device else None, code,
                     _sample_plate(session))


def _new_demo_device(session: Session, actor: audit.Actor, today: date, code_ttl: timedelta):
    inspector = session.execute(
        select(Inspector)
        .where(Inspector.active.is_(True), Inspector.certificate_valid_until >= today,
               Inspector.certificate_valid_from <= today,
               exists().where(inspector_grids.c.inspector_id == Inspector.id))
        .order_by(Inspector.id).limit(1)
    ).scalar_one_or_none()
    if inspector is None:
        return None, None
    device, code = devices.enrol_device(session, actor, badge_no=inspector.badge_no, label=DEMO_DEVICE_LABEL,
                                        code_ttl=code_ttl, today=today)
    session.flush()
    return device, code


def _sample_plate(session: Session) -> str | None:
    return session.execute(
        select(PlateToken.token).where(PlateToken.revoked_at.is_(None)).order_by(PlateToken.id).limit(1)
    ).scalar_one_or_none()


def _open_tasks(session: Session, rng: random.Random, count: int, today: date) -> int:
    """Open tasks for a deterministic sample of active establishments that have a grid."""
    candidates = select(Establishment.id, Establishment.grid_id).where(
        Establishment.status == "active", Establishment.grid_id.isnot(None))
    total = session.execute(select(func.count()).select_from(candidates.subquery())).scalar()
    if not total or count <= 0:
        return 0
    step = max(total // count, 1)
    rows = session.execute(candidates.order_by(Establishment.id).limit(count * step)).all()[::step][:count]
    kinds = [k for k in TASK_KINDS if k not in ("reinspection", "interview")]
    for est_id, grid_id in rows:
        task = Task(establishment_id=est_id, grid_id=grid_id, kind=rng.choice(kinds),
                    due_on=today + timedelta(days=rng.randint(3, 60)), note="演示任务")
        session.add(task)
        audit.record(session, DEMO_ACTOR, "task.create", task)
    return len(rows)


