"""Builders for the double-random draw tests: a district with grids, establishments with
published grades, inspectors, and plans as TOML text."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import update

from supervision.checklists import service as checklists
from supervision.credit.grading import current
from supervision.credit.grading.models import Grade, GradingRun
from supervision.extensions import db
from tests import factories
from tests.terminal import CHECKLIST

PERIOD = (date(2027, 3, 1), date(2027, 6, 30))


def checklist():
    checklists.publish(db.session, factories.ACTOR, CHECKLIST)


def establishments(grid, n: int, **overrides) -> list:
    return [factories.establishment(grid=grid.code, name=f"测试单位{grid.code}-{i}", **overrides) for i in range(n)]


def publish_grades(grades: dict, year: int = 2026, published_at: datetime = datetime(2027, 1, 10)) -> GradingRun:
    """A published grading run giving each establishment its grade (inserted directly: the
    grading engine is another area's), made current as a publication makes it."""
    run = GradingRun(year=year, status="draft", data_as_of=datetime(2027, 1, 1), counts={}, created_by="test")
    db.session.add(run)
    db.session.flush()
    db.session.add_all([Grade(run_id=run.id, subject_id=e.subject_id, establishment_id=e.id, score=80, grade=g,
                              policy_id=0) for e, g in grades.items()])
    db.session.flush()
    db.session.execute(update(GradingRun).where(GradingRun.id == run.id).values(status="published",
                                                                                published_at=published_at))
    db.session.expire(run)
    current.refresh(db.session, [run.id])
    return run


def inspector(district, grids, valid_from=date(2024, 1, 1), valid_until=date(2030, 12, 31)):
    return factories.inspector(district, grids=list(grids), valid_from=valid_from, valid_until=valid_until)


def plan(code="P1", jurisdictions=("320102",), grids=(), period=PERIOD, **rules) -> str:
    """A plan as TOML; `rules` are top-level keys (ratios as a dict)."""
    lines = [f'code = "{code}"', 'title = "测试抽查计划"', 'specialty = "公共场所卫生"',
             "[period]", f"start = {period[0].isoformat()}", f"end = {period[1].isoformat()}",
             "[scope]", "jurisdictions = [" + ", ".join(f'"{j}"' for j in jurisdictions) + "]",
             "grids = [" + ", ".join(f'"{g}"' for g in grids) + "]", "categories = []",
             "[items]", 'matters = ["卫生许可情况"]', 'checklist = "test_accommodation"']
    ratios = rules.pop("ratios", None)
    top = [f"{k} = {v!r}" if not isinstance(v, str) else f'{k} = "{v}"' for k, v in rules.items()]
    text = "\n".join(top + lines) + "\n"
    if ratios:
        text += "[ratios]\n" + "".join(f"{k} = {v}\n" for k, v in ratios.items())
    return text
