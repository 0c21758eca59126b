"""Publishing checklist versions.

A definition (the JSON shape of `starter/*.json`) is published as a new version only when it
differs from the newest version of its template; publishing the same definition again is a
no-op. Nothing here edits a published version.
"""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from supervision import audit
from supervision.checklists.models import ANSWER_TYPES, SEVERITIES, ChecklistItem, ChecklistTemplate, ChecklistVersion
from supervision.errors import Conflict, NotFound, ValidationFailed
from supervision.jsonutil import canonical_json
from supervision.modelbase import utcnow
from supervision.registry.categories import CATEGORIES

STARTER_DIR = Path(__file__).resolve().parent / "starter"
_ITEM_FIELDS = ("code", "section", "text", "legal_basis", "severity", "answer_type", "unit", "min", "max",
                "plausible_min", "plausible_max", "required", "checks_commitment")


def check_definition(definition: dict) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}

    def add(path, message):
        problems.setdefault(path, []).append(message)

    for key in ("code", "title", "specialty"):
        if not isinstance(definition.get(key), str) or not definition[key].strip():
            add(key, "不能为空")
    known = {code for code, _, _ in CATEGORIES}
    categories = definition.get("categories")
    if not isinstance(categories, list) or not categories or not set(categories) <= known:
        add("categories", "应为已知单位类别代码的非空列表")
    items = definition.get("items")
    if not isinstance(items, list) or not items:
        add("items", "检查项目不能为空")
        return problems
    seen = set()
    for i, item in enumerate(items):
        path = f"items.{i}"
        if not isinstance(item, dict):
            add(path, "应为对象")
            continue
        code = item.get("code")
        if not isinstance(code, str) or not code or len(code) > 16:
            add(f"{path}.code", "项目编号不能为空且不超过16个字符")
        elif code in seen:
            add(f"{path}.code", f"项目编号“{code}”重复")
        seen.add(code)
        for key in ("section", "text", "legal_basis"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                add(f"{path}.{key}", "不能为空")
        if item.get("severity") not in SEVERITIES:
            add(f"{path}.severity", f"应为 {', '.join(SEVERITIES)} 之一")
        if item.get("answer_type") not in ANSWER_TYPES:
            add(f"{path}.answer_type", f"应为 {', '.join(ANSWER_TYPES)} 之一")
        if item.get("answer_type") == "number":
            _check_number_item(item, path, add)
    return problems


def _check_number_item(item: dict, path: str, add) -> None:
    """A number item has a unit, at least one legal limit, and plausible physical bounds
    (both ends) that contain the legal limits."""
    low, high = item.get("min"), item.get("max")
    bounds = (item.get("plausible_min"), item.get("plausible_max"))
    numbers = [v for v in (low, high, *bounds) if v is not None]
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) for v in numbers):
        add(path, "限值和合理范围应为有限的数值")
        return
    if not item.get("unit") or (low is None and high is None):
        add(path, "数值项目须有单位和至少一个限值")
    elif low is not None and high is not None and low > high:
        add(path, "下限不能大于上限")
    plausible_min, plausible_max = bounds
    if plausible_min is None or plausible_max is None:
        add(path, "数值项目须有合理范围（plausible_min、plausible_max），用于拒收明显错误的检测值")
    elif plausible_min >= plausible_max:
        add(path, "合理范围的下界应小于上界")
    elif any(v is not None and not plausible_min <= v <= plausible_max for v in (low, high)):
        add(path, "标准限值应在合理范围之内")


def content_hash(definition: dict) -> str:
    items = [{k: item.get(k) for k in _ITEM_FIELDS} for item in definition["items"]]
    body = {k: definition[k] for k in ("code", "title", "specialty")} | {"categories": sorted(definition["categories"]), "items": items}
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def publish(session: Session, actor: audit.Actor, definition: dict) -> tuple[ChecklistVersion, bool]:
    """Publish `definition`; returns the version and whether it is new."""
    problems = check_definition(definition)
    if problems:
        raise ValidationFailed("检查表定义有误", fields=problems)
    digest = content_hash(definition)
    template = session.execute(
        select(ChecklistTemplate).where(ChecklistTemplate.code == definition["code"])
    ).scalar_one_or_none()
    if template is None:
        template = ChecklistTemplate(code=definition["code"], title=definition["title"],
                                     specialty=definition["specialty"], categories=sorted(definition["categories"]))
        session.add(template)
        audit.record(session, actor, "checklist_template.create", template)
        latest = None
    else:
        latest = template.versions[-1] if template.versions else None
        if latest is not None and latest.content_hash == digest:
            return latest, False
        before = template.audit_snapshot()
        template.title, template.specialty = definition["title"], definition["specialty"]
        template.categories = sorted(definition["categories"])
        audit.record(session, actor, "checklist_template.update", template, before=before)
    version = ChecklistVersion(template=template, version=(latest.version + 1) if latest else 1, content_hash=digest)
    version.items = [
        ChecklistItem(
            code=item["code"], position=i, section=item["section"], text=item["text"],
            legal_basis=item["legal_basis"], severity=item["severity"], answer_type=item["answer_type"],
            unit=item.get("unit"), min_value=item.get("min"), max_value=item.get("max"),
            plausible_min=item.get("plausible_min"), plausible_max=item.get("plausible_max"),
            required=bool(item.get("required", True)), checks_commitment=bool(item.get("checks_commitment", False)),
        )
        for i, item in enumerate(definition["items"])
    ]
    session.add(version)
    audit.record(session, actor, "checklist_version.publish", version,
                 after=lambda: {"template": template.code, "version": version.version, "content_hash": digest,
                                "items": [i.audit_snapshot() for i in version.items]})
    return version, True


def load_directory(session: Session, actor: audit.Actor, directory: Path = STARTER_DIR) -> list[tuple[ChecklistVersion, bool]]:
    results = []
    for path in sorted(directory.glob("*.json")):
        definition = json.loads(path.read_text(encoding="utf-8"))
        results.append(publish(session, actor, definition))
    return results


def retire(session: Session, actor: audit.Actor, template_code: str, version_no: int) -> ChecklistVersion:
    version = session.execute(
        select(ChecklistVersion).join(ChecklistTemplate)
        .where(ChecklistTemplate.code == template_code, ChecklistVersion.version == version_no)
    ).scalar_one_or_none()
    if version is None:
        raise NotFound(f"检查表 {template_code} 第{version_no}版不存在")
    if version.status == "retired":
        raise Conflict("该版本已停用")
    before = version.audit_snapshot()
    version.status, version.retired_at = "retired", utcnow()
    audit.record(session, actor, "checklist_version.retire", version, before=before)
    return version


def versions_in_use(session: Session) -> list[ChecklistVersion]:
    """Every published (not retired) version, with items: what a terminal needs offline."""
    return list(session.execute(
        select(ChecklistVersion)
        .options(selectinload(ChecklistVersion.items), selectinload(ChecklistVersion.template))
        .where(ChecklistVersion.status == "published")
        .order_by(ChecklistVersion.id)
    ).scalars())


def all_versions(session: Session) -> list[ChecklistVersion]:
    return list(session.execute(
        select(ChecklistVersion).options(selectinload(ChecklistVersion.template)).order_by(ChecklistVersion.id)
    ).scalars())


def versions_for_category(session: Session, category_code: str) -> list[ChecklistVersion]:
    """The published versions inspectors may use for an establishment of this category (the
    rule a submission is checked against), with their items."""
    return [v for v in versions_in_use(session) if category_code in (v.template.categories or [])]
