"""What a terminal needs offline for its grids, and what changed since it last asked.

The cursor is the audit chain's sequence number. Every change to a synced entity is recorded
in the chain, and entries are appended in commit order under the head lock, so "entries after
N" is exactly "what committed after the device's last sync": no change can slip in behind a
cursor the way it can with timestamps.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from supervision.audit.models import AuditEntry, AuditHead
from supervision.checklists import service as checklists
from supervision.checklists.models import ChecklistVersion
from supervision.commitments import service as commitments
from supervision.commitments.models import CommitmentLetter
from supervision.devices.service import DeviceIdentity
from supervision.errors import ValidationFailed
from supervision.inspections.models import Task
from supervision.registry.models import Establishment, EstablishmentCategory, Inspector, PlateToken
from supervision.self_inspections import service as self_inspections
from supervision.self_inspections.models import SelfInspection

SYNCED_TYPES = ("establishments", "plate_tokens", "tasks", "checklist_versions", "inspectors",
                "commitment_letters", "self_inspections")
# Bulk loads are recorded as one entry, not per row: a device that sees one must bootstrap again.
# A published grading run changes the grades of a whole jurisdiction at once (yearly).
BULK_TYPES = ("demo", "grade_publications")


@dataclass
class BootstrapPage:
    cursor: int
    establishments: list[Establishment]
    next_after_id: int | None
    first_page: bool
    tasks: list[Task] = field(default_factory=list)
    checklist_versions: list[ChecklistVersion] = field(default_factory=list)
    inspectors: list[Inspector] = field(default_factory=list)
    categories: list[EstablishmentCategory] = field(default_factory=list)
    grades: list[dict] = field(default_factory=list)  # current published grade of each establishment
    # What inspectors check on site (践诺, 自查自纠): each establishment's current signature of the
    # commitment letter and its latest self-inspection.
    commitments: list[CommitmentLetter] = field(default_factory=list)
    self_inspections: list[SelfInspection] = field(default_factory=list)


@dataclass
class Changes:
    cursor: int
    has_more: bool
    establishments: list[Establishment] = field(default_factory=list)
    removed_establishment_ids: list[int] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    closed_task_ids: list[int] = field(default_factory=list)
    checklist_versions: list[ChecklistVersion] = field(default_factory=list)
    retired_checklist_version_ids: list[int] = field(default_factory=list)
    inspectors: list[Inspector] = field(default_factory=list)
    resync_required: bool = False
    grades: list[dict] = field(default_factory=list)  # current published grade of each establishment
    commitments: list[CommitmentLetter] = field(default_factory=list)  # new signatures
    self_inspections: list[SelfInspection] = field(default_factory=list)  # new self-inspections


def _head_seq(session: Session) -> int:
    return session.execute(select(AuditHead.last_seq).where(AuditHead.id == 1)).scalar_one()


def _grid_ids(identity: DeviceIdentity) -> list[int]:
    return [g.id for g in identity.inspector.grids]


def _establishments_query():
    return select(Establishment).options(
        selectinload(Establishment.licences),
        selectinload(Establishment.plate_tokens.and_(PlateToken.revoked_at.is_(None))),
    )


def _assigned(inspector_id: int, task_ids=None):
    """Tasks assigned to this inspector by name (a drawn pair), wherever their grid."""
    from supervision.sampling.models import TaskInspector

    query = select(TaskInspector.task_id).where(TaskInspector.inspector_id == inspector_id)
    return query if task_ids is None else query.where(TaskInspector.task_id.in_(task_ids))


def _open_tasks(session: Session, grid_ids: list[int], inspector_id: int) -> list[Task]:
    return list(session.execute(
        select(Task).where(or_(Task.grid_id.in_(grid_ids), Task.id.in_(_assigned(inspector_id))), Task.status == "open")
        .order_by(Task.id)
    ).scalars())


def _directory(session: Session, identity: DeviceIdentity, ids: list[int] | None = None) -> list[Inspector]:
    """Colleagues of the same jurisdiction, for choosing the second inspector offline."""
    query = select(Inspector).where(Inspector.jurisdiction_id == identity.inspector.jurisdiction_id).order_by(Inspector.id)
    if ids is not None:
        query = query.where(Inspector.id.in_(ids))
    return list(session.execute(query).scalars())


def _grades(session: Session, establishments: list[Establishment]) -> list[dict]:
    """The current grade of each establishment: one query for the whole page."""
    from supervision.credit.grading import current_grades

    found = current_grades(session, [e.subject_id for e in establishments])
    return [{"establishment_id": e.id, "grade": g.grade, "score": g.score, "year": g.year}
            for e in establishments if (g := found.get(e.subject_id)) is not None]


def bootstrap(session: Session, identity: DeviceIdentity, *, after_id: int, page_size: int, cursor: int | None) -> BootstrapPage:
    if after_id < 0:
        raise ValidationFailed(fields={"after_id": ["不能为负数"]})
    # The cursor is read before anything else: whatever commits while the pages are fetched
    # has a later sequence number and arrives with the first delta.
    cursor = _head_seq(session) if cursor is None else cursor
    grid_ids = _grid_ids(identity)
    first_page = after_id == 0
    rows = list(session.execute(
        _establishments_query()
        .where(Establishment.grid_id.in_(grid_ids), Establishment.id > after_id)
        .order_by(Establishment.id).limit(page_size + 1)
    ).scalars())
    more = len(rows) > page_size
    rows = rows[:page_size]
    page = BootstrapPage(cursor=cursor, establishments=rows, next_after_id=rows[-1].id if more else None,
                         first_page=first_page, grades=_grades(session, rows))
    page_ids = [e.id for e in rows]
    page.commitments = sorted(commitments.current_of(session, page_ids).values(), key=lambda c: c.establishment_id)
    page.self_inspections = sorted(self_inspections.latest_of(session, page_ids).values(),
                                   key=lambda s: s.establishment_id)
    if page.first_page:
        page.tasks = _open_tasks(session, grid_ids, identity.inspector.id)
        page.checklist_versions = checklists.versions_in_use(session)
        page.inspectors = _directory(session, identity)
        page.categories = list(session.execute(select(EstablishmentCategory).order_by(EstablishmentCategory.code)).scalars())
    return page


def changes_since(session: Session, identity: DeviceIdentity, *, cursor: int, page_size: int) -> Changes:
    head = _head_seq(session)
    if cursor < 0 or cursor > head:
        raise ValidationFailed("同步游标无效，请重新全量同步", code="invalid_cursor", fields={"cursor": ["游标无效"]})
    entries = session.execute(
        select(AuditEntry.seq, AuditEntry.entity_type, AuditEntry.entity_id, AuditEntry.payload)
        .where(AuditEntry.seq > cursor, AuditEntry.seq <= head,
               AuditEntry.entity_type.in_(SYNCED_TYPES + BULK_TYPES))
        .order_by(AuditEntry.seq).limit(page_size + 1)
    ).all()
    has_more = len(entries) > page_size
    entries = entries[:page_size]
    result = Changes(cursor=entries[-1].seq if has_more else head, has_more=has_more)

    ids: dict[str, set[int]] = {t: set() for t in SYNCED_TYPES}
    grid_before: dict[int, set] = {}
    for entry in entries:
        if entry.entity_type in BULK_TYPES:
            result.resync_required = True
            continue
        ids[entry.entity_type].add(int(entry.entity_id))
        if entry.entity_type == "establishments":
            before = json.loads(entry.payload).get("before") or {}
            grid_before.setdefault(int(entry.entity_id), set()).add(before.get("grid_id"))
        elif entry.entity_type == "inspectors" and int(entry.entity_id) == identity.inspector.id:
            # The device's own grids changed: what it holds no longer matches its area.
            payload = json.loads(entry.payload)
            if payload.get("before") and (payload["before"] or {}).get("grid_ids") != (payload.get("after") or {}).get("grid_ids"):
                result.resync_required = True
    grid_ids = set(_grid_ids(identity))

    if ids["plate_tokens"]:
        ids["establishments"] |= set(session.execute(
            select(PlateToken.establishment_id).where(PlateToken.id.in_(ids["plate_tokens"]))
        ).scalars())
    if ids["establishments"]:
        for est in session.execute(
            _establishments_query().where(Establishment.id.in_(ids["establishments"])).order_by(Establishment.id)
        ).scalars():
            if est.grid_id in grid_ids:
                result.establishments.append(est)
            elif grid_before.get(est.id, set()) & grid_ids:
                result.removed_establishment_ids.append(est.id)
    if ids["tasks"]:
        assigned = set(session.execute(_assigned(identity.inspector.id, ids["tasks"])).scalars())
        for task in session.execute(select(Task).where(Task.id.in_(ids["tasks"])).order_by(Task.id)).scalars():
            if task.grid_id not in grid_ids and task.id not in assigned:
                continue
            if task.status == "open":
                result.tasks.append(task)
            else:
                result.closed_task_ids.append(task.id)
    if ids["checklist_versions"]:
        for version in session.execute(
            select(ChecklistVersion).options(selectinload(ChecklistVersion.items), selectinload(ChecklistVersion.template))
            .where(ChecklistVersion.id.in_(ids["checklist_versions"])).order_by(ChecklistVersion.id)
        ).scalars():
            if version.status == "published":
                result.checklist_versions.append(version)
            else:
                result.retired_checklist_version_ids.append(version.id)
    if ids["inspectors"]:
        result.inspectors = _directory(session, identity, sorted(ids["inspectors"]))
    result.commitments = _in_grids(session, CommitmentLetter, ids["commitment_letters"], grid_ids)
    result.self_inspections = _in_grids(session, SelfInspection, ids["self_inspections"], grid_ids)
    result.grades = _grades(session, result.establishments)
    return result


def _in_grids(session: Session, model, ids: set[int], grid_ids: set[int]) -> list:
    """The newest of these rows (signatures or self-inspections; the audit entity id is the row
    id) per establishment, for establishments in the device's grids only."""
    if not ids:
        return []
    rows = session.execute(
        select(model).join(Establishment, Establishment.id == model.establishment_id)
        .where(model.id.in_(ids), Establishment.grid_id.in_(grid_ids)).order_by(model.id)).scalars()
    newest = {row.establishment_id: row for row in rows}
    return sorted(newest.values(), key=lambda row: row.establishment_id)
