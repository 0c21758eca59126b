"""Keeping the registry: establishments, grids, jurisdictions, inspectors.

Every write here goes through the audit chain. Validation is done in full before anything is
written and reports every problem at once, keyed by field, in words a clerk can act on.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from supervision import audit
from supervision.errors import Conflict, NotFound, ValidationFailed
from supervision.registry import credit_code, plates
from supervision.registry.models import (
    ESTABLISHMENT_STATUSES,
    CreditSubject,
    Establishment,
    EstablishmentCategory,
    Grid,
    Inspector,
    Jurisdiction,
    Licence,
)
from supervision.text import unstorable

STATUS_BY_NAME = {"正常": "active", "停业": "suspended", "注销": "closed"}


@dataclass
class LicenceInput:
    number: str
    kind: str
    issued_on: date
    expires_on: date | None = None


@dataclass
class EstablishmentInput:
    credit_code: str
    name: str
    category: str  # category code or its Chinese name
    address: str
    district: str  # jurisdiction code of the district
    legal_representative: str
    grid: str | None = None  # grid code
    latitude: float | None = None
    longitude: float | None = None
    status: str = "active"
    licences: list[LicenceInput] = field(default_factory=list)


class RegistryLookups:
    """Reference data loaded once, so that validating a file of 100,000 rows does not cost
    100,000 queries."""

    def __init__(self, session: Session):
        categories = session.execute(select(EstablishmentCategory)).scalars().all()
        self.category_by_key = {c.code: c.code for c in categories} | {c.name: c.code for c in categories}
        self.jurisdiction_by_code = {j.code: j for j in session.execute(select(Jurisdiction)).scalars()}
        self.grid_by_code = {g.code: g for g in session.execute(select(Grid)).scalars()}


def check_establishment(data: EstablishmentInput, lookups: RegistryLookups) -> dict[str, str]:
    """Every rule `data` breaks, as {field: reason}."""
    problems: dict[str, str] = {}
    reason = credit_code.check(data.credit_code)
    if reason:
        problems["credit_code"] = reason
    for name, label, limit in (("name", "单位名称", 200), ("address", "地址", 300), ("legal_representative", "法定代表人", 64)):
        value = (getattr(data, name) or "").strip()
        if not value:
            problems[name] = f"{label}不能为空"
        elif reason := unstorable(value):
            problems[name] = f"{label}{reason}"
        elif len(value) > limit:
            problems[name] = f"{label}不能超过{limit}个字符"
    if (data.category or "").strip() not in lookups.category_by_key:
        problems["category"] = f"未知的单位类别“{data.category}”"
    district = lookups.jurisdiction_by_code.get((data.district or "").strip())
    if district is None:
        problems["district"] = f"未知的辖区代码“{data.district}”"
    elif district.level != "district":
        problems["district"] = f"“{data.district}”不是区县级辖区"
    if data.grid:
        grid = lookups.grid_by_code.get(data.grid.strip())
        if grid is None:
            problems["grid"] = f"未知的网格编号“{data.grid}”"
        elif district is not None and grid.jurisdiction_id != district.id:
            problems["grid"] = f"网格“{data.grid}”不属于辖区“{data.district}”"
    if (data.latitude is None) != (data.longitude is None):
        problems["latitude" if data.latitude is None else "longitude"] = "经纬度须同时填写"
    if data.latitude is not None and not -90 <= data.latitude <= 90:
        problems["latitude"] = "纬度应在 -90 到 90 之间"
    if data.longitude is not None and not -180 <= data.longitude <= 180:
        problems["longitude"] = "经度应在 -180 到 180 之间"
    if data.status not in ESTABLISHMENT_STATUSES:
        problems["status"] = f"未知的经营状态“{data.status}”（应为 正常、停业 或 注销）"
    numbers = [lic.number for lic in data.licences]
    if len(set(numbers)) != len(numbers):
        problems["licences"] = "许可证号重复"
    for lic in data.licences:
        if not lic.number.strip() or not lic.kind.strip():
            problems["licences"] = "许可证号和许可类别不能为空"
        elif len(lic.number.strip()) > 64 or len(lic.kind.strip()) > 64:
            problems["licences"] = "许可证号和许可类别不能超过64个字符"
        elif reason := unstorable(lic.number) or unstorable(lic.kind):
            problems["licences"] = f"许可证号和许可类别{reason}"
        elif lic.expires_on is not None and lic.expires_on < lic.issued_on:
            problems["licences"] = f"许可证“{lic.number}”的有效期截止日早于发证日期"
    return problems


def upsert_establishment(
    session: Session, data: EstablishmentInput, actor: audit.Actor, lookups: RegistryLookups | None = None
) -> tuple[Establishment, str]:
    """Create or update by credit code. Returns the establishment and "created", "updated" or
    "unchanged"; an unchanged row writes nothing, so importing the same file twice is a no-op."""
    lookups = lookups or RegistryLookups(session)
    problems = check_establishment(data, lookups)
    if problems:
        raise ValidationFailed(fields={k: [v] for k, v in problems.items()})
    code = credit_code.normalise(data.credit_code)
    values = {
        "name": data.name.strip(),
        "category_code": lookups.category_by_key[data.category.strip()],
        "address": data.address.strip(),
        "jurisdiction_id": lookups.jurisdiction_by_code[data.district.strip()].id,
        "grid_id": lookups.grid_by_code[data.grid.strip()].id if data.grid else None,
        "latitude": data.latitude,
        "longitude": data.longitude,
        "legal_representative": data.legal_representative.strip(),
        "status": data.status,
    }
    licences = {(lic.number.strip(), lic.kind.strip(), lic.issued_on, lic.expires_on) for lic in data.licences}
    establishment = session.execute(
        select(Establishment).options(selectinload(Establishment.licences)).where(Establishment.credit_code == code)
    ).scalar_one_or_none()
    if establishment is None:
        establishment = Establishment(credit_code=code, subject=CreditSubject(kind="establishment"), **values)
        establishment.licences = [Licence(number=n, kind=k, issued_on=i, expires_on=e) for n, k, i, e in sorted(licences)]
        session.add(establishment)
        plates.issue_plate(session, establishment, actor)
        audit.record(session, actor, "establishment.create", establishment)
        return establishment, "created"
    current_licences = {(lic.number, lic.kind, lic.issued_on, lic.expires_on) for lic in establishment.licences}
    if all(getattr(establishment, k) == v for k, v in values.items()) and current_licences == licences:
        return establishment, "unchanged"
    before = establishment.audit_snapshot()
    for key, value in values.items():
        setattr(establishment, key, value)
    if current_licences != licences:
        by_number = {lic.number: lic for lic in establishment.licences}
        wanted = {n: (k, i, e) for n, k, i, e in licences}
        for number, lic in by_number.items():
            if number not in wanted:
                establishment.licences.remove(lic)
        for number, (kind, issued, expires) in sorted(wanted.items()):
            lic = by_number.get(number)
            if lic is None:
                establishment.licences.append(Licence(number=number, kind=kind, issued_on=issued, expires_on=expires))
            else:
                lic.kind, lic.issued_on, lic.expires_on = kind, issued, expires
    audit.record(session, actor, "establishment.update", establishment, before=before)
    return establishment, "updated"


def find_establishments(
    session: Session, *, plate_token: str | None = None, credit_code_value: str | None = None,
    name: str | None = None, limit: int = 20,
) -> list[Establishment]:
    """Look up by scanned plate token, credit code, or part of the name."""
    if plate_token:
        found = plates.establishment_for_token(session, plate_token)
        return [found] if found else []
    query = select(Establishment).order_by(Establishment.id).limit(limit)
    if credit_code_value:
        query = query.where(Establishment.credit_code == credit_code.normalise(credit_code_value))
    elif name:
        escaped = name.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Establishment.name.like(f"%{escaped}%", escape="\\"))
    else:
        return []
    return list(session.execute(query).scalars())


PARENT_LEVEL = {"province": None, "city": "province", "district": "city"}


def jurisdiction_by_code(session: Session, code: str) -> Jurisdiction:
    found = session.execute(select(Jurisdiction).where(Jurisdiction.code == (code or "").strip())).scalar_one_or_none()
    if found is None:
        raise NotFound(f"辖区“{code}”不存在", fields={"jurisdiction": [f"辖区“{code}”不存在"]})
    return found


def grids_by_code(session: Session, codes: Iterable[str]) -> list[Grid]:
    codes = [c.strip() for c in codes]
    found = {g.code: g for g in session.execute(select(Grid).where(Grid.code.in_(codes))).scalars()} if codes else {}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise NotFound(f"网格不存在：{'、'.join(unknown)}", fields={"grids": [f"网格“{c}”不存在" for c in unknown]})
    return [found[c] for c in codes]


def create_jurisdiction(session: Session, actor: audit.Actor, *, code: str, name: str, level: str,
                        parent: Jurisdiction | None = None) -> Jurisdiction:
    """Add a province, city or district; each level sits under the one above it."""
    problems: dict[str, list[str]] = {}
    if level not in PARENT_LEVEL:
        problems["level"] = ["应为 province、city 或 district"]
    elif (parent.level if parent else None) != PARENT_LEVEL[level]:
        expected = PARENT_LEVEL[level]
        problems["parent"] = [f"{level} 的上级应为 {expected} 级辖区" if expected else "省级辖区没有上级"]
    if not (code or "").strip().isdigit() or len(code.strip()) not in (6, 9, 12):
        problems["code"] = ["辖区代码应为6、9或12位数字（行政区划代码）"]
    if not (name or "").strip():
        problems["name"] = ["名称不能为空"]
    if problems:
        raise ValidationFailed(fields=problems)
    if session.execute(select(Jurisdiction.id).where(Jurisdiction.code == code.strip())).first():
        raise Conflict(f"辖区代码“{code}”已存在", fields={"code": ["已存在"]})
    jurisdiction = Jurisdiction(code=code.strip(), name=name.strip(), level=level, parent=parent)
    session.add(jurisdiction)
    audit.record(session, actor, "jurisdiction.create", jurisdiction)
    return jurisdiction


def create_grid(session: Session, actor: audit.Actor, *, code: str, name: str, jurisdiction: Jurisdiction) -> Grid:
    """Add a grid to a district."""
    if jurisdiction.level != "district":
        raise ValidationFailed(fields={"district": ["网格只能设在区县级辖区"]})
    if not (code or "").strip() or len(code.strip()) > 32 or not (name or "").strip():
        raise ValidationFailed(fields={"code": ["网格编号和名称不能为空，编号不超过32个字符"]})
    if session.execute(select(Grid.id).where(Grid.code == code.strip())).first():
        raise Conflict(f"网格编号“{code}”已存在", fields={"code": ["已存在"]})
    grid = Grid(code=code.strip(), name=name.strip(), jurisdiction=jurisdiction)
    session.add(grid)
    audit.record(session, actor, "grid.create", grid)
    return grid


def _check_grids_of(jurisdiction: Jurisdiction, grids: list[Grid]) -> None:
    outside = [g.code for g in grids if g.jurisdiction_id != jurisdiction.id]
    if outside:
        raise ValidationFailed(fields={"grids": [f"网格“{c}”不属于辖区“{jurisdiction.name}”" for c in outside]})


def create_inspector(
    session: Session, actor: audit.Actor, *, badge_no: str, name: str, certificate_no: str,
    certificate_valid_from: date, certificate_valid_until: date, jurisdiction: Jurisdiction,
    grids: Iterable[Grid] = (), phone: str | None = None,
) -> Inspector:
    """Add an enforcement officer to the inspector directory (执法检查人员名录库)."""
    grids = list(grids)
    if certificate_valid_until < certificate_valid_from:
        raise ValidationFailed(fields={"certificate_valid_until": ["执法证有效期截止日早于起始日"]})
    if not (badge_no or "").strip() or not (name or "").strip() or not (certificate_no or "").strip():
        raise ValidationFailed(fields={"badge_no": ["执法证件号、姓名和执法证编号不能为空"]})
    session.flush()  # grids created in this transaction need their ids for the check below
    _check_grids_of(jurisdiction, grids)
    if session.execute(select(Inspector.id).where(
            (Inspector.badge_no == badge_no.strip()) | (Inspector.certificate_no == certificate_no.strip()))).first():
        raise Conflict("执法人员编号或执法证编号已存在", fields={"badge_no": ["已存在"]})
    inspector = Inspector(
        badge_no=badge_no.strip(), name=name.strip(), certificate_no=certificate_no.strip(),
        certificate_valid_from=certificate_valid_from, certificate_valid_until=certificate_valid_until,
        jurisdiction=jurisdiction, grids=grids, phone=phone,
    )
    session.add(inspector)
    audit.record(session, actor, "inspector.create", inspector)
    return inspector


def list_inspectors(session: Session) -> list[Inspector]:
    return list(session.execute(
        select(Inspector).options(selectinload(Inspector.grids), selectinload(Inspector.jurisdiction))
        .order_by(Inspector.badge_no)
    ).scalars())


def inspector_by_badge(session: Session, badge_no: str) -> Inspector:
    found = inspectors_by_badge(session, [badge_no]).get(badge_no)
    if found is None:
        raise NotFound(f"执法人员“{badge_no}”不存在", fields={"badge_no": ["不存在"]})
    return found


def inspectors_by_badge(session: Session, badges: Iterable[str]) -> dict[str, Inspector]:
    badges = list(badges)
    if not badges:
        return {}
    rows = session.execute(
        select(Inspector).options(selectinload(Inspector.grids)).where(Inspector.badge_no.in_(badges))
    ).scalars()
    return {i.badge_no: i for i in rows}


def assign_grids(session: Session, actor: audit.Actor, inspector: Inspector, grids: Iterable[Grid]) -> Inspector:
    """Set the grids an inspector is responsible for (fixed grid, fixed staff)."""
    grids = list(grids)
    _check_grids_of(inspector.jurisdiction, grids)
    before = inspector.audit_snapshot()
    inspector.grids = grids
    audit.record(session, actor, "inspector.assign_grids", inspector, before=before)
    return inspector
