"""Late entries (seed 003 §四(二)): information without an electronic source must be entered
within one month of arising. A manual or imported record entered more than one calendar month
after the day it arose is late: arising on 31 January, it is on time up to and including the
last day of February (`add_months` clamps to the month's end), late from 1 March.

The entry date is the China date of `entered_at`.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from supervision.credit.calendar import add_months, china_date
from supervision.credit.codes import LATE_SOURCE_TYPES
from supervision.credit.models import CreditRecord
from supervision.registry.models import Establishment, Jurisdiction

BATCH = 5000


def deadline(arose_on: date) -> date:
    """The last day on which a fact that arose on `arose_on` is entered on time."""
    return add_months(arose_on, 1)


def is_late(arose_on: date, entered_on: date) -> bool:
    return entered_on > deadline(arose_on)


@dataclass
class LateRecord:
    record_id: int
    credit_code: str
    title: str
    arose_on: date
    entered_on: date
    days_late: int


@dataclass
class LateGroup:
    unit_code: str
    unit_name: str
    department: str | None  # the outside department, for imported records
    records: list[LateRecord] = field(default_factory=list)


def late_entries(session: Session, year: int) -> list[LateGroup]:
    """Manual and imported records that arose in `year` and were entered late, grouped per
    producing unit and department, the groups with most late records first. Streams the year's
    records in id batches, so a large year does not sit in memory as ORM objects."""
    groups: dict[tuple[str, str | None], LateGroup] = {}
    query = (
        select(CreditRecord.id, CreditRecord.title, CreditRecord.arose_on, CreditRecord.entered_at,
               CreditRecord.producing_department, Jurisdiction.code, Jurisdiction.name, Establishment.credit_code)
        .join(Jurisdiction, Jurisdiction.id == CreditRecord.producing_unit_id)
        .join(Establishment, Establishment.subject_id == CreditRecord.subject_id)
        .where(CreditRecord.source_type.in_(LATE_SOURCE_TYPES), CreditRecord.superseded_at.is_(None),
               CreditRecord.arose_on >= date(year, 1, 1), CreditRecord.arose_on <= date(year, 12, 31))
        .order_by(CreditRecord.id)
    )
    after = 0
    while True:
        rows = session.execute(query.where(CreditRecord.id > after).limit(BATCH)).all()
        if not rows:
            break
        for rid, title, arose_on, entered_at, department, unit_code, unit_name, credit_code in rows:
            entered_on = china_date(entered_at)
            if not is_late(arose_on, entered_on):
                continue
            group = groups.setdefault((unit_code, department), LateGroup(unit_code, unit_name, department))
            group.records.append(LateRecord(rid, credit_code, title, arose_on, entered_on,
                                            (entered_on - deadline(arose_on)).days))
        after = rows[-1][0]
    return sorted(groups.values(), key=lambda g: (-len(g.records), g.unit_code, g.department or ""))
