"""Checking a submission in full before anything is written, every problem reported at once,
keyed by field, in words an inspector can act on."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, joinedload, selectinload

from supervision import audit
from supervision.checklists.answers import check_answers
from supervision.checklists.models import ChecklistItem, ChecklistVersion
from supervision.errors import Conflict, ValidationFailed
from supervision.geo import distance_m
from supervision.inspections import policy
from supervision.inspections.models import Inspection, Task
from supervision.modelbase import utcnow
from supervision.registry.models import Establishment, Inspector, inspector_grids
from supervision.timeutil import to_utc_naive, with_offset


def already_corrected() -> Conflict:
    return Conflict("被更正的检查记录已不是最新版本，请先同步后再更正", code="stale_version",
                    fields={"replaces": ["该版本已被更正，不是最新版本"]})


@dataclass
class Context:
    establishment: Establishment
    version: ChecklistVersion
    items: dict[str, ChecklistItem]
    inspectors: list[Inspector]
    replaced: Inspection | None
    task: Task | None
    started: tuple[datetime, int]
    ended: tuple[datetime, int]
    gps_distance: float | None


def validate(session: Session, actor: audit.Actor, s: dict, settings) -> Context:
    problems: dict[str, list[str]] = {}

    def add(path: str, message: str) -> None:
        problems.setdefault(path, []).append(message)

    # The establishment and whether it lies in one of the submitter's grids, in one query.
    in_my_grids = exists().where(inspector_grids.c.inspector_id == actor.inspector_id,
                                 inspector_grids.c.grid_id == Establishment.grid_id)
    row = session.execute(
        select(Establishment, in_my_grids).where(Establishment.id == s["establishment_id"])
    ).one_or_none()
    establishment = row[0] if row else None
    if establishment is None:
        add("establishment_id", "单位不存在")
    elif establishment.status == "closed":
        add("establishment_id", "单位已注销，不能提交检查记录")
    elif not row[1]:
        add("establishment_id", "该单位不在您负责的网格内")

    version = session.execute(
        select(ChecklistVersion).options(selectinload(ChecklistVersion.items), joinedload(ChecklistVersion.template))
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

    inspectors = _check_inspectors(session, actor, s["inspectors"], inspection_day, add)
    check_answers(s["answers"], items, add,
                  photo_items=(a.get("item_code") for a in s["attachments"] if a.get("item_code")))
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
        elif task.status == "done" and not (replaced is not None and replaced.task_id == task.id):
            # Only a correction of the inspection that closed the task may cite it again.
            add("task_id", "任务已完成，不能再次引用；如需更正完成该任务的检查记录，请提交更正版本")

    if problems:
        raise ValidationFailed("检查记录未通过校验，未保存任何内容", fields=problems)
    if replaced is not None and replaced.superseded_at is not None:
        raise already_corrected()

    gps = s["gps"]
    gps_distance = None
    if establishment.latitude is not None and establishment.longitude is not None:
        gps_distance = distance_m(gps["lat"], gps["lng"], establishment.latitude, establishment.longitude)
    return Context(establishment, version, items, inspectors, replaced, task, started, ended, gps_distance)


def _check_inspectors(session, actor: audit.Actor, badges: list[str], day: date, add) -> list[Inspector]:
    if len(set(badges)) != len(badges):
        add("inspectors", "检查人员重复")
    if len(set(badges)) < 2:
        add("inspectors", "现场执法须有两名以上持有执法证的执法人员")
    found = {i.badge_no: i for i in session.execute(select(Inspector).where(Inspector.badge_no.in_(badges))).scalars()}
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
    if actor.badge_no not in badges:
        add("inspectors", "提交设备所属执法人员必须是检查人员之一")
    return inspectors


def _check_manifest(s: dict, items: dict[str, ChecklistItem], settings, add) -> None:
    seen = set()
    for i, entry in enumerate(s["attachments"]):
        path = f"attachments.{i}"
        if entry["sha256"] in seen:
            add(f"{path}.sha256", "附件重复")
        seen.add(entry["sha256"])
        video = entry["media_type"] in settings.video_media_types
        limit = settings.max_video_bytes if video else settings.max_attachment_bytes
        if entry["size"] > limit:
            add(f"{path}.size", f"{'视频' if video else '附件'}超过大小上限 {limit} 字节")
        if not video and entry["media_type"] not in settings.allowed_media_types:
            allowed = settings.allowed_media_types + settings.video_media_types
            add(f"{path}.media_type", f"不支持的附件类型，允许：{', '.join(allowed)}")
        elif video != (entry.get("purpose") == "video"):
            add(f"{path}.purpose", "视频（video/mp4、video/quicktime）的用途应为 video，其他附件不能标为 video")
        if entry.get("item_code") and items and entry["item_code"] not in items:
            add(f"{path}.item_code", f"检查表中没有项目“{entry['item_code']}”")
    signature = s["signature"]
    if not signature.get("refused") and signature.get("sha256") not in seen:
        add("signature.sha256", "签名图片须列入附件清单")
