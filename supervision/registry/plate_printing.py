"""What is printed on plates: one face per establishment, read in batches for long sheets.

The rules of a plate's content live here (who issues it, which grade it shows, which
establishments a sheet holds); `qr.render` only lays them out. A sheet of thousands of plates
is read in keyset batches, each with one bulk grade query (`current_grades`), so the number of
statements grows with the number of batches, not of plates, and memory stays flat.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supervision.credit.grading.current import current_grades
from supervision.errors import NotFound, ValidationFailed
from supervision.registry import credit_code
from supervision.registry.models import Establishment, EstablishmentCategory, Grid, Jurisdiction, PlateToken
from supervision.registry.plates import plate_number

NO_GRADE = "暂未评级"
SCAN_LINE = "微信扫一扫 查看信用信息"
AUTHORITY_SUFFIX = "卫生健康委员会"
BATCH = 200


@dataclass(frozen=True)
class PlateFace:
    """Everything one printed plate shows."""

    authority: str
    name: str
    credit_code: str
    token: str
    plate_number: str
    grade_text: str  # "A级（2025年度）" or "暂未评级"
    scan_line: str = SCAN_LINE


@dataclass(frozen=True)
class Selection:
    """Which establishments a sheet holds (all active ones with a plate, narrowed by these)."""

    district: str | None = None
    grid: str | None = None
    category: str | None = None


def authority_name(jurisdiction: Jurisdiction) -> str:
    """The issuing authority printed on the plate: the health commission of the establishment's
    jurisdiction, named with its city (南京市玄武区卫生健康委员会), or its province for a city."""
    names = [jurisdiction.name]
    if jurisdiction.level == "district" and jurisdiction.parent is not None:
        names.insert(0, jurisdiction.parent.name)
    return "".join(names) + AUTHORITY_SUFFIX


def grade_text(grade) -> str:
    return f"{grade.grade}级（{grade.year}年度）" if grade is not None else NO_GRADE


def _base_query():
    # Columns, not entities: a long sheet leaves nothing in the session's identity map.
    return (select(Establishment.id, Establishment.subject_id, Establishment.name, Establishment.credit_code,
                   Establishment.jurisdiction_id, Establishment.status, PlateToken.token)
            .join(PlateToken, (PlateToken.establishment_id == Establishment.id) & PlateToken.revoked_at.is_(None)))


def _filtered(session: Session, query, selection: Selection):
    query = query.where(Establishment.status != "closed")
    if selection.district:
        jurisdiction_id = session.execute(
            select(Jurisdiction.id).where(Jurisdiction.code == selection.district.strip())).scalar_one_or_none()
        if jurisdiction_id is None:
            raise NotFound(f"辖区“{selection.district}”不存在", fields={"district": ["辖区不存在"]})
        query = query.where(Establishment.jurisdiction_id == jurisdiction_id)
    if selection.grid:
        grid_id = session.execute(select(Grid.id).where(Grid.code == selection.grid.strip())).scalar_one_or_none()
        if grid_id is None:
            raise NotFound(f"网格“{selection.grid}”不存在", fields={"grid": ["网格不存在"]})
        query = query.where(Establishment.grid_id == grid_id)
    if selection.category:
        known = session.execute(select(EstablishmentCategory.code)
                                .where(EstablishmentCategory.code == selection.category.strip())).scalar_one_or_none()
        if known is None:
            raise NotFound(f"单位类别“{selection.category}”不存在", fields={"category": ["类别不存在"]})
        query = query.where(Establishment.category_code == known)
    return query


def count_plates(session: Session, selection: Selection) -> int:
    query = _filtered(session, select(func.count()).select_from(Establishment)
                      .join(PlateToken, (PlateToken.establishment_id == Establishment.id)
                            & PlateToken.revoked_at.is_(None)), selection)
    return session.execute(query).scalar_one()


def _faces(session: Session, rows, authorities: dict[int, str]) -> list[PlateFace]:
    grades = current_grades(session, [row.subject_id for row in rows])
    faces = []
    for row in rows:
        if row.jurisdiction_id not in authorities:
            authorities[row.jurisdiction_id] = authority_name(session.get(Jurisdiction, row.jurisdiction_id))
        faces.append(PlateFace(authorities[row.jurisdiction_id], row.name, row.credit_code, row.token,
                               plate_number(row.token), grade_text(grades.get(row.subject_id))))
    return faces


def plate_faces(session: Session, selection: Selection, batch: int = BATCH) -> Iterator[list[PlateFace]]:
    """The faces of a sheet, in batches ordered by establishment id (keyset pagination, so a
    batch costs the same at the end of a province as at the start)."""
    authorities: dict[int, str] = {}
    after = 0
    while True:
        rows = session.execute(
            _filtered(session, _base_query(), selection).where(Establishment.id > after)
            .order_by(Establishment.id).limit(batch)
        ).all()
        if not rows:
            return
        yield _faces(session, rows, authorities)
        after = rows[-1].id


def plate_face(session: Session, code: str) -> PlateFace:
    """The face of one establishment's current plate."""
    row = session.execute(_base_query().where(Establishment.credit_code == credit_code.normalise(code))).first()
    if row is None:
        exists = session.execute(select(Establishment.id).where(
            Establishment.credit_code == credit_code.normalise(code))).first()
        raise NotFound("该单位没有有效的二维码身份牌" if exists else f"统一社会信用代码为“{code}”的单位不存在",
                       fields={"credit_code": ["没有有效标牌" if exists else "单位不存在"]})
    if row.status == "closed":
        raise ValidationFailed("该单位已注销，不再制作标牌", fields={"credit_code": ["单位已注销"]})
    return _faces(session, [row], {})[0]
