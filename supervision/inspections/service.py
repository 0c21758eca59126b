"""Receiving inspections from terminals: idempotent, complete validation, nothing half-stored.

The device's UUID is the idempotency key and the primary key. A submission is checked in full
before anything is written; the write happens in one savepoint, so a refusal or a lost race
leaves no row and no audit entry behind. Same UUID and same content returns the stored
inspection; same UUID with other content is a conflict.

Whether an inspection is complete (every file of its manifest received) is settled in a short
second transaction after the submission or upload commits, with the inspection row locked: an
upload and a submission committing at the same moment would otherwise each miss the other.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from supervision import audit
from supervision.checklists.models import SEVERITY_NAMES, ChecklistItem, ChecklistVersion
from supervision.credit import records as credit_records
from supervision.devices.service import DeviceIdentity
from supervision.errors import Conflict, NotFound, ValidationFailed
from supervision.geo import distance_m
from supervision.inspections import policy
from supervision.inspections.models import (
    Answer,
    Attachment,
    Finding,
    Inspection,
    InspectionInspector,
    ManifestEntry,
    PenaltyCase,
    RectificationOrder,
    Task,
)
from supervision.jsonutil import canonical_json, plain
from supervision.modelbase import utcnow
from supervision.registry.models import Establishment, Inspector
from supervision.registry.service import inspectors_by_badge
from supervision.timeutil import to_utc_naive, with_offset


@dataclass(frozen=True)
class SubmissionSettings:
    gps_review_distance_m: float
    max_attachment_bytes: int
    allowed_media_types: tuple[str, ...]


@dataclass
class Received:
    inspection: Inspection
    replayed: bool  # True when this UUID had already been stored with the same content


def content_hash(submission: dict) -> str:
    return hashlib.sha256(canonical_json(plain(submission)).encode("utf-8")).hexdigest()


def get_inspection(session: Session, uuid: str) -> Inspection:
    inspection = session.execute(
        select(Inspection).where(Inspection.uuid == uuid).options(*_full_load())
    ).scalar_one_or_none()
    if inspection is None:
        raise NotFound("检查记录不存在", fields={"uuid": ["检查记录不存在"]})
    return inspection


def _full_load():
    """What an inspection's state shows: its inspectors, files and findings."""
    return (
        selectinload(Inspection.inspectors).joinedload(InspectionInspector.inspector),
        selectinload(Inspection.manifest),
        selectinload(Inspection.findings),
    )


def _replay_or_conflict(existing: Inspection, digest: str) -> Received:
    if existing.content_hash != digest:
        raise Conflict(
            "该检查编号（UUID）已提交过不同内容；如需更正，请以新编号提交更正版本",
            code="uuid_reused", fields={"uuid": ["该编号已用于另一份内容不同的检查记录"]},
        )
    return Received(existing, replayed=True)


def receive(session: Session, identity: DeviceIdentity, submission: dict, settings: SubmissionSettings) -> Received:
    """Store one submission (or recognise it) and commit. Raises a DomainError, having stored
    nothing, when the submission is refused."""
    digest = content_hash(submission)
    existing = session.get(Inspection, submission["uuid"])
    if existing is not None:
        return _replay_or_conflict(existing, digest)

    context = _validate(session, identity, submission, settings)
    try:
        with audit.savepoint(session):
            inspection = _store(session, identity, submission, digest, context, settings)
            session.flush()
    except IntegrityError:
        # Lost a race: another connection stored this UUID (or corrected the same version)
        # between our check and our insert. The database refused the second copy.
        winner = session.get(Inspection, submission["uuid"], populate_existing=True)
        if winner is not None:
            return _replay_or_conflict(winner, digest)
        if submission.get("replaces"):
            raise _already_corrected()
        raise
    session.commit()
    settle(session, inspection.uuid)
    return Received(get_inspection(session, inspection.uuid), replayed=False)


def _already_corrected() -> Conflict:
    return Conflict("被更正的检查记录已不是最新版本，请先同步后再更正", code="stale_version",
                    fields={"replaces": ["该版本已被更正，不是最新版本"]})


@dataclass
class _Context:
    establishment: Establishment
    version: ChecklistVersion
    items: dict[str, ChecklistItem]
    inspectors: list[Inspector]
    replaced: Inspection | None
    task: Task | None
    started: tuple[datetime, int]
    ended: tuple[datetime, int]
    gps_distance: float | None


