"""Receiving inspections from terminals (step one of two): idempotent, complete validation,
nothing half-stored.

The device's UUID is the idempotency key and the primary key. A submission is checked in full
before anything is written; the write happens in one savepoint, so a refusal or a lost race
leaves no row and no audit entry behind. Same UUID and same content returns the stored
inspection; same UUID with other content is a conflict.

Receiving never decides completeness: that is step two, `settlement.settle`, run by the
interface after this step's unit of work has committed (see docs/architecture.md).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from supervision import audit
from supervision.checklists.answers import result_of
from supervision.checklists.models import SEVERITY_NAMES, ChecklistItem
from supervision.errors import Conflict, Forbidden
from supervision.inspections import policy
from supervision.inspections.models import (
    Answer,
    Finding,
    Inspection,
    InspectionInspector,
    ManifestEntry,
    RectificationOrder,
    Task,
)
from supervision.credit import records as credit_records
from supervision.inspections.validation import Context, already_corrected, validate
from supervision.jsonutil import canonical_json, plain
from supervision.modelbase import utcnow
from supervision.timeutil import with_offset


@dataclass(frozen=True)
class SubmissionSettings:
    gps_review_distance_m: float
    max_attachment_bytes: int
    allowed_media_types: tuple[str, ...]
    # Body-camera video, sent over tus (field_api/tus.py): its own types and size limit.
    video_media_types: tuple[str, ...] = ()
    max_video_bytes: int = 0


@dataclass
class Received:
    inspection: Inspection
    replayed: bool  # True when this UUID had already been stored with the same content
    # The order this submission issued, when it was just stored (None: none issued). For a
    # replay it is not known without a read, and the state reader looks it up.
    order: RectificationOrder | None = None


def content_hash(submission: dict) -> str:
    return hashlib.sha256(canonical_json(plain(submission)).encode("utf-8")).hexdigest()


def _replay_or_conflict(existing: Inspection, digest: str) -> Received:
    if existing.content_hash != digest:
        raise Conflict(
            "该检查编号（UUID）已提交过不同内容；如需更正，请以新编号提交更正版本",
            code="uuid_reused", fields={"uuid": ["该编号已用于另一份内容不同的检查记录"]},
        )
    return Received(existing, replayed=True)


def _submitter(actor: audit.Actor) -> None:
    if actor.kind != "device" or actor.inspector_id is None:
        raise Forbidden("检查记录只能由执法终端提交", code="forbidden")


def receive(session: Session, actor: audit.Actor, submission: dict, settings: SubmissionSettings) -> Received:
    """Store one submission (or recognise it); the caller commits. Raises a DomainError, having
    stored nothing, when the submission is refused."""
    _submitter(actor)
    digest = content_hash(submission)
    existing = session.get(Inspection, submission["uuid"])
    if existing is not None:
        return _replay_or_conflict(existing, digest)

    context = validate(session, actor, submission, settings)
    try:
        with audit.savepoint(session):
            inspection, order = _store(session, actor, submission, digest, context, settings)
            session.flush()
    except IntegrityError:
        # Lost a race: another connection stored this UUID (or corrected the same version)
        # between our check and our insert. The database refused the second copy.
        winner = session.get(Inspection, submission["uuid"], populate_existing=True)
        if winner is not None:
            return _replay_or_conflict(winner, digest)
        if submission.get("replaces"):
            raise already_corrected()
        raise
    return Received(inspection, replayed=False, order=order)


def _store(session: Session, actor: audit.Actor, s: dict, digest: str, ctx: Context,
           settings: SubmissionSettings) -> tuple[Inspection, RectificationOrder | None]:
    replaced = ctx.replaced
    gps = s["gps"]
    flagged_reasons = []
    limit = settings.gps_review_distance_m
    if ctx.gps_distance is not None and ctx.gps_distance > limit:
        flagged_reasons.append(f"定位距登记地址 {ctx.gps_distance:.0f} 米，超过 {limit:.0f} 米")
    inspection = Inspection(
        uuid=s["uuid"],
        lineage_uuid=replaced.lineage_uuid if replaced else s["uuid"],
        version=replaced.version + 1 if replaced else 1,
        replaces_uuid=replaced.uuid if replaced else None,
        content_hash=digest,
        establishment_id=ctx.establishment.id,
        checklist_version_id=ctx.version.id,
        task_id=ctx.task.id if ctx.task else None,
        device_id=actor.device_id,
        submitted_by_id=actor.inspector_id,
        started_at=ctx.started[0], started_offset_min=ctx.started[1],
        ended_at=ctx.ended[0], ended_offset_min=ctx.ended[1],
        gps_lat=gps["lat"], gps_lng=gps["lng"], gps_accuracy_m=gps["accuracy_m"],
        gps_distance_m=ctx.gps_distance,
        flagged_for_review=bool(flagged_reasons), review_reasons=flagged_reasons,
        notes=s.get("notes"),
        signature=plain(s["signature"]),
        status="awaiting_attachments",
    )
    by_badge = {i.badge_no: i for i in ctx.inspectors}
    inspection.inspectors = [
        InspectionInspector(inspector=by_badge[b], position=n) for n, b in enumerate(s["inspectors"])
    ]
    answers = [
        {"item_code": a["item_code"], "result": result_of(ctx.items[a["item_code"]], a),
         "number_value": a.get("number"), "text_value": a.get("text"), "note": a.get("note")}
        for a in s["answers"]
    ]
    manifest = [
        {"sha256": e["sha256"], "size": e["size"], "media_type": e["media_type"],
         "item_code": e.get("item_code"), "purpose": e.get("purpose", "photo")}
        for e in s["attachments"]
    ]
    inspection.findings = [
        Finding(item_code=a["item_code"], severity=ctx.items[a["item_code"]].severity,
                description=_finding_text(ctx.items[a["item_code"]], a),
                legal_basis=ctx.items[a["item_code"]].legal_basis)
        for a in answers if a["result"] == "fail"
    ]
    session.add(inspection)
    session.flush()
    # Answers and manifest in one multi-row INSERT each: nothing reads their ids back.
    for model, rows in ((Answer, answers), (ManifestEntry, manifest)):
        if rows:
            session.execute(insert(model.__table__), [dict(row, inspection_uuid=inspection.uuid) for row in rows])
    if replaced is not None:
        _supersede(session, actor, replaced)
    audit.record(session, actor, "inspection.correct" if replaced else "inspection.submit", inspection,
                 before=_summary(replaced) if replaced else None,
                 after=lambda: _summary(inspection, answers, manifest))
    order = _issue_order(session, actor, inspection, ctx)
    if ctx.task is not None and ctx.task.status == "open":
        _close_task(session, actor, ctx.task)
    return inspection, order


def _close_task(session: Session, actor: audit.Actor, task: Task) -> None:
    """Mark the cited task done; a conditional update, so that two inspections citing the same
    open task at the same moment cannot both close it (the second is refused)."""
    before = task.audit_snapshot()
    closed_at = utcnow()
    claimed = session.execute(
        update(Task).where(Task.id == task.id, Task.status == "open").values(status="done", closed_at=closed_at)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise Conflict("任务已由另一份检查记录完成，不能再次引用", code="task_closed",
                       fields={"task_id": ["任务已完成"]})
    set_committed_value(task, "status", "done")  # what the update wrote; no second UPDATE
    set_committed_value(task, "closed_at", closed_at)
    audit.record(session, actor, "task.done", task, before=before)


def _finding_text(item: ChecklistItem, answer: dict) -> str:
    text = f"{item.text}：不符合要求"
    if answer["number_value"] is not None:
        limits = []
        if item.min_value is not None:
            limits.append(f"≥{item.min_value:g}")
        if item.max_value is not None:
            limits.append(f"≤{item.max_value:g}")
        text = f"{item.text}：检测值 {answer['number_value']:g} {item.unit or ''}，标准限值 {' 且 '.join(limits)} {item.unit or ''}".strip()
    if answer["note"]:
        text += f"（{answer['note']}）"
    return text


def _issue_order(session: Session, actor: audit.Actor, inspection: Inspection, ctx: Context) -> RectificationOrder | None:
    serious = [f for f in inspection.findings if f.severity in policy.RECTIFICATION_DAYS]
    if not serious:
        return None
    day = with_offset(inspection.started_at, inspection.started_offset_min).date()
    deadline = day + timedelta(days=min(policy.RECTIFICATION_DAYS[f.severity] for f in serious))
    names = "、".join(f"{f.item_code}（{SEVERITY_NAMES[f.severity]}）" for f in serious)
    task = Task(establishment_id=ctx.establishment.id, grid_id=ctx.establishment.grid_id, kind="reinspection",
                due_on=deadline, origin_inspection_uuid=inspection.uuid, note=f"责令整改复查：{names}")
    session.add(task)
    session.flush()  # the task's id, so the order is inserted with it (no second UPDATE)
    order = RectificationOrder(inspection_uuid=inspection.uuid, establishment_id=ctx.establishment.id,
                               issued_on=day, deadline=deadline, item_codes=[f.item_code for f in serious],
                               reinspection_task_id=task.id)
    session.add(order)
    audit.record(session, actor, "task.create", task)
    audit.record(session, actor, "rectification_order.issue", order)
    return order


def _supersede(session: Session, actor: audit.Actor, old: Inspection) -> None:
    """The old version stays, marked superseded; what followed from it is withdrawn."""
    now = utcnow()
    claimed = session.execute(
        update(Inspection).where(Inspection.uuid == old.uuid, Inspection.superseded_at.is_(None)).values(superseded_at=now)
    ).rowcount
    if claimed != 1:
        raise already_corrected()
    order = session.execute(select(RectificationOrder).where(RectificationOrder.inspection_uuid == old.uuid)).scalar_one_or_none()
    if order is not None and order.status == "open":
        before = order.audit_snapshot()
        order.status = "superseded"
        audit.record(session, actor, "rectification_order.supersede", order, before=before)
        task = session.get(Task, order.reinspection_task_id) if order.reinspection_task_id else None
        if task is not None and task.status == "open":
            before = task.audit_snapshot()
            task.status, task.closed_at = "cancelled", now
            audit.record(session, actor, "task.cancel", task, before=before)
    credit_records.supersede_source(session, actor, "inspection", old.uuid, at=now)


def _summary(inspection: Inspection, answers: list[dict] | None = None, manifest: list[dict] | None = None) -> dict:
    """What the chain records of a version. A version just stored passes its answer and
    manifest rows (inserted in bulk, not loaded); a stored one has them read."""
    if answers is None:
        answers = [{"item_code": a.item_code, "result": a.result, "number_value": a.number_value,
                    "text_value": a.text_value} for a in inspection.answers]
    if manifest is None:
        manifest = [{"sha256": e.sha256} for e in inspection.manifest]
    return {
        "uuid": inspection.uuid, "lineage_uuid": inspection.lineage_uuid, "version": inspection.version,
        "replaces_uuid": inspection.replaces_uuid, "establishment_id": inspection.establishment_id,
        "checklist_version_id": inspection.checklist_version_id, "device_id": inspection.device_id,
        "submitted_by_id": inspection.submitted_by_id, "content_hash": inspection.content_hash,
        "started_at": inspection.started_at, "ended_at": inspection.ended_at,
        "gps": [inspection.gps_lat, inspection.gps_lng, inspection.gps_accuracy_m],
        "flagged_for_review": inspection.flagged_for_review,
        "answers": {a["item_code"]: [a["result"], a["number_value"], a["text_value"]] for a in answers},
        "attachments": [e["sha256"] for e in manifest],
        "findings": [f.item_code for f in inspection.findings],
    }
