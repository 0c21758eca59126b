"""Builders shared by the credit tests: a registered establishment, facts, table counts."""
from __future__ import annotations

import itertools
from datetime import date

from sqlalchemy import func, select

from supervision.audit.models import AuditEntry
from supervision.credit import records
from supervision.credit.models import CreditRecord, CreditRecordStatusChange, Penalty
from supervision.extensions import db
from tests import factories

ACTOR = factories.ACTOR
_refs = itertools.count(1)


def establishment(**overrides):
    """An establishment in 玄武区 (creating the district on first use)."""
    district = factories._existing("320102") or factories.jurisdiction()
    db.session.flush()
    return factories.establishment(**overrides), district


def fact(est, **overrides) -> records.Fact:
    values = dict(subject_id=est.subject_id, kind="positive", code="commendation", severity="none",
                  title="获市级卫生先进单位表彰", arose_on=date(2026, 3, 1), source_type="manual",
                  source_ref=f"t-{next(_refs)}",
                  producing_unit_id=est.jurisdiction_id, channel="manual", entered_by="张科长", reason="纸质材料补录")
    values.update(overrides)
    return records.Fact(**values)


def counts() -> tuple[int, ...]:
    """Rows of every table the credit services write, and pending + stored audit entries."""
    db.session.flush()
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (CreditRecord, CreditRecordStatusChange, Penalty, AuditEntry))