def _validate(session: Session, identity: DeviceIdentity, s: dict, settings: SubmissionSettings) -> _Context:
    problems: dict[str, list[str]] = {}

    def add(path: str, message: str) -> None:
        problems.setdefault(path, []).append(message)

    establishment = session.get(Establishment, s["establishment_id"])
    if establishment is None:
        add("establishment_id", "单位不存在")
    elif establishment.status == "closed":
        add("establishment_id", "单位已注销，不能提交检查记录")
    elif establishment.grid_id not in {g.id for g in identity.inspector.grids}:
        add("establishment_id", "该单位不在您负责的网格内")

    version = session.execute(
        select(ChecklistVersion).options(selectinload(ChecklistVersion.items), selectinload(ChecklistVersion.template))
        .where(ChecklistVersion.id == s["checklist_version_id"])
    ).scalar_one_or_none()
    items: dict[str, ChecklistItem] = {}
    if version is None:
        add("checklist_version_id", "检查表版本不存在")
    elif version.status != "published":
        add("checklist_version_id", f"检查表“{version.template.title}”第{version.version}版已停用，请同步后使用新版本")
    else:
        items = version.item_by_code()
        if establishment is not None and establishment.category_code not in version.template.categories:
            add("checklist_version_id", "该检查表不适用于此类单位")

    started, ended = to_utc_naive(s["started_at"]), to_utc_naive(s["ended_at"])
    if ended[0] < started[0]:
        add("ended_at", "结束时间早于开始时间")
    if started[0] > utcnow() + timedelta(minutes=policy.CLOCK_SKEW_MINUTES):
        add("started_at", "开始时间晚于当前时间，请检查终端时钟")
    inspection_day = with_offset(*started).date()

    inspectors = _check_inspectors(session, identity, s["inspectors"], inspection_day, add)
    _check_answers(s, items, add)
    _check_manifest(s, items, settings, add)

    replaced = None
    if s.get("replaces"):
        replaced = session.get(Inspection, s["replaces"])
        if replaced is None:
            add("replaces", "被更正的检查记录不存在")
        elif establishment is not None and replaced.establishment_id != establishment.id:
            add("replaces", "更正版本必须针对同一单位")
    task = None
    if s.get("task_id") is not None:
        task = session.get(Task, s["task_id"])
        if task is None or (establishment is not None and task.establishment_id != establishment.id):
            add("task_id", "任务不存在或不属于该单位")
        elif task.status == "cancelled":
            add("task_id", "任务已撤销")

    if problems:
        raise ValidationFailed("检查记录未通过校验，未保存任何内容", fields=problems)
    if replaced is not None and replaced.superseded_at is not None:
        raise _already_corrected()

    gps = s["gps"]
    gps_distance = None
    if establishment.latitude is not None and establishment.longitude is not None:
        gps_distance = distance_m(gps["lat"], gps["lng"], establishment.latitude, establishment.longitude)
    return _Context(establishment, version, items, inspectors, replaced, task, started, ended, gps_distance)


def _check_inspectors(session, identity, badges: list[str], day: date, add) -> list[Inspector]:
    if len(set(badges)) != len(badges):
        add("inspectors", "检查人员重复")
    if len(set(badges)) < 2:
        add("inspectors", "现场执法须有两名以上持有执法证的执法人员")
    found = inspectors_by_badge(session, badges)
    inspectors = []
    for i, badge in enumerate(badges):
        inspector = found.get(badge)
        if inspector is None or not inspector.active:
            add(f"inspectors.{i}", f"执法人员“{badge}”不存在或已停用")
        elif not inspector.certificate_valid_on(day):
            add(f"inspectors.{i}", f"执法人员“{inspector.name}”的执法证在检查日期 {day.isoformat()} 不在有效期内"
                                   f"（{inspector.certificate_valid_from.isoformat()} 至 {inspector.certificate_valid_until.isoformat()}）")
        else:
            inspectors.append(inspector)
    if identity.inspector.badge_no not in badges:
        add("inspectors", "提交设备所属执法人员必须是检查人员之一")
    return inspectors


