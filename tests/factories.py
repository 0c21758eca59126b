"""Small builders of test data, through the registry services (so audit entries exist too)."""
from __future__ import annotations

import itertools
from datetime import date

from supervision import audit
from supervision.extensions import db
from supervision.registry import credit_code, service
from supervision.registry.service import EstablishmentInput, LicenceInput

ACTOR = audit.Actor.cli("test")
_counter = itertools.count(1)


def valid_credit_code(n: int | None = None) -> str:
    """A valid, unique credit code: 9 (enterprise) 1 (company), division 320100, serial n."""
    n = next(_counter) if n is None else n
    return credit_code.complete(f"91320100{n:08d}")


def jurisdiction(code="320102", name="玄武区", level="district", parent=None):
    """A district (by default) under 南京市, 江苏省, creating those on first use."""
    if parent is None and level != "province":
        parent = _existing("320100") or service.create_jurisdiction(
            db.session, ACTOR, code="320100", name="南京市", level="city",
            parent=_existing("320000") or service.create_jurisdiction(
                db.session, ACTOR, code="320000", name="江苏省", level="province"))
        if level == "city":
            parent = parent.parent
    return service.create_jurisdiction(db.session, ACTOR, code=code, name=name, level=level, parent=parent)


def _existing(code):
    from sqlalchemy import select

    from supervision.registry.models import Jurisdiction

    db.session.flush()
    return db.session.execute(select(Jurisdiction).where(Jurisdiction.code == code)).scalar_one_or_none()


def grid(j, code=None, name=None):
    n = next(_counter)
    return service.create_grid(db.session, ACTOR, code=code or f"G{n:04d}", name=name or f"第{n}网格", jurisdiction=j)


def establishment_input(**overrides) -> EstablishmentInput:
    values = dict(
        credit_code=valid_credit_code(),
        name="南京市玄武区悦来宾馆有限公司",
        category="accommodation",
        address="江苏省南京市玄武区中山路1号",
        district="320102",
        legal_representative="王建国",
        grid=None,
        latitude=32.0603,
        longitude=118.7969,
        status="active",
        licences=[LicenceInput("玄卫公字〔2024〕第0001号", "公共场所卫生许可证", date(2024, 1, 1), date(2028, 1, 1))],
    )
    values.update(overrides)
    return EstablishmentInput(**values)


def establishment(**overrides):
    est, _ = service.upsert_establishment(db.session, establishment_input(**overrides), ACTOR)
    db.session.flush()
    return est


def inspector(j, grids=(), badge_no=None, valid_from=date(2024, 1, 1), valid_until=date(2030, 12, 31), name=None):
    n = next(_counter)
    return service.create_inspector(
        db.session, ACTOR, badge_no=badge_no or f"B{n:05d}", name=name or f"检查员{n}",
        certificate_no=f"苏卫执证{n:06d}", certificate_valid_from=valid_from, certificate_valid_until=valid_until,
        jurisdiction=j, grids=grids, phone="13800000000",
    )
