"""Credit records for the grading tests, inserted directly (the records service is part A's)."""
from __future__ import annotations

import itertools
from datetime import date, datetime

from sqlalchemy import select

from supervision.credit.models import CreditRecord
from supervision.extensions import db
from supervision.registry.models import CreditSubject, Jurisdiction

_refs = itertools.count(1)


def record(subject_id: int, kind: str = "inspection", *, code: str | None = None, severity: str = "none",
           arose_on: date = date(2025, 6, 1), entered_at: datetime | None = None, status: str = "effective",
           practice_points: int | None = None, title: str = "", unit: str = "320102") -> CreditRecord:
    unit_id = db.session.execute(select(Jurisdiction.id).where(Jurisdiction.code == unit)).scalar_one()
    row = CreditRecord(subject_id=subject_id, kind=kind, code=code, severity=severity, status=status,
                       title=title or f"{kind} {code or severity}", practice_points=practice_points,
                       source_type="test", source_ref=f"t{next(_refs)}", producing_unit_id=unit_id,
                       channel="manual", arose_on=arose_on,
                       entered_at=entered_at or datetime.combine(arose_on, datetime.min.time()).replace(hour=4),
                       details={})
    db.session.add(row)
    db.session.flush()
    return row


def practitioner() -> CreditSubject:
    subject = CreditSubject(kind="practitioner")
    db.session.add(subject)
    db.session.flush()
    return subject