def _check_answers(s: dict, items: dict[str, ChecklistItem], add) -> None:
    if not items:
        return
    answered = set()
    photo_items = {a.get("item_code") for a in s["attachments"] if a.get("item_code")}
    for i, answer in enumerate(s["answers"]):
        code = answer["item_code"]
        item = items.get(code)
        path = f"answers.{i}"
        if item is None:
            add(f"{path}.item_code", f"检查表中没有项目“{code}”")
            continue
        if code in answered:
            add(f"{path}.item_code", f"项目“{code}”重复作答")
        answered.add(code)
        if item.answer_type == "pass_fail" and answer.get("result") is None:
            add(f"{path}.result", "请填写检查结果（合格/不合格/不适用）")
        elif item.answer_type == "number" and answer.get("number") is None and answer.get("result") != "na":
            add(f"{path}.number", f"请填写检测值（单位：{item.unit}）")
        elif item.answer_type == "text" and item.required and not (answer.get("text") or "").strip():
            add(f"{path}.text", "请填写内容")
    for code, item in items.items():
        if not item.required:
            continue
        if item.answer_type == "photo":
            if code not in photo_items and code not in answered:
                add("answers", f"必填项目“{code} {item.text}”缺少照片")
        elif code not in answered:
            add("answers", f"必填项目“{code} {item.text}”未作答")


def _check_manifest(s: dict, items: dict[str, ChecklistItem], settings: SubmissionSettings, add) -> None:
    seen = set()
    for i, entry in enumerate(s["attachments"]):
        path = f"attachments.{i}"
        if entry["sha256"] in seen:
            add(f"{path}.sha256", "附件重复")
        seen.add(entry["sha256"])
        if entry["size"] > settings.max_attachment_bytes:
            add(f"{path}.size", f"附件超过大小上限 {settings.max_attachment_bytes} 字节")
        if entry["media_type"] not in settings.allowed_media_types:
            add(f"{path}.media_type", f"不支持的附件类型，允许：{', '.join(settings.allowed_media_types)}")
        if entry.get("item_code") and items and entry["item_code"] not in items:
            add(f"{path}.item_code", f"检查表中没有项目“{entry['item_code']}”")
    signature = s["signature"]
    if not signature.get("refused") and signature.get("sha256") not in seen:
        add("signature.sha256", "签名图片须列入附件清单")


def _store(session: Session, identity: DeviceIdentity, s: dict, digest: str, ctx: _Context,
           settings: SubmissionSettings) -> Inspection:
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
        device_id=identity.device.id,
        submitted_by_id=identity.inspector.id,
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
        InspectionInspector(inspector_id=by_badge[b].id, position=n) for n, b in enumerate(s["inspectors"])
    ]
    inspection.answers = [
        Answer(item_code=a["item_code"], result=_result(ctx.items[a["item_code"]], a),
               number_value=a.get("number"), text_value=a.get("text"), note=a.get("note"))
        for a in s["answers"]
    ]
    inspection.manifest = [
        ManifestEntry(sha256=e["sha256"], size=e["size"], media_type=e["media_type"],
                      item_code=e.get("item_code"), purpose=e.get("purpose", "photo"))
        for e in s["attachments"]
    ]
    inspection.findings = [
        Finding(item_code=a.item_code, severity=ctx.items[a.item_code].severity,
                description=_finding_text(ctx.items[a.item_code], a),
                legal_basis=ctx.items[a.item_code].legal_basis)
        for a in inspection.answers if a.result == "fail"
    ]
    session.add(inspection)
    if replaced is not None:
        _supersede(session, identity, replaced)
    audit.record(session, identity.actor, "inspection.correct" if replaced else "inspection.submit", inspection,
                 before=_summary(replaced) if replaced else None, after=lambda: _summary(inspection))
    _issue_order(session, identity, inspection, ctx)
    if ctx.task is not None and ctx.task.status == "open":
        before = ctx.task.audit_snapshot()
        ctx.task.status, ctx.task.closed_at = "done", utcnow()
        audit.record(session, identity.actor, "task.done", ctx.task, before=before)
    return inspection


def _result(item: ChecklistItem, answer: dict) -> str:
    if answer.get("result") == "na":
        return "na"
    if item.answer_type == "number" and answer.get("number") is not None:
        return "pass" if item.within_limits(answer["number"]) else "fail"
    return answer.get("result") or "pass"


