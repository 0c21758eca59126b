"""Submitting and reading self-inspections (自查自纠).

The establishment answers a published checklist version that applies to its category — the
one inspectors use — checked by the same rule as an inspector's answers
(`checklists.answers`). Every item the answers make non-compliant needs a correction: what was
done (整改措施) and the day it was completed, or that it is still in progress. Everything is
checked before anything is written, and every problem is reported at once, keyed by field.
Services never commit (supervision/transaction.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from supervision import audit
from supervision.audit.actor import Actor
from supervision.checklists.answers import check_answers, result_of
from supervision.checklists.models import ChecklistVersion
from supervision.credit.calendar import china_today
from supervision.errors import Forbidden, ValidationFailed
from supervision.registry.models import Establishment
from supervision.self_inspections.models import SelfInspection

ENTITY_TYPE = "self_inspections"
MAX_MEASURE = 1000
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class Correction:
    """What the establishment did about one non-compliant item; `completed_on` None: in progress."""

    measure: str
    completed_on: date | None = None


def _own(session: Session, actor: Actor, establishment_id: int) -> Establishment:
    establishment = session.get(Establishment, establishment_id)
    if actor.kind != "establishment" or establishment is None or establishment_id not in actor.establishment_ids:
        raise Forbidden("只有本单位账号可以提交本单位的自查自纠")
    return establishment


def _readable(session: Session, actor: Actor, establishment_id: int) -> Establishment | None:
    """The establishment itself, or supervisors of its area, may read its self-inspections."""
    establishment = session.get(Establishment, establishment_id)
    if establishment is None:
        return None
    if actor.kind == "establishment":
        allowed = establishment_id in actor.establishment_ids
    else:
        allowed = actor.covers(establishment.jurisdiction_id)
    if not allowed:
        raise Forbidden("无权查看其他单位的自查自纠")
    return establishment


def submit(session: Session, actor: Actor, establishment_id: int, *, checklist_version_id: int,
           answers: list[dict], corrections: dict[str, Correction], on: date | None = None) -> SelfInspection:
    """Store one self-inspection of the caller's own establishment, or refuse it whole."""
    establishment = _own(session, actor, establishment_id)
    today = on or china_today()
    problems: dict[str, list[str]] = {}

    def add(path: str, message: str) -> None:
        problems.setdefault(path, []).append(message)

    version = None
    if 0 < checklist_version_id <= MAX_ID:  # anything else cannot exist (and overflows PostgreSQL's integer)
        version = session.execute(
            select(ChecklistVersion).options(selectinload(ChecklistVersion.items), joinedload(ChecklistVersion.template))
            .where(ChecklistVersion.id == checklist_version_id)).scalar_one_or_none()
    items = {}
    if version is None:
        add("checklist_version_id", "检查表版本不存在")
    elif version.status != "published":
        add("checklist_version_id", f"检查表“{version.template.title}”第{version.version}版已停用，请使用现行版本")
    elif establishment.category_code not in (version.template.categories or []):
        add("checklist_version_id", "该检查表不适用于本单位的类别")
    else:
        items = version.item_by_code()
    # Photo items are the inspectors' on-site evidence: the establishment may answer them, but
    # no photo is asked of it, so they are never "missing".
    check_answers(answers, items, add, photo_items=[c for c, item in items.items() if item.answer_type == "photo"])

    failed = set()
    if items:
        failed = {a["item_code"] for a in answers
                  if a["item_code"] in items and result_of(items[a["item_code"]], a) == "fail"}
    for code in sorted(failed):
        correction = corrections.get(code)
        if correction is None or not correction.measure.strip():
            add(f"corrections.{code}.measure", f"项目“{code}”不合格，请填写整改措施")
    for code, correction in corrections.items():
        if items and code not in items:
            add(f"corrections.{code}", f"检查表中没有项目“{code}”")
        elif items and code not in failed:
            add(f"corrections.{code}.measure", f"项目“{code}”未判定为不合格，无需填写整改措施")
        if len(correction.measure) > MAX_MEASURE:
            add(f"corrections.{code}.measure", f"整改措施不超过 {MAX_MEASURE} 字")
        if correction.completed_on is not None and correction.completed_on > today:
            add(f"corrections.{code}.completed_on", "完成日期不能晚于今天；尚未完成请选择“整改中”")
    if problems:
        raise ValidationFailed("自查自纠未通过校验，未保存任何内容", fields=problems)

    order = {code: item.position for code, item in items.items()}
    stored_answers = [
        {"item_code": a["item_code"], "result": result_of(items[a["item_code"]], a),
         "number": a.get("number"), "text": (a.get("text") or None), "note": (a.get("note") or None)}
        for a in sorted(answers, key=lambda a: order[a["item_code"]])]
    stored_corrections = {
        code: {"measure": corrections[code].measure.strip(),
               "completed_on": corrections[code].completed_on.isoformat() if corrections[code].completed_on else None}
        for code in sorted(failed)}
    inspection = SelfInspection(establishment_id=establishment.id, checklist_version_id=version.id,
                                answers=stored_answers, corrections=stored_corrections,
                                account_id=actor.details["account_id"])
    session.add(inspection)
    session.flush()
    audit.record(session, actor, "self_inspection.submit", inspection)
    return inspection


def latest(session: Session, establishment_id: int) -> SelfInspection | None:
    """The newest self-inspection of an establishment (what inspectors see in the sync)."""
    return session.execute(
        select(SelfInspection).where(SelfInspection.establishment_id == establishment_id)
        .order_by(SelfInspection.id.desc()).limit(1)).scalar_one_or_none()


def latest_of(session: Session, establishment_ids: list[int]) -> dict[int, SelfInspection]:
    """The newest self-inspection of each establishment, in one query (for sync pages)."""
    if not establishment_ids:
        return {}
    newest = (select(func.max(SelfInspection.id)).where(SelfInspection.establishment_id.in_(establishment_ids))
              .group_by(SelfInspection.establishment_id))
    rows = session.execute(select(SelfInspection).where(SelfInspection.id.in_(newest))).scalars()
    return {row.establishment_id: row for row in rows}


def history(session: Session, actor: Actor, establishment_id: int) -> list[SelfInspection]:
    """Every self-inspection of the establishment, newest first (its own account or a supervisor)."""
    if _readable(session, actor, establishment_id) is None:
        return []
    return list(session.execute(
        select(SelfInspection).where(SelfInspection.establishment_id == establishment_id)
        .order_by(SelfInspection.id.desc())).scalars())