def _finding_text(item: ChecklistItem, answer: Answer) -> str:
    text = f"{item.text}：不符合要求"
    if answer.number_value is not None:
        limits = []
        if item.min_value is not None:
            limits.append(f"≥{item.min_value:g}")
        if item.max_value is not None:
            limits.append(f"≤{item.max_value:g}")
        text = f"{item.text}：检测值 {answer.number_value:g} {item.unit or ''}，标准限值 {' 且 '.join(limits)} {item.unit or ''}".strip()
    if answer.note:
        text += f"（{answer.note}）"
    return text


def _issue_order(session: Session, identity: DeviceIdentity, inspection: Inspection, ctx: _Context) -> None:
    serious = [f for f in inspection.findings if f.severity in policy.RECTIFICATION_DAYS]
    if not serious:
        return
    day = with_offset(inspection.started_at, inspection.started_offset_min).date()
    deadline = day + timedelta(days=min(policy.RECTIFICATION_DAYS[f.severity] for f in serious))
    names = "、".join(f"{f.item_code}（{SEVERITY_NAMES[f.severity]}）" for f in serious)
    task = Task(establishment_id=ctx.establishment.id, grid_id=ctx.establishment.grid_id, kind="reinspection",
                due_on=deadline, origin_inspection_uuid=inspection.uuid, note=f"责令整改复查：{names}")
    session.add(task)
    order = RectificationOrder(inspection_uuid=inspection.uuid, establishment_id=ctx.establishment.id,
                               issued_on=day, deadline=deadline, item_codes=[f.item_code for f in serious])
    session.add(order)
    session.flush()
    order.reinspection_task_id = task.id
    audit.record(session, identity.actor, "task.create", task)
    audit.record(session, identity.actor, "rectification_order.issue", order)


def _supersede(session: Session, identity: DeviceIdentity, old: Inspection) -> None:
    """The old version stays, marked superseded; what followed from it is withdrawn."""
    now = utcnow()
    claimed = session.execute(
        update(Inspection).where(Inspection.uuid == old.uuid, Inspection.superseded_at.is_(None)).values(superseded_at=now)
    ).rowcount
    if claimed != 1:
        raise _already_corrected()
    order = session.execute(select(RectificationOrder).where(RectificationOrder.inspection_uuid == old.uuid)).scalar_one_or_none()
    if order is not None and order.status == "open":
        before = order.audit_snapshot()
        order.status = "superseded"
        audit.record(session, identity.actor, "rectification_order.supersede", order, before=before)
        task = session.get(Task, order.reinspection_task_id) if order.reinspection_task_id else None
        if task is not None and task.status == "open":
            before = task.audit_snapshot()
            task.status, task.closed_at = "cancelled", now
            audit.record(session, identity.actor, "task.cancel", task, before=before)
    credit_records.supersede_source(session, identity.actor, "inspection", old.uuid, at=now)


def _summary(inspection: Inspection) -> dict:
    return {
        "uuid": inspection.uuid, "lineage_uuid": inspection.lineage_uuid, "version": inspection.version,
        "replaces_uuid": inspection.replaces_uuid, "establishment_id": inspection.establishment_id,
        "checklist_version_id": inspection.checklist_version_id, "device_id": inspection.device_id,
        "submitted_by_id": inspection.submitted_by_id, "content_hash": inspection.content_hash,
        "started_at": inspection.started_at, "ended_at": inspection.ended_at,
        "gps": [inspection.gps_lat, inspection.gps_lng, inspection.gps_accuracy_m],
        "flagged_for_review": inspection.flagged_for_review,
        "answers": {a.item_code: [a.result, a.number_value, a.text_value] for a in inspection.answers},
        "attachments": [e.sha256 for e in inspection.manifest],
        "findings": [f.item_code for f in inspection.findings],
    }


# --- completeness -------------------------------------------------------------------------

def _not_received():
    """The one definition of a missing file: no attachment with the manifest entry's hash and
    declared size."""
    return ~exists().where(Attachment.sha256 == ManifestEntry.sha256, Attachment.size == ManifestEntry.size)


def missing_attachments(session: Session, inspection: Inspection) -> list[ManifestEntry]:
    """Files of the manifest not yet received (or received with another size than declared)."""
    return list(session.execute(
        select(ManifestEntry).where(ManifestEntry.inspection_uuid == inspection.uuid, _not_received())
        .order_by(ManifestEntry.id)
    ).scalars())


def _still_missing(uuid: str):
    """Whether any file of the inspection's manifest is still missing: one query."""
    return exists().where(ManifestEntry.inspection_uuid == uuid, _not_received())


def settle(session: Session, uuid: str) -> None:
    """Mark the inspection complete if every file has arrived; commit. Runs after the write
    that might complete it has committed, so whichever of a submission and its last upload
    commits second sees the other."""
    # Lock-free look first: an inspection still waiting for a file cannot complete now, and
    # the upload that brings that file settles it after its own commit.
    if session.execute(select(_still_missing(uuid))).scalar():
        session.commit()
        return
    inspection = session.execute(
        select(Inspection).where(Inspection.uuid == uuid).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if inspection.status == "complete" or missing_attachments(session, inspection):
        session.commit()
        return
    before = {"status": inspection.status}
    inspection.status, inspection.completed_at = "complete", utcnow()
    establishment = session.get(Establishment, inspection.establishment_id)
    actor = audit.Actor.system("inspection-settlement")
    audit.record(session, actor, "inspection.complete", inspection, before=before,
                 after={"status": "complete", "completed_at": inspection.completed_at})
    credit_records.record(session, actor, credit_records.inspection_fact(establishment, inspection))
    session.commit()


def settle_waiting_on(session: Session, sha256: str) -> None:
    """After a file arrives: settle every inspection that was waiting for it."""
    uuids = session.execute(
        select(Inspection.uuid).join(ManifestEntry, ManifestEntry.inspection_uuid == Inspection.uuid)
        .where(ManifestEntry.sha256 == sha256, Inspection.status == "awaiting_attachments")
    ).scalars().all()
    for uuid in uuids:
        settle(session, uuid)


# --- penalty cases ------------------------------------------------------------------------

def open_penalty_case(session: Session, identity: DeviceIdentity, uuid: str, finding_ids: list[int], summary: str) -> PenaltyCase:
    inspection = get_inspection(session, uuid)
    if inspection.superseded_at is not None:
        raise Conflict("该检查记录已被更正，请在最新版本上立案", code="stale_version")
    by_id = {f.id: f for f in inspection.findings}
    unknown = [fid for fid in finding_ids if fid not in by_id]
    if unknown or not finding_ids:
        raise ValidationFailed(fields={"finding_ids": [f"问题 {unknown} 不属于该检查记录" if unknown else "请选择至少一个问题"]})
    taken = [fid for fid in finding_ids if by_id[fid].penalty_case_id is not None]
    if taken:
        raise Conflict("所选问题已立案", fields={"finding_ids": [f"问题 {taken} 已立案"]})
    case = PenaltyCase(establishment_id=inspection.establishment_id, inspection_uuid=uuid, summary=summary,
                       opened_by_id=identity.inspector.id)
    session.add(case)
    session.flush()
    for fid in finding_ids:
        by_id[fid].penalty_case_id = case.id
    audit.record(session, identity.actor, "penalty_case.open", case,
                 after=lambda: case.audit_snapshot() | {"finding_ids": finding_ids})
    session.commit()
    return case


# --- reading ------------------------------------------------------------------------------

@dataclass
class InspectionState:
    inspection: Inspection
    missing: list[ManifestEntry]
    order: RectificationOrder | None


def state_of(session: Session, inspection: Inspection) -> InspectionState:
    order = session.execute(
        select(RectificationOrder).where(RectificationOrder.inspection_uuid == inspection.uuid)
    ).scalar_one_or_none()
    return InspectionState(inspection, missing_attachments(session, inspection), order)


def visible_inspection(session: Session, identity: DeviceIdentity, uuid: str) -> Inspection:
    """An inspection of the device's own jurisdiction; others do not exist for it."""
    inspection = get_inspection(session, uuid)
    establishment = session.get(Establishment, inspection.establishment_id)
    if establishment.jurisdiction_id != identity.inspector.jurisdiction_id:
        raise NotFound("检查记录不存在", fields={"uuid": ["检查记录不存在"]})
    return inspection
